"""Template values and paths as a reviewer reads them: ``!Ref X``, ``!GetAtt A.B``, ``{Key: value}``,
``Resources.Bucket.Properties.Tags[0]`` — one line, cut at a length."""

from __future__ import annotations

import json
from typing import Any

MAX_VALUE = 100


def fmt(value: Any, limit: int = MAX_VALUE) -> str:
    text = _fmt(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fmt(value: Any) -> str:
    if isinstance(value, dict):
        if len(value) == 1:
            (k, v), = value.items()
            if k == "Ref" and isinstance(v, str):
                return f"!Ref {v}"
            if k == "Fn::GetAtt" and isinstance(v, list) and len(v) == 2:
                return f"!GetAtt {v[0]}.{v[1]}"
            if k.startswith("Fn::"):
                return f"!{k[4:]} {_fmt(v)}"
        return "{" + ", ".join(f"{k}: {_fmt(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False) if (not value or value.strip() != value or "\n" in value or "," in value) else value
    return json.dumps(value)


def dotted(path: tuple) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (("." if out else "") + str(p))
    return out
