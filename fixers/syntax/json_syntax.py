from __future__ import annotations

import re

from cfnfix.errors import TemplateError
from cfnfix.fixing import Safety, TextFixer
from cfnfix.text.json_reader import read_json

MAX_REPAIRS = 500
# A Tag whose value lost its key: {"Key": "Name", {"Fn::Sub": "..."}}
_KEY_THEN_COMMA = re.compile(r'"Key"\s*:\s*"(?:[^"\\]|\\.)*"\s*,\s*$')


class JsonSyntax(TextFixer):
    code = "JSON001"
    name = "json-syntax"
    summary = "JSON template with a trailing comma, a missing comma, comments or a Tag without `Value`"
    safety = Safety.SAFE
    order = 0
    docs = """
## What it does
Repairs the JSON mistakes code generators make, before anything else runs, and only where the
intended text is certain:

- a trailing comma before `}` or `]` is removed;
- a comma missing between two members (the next one starting on a new line) is added;
- `//` and `/* */` comments are removed (a line left empty goes too);
- a Tag object whose value lost its key, `{"Key": "Name", {"Fn::Sub": "..."}}`, gets `"Value": `.

Anything else that does not parse (a truncated file, prose in the middle, a YAML block scalar
inside JSON) is reported with its line and column and left alone. The repaired text then goes
through the other fixers.

## Why it breaks deploys
CloudFormation parses JSON templates strictly: any of these is a "Template format error" and
nothing is deployed.

## Example
A trailing comma:
```json
{"Resources": {"Queue": {"Type": "AWS::SQS::Queue",}}}
```
Use instead:
```json
{"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}}
```

## Fix safety
Safe: each repair makes the parser read what the text already says; no value changes. Comments
are lost, since JSON has no place for them.
"""

    def repair(self, text: str):
        repairs: list[tuple[int, str]] = []
        # Offsets move as the text changes; keep a map back to the original for reporting.
        shifts: list[tuple[int, int]] = []  # (position in the current text, delta applied there)

        def original(pos: int) -> int:
            for at, delta in reversed(shifts):
                if pos >= at:
                    pos -= delta
            return pos

        for _ in range(MAX_REPAIRS):
            try:
                read_json(text)
                return (text, repairs) if repairs else None
            except TemplateError as e:
                step = _repair_at(text, e)
                if step is None:
                    return None
                start, end, new, message = step
                repairs.append((original(start), message))
                text = text[:start] + new + text[end:]
                shifts.append((start, len(new) - (end - start)))
        return None


def _repair_at(text: str, e: TemplateError):
    """One certain repair at the reader's error, as (start, end, replacement, message)."""
    pos = e.offset
    if pos is None:
        return None
    if text.startswith(("//", "/*"), pos):
        return _remove_comment(text, pos)
    if e.kind == "trailing-comma":
        comma = text.rfind(",", 0, pos)
        return comma, comma + 1, "", f"removed a trailing comma before {text[pos]!r}"
    if e.kind == "missing-comma":
        prev_end = len(text[:pos].rstrip())
        between = text[prev_end:pos]
        nxt = text[pos] if pos < len(text) else ""
        if "\n" in between and (nxt == '"' or nxt in "{[-0123456789tfn"):
            return prev_end, prev_end, ",", "added a missing comma"
        return None
    if e.kind == "expected-key" and text.startswith("{", pos) and _KEY_THEN_COMMA.search(text[max(0, pos - 400) : pos]):
        return pos, pos, '"Value": ', 'added the missing "Value": key of a Tag'
    return None


def _remove_comment(text: str, pos: int):
    if text.startswith("//", pos):
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end
    else:
        end = text.find("*/", pos + 2)
        if end < 0:
            return None
        end += 2
    line_start = text.rfind("\n", 0, pos) + 1
    if not text[line_start:pos].strip() and (end == len(text) or text[end] in "\r\n"):
        # the comment is the whole line: remove the line
        stop = end + (2 if text.startswith("\r\n", end) else 1 if end < len(text) else 0)
        return line_start, stop, "", "removed a comment line"
    start = len(text[:pos].rstrip(" \t"))
    return start, end, "", "removed a comment"
