"""A parsed template file: its text, its positioned tree, its data, and the style it is written in."""

from __future__ import annotations

import os
import re
from bisect import bisect_left, bisect_right
from functools import cached_property
from typing import Any, Callable, TypeVar

from ..errors import InternalError, TemplateError
from .nodes import SHORT_TAGS, AnyNode, Mapping, Scalar, child
from .style import Style, detect_json_style, detect_yaml_style

_YAML_BREAKS = re.compile("\r\n|[\n\r\x85\u2028\u2029]")
_JSON_BREAKS = re.compile("\r\n|[\n\r]")
# Above this size a file is rejected rather than read (see README, "Limits"): CloudFormation
# takes templates of up to 1 MB, and on the project's 2-core machine every shape of template
# measured by bench/size_limit.py stays under 10 s of CPU and 1 GB at this size.
MAX_BYTES = 1024 * 1024


_MISSING = object()


def detect_format(text: str, filename: str | None) -> str:
    name = (filename or "").lower()
    if name.endswith(".json"):
        return "json"
    if name.endswith((".yaml", ".yml", ".template")) and not text.lstrip("\ufeff \t\r\n").startswith("{"):
        return "yaml"
    return "json" if text.lstrip("\ufeff \t\r\n").startswith(("{", "[")) else "yaml"


T = TypeVar("T")


class Document:
    def __init__(self, text: str, filename: str | None = None, fmt: str | None = None):
        self.text = text
        self.filename = filename
        self.format = fmt or detect_format(text, filename)
        self.entry_values: dict[tuple, tuple[Any, Any]] = {}  # see per_entry
        self.keep_facts = False  # see per_entry
        self.check_kept = bool(os.environ.get("CFNFIX_CHECK_MEMO"))
        if "\x00" in text:
            i = text.index("\x00")
            raise TemplateError("NUL byte in file (binary data, not a template)", *self.position(i))
        # YAML nodes that aliases stand for (by id, with the anchor's name): one node, and one
        # text, behind several paths, so an edit at any of those paths would change them all.
        self.aliased: dict[int, str] = {}
        self._indexes: dict[int, dict] = {}  # id(mapping node) -> {key: (key node, value node)}
        self._anchor_spans: list[tuple[int, int, str]] = []
        self._root: AnyNode | None = None
        if self.format == "json":
            from .json_reader import read_json_data

            self.data = read_json_data(text)  # the positioned tree when something asks for it
        else:
            from .yaml_reader import read_yaml

            found: list = []
            self._root, self.data = read_yaml(text, found)
            for node, name in found:
                self.aliased[id(node)] = name
                self._anchor_spans.append((node.start, node.end, name))
            self._anchor_spans.sort()

    @classmethod
    def built(cls, text: str, filename: str | None, fmt: str = "yaml") -> "Document":
        """A document whose tree and data are put together by the caller (``set_tree``) rather
        than read from ``text``: the partial re-reading of text/reparse.py."""
        doc = cls.__new__(cls)
        doc.text, doc.filename, doc.format = text, filename, fmt
        doc.aliased, doc._indexes, doc._anchor_spans = {}, {}, []
        doc._root, doc.data = None, None
        doc.entry_values = {}
        doc.keep_facts = False
        doc.check_kept = bool(os.environ.get("CFNFIX_CHECK_MEMO"))
        return doc

    def keep_from(self, older: "Document") -> None:
        """Share ``older``'s kept facts (this document is a partial re-read of it). Facts of
        entries that are gone (renamed as a name was typed, deleted) are dropped now and then,
        so that a long editing session does not keep them all."""
        self.keep_facts = older.keep_facts
        store = older.entry_values
        data = self.data if isinstance(self.data, dict) else {}
        if len(store) > 64 + 8 * sum(len(v) for v in data.values() if isinstance(v, dict)):
            store = {k: v for k, v in store.items()
                     if k[1] in data and (len(k) == 2 or (isinstance(data[k[1]], dict) and k[2] in data[k[1]]))}
        self.entry_values = store

    def per_section(self, kind: str, section: Any, compute: Callable[[], T]) -> T:
        """``compute()``, a ``kind`` of fact about a top-level section that depends on nothing but
        its data, kept (as ``per_entry`` keeps facts of entries) while the section's data is the
        very same object: a partial re-read shares the sections it did not touch."""
        entry = self.data.get(section, _MISSING) if isinstance(self.data, dict) and self.keep_facts else _MISSING
        return self._kept((kind, section), entry, compute)

    def per_entry(self, kind: str, section: Any, name: Any, compute: Callable[[], T]) -> T:
        """``compute()``, a ``kind`` of fact about the entry ``name`` of a top-level section that
        depends on nothing but that entry's text, kept for the documents a partial re-read makes
        from this one (text/reparse.py hands the store on). An entry whose data is still the very
        object it was is the same text, only moved; the store holds that object, so it cannot be
        another's. With ``CFNFIX_CHECK_MEMO`` set, a kept value is checked against ``compute()``.

        Only documents with ``keep_facts`` keep anything: the editor's, which are re-read at every
        edit. A command-line run fixes a file once, and keeping would only cost it memory."""
        section_data = self.data.get(section) if isinstance(self.data, dict) and self.keep_facts else None
        entry = section_data.get(name, _MISSING) if isinstance(section_data, dict) else _MISSING
        return self._kept((kind, section, name), entry, compute)

    def _kept(self, key: tuple, data: Any, compute: Callable[[], T]) -> T:
        """The value kept under ``key`` while ``data`` is the object it was kept with."""
        if data is _MISSING:
            return compute()
        held = self.entry_values.get(key)
        if held is not None and held[0] is data:
            if self.check_kept and compute() != held[1]:
                raise InternalError(f"the kept {'/'.join(map(str, key))} differs from a fresh one ({self.filename})")
            return held[1]
        value = compute()
        self.entry_values[key] = (data, value)
        return value

    def set_tree(self, root: AnyNode, data: Any) -> None:
        self._root, self.data = root, data

    @property
    def has_tree(self) -> bool:
        """Whether the positioned tree is built (a JSON document builds it on first use)."""
        return self._root is not None

    @property
    def root(self) -> AnyNode:
        """The positioned tree (for JSON, read on first use: most templates need no position)."""
        if self._root is None:
            from .json_reader import read_json

            self._root = read_json(self.text)[0]
        return self._root

    # ----- positions -------------------------------------------------------------------------
    @cached_property
    def _line_starts(self) -> list[int]:
        # YAML 1.1 (libyaml) breaks lines at CR, LF, CRLF, NEL, LS and PS; JSON at CR and LF.
        breaks = _YAML_BREAKS if self.format == "yaml" else _JSON_BREAKS
        return [0] + [m.end() for m in breaks.finditer(self.text)]

    @property
    def line_starts(self) -> list[int]:
        """The offset of each line's first character."""
        return self._line_starts

    def moved_line_starts(self, starts: list[int]) -> None:
        """Line starts worked out from another version of the text (text/reparse.py)."""
        self.__dict__["_line_starts"] = starts

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
        mapping ``{"Fn::Sub": [...]}``: the step "Fn::Sub" stays on the same node.

        None also at and under a YAML anchor that aliases refer to, and at and under an alias:
        that text stands for several paths, and no edit may change one of them through it."""
        node = self.root
        unwrapped = False
        aliased = self.aliased
        for step in path:
            if node.tag and not unwrapped and step == SHORT_TAGS[node.tag]:
                unwrapped = True
                continue
            if node.tag and not unwrapped:
                return None
            entry = self._entry(node, step)
            if entry is None:
                return None
            key, node = entry
            unwrapped = False
            if aliased and (id(node) in aliased or id(key) in aliased):
                return None
        return node

    def _entry(self, node: AnyNode, step) -> tuple[Scalar | None, AnyNode] | None:
        """(key, value) of entry ``step`` of a mapping, (None, item) of a sequence, else None.
        A mapping's keys are indexed on first use: looking up each of thousands of outputs
        must not scan them all every time."""
        if isinstance(node, Mapping):
            if not isinstance(step, str):
                return None
            if len(node.pairs) <= 8:
                for k, v in node.pairs:
                    if k.value == step:
                        return k, v
                return None
            index = self._indexes.get(id(node))
            if index is None:
                index = {}
                for k, v in node.pairs:
                    index.setdefault(k.value, (k, v))
                self._indexes[id(node)] = index
            return index.get(step)
        item = child(node, step)
        return None if item is None else (None, item)

    def alias_at(self, path: tuple) -> str | None:
        """The anchor's name when ``path`` is, or lies under, an anchored node that aliases refer
        to, or an alias (``*name``); None otherwise."""
        if not self.aliased:
            return None
        node = self.root
        for step in path:
            if node.tag and step == SHORT_TAGS[node.tag]:
                continue
            entry = self._entry(node, step)
            if entry is None:
                return None
            key, node = entry
            for n in (key, node):
                if n is not None and id(n) in self.aliased:
                    return self.aliased[id(n)]
        return None

    def anchor_within(self, node: AnyNode) -> str | None:
        """The name of an anchor that aliases refer to and that ``node``'s text defines (deleting
        or replacing ``node`` would leave those aliases pointing at nothing); None otherwise."""
        spans = self._anchor_spans
        i = bisect_left(spans, (node.start,))
        # nodes nest: an anchored node that starts inside ``node`` ends inside it too
        if i < len(spans) and spans[i][0] < node.end:
            return spans[i][2]
        return None

    def source_of(self, path: tuple) -> str | None:
        """The characters a scalar at ``path`` is written with, quotes stripped (YAML reads `8.0`
        as a float; a value that must keep its digits wants ``"8.0"``); None for no scalar."""
        node = self.node_at(path)
        if not isinstance(node, Scalar):
            return None
        return self.text[node.start : node.end].strip().strip("'\"")

    def is_tag_step(self, path: tuple) -> bool:
        """True when the last step of ``path`` is the function name of a short-tagged node."""
        if not path:
            return False
        parent = self.node_at(path[:-1])
        return parent is not None and parent.tag is not None and SHORT_TAGS[parent.tag] == path[-1] and self.node_at(path) is parent

    def key_at(self, path: tuple) -> Scalar | None:
        parent = self.node_at(path[:-1])
        if isinstance(parent, Mapping):
            entry = self._entry(parent, path[-1])
            if entry is not None and not (self.aliased and id(entry[0]) in self.aliased):
                return entry[0]
        return None

    # ----- style -----------------------------------------------------------------------------
    @cached_property
    def style(self) -> Style:
        return detect_yaml_style(self) if self.format == "yaml" else detect_json_style(self)


def is_short_tag(tag: str | None) -> bool:
    return tag in SHORT_TAGS


def data_at(data: Any, path: tuple) -> Any:
    for step in path:
        data = data[step]
    return data
