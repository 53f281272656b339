"""The explanation as terminal text: per file, each fix with where, why and what changed."""

from __future__ import annotations

from ..fixing.fixer import Safety
from ..fixing.result import Change, Result
from .explanation import detail_line, details, why


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
                lines.append(f"    {detail_line(d)}")
    for c in result.available:
        tag = "unsafe " if c.safety is Safety.UNSAFE else ""
        lines.append(f"  {name}:{_where(c)}: {c.code} {c.message} (available, {tag}not applied: --safe-only)")
    for c in result.refused:
        lines.append(f"  {name}:{_where(c)}: {c.code} {c.message} (refused by {result.checked_by}: {c.reason})")
    for f in result.findings:
        where = f"{f.line}:{f.column}" if f.line else ""
        lines.append(f"  {name}:{where}: {f.code} {f.message} (not fixed)")
    return "\n".join(lines)
