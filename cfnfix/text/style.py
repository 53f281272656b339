"""How a file is written — newline, indentation, sequence offset, quotes, intrinsic form, JSON
layout — detected from its tree, so that new content looks like the rest of it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .nodes import Mapping, Scalar, Sequence, walk

if TYPE_CHECKING:
    from .document import Document


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


def _newline(text: str) -> str:
    crlf = text.count("\r\n")
    return "\r\n" if crlf and crlf * 2 >= text.count("\n") else "\n"


def detect_yaml_style(doc: Document) -> Style:
    indents: Counter = Counter()
    offsets: Counter = Counter()
    quotes: Counter = Counter()
    short = long = 0
    for n in walk(doc.root):
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


def detect_json_style(doc: Document) -> Style:
    text = doc.text
    units: Counter = Counter()
    colons: Counter = Counter()
    inline = multiline = 0
    fn_inline = fn_multi = 0
    padded = tight = 0
    for n in walk(doc.root):
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
