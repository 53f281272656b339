"""How a file is written — newline, indentation, sequence offset, quotes, intrinsic form, JSON
layout — detected from its tree, so that new content looks like the rest of it."""

from __future__ import annotations

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


class _Counts:
    """What a stretch of the tree counts: per counter, value -> count in the order the values
    were first met (``maps``), and plain numbers (``nums``). Kept per section entry (small and
    never changed), added up per section and per document."""

    __slots__ = ("maps", "nums")

    def __init__(self, maps: tuple, nums: tuple):
        self.maps, self.nums = maps, nums

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Counts) and self.maps == other.maps and self.nums == other.nums


class _Total:
    """A running sum of ``_Counts`` (first-met order kept: ``most`` breaks ties by it, as
    ``Counter.most_common`` does)."""

    def __init__(self, maps: int, nums: int):
        self.maps: list[dict] = [{} for _ in range(maps)]
        self.nums = [0] * nums

    def add(self, counts: _Counts, sign: int = 1) -> None:
        for total, part in zip(self.maps, counts.maps):
            for value, n in part:
                total[value] = total.get(value, 0) + sign * n
        for i, n in enumerate(counts.nums):
            self.nums[i] += sign * n

    def copy(self) -> "_Total":
        out = _Total(0, 0)
        out.maps, out.nums = [dict(m) for m in self.maps], list(self.nums)
        return out


def _most(counts: dict, default):
    """The value counted most (the first met of those tied), or ``default``."""
    best, top = default, 0
    for value, n in counts.items():
        if n > top:
            best, top = value, n
    return best


def _tied(counts: dict) -> bool:
    top = sorted((c for c in counts.values() if c > 0), reverse=True)[:2]
    return len(top) == 2 and top[0] == top[1]


def _frozen(maps: list[dict], nums: list[int]) -> _Counts:
    return _Counts(tuple(tuple(m.items()) for m in maps), tuple(nums))


# ----- YAML ------------------------------------------------------------------------------------
_YAML_MAPS, _YAML_NUMS = 3, 2  # (indents, offsets, quotes), (short, long)


def _yaml_pair(doc: Document, k, v, indents: dict, offsets: dict) -> int:
    """What one pair of a block mapping counts (its value's indentation; returns 1 for a key in
    long intrinsic form)."""
    if isinstance(v, Mapping) and not v.flow and v.pairs and v.tag is None:
        d = v.pairs[0][0].column - k.column
        if d > 0 and v.pairs[0][0].line > k.line:
            indents[d] = indents.get(d, 0) + 1
    elif isinstance(v, Sequence) and not v.flow and v.items and v.tag is None:
        dash = doc.text.rfind("-", 0, v.items[0].start)
        d = doc.position(dash)[1] - k.column
        if d >= 0:
            offsets[d] = offsets.get(d, 0) + 1
    return 1 if k.value in ("Ref", "Condition") or str(k.value).startswith("Fn::") else 0


def _yaml_count(doc: Document, roots, own_only=()) -> _Counts:
    """What the trees under ``roots`` count, in ``walk``'s order; the nodes in ``own_only``
    count only themselves (their tag and quotes), not their pairs."""
    indents: dict = {}
    offsets: dict = {}
    quotes: dict = {}
    short = long = 0
    for root in roots:
        for n in walk(root) if root not in own_only else (root,):
            if isinstance(n, Mapping) and not n.flow and root not in own_only:
                for k, v in n.pairs:
                    long += _yaml_pair(doc, k, v, indents, offsets)
            if n.tag:
                short += 1
            if isinstance(n, Scalar) and n.style in ("'", '"'):
                quotes[n.style] = quotes.get(n.style, 0) + 1
    return _frozen([indents, offsets, quotes], [short, long])


def _yaml_entry(doc: Document, key, value) -> tuple[_Counts, _Counts]:
    """What a section entry counts: as a pair of its section's mapping, and as a tree."""
    indents: dict = {}
    offsets: dict = {}
    long = _yaml_pair(doc, key, value, indents, offsets)
    return _frozen([indents, offsets, {}], [0, long]), _yaml_count(doc, (key, value))


def detect_yaml_style(doc: Document) -> Style:
    """The style most of the tree is written in. What each section entry counts is kept per entry
    (``Document.per_entry``), and what a section counts in all is kept and brought up to date by
    the entries that changed, so that an edited version of a large template counts only those
    (and does not even look at the others' nodes). Counts alone decide unless two values tie for
    the most; then the order in which ``walk`` meets them does (``Counter.most_common``'s rule),
    and everything is added up again in that order."""
    root = doc.root
    if not isinstance(root, Mapping) or root.flow or not doc.keep_facts:
        total = _Total(_YAML_MAPS, _YAML_NUMS)
        total.add(_yaml_count(doc, (root,)))  # one walk, in order
        return _yaml_style(doc, total)
    return _detect(doc, root, lambda v: not v.flow, "style", _yaml_entry, _yaml_in_order, _yaml_style,
                   lambda nodes, own: _yaml_count(doc, nodes, own), (_YAML_MAPS, _YAML_NUMS))


def _yaml_in_order(doc: Document, root: Mapping) -> _Total:
    """The counts in ``walk``'s order, each section entry's taken from what is kept of it."""
    total = _Total(_YAML_MAPS, _YAML_NUMS)
    total.add(_yaml_root_own(doc, root))
    for k, v in reversed(root.pairs):
        total.add(_yaml_count(doc, (k,)))
        if not isinstance(v, Mapping) or v.flow:
            total.add(_yaml_count(doc, (v,)))
            continue
        kept = [doc.per_entry("style", k.value, ek.value, lambda ek=ek, ev=ev: _yaml_entry(doc, ek, ev)) for ek, ev in v.pairs]
        for pair, _ in kept:
            total.add(pair)
        total.add(_yaml_count(doc, (v,), own_only=(v,)))
        for _, tree in reversed(kept):
            total.add(tree)
    return total


def _yaml_root_own(doc: Document, root: Mapping) -> _Counts:
    """What the root mapping counts of itself: its pairs (the sections' indentation), its tag."""
    indents: dict = {}
    offsets: dict = {}
    long = sum(_yaml_pair(doc, k, v, indents, offsets) for k, v in root.pairs)
    return _frozen([indents, offsets, {}], [1 if root.tag else 0, long])


def _yaml_style(doc: Document, total: _Total) -> Style:
    indents, offsets, quotes = total.maps
    short, long = total.nums
    return Style(
        newline=_newline(doc.text),
        indent=_most(indents, 2),
        seq_offset=_most(offsets, 2),
        quote=_most(quotes, "'"),
        short_form=short >= long,
    )


# ----- shared: sections counted from their entries --------------------------------------------
def _detect(doc: Document, root: Mapping, counted_by_entry, kind: str, entry, in_order, style, count, shape) -> Style:
    """Counts alone from the kept section totals, unless two values tie for the most."""
    total = _Total(*shape)
    total.add(_yaml_root_own(doc, root) if kind == "style" else count((root,), (root,)))
    sections = []
    for k, v in reversed(root.pairs):
        total.add(count((k,), ()))
        if isinstance(v, Mapping) and v.pairs and counted_by_entry(v):
            sections.append((k, v))
            total.add(count((v,), (v,)))
        else:
            total.add(count((v,), ()))
    for k, v in sections:
        kept = _section_total(doc, k, v, kind, lambda ek, ev: entry(doc, ek, ev), shape)
        if kept is None:
            return style(doc, in_order(doc, root))
        for m, part in zip(total.maps, kept.maps):
            for value, n in part.items():
                m[value] = m.get(value, 0) + n
        total.nums = [a + b for a, b in zip(total.nums, kept.nums)]
    if any(_tied(m) for m in total.maps):
        return style(doc, in_order(doc, root))
    quick = style(doc, total)
    if doc.check_kept and quick != style(doc, in_order(doc, root)):
        raise InternalError(f"the style from kept counts differs from a recount ({doc.filename})")
    return quick


def _section_total(doc: Document, key, section, kind: str, parts, shape) -> "_Total | None":
    """What the entries of a section count in all (order aside), from the total kept for the
    version this document was re-read from, changed by the entries that are not the same
    objects; None when an entry's data cannot be told apart (a key the data does not hold).
    ``parts(key, value)`` is what one entry counts, a tuple of ``_Counts``."""
    data = doc.data.get(key.value) if isinstance(doc.data, dict) else None
    if not isinstance(data, dict):
        return None
    store = (kind + "-section", key.value)
    kept = doc.entry_values.get(store)
    members: dict = dict(kept[0]) if kept is not None else {}
    total = kept[1].copy() if kept is not None else _Total(*shape)
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
        for part in held[1] if held is not None else ():
            total.add(part, -1)
        members[ek.value] = (entry, counted)
        for part in counted:
            total.add(part)
    for name in [n for n in members if n not in now]:
        for part in members.pop(name)[1]:
            total.add(part, -1)
    doc.entry_values[store] = (members, total)
    return total


def _hashable(value) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


# ----- JSON ------------------------------------------------------------------------------------
_JSON_MAPS, _JSON_NUMS = 2, 6  # (units, colons), (inline, multiline, fn_inline, fn_multi, padded, tight)


def _json_count(doc: Document, roots, own_only=()) -> _Counts:
    """What the trees under ``roots`` count, in ``walk``'s order (``own_only``: the node only)."""
    text = doc.text
    units: dict = {}
    colons: dict = {}
    inline = multiline = fn_inline = fn_multi = padded = tight = 0
    for root in roots:
        for n in walk(root) if root not in own_only else (root,):
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
                colon = text[k.end : v.start]
                colons[colon] = colons.get(colon, 0) + 1
                inner = doc.indent_of_line(k.start)
                if doc.line_start(k.start) != doc.line_start(n.start) and inner.startswith(outer) and len(inner) > len(outer):
                    unit = inner[len(outer) :]
                    units[unit] = units.get(unit, 0) + 1
            elif isinstance(n, Sequence) and len(n.items) > 1 and all(isinstance(i, Scalar) for i in n.items):
                if "\n" in text[n.start : n.end]:
                    multiline += 1
                else:
                    inline += 1
    return _frozen([units, colons], [inline, multiline, fn_inline, fn_multi, padded, tight])


def _json_entry(doc: Document, key, value) -> tuple[_Counts]:
    return (_json_count(doc, (key, value)),)


def detect_json_style(doc: Document) -> Style:
    """As ``detect_yaml_style``: each section entry's counts kept, each section's total brought
    up to date, the order of ``walk`` used only when two values tie for the most."""
    root = doc.root
    if not isinstance(root, Mapping) or not doc.keep_facts:
        total = _Total(_JSON_MAPS, _JSON_NUMS)
        total.add(_json_count(doc, (root,)))
        return _json_style(doc, total)
    return _detect(doc, root, lambda v: True, "json style", _json_entry, _json_in_order, _json_style,
                   lambda nodes, own: _json_count(doc, nodes, own), (_JSON_MAPS, _JSON_NUMS))


def _json_in_order(doc: Document, root: Mapping) -> _Total:
    total = _Total(_JSON_MAPS, _JSON_NUMS)
    total.add(_json_count(doc, (root,), own_only=(root,)))
    for k, v in reversed(root.pairs):
        total.add(_json_count(doc, (k,)))
        if not isinstance(v, Mapping) or not v.pairs:
            total.add(_json_count(doc, (v,)))
            continue
        total.add(_json_count(doc, (v,), own_only=(v,)))
        for ek, ev in reversed(v.pairs):
            total.add(doc.per_entry("json style", k.value, ek.value, lambda ek=ek, ev=ev: _json_entry(doc, ek, ev))[0])
    return total


def _json_style(doc: Document, total: _Total) -> Style:
    units, colons = total.maps
    inline, multiline, fn_inline, fn_multi, padded, tight = total.nums
    colon = _most(colons, ": ")
    if "\n" in colon or not colon.strip() == ":":
        colon = ": "
    return Style(
        newline=_newline(doc.text),
        json_indent=_most(units, "  "),
        json_colon=colon,
        json_inline_scalar_lists=inline > multiline,
        json_inline_intrinsics=fn_inline >= fn_multi,
        json_brace_space=padded > tight,
    )
