"""Explanations: per fix, what changed in the template's data and why.

deepdiff compares the data before and after each batch of fixes (the readers already normalise
``!Ref X`` and ``{"Ref": "X"}`` to the same data, so only real changes show). Each difference is
attributed to the fix whose edits declared that path. The same content renders as terminal
text, a markdown PR body and JSON.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from .engine import Change, Result
from .fixer import Safety
from .registry import get_fixer
from .edits import apply_to_data

MAX_VALUE = 100


@dataclass
class Detail:
    kind: str  # "added", "removed", "changed"
    path: tuple
    old: Any = None
    new: Any = None

    def to_dict(self) -> dict:
        d = {"kind": self.kind, "path": list(self.path)}
        if self.kind != "added":
            d["old"] = self.old
        if self.kind != "removed":
            d["new"] = self.new
        return d


_KINDS = {
    "dictionary_item_added": "added",
    "iterable_item_added": "added",
    "dictionary_item_removed": "removed",
    "iterable_item_removed": "removed",
    "values_changed": "changed",
    "type_changes": "changed",
}


def details(result: Result) -> dict[int, list[Detail]]:
    """Details per change (keyed by ``id(change)``).

    Each fix's own edits are applied to the data of the batch it belonged to and deepdiff
    compares the two, so every detail belongs to exactly the fix that made it — even when two
    fixes append to the same list.
    """
    from deepdiff import DeepDiff

    out: dict[int, list[Detail]] = {}
    for c in result.changes:
        found: list[Detail] = []
        if 0 <= c.step < len(result.steps):
            before = result.steps[c.step].before
            # ignore_order pairs list items by likeness: removing one entry reads as one removal, not
            # as every later entry shifting (fixers never reorder lists).
            diff = DeepDiff(before, apply_to_data(before, c.edits), view="tree", verbose_level=2, ignore_order=True)
            for kind, levels in diff.items():
                if kind not in _KINDS:
                    continue
                for level in levels:
                    old = None if _KINDS[kind] == "added" else level.t1
                    new = None if _KINDS[kind] == "removed" else level.t2
                    found.append(Detail(_KINDS[kind], tuple(level.path(output_format="list")), old, new))
        found.sort(key=lambda d: [str(p) for p in d.path])
        out[id(c)] = found
    return out


def why(code: str) -> str:
    """First sentence of a fixer's "Why it breaks deploys" section."""
    cls = get_fixer(code)
    if cls is None:
        return ""
    m = re.search(r"## Why it breaks deploys\s*\n(.*?)(?:\n\s*\n|\Z)", cls.docs, re.S)
    if not m:
        return cls.summary
    text = " ".join(m.group(1).split())
    # The first sentence: a full stop followed by a capital, not one inside "e.g." or "i.e.".
    m = re.search(r"(?<!\be\.g)(?<!\bi\.e)(?<!\betc)\.\s+(?=[A-Z`(\"])", text)
    return text[: m.start() + 1] if m else text


# ----- value formatting ----------------------------------------------------------------------
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


def _detail_line(d: Detail) -> str:
    if d.kind == "added":
        return f"+ {dotted(d.path)}: {fmt(d.new)}"
    if d.kind == "removed":
        return f"- {dotted(d.path)}: {fmt(d.old)}"
    return f"~ {dotted(d.path)}: {fmt(d.old)} → {fmt(d.new)}"


# ----- renderers -----------------------------------------------------------------------------
def _where(c: Change) -> str:
    return f"{c.line}:{c.column}" if c.line else ""


def render_text(result: Result, name: str | None = None) -> str:
    name = name or result.filename
    lines: list[str] = []
    det = details(result) if result.changes else {}
    if result.changes:
        unsafe = sum(c.safety is Safety.UNSAFE for c in result.changes)
        lines.append(f"{name}: {len(result.changes)} fix{'es' if len(result.changes) != 1 else ''}" + (f" ({unsafe} unsafe)" if unsafe else ""))
        for c in result.changes:
            tag = "UNSAFE " if c.safety is Safety.UNSAFE else ""
            lines.append(f"  {name}:{_where(c)}: {tag}{c.code} {c.message}")
            w = why(c.code)
            if w:
                lines.append(f"    why: {w}")
            for d in det.get(id(c), []):
                lines.append(f"    {_detail_line(d)}")
    for c in result.available:
        tag = "unsafe " if c.safety is Safety.UNSAFE else ""
        lines.append(f"  {name}:{_where(c)}: {c.code} {c.message} (available, {tag}not applied: --safe-only)")
    for f in result.findings:
        where = f"{f.line}:{f.column}" if f.line else ""
        lines.append(f"  {name}:{where}: {f.code} {f.message} (not fixed)")
    return "\n".join(lines)


def change_record(c: Change, det: dict[int, list[Detail]]) -> dict:
    d = c.to_dict()
    d["summary"] = c.summary
    d["why"] = why(c.code)
    d["details"] = [x.to_dict() for x in det.get(id(c), [])]
    return d


def file_record(result: Result, name: str | None = None, diff: str | None = None) -> dict:
    det = details(result) if result.changes else {}
    rec = {
        "path": name or result.filename,
        "changed": result.changed,
        "changes": [change_record(c, det) for c in result.changes],
        "available": [change_record(c, {}) for c in result.available],
        "findings": [f.to_dict() for f in result.findings],
    }
    if diff is not None:
        rec["diff"] = diff
    return rec


def render_json(records: list[dict], errors: list[dict]) -> str:
    from . import __version__

    fixes = sum(len(r["changes"]) for r in records)
    return json.dumps(
        {
            "version": __version__,
            "summary": {
                "files": len(records) + len(errors),
                "files_changed": sum(r["changed"] for r in records),
                "fixes": fixes,
                "unsafe": sum(c["safety"] == "unsafe" for r in records for c in r["changes"]),
                "errors": len(errors),
            },
            "files": records,
            "errors": errors,
        },
        indent=2,
        ensure_ascii=False,
        default=str,
    )


DIFF_COLLAPSE_LINES = 40


def render_markdown(records: list[dict], errors: list[dict] | None = None) -> str:
    changed = [r for r in records if r["changes"] or r["available"] or r["findings"]]
    fixes = sum(len(r["changes"]) for r in records)
    unsafe = sum(c["safety"] == "unsafe" for r in records for c in r["changes"])
    out = [f"## cfnfix: {fixes} fix{'es' if fixes != 1 else ''} in {sum(bool(r['changes']) for r in records)} template(s)"]
    if unsafe:
        out.append("")
        out.append(f"> [!WARNING]\n> {unsafe} of these fixes are **unsafe**: they change what gets deployed. Review them first.")
    for r in changed:
        out.append("")
        out.append(f"### `{r['path']}`")
        out.append("")
        for c in r["changes"]:
            mark = "⚠️ **unsafe**" if c["safety"] == "unsafe" else "safe"
            out.append(f"- **{c['code']}** ({mark}) {c['message']}")
            if c["why"]:
                out.append(f"  - *Why:* {c['why']}")
            for d in c["details"]:
                out.append(f"  - `{_detail_line(Detail(d['kind'], tuple(d['path']), d.get('old'), d.get('new')))}`")
        for c in r["available"]:
            out.append(f"- **{c['code']}** (not applied, {c['safety']}) {c['message']}")
        for f in r["findings"]:
            out.append(f"- **{f['code']}** (needs a person) {f['message']}")
        diff = r.get("diff")
        if diff:
            n = diff.count("\n")
            block = f"```diff\n{diff.rstrip()}\n```"
            if n > DIFF_COLLAPSE_LINES:
                out.append("")
                out.append(f"<details><summary>Diff ({n} lines)</summary>\n\n{block}\n\n</details>")
            else:
                out.append("")
                out.append(block)
    for e in errors or []:
        out.append("")
        out.append(f"- ❌ `{e['path']}:{e['line']}:{e['column']}`: {e['message']}")
    return "\n".join(out) + "\n"
