from __future__ import annotations

import re

from cfnfix.fixing import Safety, TextFixer
from cfnfix.text.json_reader import NUMBER, STRING, WHITESPACE


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
        return _Repair(text).run()


class _Frame:
    __slots__ = ("closer", "state", "last_key", "string_value")

    def __init__(self, closer: str):
        self.closer = closer  # "}" or "]"
        self.state = "first"  # first (just opened), next (after a comma), colon, value, after (a member read)
        self.last_key = None  # the key of the member being read or just read (objects)
        self.string_value = False  # that member's value is a string


class _Repair:
    """One pass over the text with the JSON grammar, making each certain repair where the
    strict reader would stop, as it goes: the cost is linear in the size of the file, however
    many repairs it makes. Whitespace and comments between two tokens are held back until the
    next token, so that a comment can be removed with its line, a missing comma can go right
    after the previous token, and a trailing comma (also held back) can be dropped."""

    def __init__(self, text: str):
        self.text = text
        self.out: list[str] = []
        self.gap: list[tuple[int, str]] = []  # (offset in the original, whitespace) since the last token
        self.comma: int | None = None  # offset of a comma read and not yet written
        self.last_end = 0  # offset just past the last token
        self.repairs: list[tuple[int, str]] = []
        self.started = False  # a token (or a BOM) has been written: the first line is not blank

    def run(self):
        text, n = self.text, len(self.text)
        pos = 0
        if text.startswith("\ufeff"):
            self.out.append("\ufeff")
            self.started = True
            pos = self.last_end = 1
        stack: list[_Frame] = []
        top_done = False
        while True:
            pos = self._skip_gap(pos)
            if pos is None:
                return None
            ch = text[pos] if pos < n else ""
            if top_done:
                if ch:
                    return None
                self._flush()
                return ("".join(self.out), self.repairs) if self.repairs else None
            frame = stack[-1] if stack else None
            state = frame.state if frame else "value"
            if frame is not None and state == "after":
                if ch == ",":
                    self._flush()
                    self.comma = pos
                    self.last_end = pos + 1
                    frame.state = "next"
                    pos += 1
                    continue
                if ch == frame.closer:
                    pos = self._close(stack, pos)
                    top_done = not stack
                    continue
                between = "".join(w for _, w in self.gap)
                if "\n" in between and ch and (ch == '"' or ch in "{[-0123456789tfn"):
                    self.repairs.append((self.last_end, "add a missing comma"))
                    self.out.append(",")
                    frame.state = "next"
                    continue  # read ``ch`` again, as after a comma
                return None
            if frame is not None and state in ("first", "next") and ch == frame.closer:
                if state == "next":  # "[1, ]": drop the comma held back
                    self.repairs.append((self.comma, f"remove a trailing comma before {ch!r}"))
                    self.comma = None
                pos = self._close(stack, pos)
                top_done = not stack
                continue
            if frame is not None and frame.closer == "}" and state in ("first", "next"):
                if ch == '"':
                    m = STRING.match(text, pos)
                    if not m:
                        return None
                    self._token(m.group(), m.end())
                    frame.last_key = m.group()[1:-1]
                    frame.string_value = False
                    frame.state = "colon"
                    pos = m.end()
                    continue
                if ch == "{" and state == "next" and frame.last_key == "Key" and frame.string_value:
                    # a Tag whose value lost its key: {"Key": "Name", {"Fn::Sub": "..."}}
                    self.repairs.append((pos, 'add the missing "Value": key of a Tag'))
                    self._token('"Value": ', pos)
                    frame.last_key = "Value"
                    frame.state = "value"
                    continue
                return None
            if frame is not None and state == "colon":
                if ch != ":":
                    return None
                self._token(":", pos + 1)
                frame.state = "value"
                pos += 1
                continue
            # a value: in an array (first, next), an object (value), or the whole document
            if ch in ("{", "["):
                self._token(ch, pos + 1)
                if frame is not None:
                    frame.state = "after"
                    frame.string_value = False
                stack.append(_Frame("}" if ch == "{" else "]"))
                pos += 1
                continue
            m = _value(text, pos, ch)
            if m is None:
                return None
            self._token(m.group(), m.end())
            pos = m.end()
            if frame is None:
                top_done = True
            else:
                frame.state = "after"
                frame.string_value = ch == '"'

    # ----- output ------------------------------------------------------------------------------
    def _flush(self) -> None:
        """Write the comma and whitespace held back."""
        if self.comma is not None:
            self.out.append(",")
            self.comma = None
        self.out.extend(w for _, w in self.gap)
        self.gap = []

    def _token(self, token: str, end: int) -> None:
        self._flush()
        self.out.append(token)
        self.last_end = end
        self.started = True

    def _close(self, stack: list[_Frame], pos: int) -> int:
        stack.pop()
        self._token(self.text[pos], pos + 1)
        if stack:
            stack[-1].state = "after"
            stack[-1].string_value = False
        return pos + 1

    # ----- whitespace and comments ------------------------------------------------------------
    def _skip_gap(self, pos: int) -> int | None:
        text = self.text
        while True:
            end = WHITESPACE.match(text, pos).end()
            if end > pos:
                self.gap.append((pos, text[pos:end]))
                pos = end
            if text.startswith("//", pos):
                stop = text.find("\n", pos)
                stop = len(text) if stop < 0 else stop
            elif text.startswith("/*", pos):
                stop = text.find("*/", pos + 2)
                if stop < 0:
                    return None
                stop += 2
            else:
                return pos
            pos = self._remove_comment(pos, stop)

    def _remove_comment(self, pos: int, end: int) -> int:
        """Remove the comment text[pos:end] — with its whole line when nothing else is on it —
        and return where to go on."""
        text, gap = self.text, self.gap
        newline = next((i for i in range(len(gap) - 1, -1, -1) if "\n" in gap[i][1]), None)
        blank_before = newline is not None or not self.started
        if blank_before and (end == len(text) or text[end] in "\r\n"):
            if newline is not None:  # keep the whitespace up to the end of the previous line
                at, ws = gap[newline]
                cut = ws.rindex("\n") + 1
                dropped = [(at + cut, ws[cut:])] + gap[newline + 1 :]
                del gap[newline + 1 :]
                gap[newline] = (at, ws[:cut])
            else:
                dropped, gap[:] = list(gap), []
            start = next((at for at, ws in dropped if ws), pos)
            self.repairs.append((start, "remove a comment line"))
            return end + (2 if text.startswith("\r\n", end) else 1 if end < len(text) else 0)
        start = pos
        while gap:  # the spaces and tabs before the comment go with it
            at, ws = gap[-1]
            kept = ws.rstrip(" \t")
            if kept != ws:
                start = at + len(kept)
            if kept:
                gap[-1] = (at, kept)
                break
            gap.pop()
        self.repairs.append((start, "remove a comment"))
        return end


def _value(text: str, pos: int, ch: str):
    """The match of a string, number or literal at ``pos``, or None."""
    if ch == '"':
        return STRING.match(text, pos)
    if ch == "-" or ch.isdigit():
        return NUMBER.match(text, pos)
    for word in ("true", "false", "null"):
        if text.startswith(word, pos):
            return re.compile(word).match(text, pos)
    return None
