"""Edits turned into splices of the original text.

A fixer says *what* to change in terms of data paths (``edits``). This module decides *how* the
text changes: which byte range goes and what new text, rendered in the file's own style, takes
its place. Untouched bytes are never re-emitted, which is what keeps a fixed template's diff down
to the lines a fix touched.

All edits of one batch are resolved against the same parsed document, so their paths refer to
the document as it was before any of them.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, replace
from typing import Any

from . import render
from .document import Document
from .edits import Append, Delete, Edit, EditError, Insert, Path, RenameKey, SetValue, apply_to_data
from .nodes import SHORT_TAGS, AnyNode, Mapping, Scalar, Sequence


@dataclass(frozen=True)
class Splice:
    start: int
    end: int
    text: str
    order: int = 0
    # How deep the edit's path is: of two insertions at one offset (an entry appended to a list
    # that ends a resource, a new resource after that one), the deeper one goes first.
    depth: int = 0


class _Resolver:
    def __init__(self, doc: Document):
        self.doc = doc
        self.text = doc.text
        self.style = doc.style
        self.yaml = doc.format == "yaml"

    def node(self, path: Path) -> AnyNode:
        node = self.doc.node_at(tuple(path))
        if node is None:
            _refuse_aliased(self.doc, path)
            raise EditError(f"no node at {'/'.join(map(str, path))}")
        return node

    def resolve(self, edit: Edit, order: int) -> list[Splice]:
        if isinstance(edit, SetValue):
            return [self.set_value(tuple(edit.path), edit.value, order)]
        if isinstance(edit, Delete):
            return [self.delete(tuple(edit.path), order)]
        if isinstance(edit, Insert):
            return [self.insert(tuple(edit.path), edit.key, edit.value, edit.after, order, edit.before)]
        if isinstance(edit, Append):
            return [self.append(tuple(edit.path), edit.value, order)]
        if isinstance(edit, RenameKey):
            return [self.rename(tuple(edit.path), edit.new_key, order)]
        raise EditError(f"unknown edit {edit!r}")

    # -- helpers
    def _is_block(self, node: AnyNode) -> bool:
        return self.yaml and not getattr(node, "flow", True)

    def _first_on_line(self, offset: int) -> bool:
        return not self.text[self.doc.line_start(offset) : offset].strip()

    def _colon_end(self, key: Scalar) -> int:
        i = self.text.index(":", key.end)
        return i + 1

    def _render_flow(self, value: Any, at: int, multiline: bool = True) -> str:
        if self.yaml:
            return render.yaml_flow(value, self.style)
        return render.json_value(value, self.doc.indent_of_line(at), self.style, multiline)

    def _line_end(self, offset: int) -> tuple[int, str]:
        """Where to put a new line after the line holding ``offset``, and a newline prefix if
        the file ends without one."""
        end = self.doc.line_end(offset)
        if end == len(self.text) and not self.text.endswith("\n"):
            return end, self.style.newline
        return end, ""

    def _flow_sep(self, node: AnyNode) -> str:
        """The whitespace that separates members of a flow collection (after the comma)."""
        starts = [k.start for k, _ in node.pairs] if isinstance(node, Mapping) else [i.start for i in node.items]
        if len(starts) >= 2:
            between = self.text[self.text.rfind(",", 0, starts[1]) + 1 : starts[1]]
            return between
        between = self.text[node.start + 1 : starts[0]]
        if "\n" in between:
            return between
        tight = re.findall(r",(?=[^\s])", self.text)  # evidence of a minified file
        spaced = re.findall(r",(?=\s)", self.text)
        return "" if tight and not spaced else " "

    # -- edits
    def set_value(self, path: Path, value: Any, order: int) -> Splice:
        if not path:
            raise EditError("cannot replace the whole template")
        if self.doc.is_tag_step(path):  # the argument of !Fn: write the whole function again
            return self.set_value(path[:-1], {path[-1]: value}, order)
        node = self.node(path)
        _refuse_anchor_within(self.doc, node, path)
        if self.yaml and isinstance(node, Scalar) and node.style == "|":
            new = value
            if node.tag:
                fn = SHORT_TAGS[node.tag]
                new = value[fn] if isinstance(value, dict) and list(value) == [fn] else None
            if isinstance(new, str):
                kept = self._literal_lines(node, new, order)
                if kept is not None:
                    return kept
        parent = self.node(path[:-1])
        if isinstance(parent, Mapping) and self._is_block(parent):
            key = self.doc.key_at(path)
            key_col = key.column - 1
            null_empty = isinstance(node, Scalar) and node.start == node.end
            same_line = not null_empty and self.doc.line_start(node.start) == self.doc.line_start(key.start)
            new = render.yaml_after_key(value, key_col, self.style)
            if same_line and new.startswith(" ") and "\n" not in new and self._is_single_line(node):
                return Splice(node.start, node.end, new[1:], order)
            return Splice(self._colon_end(key), node.end, new, order)
        if isinstance(parent, Sequence) and self._is_block(parent):
            return Splice(node.start, node.end, render.yaml_seq_item(value, node.column - 1, self.style)[1:], order)
        multiline = "\n" in self.text[parent.start : parent.end]
        return Splice(node.start, node.end, self._render_flow(value, node.start, multiline), order)

    def _blank_separated(self, node: Mapping, idx: int) -> bool:
        """True when the mapping's entries are separated by blank lines (as Resources often
        are) around the anchor entry, so that a new entry gets one too."""
        pairs = node.pairs
        gaps = []
        for j in (idx, idx + 1):
            if 0 < j < len(pairs):
                between = self.text[self.doc.line_end(pairs[j - 1][1].end) : self.doc.line_start(pairs[j][0].start)]
                gaps.append(any(not l.strip() for l in between.split("\n")[:-1]) if between else False)
        return bool(gaps) and all(gaps)

    def _literal_lines(self, node: Scalar, new: str, order: int) -> Splice | None:
        """New text for a ``|`` block scalar that rewrites only the lines that differ.

        The header (tag, ``|``, chomping indicator, comment) and every unchanged line keep their
        bytes; new lines take the block's own indentation. None when the block's layout cannot
        carry ``new`` as it is (explicit indentation indicator, ``|+``, or a chomping indicator
        that disagrees with the new text's final newline).
        """
        text = self.text
        header_end = text.find("\n", node.start)
        if header_end < 0 or header_end >= node.end:
            return None
        header = text[node.start : header_end].rstrip("\r")
        m = re.search(r"\|([-+]?)[ \t]*(#.*)?$", header)
        if not m:
            return None  # an indentation indicator, or something unusual
        chomp = m.group(1)
        if chomp == "+" or (chomp == "" and not (new.endswith("\n") and not new.endswith("\n\n"))) or (chomp == "-" and new.endswith("\n")):
            return None
        # A clipped block whose last line ends the file without a line break has no final newline
        # in its value; the new value has one, so the rewritten block ends its last line.
        unterminated = chomp == "" and not node.value.endswith("\n")
        old = node.value[:-1] if chomp == "" and not unterminated else node.value
        new_body = new[:-1] if chomp == "" else new
        lines = text[header_end + 1 : node.end].split("\n")
        old_lines, new_lines = old.split("\n"), new_body.split("\n")
        if len(lines) != len(old_lines) or not new_body:
            return None
        content = [l for l in lines if l.strip()]
        col = len(content[0]) - len(content[0].lstrip(" ")) if content else 0
        cr = "\r" if self.style.newline == "\r\n" else ""
        out: list[str] = []
        for op, i1, i2, j1, j2 in _line_opcodes(old_lines, new_lines):
            if op == "equal":
                out.extend(lines[i1:i2])
            else:
                out.extend((" " * col + l + cr) if l else cr for l in new_lines[j1:j2])
        body = "\n".join(out)
        if body.endswith("\r") and node.end < len(text) and text[node.end] == "\r":
            body = body[:-1]
        if unterminated:
            body += "\r\n" if cr and not body.endswith("\r") else "\n"
        return Splice(header_end + 1, node.end, body, order)

    def _with_leading_comments(self, start: int) -> int:
        """Start of the deleted lines, taking along the full-line comments directly above the
        entry at its own indentation (they describe it, and would describe nothing after)."""
        first = self.doc.line_start(start)
        indent = self.text[first:start]
        while first > 0:
            prev = self.doc.line_start(first - 1)
            line = self.text[prev:first].rstrip("\r\n")
            if not (line.startswith(indent + "#") and line[: len(indent)].strip() == ""):
                break
            first = prev
        return first

    def _with_trailing_comments(self, last: int, column: int) -> int:
        """End of the deleted lines, taking along the full-line comments after the entry that are
        indented deeper than it (at ``column``): they sit inside it, and would be left stranded
        above whatever follows."""
        pos, end = last, last
        while pos < len(self.text):
            nxt = self.doc.line_end(pos)
            line = self.text[pos:nxt].rstrip("\r\n")
            stripped = line.lstrip(" ")
            if stripped.startswith("#") and len(line) - len(stripped) > column:
                end = nxt
            elif stripped.strip():
                break
            pos = nxt
        return end

    def _collapse_blank(self, first: int, last: int) -> int:
        """End of the deleted lines: with a blank line on both sides, one of them goes too."""
        before_blank = first > 0 and not self.text[self.doc.line_start(first - 1) : first].strip()
        after = self.text[last : self.doc.line_end(last)]
        if before_blank and last < len(self.text) and not after.strip():
            return self.doc.line_end(last)
        return last

    def _is_single_line(self, node: AnyNode) -> bool:
        return "\n" not in self.text[node.start : node.end]

    def delete(self, path: Path, order: int) -> Splice:
        parent = self.node(path[:-1])
        node = self.node(path)
        _refuse_anchor_within(self.doc, node, path)
        if isinstance(parent, Mapping):
            idx = parent.index_of(path[-1])
            if len(parent.pairs) == 1:
                return self.set_value(path[:-1], {}, order) if path[:-1] else _fail("cannot empty the template")
            key, _ = parent.pairs[idx]
            start, end = key.start, node.end
            siblings = [(k.start, v.end) for k, v in parent.pairs]
        else:
            idx = path[-1]
            if len(parent.items) == 1:
                return self.set_value(path[:-1], [], order)
            start, end = node.start, node.end
            siblings = [(i.start, i.end) for i in parent.items]
        if self._is_block(parent):
            if isinstance(parent, Sequence):
                start = self.text.rfind("-", 0, start)
            if self._first_on_line(start):
                first, last = self._with_leading_comments(start), self.doc.line_end(end)
                last = self._with_trailing_comments(last, start - self.doc.line_start(start))
                return Splice(first, self._collapse_blank(first, last), "", order)
            if idx + 1 < len(siblings):  # e.g. the first key of a "- Key: v" item
                nxt = siblings[idx + 1][0]
                if isinstance(parent, Sequence):
                    nxt = self.text.rfind("-", 0, nxt)
                return Splice(start, nxt, "", order)
            raise EditError(f"cannot delete {'/'.join(map(str, path))}: unusual layout")
        if idx + 1 < len(siblings):
            return Splice(start, siblings[idx + 1][0], "", order)
        return Splice(siblings[idx - 1][1], end, "", order)

    def insert(self, path: Path, key: str, value: Any, after: str | None, order: int, before: str | None = None) -> Splice:
        node = self.node(path) if path else self.doc.root
        if isinstance(node, Scalar) and node.value is None or isinstance(node, Mapping) and not node.pairs:
            return self.set_value(path, {key: value}, order)
        if not isinstance(node, Mapping):
            raise EditError(f"not a mapping at {'/'.join(map(str, path))}")
        existing = node.get(key)
        if isinstance(existing, Scalar) and existing.value is None and not existing.style and existing.tag is None:
            return self.set_value(tuple(path) + (key,), value, order)  # "Key:" with nothing: fill it in
        if existing is not None:
            raise EditError(f"key {key!r} already exists at {'/'.join(map(str, path))}")
        if before is not None and node.index_of(before) >= 0:
            return self._insert_before(node, node.index_of(before), key, value, order)
        idx = node.index_of(after) if after is not None else len(node.pairs) - 1
        return self._insert_after(node, idx if idx >= 0 else len(node.pairs) - 1, key, value, order)

    def _insert_after(self, node: Mapping, idx: int, key: str, value: Any, order: int) -> Splice:
        anchor_value = node.pairs[idx][1]
        if self._is_block(node):
            pos, prefix = self._line_end(anchor_value.end)
            line = self._block_entry(node, key, value)
            eof = bool(prefix)  # the file ends without a newline: the new line goes last, also without
            if self._blank_separated(node, idx):
                prefix += self.style.newline
            return Splice(pos, pos, prefix + line + ("" if eof else self.style.newline), order)
        sep = self._flow_sep(node)
        return Splice(anchor_value.end, anchor_value.end, "," + sep + self._flow_pair(key, value, sep), order)

    def _block_entry(self, node: Mapping, key: str, value: Any) -> str:
        """``key: value`` as a line (or lines) of the block mapping ``node``."""
        col = node.pairs[0][0].column - 1
        return " " * col + render.yaml_key(key, self.style) + ":" + render.yaml_after_key(value, col, self.style)

    def _flow_pair(self, key: str, value: Any, sep: str) -> str:
        """``key: value`` for a flow mapping (YAML) or an object (JSON) whose members are
        separated by ``sep``."""
        if self.yaml:
            return render.yaml_string(key, self.style, flow=True) + ": " + render.yaml_flow(value, self.style)
        indent = sep.rsplit("\n", 1)[1] if "\n" in sep else ""
        return render.json_scalar(key) + self.style.json_colon + render.json_value(value, indent, self.style, "\n" in sep)

    def _insert_before(self, node: Mapping, idx: int, key: str, value: Any, order: int) -> Splice:
        next_key = node.pairs[idx][0]
        if self._is_block(node):
            if idx > 0:
                return self._insert_after(node, idx - 1, key, value, order)
            if not self._first_on_line(next_key.start):
                raise EditError(f"cannot insert {key!r} before {next_key.value!r}: unusual layout")
            pos = self._with_leading_comments(next_key.start)
            gap = self.style.newline if self._blank_separated(node, 0) else ""
            return Splice(pos, pos, self._block_entry(node, key, value) + self.style.newline + gap, order)
        sep = self._flow_sep(node)
        return Splice(next_key.start, next_key.start, self._flow_pair(key, value, sep) + "," + sep, order)

    def append(self, path: Path, value: Any, order: int) -> Splice:
        node = self.node(path)
        if isinstance(node, Scalar) and node.value is None or isinstance(node, Sequence) and not node.items:
            return self.set_value(path, [value], order)
        if not isinstance(node, Sequence):
            raise EditError(f"not a list at {'/'.join(map(str, path))}")
        last = node.items[-1]
        if self._is_block(node):
            dash = self.text.rfind("-", 0, node.items[0].start)
            col = self.doc.position(dash)[1] - 1
            pos, prefix = self._line_end(last.end)
            line = " " * col + "-" + render.yaml_seq_item(value, col + 2, self.style)
            return Splice(pos, pos, prefix + line + ("" if prefix else self.style.newline), order)
        sep = self._flow_sep(node)
        if self.yaml:
            item = render.yaml_flow(value, self.style)
        else:
            indent = sep.rsplit("\n", 1)[1] if "\n" in sep else ""
            item = render.json_value(value, indent, self.style, "\n" in sep)
        return Splice(last.end, last.end, "," + sep + item, order)

    def rename(self, path: Path, new_key: str, order: int) -> Splice:
        key = self.doc.key_at(path)
        if key is None:
            _refuse_aliased(self.doc, path)
            raise EditError(f"no key at {'/'.join(map(str, path))}")
        if self.doc.line_start(key.end) != self.doc.line_start(key.start):
            raise EditError(f"key {key.value!r} spans lines: not renamed")
        if not self.yaml:
            text = render.json_scalar(new_key)
        elif key.style in ("'", '"'):
            text = _quoted(new_key, key.style)
        else:
            text = render.yaml_key(new_key, self.style)
        return Splice(key.start, key.end, text, order)


def _quoted(s: str, quote: str) -> str:
    if quote == "'":
        return "'" + s.replace("'", "''") + "'"
    return render.json_scalar(s)


def _fail(message: str):
    raise EditError(message)


def _refuse_aliased(doc: Document, path: Path) -> None:
    name = doc.alias_at(tuple(path))
    if name is not None:
        raise EditError(f"{'/'.join(map(str, path))} is part of YAML anchor &{name}, which an alias (*{name}) "
                        "repeats: an edit there would change every copy")


def _refuse_anchor_within(doc: Document, node: AnyNode, path: Path) -> None:
    name = doc.anchor_within(node)
    if name is not None:
        raise EditError(f"{'/'.join(map(str, path))} holds YAML anchor &{name}, which aliases elsewhere refer to")


def keeps_layout(doc: Document, path: Path, value: Any) -> bool:
    """Whether ``SetValue(path, value)`` keeps the layout of the YAML block scalar at ``path``,
    rewriting only the lines that differ. True for anything that is not a block scalar; False
    for a ``>`` block, ``|+``, an explicit indentation indicator, or a chomping indicator that
    disagrees with the new text (those would be laid out afresh as a ``|`` block)."""
    r = _Resolver(doc)
    path = tuple(path)
    if doc.is_tag_step(path):
        path, value = path[:-1], {path[-1]: value}
    node = doc.node_at(path)
    if doc.format != "yaml" or not isinstance(node, Scalar) or node.style not in ("|", ">"):
        return True
    if node.style == ">":
        return False
    new = value
    if node.tag:
        fn = SHORT_TAGS[node.tag]
        new = value[fn] if isinstance(value, dict) and list(value) == [fn] else None
    return isinstance(new, str) and r._literal_lines(node, new, 0) is not None


def _merge_deletes(doc: Document, edits: list[Edit]) -> list[Edit]:
    """Deletes that together empty a collection become one SetValue — of ``{}`` / ``[]``, or of
    the collection's new content when the same batch also inserts or appends into it — so the
    text says what the data says (a YAML key with nothing under it would read as null)."""
    groups: dict[tuple, set] = {}
    for e in edits:
        if isinstance(e, Delete) and e.path:
            groups.setdefault(tuple(e.path[:-1]), set()).add(e.path[-1])
    merged: dict[tuple, Any] = {}
    for parent, steps in groups.items():
        node = doc.node_at(parent)
        size = len(node.pairs) if isinstance(node, Mapping) else len(node.items) if isinstance(node, Sequence) else -1
        adds = [e for e in edits if isinstance(e, (Insert, Append)) and tuple(e.path) == parent]
        if len(steps) != size or not (size > 1 or adds):
            continue
        sub = doc.data
        for step in parent:
            sub = sub[step]
        local = [Delete(tuple(e.path[len(parent):])) for e in edits if isinstance(e, Delete) and tuple(e.path[:-1]) == parent]
        local += [Insert((), e.key, e.value) if isinstance(e, Insert) else Append((), e.value) for e in adds]
        merged[parent] = apply_to_data(sub, local)
    if not merged:
        return edits
    out, done = [], set()
    for e in edits:
        parent = None
        if isinstance(e, Delete) and e.path and tuple(e.path[:-1]) in merged:
            parent = tuple(e.path[:-1])
        elif isinstance(e, (Insert, Append)) and tuple(e.path) in merged:
            parent = tuple(e.path)
        if parent is None:
            out.append(e)
        elif parent not in done:
            done.add(parent)
            out.append(SetValue(parent, merged[parent]))
    return out


def resolve(doc: Document, edits: list[Edit]) -> list[Splice]:
    """Turn edits into non-overlapping splices of ``doc.text``; raise EditError on a clash."""
    edits = _merge_deletes(doc, edits)
    r = _Resolver(doc)
    splices = [replace(s, depth=len(e.path)) for i, e in enumerate(edits) for s in r.resolve(e, i)]
    splices.sort(key=lambda s: (s.start, s.end, -s.depth, s.order))
    for a, b in zip(splices, splices[1:]):
        if b.start < a.end:
            raise EditError("edits overlap")
    return splices


def splice(text: str, splices: list[Splice]) -> str:
    out, pos = [], 0
    for s in splices:
        out.append(text[pos : s.start])
        out.append(s.text)
        pos = s.end
    out.append(text[pos:])
    return "".join(out)


# Above this many line pairs, the middle of a block goes to difflib piece by piece (see below).
_DIFFLIB_PAIRS = 250_000


def _line_opcodes(old: list[str], new: list[str]) -> list[tuple[str, int, int, int, int]]:
    """Opcodes (difflib's form) from ``old`` to ``new``: the lines both start and end with are
    matched first, and difflib's matcher (without its junk heuristic, which would misplace edits)
    gets the middle — it is quadratic in the lines it is given, and a fix changes a few lines of a
    block that may hold thousands of identical ones (blank lines). A middle too large for it is
    cut at the lines that occur once in each (in the same order), and each piece between two
    such lines is matched the same way; a piece that is still too large, with no such line, is
    replaced whole (right, if not the fewest lines)."""
    return _merge(_anchored(old, new, 0, len(old), 0, len(new)))


def _anchored(old: list[str], new: list[str], a0: int, a1: int, b0: int, b1: int) -> list[tuple[str, int, int, int, int]]:
    ops = []
    while a0 < a1 and b0 < b1 and old[a0] == new[b0]:
        ops.append(("equal", a0, a0 + 1, b0, b0 + 1))
        a0, b0 = a0 + 1, b0 + 1
    tail = []
    while a0 < a1 and b0 < b1 and old[a1 - 1] == new[b1 - 1]:
        tail.append(("equal", a1 - 1, a1, b1 - 1, b1))
        a1, b1 = a1 - 1, b1 - 1
    if (a1 - a0) * (b1 - b0) <= _DIFFLIB_PAIRS:
        matcher = difflib.SequenceMatcher(None, old[a0:a1], new[b0:b1], autojunk=False)
        ops += [(op, i1 + a0, i2 + a0, j1 + b0, j2 + b0) for op, i1, i2, j1, j2 in matcher.get_opcodes()]
    else:
        anchors = _unique_common(old, new, a0, a1, b0, b1)
        if not anchors:
            ops.append(("replace", a0, a1, b0, b1))
        else:
            pa, pb = a0, b0
            for ia, ib in anchors:
                ops += _anchored(old, new, pa, ia, pb, ib)
                ops.append(("equal", ia, ia + 1, ib, ib + 1))
                pa, pb = ia + 1, ib + 1
            ops += _anchored(old, new, pa, a1, pb, b1)
    return ops + tail[::-1]


def _unique_common(old: list[str], new: list[str], a0: int, a1: int, b0: int, b1: int) -> list[tuple[int, int]]:
    """Lines that occur once in ``old[a0:a1]`` and once in ``new[b0:b1]``, as (index in old, index
    in new), the longest run of them in the same order in both (patience sorting)."""
    from bisect import bisect_left

    def once(lines: list[str], lo: int, hi: int) -> dict[str, int]:
        seen: dict[str, int] = {}
        for i in range(lo, hi):
            seen[lines[i]] = -1 if lines[i] in seen else i
        return {line: i for line, i in seen.items() if i >= 0}

    in_old, in_new = once(old, a0, a1), once(new, b0, b1)
    pairs = sorted((i, in_new[line]) for line, i in in_old.items() if line in in_new)
    tops: list[int] = []  # the smallest new-index ending a run of each length
    ends: list[int] = []  # index into pairs of that run's last pair
    back: list[int] = []
    for k, (_, ib) in enumerate(pairs):
        n = bisect_left(tops, ib)
        back.append(ends[n - 1] if n else -1)
        if n == len(tops):
            tops.append(ib)
            ends.append(k)
        else:
            tops[n], ends[n] = ib, k
    out = []
    k = ends[-1] if ends else -1
    while k >= 0:
        out.append(pairs[k])
        k = back[k]
    return out[::-1]


def _merge(ops: list[tuple[str, int, int, int, int]]) -> list[tuple[str, int, int, int, int]]:
    """Adjacent opcodes of one kind as one, and none of zero length."""
    out: list[tuple[str, int, int, int, int]] = []
    for op in ops:
        if op[1] == op[2] and op[3] == op[4]:
            continue
        if out and out[-1][0] == op[0] and out[-1][2] == op[1] and out[-1][4] == op[3]:
            out[-1] = (op[0], out[-1][1], op[2], out[-1][3], op[4])
        else:
            out.append(op)
    return out
