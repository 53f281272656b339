"""The explanation as terminal text: per file, each fix with where, why and what changed."""

from __future__ import annotations

from ..fixing.fixer import Safety
from ..fixing.result import Result
from ..fixing.suppressions import AUDIT_CODES
from .explanation import detail_line, details, why


def _where(c) -> str:
    return f"{c.line}:{c.column}" if c.line else ""


def plural(n: int, noun: str) -> str:
    """``1 fix``, ``3 fixes``, ``1 template``, ``2 templates``."""
    if n == 1:
        return f"{n} {noun}"
    return f"{n} {noun}" + ("es" if noun.endswith(("x", "s", "sh", "ch")) else "s")


def render_text(result: Result, name: str | None = None, changes: bool = True) -> str:
    """The fixes (unless ``changes`` is False: after ``--write`` they are done, and only what is
    left is shown), the fixes ``--safe-only`` held back, and the findings."""
    name = name or result.filename
    lines: list[str] = []
    if changes and result.changes:
        det = details(result)
        unsafe = sum(c.safety is Safety.UNSAFE for c in result.changes)
        lines.append(f"{name}: {plural(len(result.changes), 'fix')}" + (f" ({unsafe} unsafe)" if unsafe else ""))
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
        note = "" if f.code in AUDIT_CODES else " (not fixed)"
        lines.append(f"  {name}:{_where(f)}: {f.code} {f.message}{note}")
    return "\n".join(lines)


def render_statistics(rows: list[tuple[str, str, int, str]]) -> str:
    """``--statistics``: one line per (code, kind) with its count, like ruff's."""
    if not rows:
        return ""
    cw = max(len(str(r[2])) for r in rows)
    kw = max(len(r[1]) for r in rows)
    code_w = max(len(r[0]) for r in rows)
    return "\n".join(f"{count:>{cw}}  {code:<{code_w}}  {kind:<{kw}}  {summary}".rstrip() for code, kind, count, summary in rows)

