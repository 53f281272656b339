"""How a file is written — newline, indentation, sequence offset, quotes, intrinsic form, JSON
layout — detected from its tree, so that new content looks like the rest of it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import InternalError
from .nodes import Mapping, Scalar, Sequence, walk

if TYPE_CHECKING:
    from .document import Document

_MISSING = object()


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


class _YamlTally:
    """What ``detect_yaml_style`` counts, node by node, in the order of ``walk``."""

    def __init__(self, doc: Document):
        self.doc = doc
        self.indents: Counter = Counter()
        self.offsets: Counter = Counter()
        self.quotes: Counter = Counter()
        self.short = self.long = 0

    def node(self, n) -> None:
        if isinstance(n, Mapping) and not n.flow:
            for k, v in n.pairs:
                self.pair(k, v)
        self.own(n)

    def pair(self, k, v) -> None:
        """What one pair of a block mapping counts (its key's form, its value's indentation)."""
        if k.value in ("Ref", "Condition") or str(k.value).startswith("Fn::"):
            self.long += 1
        if isinstance(v, Mapping) and not v.flow and v.pairs and v.tag is None:
            d = v.pairs[0][0].column - k.column
            if d > 0 and v.pairs[0][0].line > k.line:
                self.indents[d] += 1
        elif isinstance(v, Sequence) and not v.flow and v.items and v.tag is None:
            dash = self.doc.text.rfind("-", 0, v.items[0].start)
            d = self.doc.position(dash)[1] - k.column
            if d >= 0:
                self.offsets[d] += 1

    def own(self, n) -> None:
        """What a node counts of itself (its tag, its quotes)."""
        if n.tag:
            self.short += 1
        if isinstance(n, Scalar) and n.style in ("'", '"'):
            self.quotes[n.style] += 1

    def walk(self, n) -> "_YamlTally":
        for m in walk(n):
            self.node(m)
        return self

    def add(self, other: "_YamlTally") -> None:
        self.indents.update(other.indents)
        self.offsets.update(other.offsets)
        self.quotes.update(other.quotes)
        self.short += other.short
        self.long += other.long

    def subtract(self, other: "_YamlTally") -> None:
        self.indents.subtract(other.indents)
        self.offsets.subtract(other.offsets)
        self.quotes.subtract(other.quotes)
        self.short -= other.short
        self.long -= other.long

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _YamlTally) and all(
            list(getattr(self, a).items()) == list(getattr(other, a).items()) for a in ("indents", "offsets", "quotes")
        ) and (self.short, self.long) == (other.short, other.long)


def _entry_tally(doc: Document, key, value) -> tuple[_YamlTally, _YamlTally]:
    """What a section entry counts: as a pair of its section's mapping, and as a tree."""
    pair, tree = _YamlTally(doc), _YamlTally(doc).walk(key).walk(value)
    pair.pair(key, value)
    pair.doc = tree.doc = None  # kept beyond this document: they must not keep it alive
    return pair, tree


def detect_yaml_style(doc: Document) -> Style:
    """The style most of the tree is written in. What each section entry counts is kept per entry
    (``Document.per_entry``), and what a section counts in all is kept and brought up to date by
    the entries that changed, so that an edited version of a large template counts only those
    (and does not even look at the others' nodes). Counts alone decide unless two values tie for
    the most; then the order in which ``walk`` meets them does (``Counter.most_common``), and
    everything is added up again in that order."""
    root = doc.root
    if not isinstance(root, Mapping) or root.flow:
        return _style(doc, _YamlTally(doc).walk(root))
    tally = _YamlTally(doc)
    tally.node(root)
    sections = []
    for k, v in reversed(root.pairs):
        if not isinstance(v, Mapping) or v.flow:
            tally.walk(k)
            tally.walk(v)
            continue
        sections.append((k, v))
    totals = [_section_total(doc, k, v) for k, v in sections]
    if all(t is not None for t in totals):
        quick = _YamlTally(doc)
        quick.add(tally)
        for (k, v), t in zip(sections, totals):
            quick.walk(k)
            quick.own(v)
            quick.add(t)
        if not (_tied(quick.indents) or _tied(quick.offsets) or _tied(quick.quotes)):
            style = _style(doc, quick)
            if doc.check_kept and style != _style(doc, _in_order(doc, root)):
                raise InternalError(f"the style from kept counts differs from a recount ({doc.filename})")
            return style
    return _style(doc, _in_order(doc, root))


def _in_order(doc: Document, root: Mapping) -> _YamlTally:
    """The counts in ``walk``'s order, each section entry's taken from what is kept of it."""
    tally = _YamlTally(doc)
    tally.node(root)
    for k, v in reversed(root.pairs):
        tally.walk(k)
        if not isinstance(v, Mapping) or v.flow:
            tally.walk(v)
            continue
        kept = [doc.per_entry("style", k.value, ek.value, lambda ek=ek, ev=ev: _entry_tally(doc, ek, ev)) for ek, ev in v.pairs]
        for pair, _ in kept:
            tally.add(pair)
        tally.own(v)
        for _, tree in reversed(kept):
            tally.add(tree)
    return tally


def _section_total(doc: Document, key, section, kind: str = "style", parts=None):
    """What the entries of a section count in all (order aside), from the total kept for the
    version this document was re-read from, changed by the entries that are not the same
    objects; None when an entry's data cannot be told apart (a key the data does not hold).
    ``parts(key, value)`` is what one entry counts, a tuple of tallies (``_entry_tally``'s)."""
    parts = parts or (lambda ek, ev: _entry_tally(doc, ek, ev))
    data = doc.data.get(key.value) if isinstance(doc.data, dict) else None
    if not isinstance(data, dict) or not section.pairs:
        return None
    store = (kind + "-section", key.value)
    kept = doc.entry_values.get(store)
    members: dict = dict(kept[0]) if kept is not None else {}
    total = None
    if kept is not None:
        total = type(kept[1])(None)
        total.add(kept[1])
    now = set()
    for ek, ev in section.pairs:
        entry = data.get(ek.value, _MISSING) if _hashable(ek.value) else _MISSING
        if entry is _MISSING or ek.value in now:
            return None
        now.add(ek.value)
        held = members.get(ek.value)
        if held is not None and held[0] is entry:
            continue
        counted = doc.per_entry(kind, key.value, ek.value, lambda ek=ek, ev=ev: parts(ek, ev))
        if total is None:
            total = type(counted[0])(None)
        for part in held[1] if held is not None else ():
            total.subtract(part)
        members[ek.value] = (entry, counted)
        for part in counted:
            total.add(part)
    for name in [n for n in members if n not in now]:
        for part in members.pop(name)[1]:
            total.subtract(part)
    doc.entry_values[store] = (members, total)
    return total


def _hashable(value) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _tied(counts: Counter) -> bool:
    top = sorted((c for c in counts.values() if c > 0), reverse=True)[:2]
    return len(top) == 2 and top[0] == top[1]


def _style(doc: Document, tally: _YamlTally) -> Style:
    indents, offsets, quotes = (+tally.indents, +tally.offsets, +tally.quotes)  # + drops counts of 0
    return Style(
        newline=_newline(doc.text),
        indent=indents.most_common(1)[0][0] if indents else 2,
        seq_offset=offsets.most_common(1)[0][0] if offsets else 2,
        quote=quotes.most_common(1)[0][0] if quotes else "'",
        short_form=tally.short >= tally.long,
    )


class _JsonTally:
    """What ``detect_json_style`` counts, node by node, in the order of ``walk``."""

    COUNTERS = ("units", "colons")
    NUMBERS = ("inline", "multiline", "fn_inline", "fn_multi", "padded", "tight")

    def __init__(self, doc: Document | None):
        self.doc = doc
        self.units: Counter = Counter()
        self.colons: Counter = Counter()
        self.inline = self.multiline = self.fn_inline = self.fn_multi = self.padded = self.tight = 0

    def node(self, n) -> None:
        doc = self.doc
        text = doc.text
        if isinstance(n, Mapping) and len(n.pairs) == 1 and (n.pairs[0][0].value == "Ref" or str(n.pairs[0][0].value).startswith("Fn::")):
            if "\n" in text[n.start : n.end]:
                self.fn_multi += 1
            else:
                self.fn_inline += 1
                if text.startswith("{ ", n.start):
                    self.padded += 1
                else:
                    self.tight += 1
        if isinstance(n, Mapping) and n.pairs:
            outer = doc.indent_of_line(n.start)
            k, v = n.pairs[0]
            self.colons[text[k.end : v.start]] += 1
            inner = doc.indent_of_line(k.start)
            if doc.line_start(k.start) != doc.line_start(n.start) and inner.startswith(outer) and len(inner) > len(outer):
                self.units[inner[len(outer) :]] += 1
        elif isinstance(n, Sequence) and len(n.items) > 1 and all(isinstance(i, Scalar) for i in n.items):
            if "\n" in text[n.start : n.end]:
                self.multiline += 1
            else:
                self.inline += 1

    def walk(self, n) -> "_JsonTally":
        for m in walk(n):
            self.node(m)
        return self

    def add(self, other: "_JsonTally", sign: int = 1) -> None:
        for name in self.COUNTERS:
            (getattr(self, name).update if sign > 0 else getattr(self, name).subtract)(getattr(other, name))
        for name in self.NUMBERS:
            setattr(self, name, getattr(self, name) + sign * getattr(other, name))

    def subtract(self, other: "_JsonTally") -> None:
        self.add(other, -1)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _JsonTally) and all(
            list(getattr(self, a).items()) == list(getattr(other, a).items()) for a in self.COUNTERS
        ) and all(getattr(self, a) == getattr(other, a) for a in self.NUMBERS)


def _json_entry_tally(doc: Document, key, value) -> tuple[_JsonTally]:
    tally = _JsonTally(doc).walk(key).walk(value)
    tally.doc = None  # kept beyond this document: it must not keep it alive
    return (tally,)


def detect_json_style(doc: Document) -> Style:
    """As ``detect_yaml_style``: each section entry's counts kept, each section's total brought
    up to date, the order of ``walk`` used only when two values tie for the most."""
    root = doc.root
    parts = lambda ek, ev: _json_entry_tally(doc, ek, ev)  # noqa: E731
    if not isinstance(root, Mapping):
        return _json_style(doc, _JsonTally(doc).walk(root))
    tally = _JsonTally(doc)
    tally.node(root)
    sections = []
    for k, v in reversed(root.pairs):
        if not isinstance(v, Mapping) or not v.pairs:
            tally.walk(k)
            tally.walk(v)
            continue
        sections.append((k, v))
    totals = [_section_total(doc, k, v, "json style", parts) for k, v in sections]
    if all(t is not None for t in totals):
        quick = _JsonTally(doc)
        quick.add(tally)
        for (k, v), t in zip(sections, totals):
            quick.node(v)
            quick.add(t)
        if not (_tied(quick.units) or _tied(quick.colons)):
            style = _json_style(doc, quick)
            if doc.check_kept and style != _json_style(doc, _json_in_order(doc, root)):
                raise InternalError(f"the style from kept counts differs from a recount ({doc.filename})")
            return style
    return _json_style(doc, _json_in_order(doc, root))


def _json_in_order(doc: Document, root: Mapping) -> _JsonTally:
    tally = _JsonTally(doc)
    tally.node(root)
    for k, v in reversed(root.pairs):
        tally.walk(k)
        if not isinstance(v, Mapping) or not v.pairs:
            tally.walk(v)
            continue
        tally.node(v)
        for ek, ev in reversed(v.pairs):
            tally.add(doc.per_entry("json style", k.value, ek.value, lambda ek=ek, ev=ev: _json_entry_tally(doc, ek, ev))[0])
    return tally


def _json_style(doc: Document, tally: _JsonTally) -> Style:
    units, colons = +tally.units, +tally.colons  # + drops counts of 0
    colon = colons.most_common(1)[0][0] if colons else ": "
    if "\n" in colon or not colon.strip() == ":":
        colon = ": "
    return Style(
        newline=_newline(doc.text),
        json_indent=units.most_common(1)[0][0] if units else "  ",
        json_colon=colon,
        json_inline_scalar_lists=tally.inline > tally.multiline,
        json_inline_intrinsics=tally.fn_inline >= tally.fn_multi,
        json_brace_space=tally.padded > tally.tight,
    )
