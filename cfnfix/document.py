"""A parsed template file: its text, its positioned tree, its data, and the style it is written in."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from .errors import TemplateError
from .nodes import SHORT_TAGS, AnyNode, Mapping, Node, Scalar, Sequence, child

_YAML_BREAKS = re.compile("\r\n|[\n\r\x85\u2028\u2029]")
_JSON_BREAKS = re.compile("\r\n|[\n\r]")
# Above this size a file is rejected rather than parsed (see README, "Limits").
MAX_BYTES = 20 * 1024 * 1024


@dataclass
class Style:
    """How the file is written, so that new content looks like the rest of it."""

    newline: str = "\n"
    indent: int = 2  # YAML: columns per nesting level
    seq_offset: int = 2  # YAML: columns from a key to the "-" of its block sequence
    quote: str = "'"  # YAML: preferred quote for strings that need one
    short_form: bool = True  # YAML: !Ref rather than Ref:
    json_indent: str = "  "  # JSON: one level of indentation
    json_colon: str = ": "  # JSON: what stands between a key and its value
    json_inline_scalar_lists: bool = False  # JSON: ["a", "b"] kept on one line
    json_inline_intrinsics: bool = True  # JSON: {"Ref": "X"} kept on one line
    json_brace_space: bool = False  # JSON: { "Ref": "X" } rather than {"Ref": "X"}


def detect_format(text: str, filename: str | None) -> str:
    name = (filename or "").lower()
    if name.endswith(".json"):
        return "json"
    if name.endswith((".yaml", ".yml", ".template")) and not text.lstrip("\ufeff \t\r\n").startswith("{"):
        return "yaml"
    return "json" if text.lstrip("\ufeff \t\r\n").startswith(("{", "[")) else "yaml"


class Document:
    def __init__(self, text: str, filename: str | None = None, fmt: str | None = None):
        self.text = text
        self.filename = filename
        self.format = fmt or detect_format(text, filename)
        if "\x00" in text:
            i = text.index("\x00")
            raise TemplateError("NUL byte in file (binary data, not a template)", *self.position(i))
        if self.format == "json":
            from .json_reader import read_json

            self.root, self.data = read_json(text)
        else:
            from .yaml_reader import read_yaml

            self.root, self.data = read_yaml(text)

    # ----- positions -------------------------------------------------------------------------
    @cached_property
    def _line_starts(self) -> list[int]:
        # YAML 1.1 (libyaml) breaks lines at CR, LF, CRLF, NEL, LS and PS; JSON at CR and LF.
        breaks = _YAML_BREAKS if self.format == "yaml" else _JSON_BREAKS
        return [0] + [m.end() for m in breaks.finditer(self.text)]

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a text offset."""
        starts = self._line_starts
        line = bisect_right(starts, offset)
        return line, offset - starts[line - 1] + 1

    def line_start(self, offset: int) -> int:
        starts = self._line_starts
        return starts[bisect_right(starts, offset) - 1]

    def line_end(self, offset: int) -> int:
        """Offset just past the line break of the line holding ``offset`` (or the end of text)."""
        starts = self._line_starts
        i = bisect_right(starts, offset)
        return starts[i] if i < len(starts) else len(self.text)

    def indent_of_line(self, offset: int) -> str:
        start = self.line_start(offset)
        m = re.compile(r"[ \t]*").match(self.text, start)
        return m.group()

    # ----- lookup ----------------------------------------------------------------------------
    def node_at(self, path: tuple) -> AnyNode | None:
        """The node for a data path. A short-tagged node (``!Sub [...]``) stands for the
        mapping ``{"Fn::Sub": [...]}``: the step "Fn::Sub" stays on the same node."""
        node = self.root
        unwrapped = False
        for step in path:
            if node.tag and not unwrapped and step == SHORT_TAGS[node.tag]:
                unwrapped = True
                continue
            if node.tag and not unwrapped:
                return None
            node = child(node, step)
            unwrapped = False
            if node is None:
                return None
        return node

    def is_tag_step(self, path: tuple) -> bool:
        """True when the last step of ``path`` is the function name of a short-tagged node."""
        if not path:
            return False
        parent = self.node_at(path[:-1])
        return parent is not None and parent.tag is not None and SHORT_TAGS[parent.tag] == path[-1] and self.node_at(path) is parent

    def key_at(self, path: tuple) -> Scalar | None:
        parent = self.node_at(path[:-1])
        if isinstance(parent, Mapping):
            for k, _ in parent.pairs:
                if k.value == path[-1]:
                    return k
        return None

    # ----- style -----------------------------------------------------------------------------
    @cached_property
    def style(self) -> Style:
        return _detect_yaml_style(self) if self.format == "yaml" else _detect_json_style(self)


def _walk(node: Node):
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        if isinstance(n, Mapping):
            for k, v in n.pairs:
                stack.append(v)
                stack.append(k)
        elif isinstance(n, Sequence):
            stack.extend(n.items)


def _newline(text: str) -> str:
    crlf = text.count("\r\n")
    return "\r\n" if crlf and crlf * 2 >= text.count("\n") else "\n"


def _detect_yaml_style(doc: Document) -> Style:
    indents: Counter = Counter()
    offsets: Counter = Counter()
    quotes: Counter = Counter()
    short = long = 0
    for n in _walk(doc.root):
        if isinstance(n, Mapping) and not n.flow:
            for k, v in n.pairs:
                if k.value in ("Ref", "Condition") or str(k.value).startswith("Fn::"):
                    long += 1
                if isinstance(v, Mapping) and not v.flow and v.pairs and v.tag is None:
                    d = v.pairs[0][0].column - k.column
                    if d > 0 and v.pairs[0][0].line > k.line:
                        indents[d] += 1
                elif isinstance(v, Sequence) and not v.flow and v.items and v.tag is None:
                    dash = doc.text.rfind("-", 0, v.items[0].start)
                    d = doc.position(dash)[1] - k.column
                    if d >= 0:
                        offsets[d] += 1
        if n.tag:
            short += 1
        if isinstance(n, Scalar) and n.style in ("'", '"'):
            quotes[n.style] += 1
    return Style(
        newline=_newline(doc.text),
        indent=indents.most_common(1)[0][0] if indents else 2,
        seq_offset=offsets.most_common(1)[0][0] if offsets else 2,
        quote=quotes.most_common(1)[0][0] if quotes else "'",
        short_form=short >= long,
    )


def _detect_json_style(doc: Document) -> Style:
    text = doc.text
    units: Counter = Counter()
    colons: Counter = Counter()
    inline = multiline = 0
    fn_inline = fn_multi = 0
    padded = tight = 0
    for n in _walk(doc.root):
        if isinstance(n, Mapping) and len(n.pairs) == 1 and (n.pairs[0][0].value == "Ref" or str(n.pairs[0][0].value).startswith("Fn::")):
            if "\n" in text[n.start : n.end]:
                fn_multi += 1
            else:
                fn_inline += 1
                if text.startswith("{ ", n.start):
                    padded += 1
                else:
                    tight += 1
        if isinstance(n, Mapping) and n.pairs:
            outer = doc.indent_of_line(n.start)
            k, v = n.pairs[0]
            colons[text[k.end : v.start]] += 1
            inner = doc.indent_of_line(k.start)
            if doc.line_start(k.start) != doc.line_start(n.start) and inner.startswith(outer) and len(inner) > len(outer):
                units[inner[len(outer) :]] += 1
        elif isinstance(n, Sequence) and len(n.items) > 1 and all(isinstance(i, Scalar) for i in n.items):
            if "\n" in text[n.start : n.end]:
                multiline += 1
            else:
                inline += 1
    colon = colons.most_common(1)[0][0] if colons else ": "
    if "\n" in colon or not colon.strip() == ":":
        colon = ": "
    return Style(
        newline=_newline(text),
        json_indent=units.most_common(1)[0][0] if units else "  ",
        json_colon=colon,
        json_inline_scalar_lists=inline > multiline,
        json_inline_intrinsics=fn_inline >= fn_multi,
        json_brace_space=padded > tight,
    )


def is_short_tag(tag: str | None) -> bool:
    return tag in SHORT_TAGS


def data_at(data: Any, path: tuple) -> Any:
    for step in path:
        data = data[step]
    return data
