"""The document after a batch of splices, re-reading only the entries the splices touched.

After each batch of fixes the engine needs the fixed text's document: its data, to check that the
text says what the fixes meant, and its tree, for the next fixers' positions. Parsing the whole
text again was a third of the fixing time on real templates, and most of a large template's. A
YAML template's sections are block mappings whose entries (a resource, a parameter, an output)
are read the same wherever they stand, so when every splice falls inside entries of sections,
only those entries' lines are parsed again; the nodes before them are shared with the old
document, the nodes after them are copied with their positions moved, and the data of the
untouched entries is shared.

Anything else — JSON, flow-style sections, anchors and aliases, directives, a splice on a section's
own line or between sections, a region that no longer reads as entries of its section, a key that
the region now holds twice — returns None, and the caller parses the whole text. With the
environment variable ``CFNFIX_CHECK_REPARSE`` set (the test suite sets it), every result is
compared with a parse of the whole text and a difference raises.
"""

from __future__ import annotations

import os
import re
from bisect import bisect_right
from typing import TYPE_CHECKING, Any

from ..errors import InternalError, TemplateError
from .lines import moved_starts
from .nodes import Mapping, Node, Scalar, Sequence, walk

_ODD_BREAKS = re.compile("[\x85\u2028\u2029]")
_MARKERS = re.compile(r"(?m)^(?:---|\.\.\.)")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")

if TYPE_CHECKING:
    from .document import Document
    from .splice import Splice


def reparse(doc: Document, new_text: str, splices: list[Splice]) -> Document | None:
    """``Document(new_text)`` for ``new_text = splice(doc.text, splices)``, built from ``doc`` by
    parsing only the section entries the splices touch; None when that does not apply."""
    new = _reparse(doc, new_text, splices)
    if new is not None and os.environ.get("CFNFIX_CHECK_REPARSE"):
        _check(new, new_text)
    return new


def _reparse(doc: Document, new_text: str, splices: list[Splice]) -> Document | None:
    from .document import Document

    if doc.format == "json" and splices:
        return _reparse_json(doc, new_text, splices)
    if doc.format != "yaml" or doc.aliased or not splices:
        return None
    text = doc.text
    root = doc.root
    if not isinstance(root, Mapping) or root.flow or root.tag or not isinstance(doc.data, dict):
        return None
    if text.startswith("%") or "\n%" in text or "\r%" in text:
        return None  # a %TAG directive changes what tags mean: a region read alone would differ
    if _odd_breaks(text) or _odd_breaks(new_text):
        return None  # NEL, LS, PS: the parser does not count them as lines everywhere
    regions = _regions(doc, splices)
    if regions is None:
        return None

    new = Document.built(new_text, doc.filename)

    # Splice offsets are into the old text (``_mover`` says where an old offset now sits).
    order = sorted(splices, key=lambda s: (s.start, s.end))
    new.moved_line_starts(moved_starts(doc.line_starts, [(s.start, s.end, s.text) for s in order], new_text))
    moved = _mover(order)

    new_pairs: list[tuple[Scalar, Any]] = []
    new_data: dict = {}
    shift = (0, 0)  # (offset, lines) of the old text at the current point
    for index, (key, value) in enumerate(root.pairs):
        region = regions.get(index)
        if region is None:
            k, v = _shifted(key, *shift), _shifted(value, *shift)
            new_pairs.append((k, v))
            new_data[key.value] = doc.data[key.value]
            continue
        first, last, start, end = region
        new_start, new_end = moved(start, region_start=True), moved(end)
        region_text = new_text[new_start:new_end]
        if _MARKERS.search(region_text):
            return None  # a document marker (--- or ...): the region is not entries of one section
        if _comments_only(region_text):  # the entries were deleted
            region_pairs, rdata = [], {}
        else:
            read = _read_region(region_text)
            if read is None:
                return None
            rroot, rdata = read
            column = value.pairs[0][0].column
            inside = {k.value for k, _ in value.pairs[first : last + 1]}
            outside = {k.value for k, _ in value.pairs} - inside
            if rroot.column != column or any(k.column != column for k, _ in rroot.pairs) or outside & set(rdata):
                return None
            _move_in_place(rroot, new_start, new.position(new_start)[0] - 1)
            region_pairs = rroot.pairs
        after = (new_end - end, new.position(new_end)[0] - doc.position(end)[0])
        pairs = [(_shifted(k, *shift), _shifted(v, *shift)) for k, v in value.pairs[:first]]
        pairs += region_pairs
        if not pairs:
            return None  # the section is gone (the splices write `{}` for an emptied one)
        pairs += [(_shifted(k, *after), _shifted(v, *after)) for k, v in value.pairs[last + 1 :]]
        data: dict = {}
        old = doc.data[key.value]
        if not isinstance(old, dict):
            return None
        for k, _ in value.pairs[:first]:
            data[k.value] = old[k.value]
        data.update(rdata)
        for k, _ in value.pairs[last + 1 :]:
            data[k.value] = old[k.value]
        head = pairs[0][0]
        section = Mapping(head.start, pairs[-1][1].end, head.line, head.column, None, pairs, False)
        if first > 0:  # the mapping starts where it did (its first key is before the region)
            section.start, section.line, section.column = value.start + shift[0], value.line + shift[1], value.column
        new_pairs.append((_shifted(key, *shift), section))
        new_data[key.value] = data
        shift = after
    new.set_tree(Mapping(root.start, new_pairs[-1][1].end if new_pairs else root.end, root.line, root.column, None, new_pairs, False),
                 new_data)
    new.keep_from(doc)  # the facts of the entries whose data is shared stay true
    return new


def _mover(order: list[Splice]):
    """Where old offset ``o`` sits in the new text: after the text of every splice that ends
    before it; for the start of a region, not after an insertion made right there (that
    insertion is the region's), for its end, after it."""
    def moved(offset: int, region_start: bool = False) -> int:
        d = 0
        for s in order:
            if s.end < offset or s.end == offset and not (region_start and s.start == offset):
                d += len(s.text) - (s.end - s.start)
        return offset + d
    return moved


_AFTER_ENTRY = re.compile(r"[ \t,}\]]*(?:\n|$)")


def _reparse_json(doc: Document, new_text: str, splices: list[Splice]) -> Document | None:
    """The JSON counterpart of ``_reparse``: every splice must fall inside one entry of a section
    object (from its key's opening quote to the end of its value), and nothing may start after
    that entry on the line it ends on (a node there would change column). Each touched entry is
    read again from the new text where it now starts, and must end where its old end moved."""
    from .document import Document
    from .json_reader import MAX_DEPTH, _deeper_than, _Reader

    text = doc.text
    if not doc.has_tree or "\r" in text or "\r" in new_text or "\x00" in new_text:
        return None  # no tree to share; CR (the reader counts lines at LF only); NUL (bad input)
    root = doc.root
    if not isinstance(root, Mapping) or not isinstance(doc.data, dict):
        return None
    touched: dict[tuple[int, int], None] = {}
    for s in splices:
        hit = None
        for si, (_, value) in enumerate(root.pairs):
            if isinstance(value, Mapping) and value.start < s.start and s.end < value.end:
                starts = [k.start for k, _ in value.pairs]
                ei = bisect_right(starts, s.start) - 1
                if ei >= 0 and s.end <= value.pairs[ei][1].end:
                    hit = (si, ei)
                break
        if hit is None:
            return None
        touched[hit] = None
    order = sorted(splices, key=lambda s: (s.start, s.end))
    moved = _mover(order)
    new = Document.built(new_text, doc.filename, fmt="json")
    new.moved_line_starts(moved_starts(doc.line_starts, [(s.start, s.end, s.text) for s in order], new_text))
    reader = _Reader.at(new_text, new.line_starts)

    def shift_at(old: int) -> tuple[int, int]:
        new_at = moved(old)
        return new_at - old, new.position(new_at)[0] - doc.position(old)[0]

    new_pairs, new_data = [], {}
    for si, (key, value) in enumerate(root.pairs):
        d = shift_at(key.start)
        entries = [ei for (s, ei) in touched if s == si]
        if not entries:
            new_pairs.append((_shifted(key, *d), _shifted(value, *d)))
            new_data[key.value] = doc.data[key.value]
            continue
        old_section = doc.data[key.value]
        if not isinstance(old_section, dict):
            return None
        pairs, data = [], {}
        for ei, (ek, ev) in enumerate(value.pairs):
            if ei not in entries:
                d = shift_at(ek.start)
                pairs.append((_shifted(ek, *d), _shifted(ev, *d)))
                data[ek.value] = old_section[ek.value]
                continue
            if not _AFTER_ENTRY.match(text, ev.end):
                return None  # something starts after the entry on its last line
            start, end = moved(ek.start, region_start=True), moved(ev.end)
            read = _read_entry(reader, start, end)
            if read is None:
                return None
            nk, nv, name, entry = read
            if name in data or (name != ek.value and name in old_section) or _deeper_than(entry, MAX_DEPTH - 2):
                return None
            pairs.append((nk, nv))
            data[name] = entry
        at, closing = shift_at(value.start), shift_at(value.end - 1)  # the braces
        section = Mapping(value.start + at[0], value.end + closing[0], value.line + at[1], value.column, value.tag, pairs, value.flow)
        new_pairs.append((_shifted(key, *shift_at(key.start)), section))
        new_data[key.value] = data
    d_end = shift_at(root.end - 1) if root.end > 0 else (0, 0)
    new.set_tree(Mapping(root.start, root.end + d_end[0], root.line, root.column, root.tag, new_pairs, root.flow), new_data)
    new.keep_from(doc)
    return new


def _read_entry(reader, start: int, end: int):
    """(key node, value node, key, value) of the entry written from ``start`` to ``end``."""
    try:
        reader.pos = start
        if not reader.text.startswith('"', start):
            return None
        key, name = reader.scalar()
        reader.skip_ws()
        if not reader.text.startswith(":", reader.pos):
            return None
        reader.pos += 1
        reader.skip_ws()
        got = reader.value_or_open(2, [])
        if got is None:
            got = reader.containers()
    except TemplateError:
        return None  # the whole reading says where
    if reader.pos != end:
        return None
    return key, got[0], name, got[1]


def _comments_only(text: str) -> bool:
    """Whether every line of ``text`` is blank or a comment. (A regular expression for this
    backtracked without end over many CRLF lines followed by content: \\r\\n also reads as \\r
    then \\n. The long fuzz run found it.)"""
    for line in _LINE_BREAK.split(text):
        content = line.lstrip(" \t")
        if content and not content.startswith("#"):
            return False
    return True


def _odd_breaks(text: str) -> bool:
    return not text.isascii() and _ODD_BREAKS.search(text) is not None


def _regions(doc: Document, splices: list[Splice]) -> dict[int, tuple[int, int, int, int]] | None:
    """Per section (its index among the root's pairs): the first and last entry the splices touch
    and the old text's range of those entries (``_entry_spans``); None when a splice falls outside
    every section's entries. An insertion where two ranges meet touches both."""
    spans_of: dict[int, list[tuple[int, int]] | None] = {}
    touched: dict[int, tuple[int, int]] = {}
    for s in splices:
        hit = None
        pairs = doc.root.pairs
        for index, (key, value) in enumerate(pairs):
            # The range every entry span of the section lies in, before working the spans out.
            first, last = doc.line_end(key.start), doc.line_start(pairs[index + 1][0].start) if index + 1 < len(pairs) else len(doc.text)
            if s.start < first or s.end > last:
                continue
            if index not in spans_of:
                spans_of[index] = _entry_spans(doc, index)
            spans = spans_of[index]
            if not spans or s.start < spans[0][0] or s.end > spans[-1][1]:
                continue
            if s.start == s.end:
                hits = [i for i, (a, b) in enumerate(spans) if a <= s.start <= b]
            else:
                hits = [i for i, (a, b) in enumerate(spans) if s.start < b and s.end > a]
            if hits:
                hit = (index, hits[0], hits[-1])
                break
        if hit is None:
            return None
        index, lo, hi = hit
        if index in touched:
            lo, hi = min(lo, touched[index][0]), max(hi, touched[index][1])
        touched[index] = (lo, hi)
    return {index: (lo, hi, spans_of[index][lo][0], spans_of[index][hi][1]) for index, (lo, hi) in touched.items()}


def _entry_spans(doc: Document, index: int) -> list[tuple[int, int]] | None:
    """The old text's range of each entry of the block-mapping section ``index``: from the line
    after the section's key, each entry up to the line of the next entry's key, the last one up
    to the line of the next section's key (or the end of the text) — so every line between two
    keys (comments, blank lines, the trailing lines of a block scalar) is in exactly one range.
    None when the section is not one whose entries can be read alone (flow style, a tag, keys
    that do not start their lines)."""
    pairs = doc.root.pairs
    section_key, value = pairs[index]
    if not isinstance(value, Mapping) or value.flow or value.tag or not value.pairs:
        return None
    text = doc.text
    column = value.pairs[0][0].column
    start = doc.line_end(section_key.start)
    if start > doc.line_start(value.pairs[0][0].start):
        return None
    keys = [k for k, _ in value.pairs]
    for key in keys:
        if key.column != column or key.tag or text[_line_start(doc, key) : key.start].strip(" "):
            return None
    ends = [_line_start(doc, k) for k in keys[1:]]
    ends.append(doc.line_start(pairs[index + 1][0].start) if index + 1 < len(pairs) else len(text))
    spans = []
    for end in ends:
        if end <= start:
            return None
        spans.append((start, end))
        start = end
    return spans


def _line_start(doc: Document, node: Node) -> int:
    """``doc.line_start(node.start)``, from the node's column when the character before that
    offset ends a line (it does, but the column comes from the reader: it is checked)."""
    at = node.start - node.column + 1
    if at == 0 or (at > 0 and doc.text[at - 1] in "\r\n"):
        return at
    return doc.line_start(node.start)


def _read_region(region: str) -> tuple[Mapping, dict] | None:
    from .yaml_reader import read_yaml

    found: list = []
    try:
        rroot, rdata = read_yaml(region, found)
    except TemplateError:
        return None
    if found or not isinstance(rroot, Mapping) or rroot.flow or rroot.tag or not isinstance(rdata, dict):
        return None
    return rroot, rdata


def _move_in_place(node: Node, offset: int, lines: int) -> None:
    """Move a freshly read tree (nothing else holds it) by ``offset`` characters and ``lines``."""
    for n in walk(node):
        n.start += offset
        n.end += offset
        n.line += lines


def _shifted(node: Node, offset: int, lines: int) -> Node:
    """``node`` moved by ``offset`` characters and ``lines`` lines: a copy (the old document keeps
    its own), or ``node`` itself when nothing moves. A mapping's pairs and a sequence's items are
    moved when first asked for: most entries of a large template are never looked at again."""
    if not offset and not lines:
        return node
    if isinstance(node, Scalar):
        return Scalar(node.start + offset, node.end + offset, node.line + lines, node.column, node.tag, node.value, node.style)
    moved = object.__new__(_MovedMapping if isinstance(node, Mapping) else _MovedSequence)
    source = node._source if isinstance(node, (_MovedMapping, _MovedSequence)) else None
    if source is not None:  # still unread: move the original, so that no chain of versions builds up
        moved._source, moved._by = source, (node._by[0] + offset, node._by[1] + lines)
    else:
        moved._source, moved._by = node, (offset, lines)
    moved.start, moved.end, moved.line, moved.column, moved.tag = node.start + offset, node.end + offset, node.line + lines, node.column, node.tag
    moved.flow = node.flow
    return moved


class _MovedMapping(Mapping):
    """A mapping moved by ``_shifted``, whose pairs are moved on first use."""

    __slots__ = ("_source", "_by")

    @property
    def pairs(self):
        source = self._source
        if source is not None:
            offset, lines = self._by
            Mapping.pairs.__set__(self, [(_shifted(k, offset, lines), _shifted(v, offset, lines)) for k, v in source.pairs])
            self._source = None
        return Mapping.pairs.__get__(self)

    @pairs.setter
    def pairs(self, value):
        self._source = None
        Mapping.pairs.__set__(self, value)


class _MovedSequence(Sequence):
    """A sequence moved by ``_shifted``, whose items are moved on first use."""

    __slots__ = ("_source", "_by")

    @property
    def items(self):
        source = self._source
        if source is not None:
            offset, lines = self._by
            Sequence.items.__set__(self, [_shifted(i, offset, lines) for i in source.items])
            self._source = None
        return Sequence.items.__get__(self)

    @items.setter
    def items(self, value):
        self._source = None
        Sequence.items.__set__(self, value)


def _check(new: Document, new_text: str) -> None:
    from .document import Document

    full = Document(new_text, new.filename, fmt=new.format)
    if full.data != new.data or list(_flat(full.root)) != list(_flat(new.root)) or full.line_starts != new.line_starts:
        raise InternalError(f"re-reading only the spliced entries gave another document than reading it all ({new.filename})")


def _flat(node: Node):
    stack = [node]
    while stack:
        n = stack.pop()
        kind = "Scalar" if isinstance(n, Scalar) else "Mapping" if isinstance(n, Mapping) else "Sequence"
        yield (kind, n.start, n.end, n.line, n.column, n.tag,
               n.value if isinstance(n, Scalar) else None, n.style if isinstance(n, Scalar) else None,
               getattr(n, "flow", None))
        if isinstance(n, Mapping):
            for k, v in reversed(n.pairs):
                stack.append(v)
                stack.append(k)
        elif isinstance(n, Sequence):
            stack.extend(reversed(n.items))
