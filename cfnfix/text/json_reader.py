"""JSON text → positioned nodes and plain data, keeping key order and every offset.

The standard library's reader forgets where things are; the edit layer needs exact spans to
splice fixes into the original text, so this small reader tracks them. It is iterative, so
deep nesting cannot exhaust the Python stack, and it rejects duplicate keys the way
CloudFormation does.

Most templates get no fix and need no position: ``read_json_data`` gives the data alone from
the standard library's reader (in C, 20-60 times faster), with the same checks, and the
positioned tree is built only when something asks for it (``Document.root``). Whatever the fast
reader refuses goes through this one, whose error (with its position) is the one reported.
"""

from __future__ import annotations

import json
import re
import sys
from bisect import bisect_right
from typing import Any

from ..errors import TemplateError
from .nodes import Mapping, Node, Scalar, Sequence, normalize

MAX_DEPTH = 200

_WS = re.compile(r"[ \t\r\n]*")
_STRING = re.compile(r'"(?:[^"\\\x00-\x1f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"')
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
# The tokens, for other readers of JSON text (JSON001's repair scans with them).
WHITESPACE, STRING, NUMBER = _WS, _STRING, _NUMBER
_LITERALS = (("true", True), ("false", False), ("null", None))


class _Reader:
    def __init__(self, text: str, offset: int):
        self.text = text
        self.pos = offset
        self.line_starts = [0] + [m.end() for m in re.finditer(r"\n", text)]

    @classmethod
    def at(cls, text: str, line_starts: list[int]) -> "_Reader":
        """A reader of part of ``text`` whose line starts (at LF) the caller has already."""
        reader = cls.__new__(cls)
        reader.text, reader.pos, reader.line_starts = text, 0, line_starts
        return reader

    def where(self, pos: int) -> tuple[int, int]:
        line = bisect_right(self.line_starts, pos)
        return line, pos - self.line_starts[line - 1] + 1

    def fail(self, message: str, pos: int | None = None, kind: str | None = None):
        pos = self.pos if pos is None else pos
        line, col = self.where(pos)
        raise TemplateError(message, line, col, kind=kind, offset=pos)

    def skip_ws(self) -> None:
        self.pos = _WS.match(self.text, self.pos).end()

    def describe(self) -> str:
        if self.pos >= len(self.text):
            return "end of file"
        return repr(self.text[self.pos])

    def scalar(self) -> tuple[Scalar, Any]:
        text, pos = self.text, self.pos
        line, col = self.where(pos)
        ch = text[pos] if pos < len(text) else ""
        if ch == '"':
            m = _STRING.match(text, pos)
            if not m:
                end = text.find('"', pos + 1)
                self.fail("unterminated string or invalid escape" if end < 0 else "invalid character or escape in string")
            value = json.loads(m.group())
            style = '"'
        elif ch == "-" or ch.isdigit():
            m = _NUMBER.match(text, pos)
            if not m:
                self.fail("invalid number")
            try:
                value = json.loads(m.group())
            except ValueError:  # Python's limit on converting long digit strings to int
                self.fail(f"an integer of {sum(c.isdigit() for c in m.group()):,} digits: cfnfix reads integers of up to "
                          f"{sys.get_int_max_str_digits():,} digits")
            style = ""
        else:
            for word, value in _LITERALS:
                if text.startswith(word, pos):
                    m = re.compile(re.escape(word)).match(text, pos)
                    style = ""
                    break
            else:
                self.fail(f"expected a value, found {self.describe()}", kind="expected-value")
        self.pos = m.end()
        return Scalar(pos, m.end(), line, col, value=value, style=style), value

    def read(self) -> tuple[Node, Any]:
        self.skip_ws()
        root = self.value_or_open(0, [])
        if root is not None:
            result = root
        else:
            result = self.containers()
        self.skip_ws()
        if self.pos < len(self.text):
            self.fail(f"extra data after the template: {self.describe()}")
        return result

    def value_or_open(self, depth: int, stack: list) -> tuple[Node, Any] | None:
        """Read a scalar and return it, or push an opened container onto ``stack``."""
        text, pos = self.text, self.pos
        ch = text[pos] if pos < len(text) else ""
        if ch and ch in "{[":
            if depth >= MAX_DEPTH:
                self.fail(f"nesting deeper than {MAX_DEPTH} levels")
            line, col = self.where(pos)
            if ch == "{":
                node, data = Mapping(pos, pos, line, col, flow=True), {}
            else:
                node, data = Sequence(pos, pos, line, col, flow=True), []
            self.pos += 1
            stack.append([node, data, None])  # third slot: pending key of a mapping
            self._opened = stack
            return None
        return self.scalar()

    def containers(self) -> tuple[Node, Any]:
        stack = self._opened
        text = self.text
        while True:
            node, data, _ = stack[-1]
            self.skip_ws()
            ch = text[self.pos] if self.pos < len(text) else ""
            closer = "}" if isinstance(node, Mapping) else "]"
            empty = not (node.pairs if isinstance(node, Mapping) else node.items)
            if ch == closer:
                self.pos += 1
                node.end = self.pos
                stack.pop()
                if isinstance(data, dict) and len(data) == 1 and isinstance(data.get("Fn::GetAtt"), str):
                    data = normalize(data)  # "A.B" reads as [A, B], as in YAML's !GetAtt A.B
                done = (node, data)
                if not stack:
                    return done
                self._attach(stack[-1], done)
                continue
            if not empty:
                if ch != ",":
                    self.fail(f"expected ',' or {closer!r}, found {self.describe()}", kind="missing-comma")
                self.pos += 1
                self.skip_ws()
                ch = text[self.pos] if self.pos < len(text) else ""
                if ch == closer:
                    self.fail(f"trailing comma before {closer!r}", kind="trailing-comma")
            if isinstance(node, Mapping):
                if ch != '"':
                    self.fail(f"expected a string key, found {self.describe()}", kind="expected-key")
                key, kdata = self.scalar()
                if kdata in data:
                    self.fail(f"duplicate key {kdata!r}", key.start)
                self.skip_ws()
                if not text.startswith(":", self.pos):
                    self.fail(f"expected ':' after key, found {self.describe()}")
                self.pos += 1
                self.skip_ws()
                stack[-1][2] = key
            got = self.value_or_open(len(stack), stack)
            if got is not None:
                self._attach(stack[-1], got)

    @staticmethod
    def _attach(frame: list, got: tuple[Node, Any]) -> None:
        node, data, key = frame
        child, cdata = got
        if isinstance(node, Mapping):
            node.pairs.append((key, child))
            data[key.value] = cdata
            frame[2] = None
        else:
            node.items.append(child)
            data.append(cdata)


class _Refused(Exception):
    """The fast reader's data would differ from this reader's: let this one decide."""


def _pairs(pairs: list[tuple[str, Any]]) -> dict:
    data = dict(pairs)
    if len(data) != len(pairs):
        raise _Refused  # a duplicate key: this reader reports it where it is
    if len(data) == 1 and isinstance(data.get("Fn::GetAtt"), str):
        data = normalize(data)  # as the positioned reader does
    return data


def _constant(name: str):
    raise _Refused  # NaN, Infinity: not JSON


def _deeper_than(data: Any, limit: int) -> bool:
    """True when containers nest more than ``limit`` deep."""
    stack = [(data, 1)] if isinstance(data, (dict, list)) else []
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        for v in node.values() if isinstance(node, dict) else node:
            if isinstance(v, (dict, list)):
                stack.append((v, depth + 1))
    return False


def read_json_data(text: str) -> Any:
    """The data of ``text``, as ``read_json`` gives it, without positions. Raises TemplateError."""
    offset = 1 if text.startswith("\ufeff") else 0
    try:
        if text.startswith("\ufeff", offset):
            raise _Refused
        data = json.loads(text[offset:] if offset else text, object_pairs_hook=_pairs, parse_constant=_constant)
        if not _deeper_than(data, MAX_DEPTH):
            return data
    except (ValueError, RecursionError, _Refused):  # JSONDecodeError, a long integer, deep nesting
        pass
    return read_json(text)[1]


def read_json(text: str) -> tuple[Node, Any]:
    """Parse ``text`` (BOM allowed) into (root node, data). Raises TemplateError."""
    offset = 1 if text.startswith("\ufeff") else 0
    if text.startswith("\ufeff", offset):
        raise TemplateError("a second byte-order mark (U+FEFF) at the start of the file: remove it", 1, 2)
    reader = _Reader(text, offset)
    if not text[offset:].strip():
        raise TemplateError("empty document: not a CloudFormation template", 1, 1)
    return reader.read()
