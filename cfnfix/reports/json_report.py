"""The run as one JSON document (``--format json``): a summary, a record per file, the errors."""

from __future__ import annotations

import json

from ..version import __version__


def render_json(records: list[dict], errors: list[dict]) -> str:
    fixes = sum(len(r["changes"]) for r in records)
    return json.dumps(
        {
            "version": __version__,
            "summary": {
                "files": len(records) + len(errors),
                "files_changed": sum(r["changed"] for r in records),
                "fixes": fixes,
                "unsafe": sum(c["safety"] == "unsafe" for r in records for c in r["changes"]),
                "refused": sum(len(r.get("refused", ())) for r in records),
                "errors": len(errors),
            },
            "files": records,
            "errors": errors,
        },
        indent=2,
        ensure_ascii=False,
        default=str,
    )


def render_statistics_json(rows: list[tuple[str, str, int, str]]) -> str:
    """``--statistics --format json``: one object per (code, kind) with its count."""
    return json.dumps([{"code": code, "kind": kind, "count": n, "summary": summary} for code, kind, n, summary in rows],
                      indent=2, ensure_ascii=False)
