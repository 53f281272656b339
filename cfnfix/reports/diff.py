"""Unified diffs of fixed templates, with the hunks of unsafe fixes marked in their headers."""

from __future__ import annotations

import difflib
import re

from ..fixing.fixer import Safety
from ..fixing.result import Result

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@")


def unified_diff(result: Result, name: str) -> str:
    if not result.changed:
        return ""
    a = result.original.splitlines(keepends=True)
    b = result.text.splitlines(keepends=True)
    lines = []
    # git's a/ and b/ prefixes for relative paths; an absolute path stands as it is (no "a//tmp").
    old, new = (name, name) if name.startswith(("/", "<")) or re.match(r"[A-Za-z]:[\\/]", name) else (f"a/{name}", f"b/{name}")
    for line in difflib.unified_diff(a, b, old, new):
        if not line.endswith("\n"):
            line += "\n\\ No newline at end of file\n"
        m = _HUNK.match(line)
        if m:
            start = int(m.group(1))
            count = int(m.group(2)) if m.group(2) is not None else 1
            end = start + max(count, 1)
            codes = sorted({c.code for c in result.changes if c.safety is Safety.UNSAFE
                            and any(a < end and b >= start for a, b in c.spans)})
            if codes:
                line = line.rstrip("\n") + f" UNSAFE: {', '.join(codes)}\n"
        lines.append(line)
    return "".join(lines)


def colorize(diff: str) -> str:
    import click

    out = []
    for line in diff.splitlines(keepends=True):
        if line.startswith(("+++", "---")):
            out.append(click.style(line, bold=True))
        elif line.startswith("@@"):
            out.append(click.style(line, fg="cyan"))
        elif line.startswith("+"):
            out.append(click.style(line, fg="green"))
        elif line.startswith("-"):
            out.append(click.style(line, fg="red"))
        else:
            out.append(line)
    return "".join(out)
