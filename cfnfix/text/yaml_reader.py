"""YAML text → positioned nodes and plain data, built from the parser's event stream.

Events come from libyaml (ruamel.yaml.clib), several MB/s with exact start/end marks. When
libyaml rejects a file that YAML and CloudFormation accept — it refuses a ':' inside a plain
scalar in flow context (``Action: [kms:Decrypt]``, ``[!Ref AWS::Region]``) — ruamel.yaml's
pure-Python parser provides the same events, 20-30x slower, and its error is the one reported
when both fail.

The tree is built iteratively, so nesting cannot exhaust the Python stack, and nothing is ever
constructed from a tag: ``!!python/object`` is rejected as an unknown tag, never executed.
Plain scalars are resolved by YAML 1.1 rules (see yaml11), as CloudFormation reads them.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.reader import ReaderError

from ..errors import TemplateError
from .nodes import SHORT_TAGS, Mapping, Node, Scalar, Sequence, intrinsic_value, normalize
from .yaml11 import resolve_plain

try:
    from ruamel.yaml.cyaml import CParser
except ImportError:  # pragma: no cover - without ruamel.yaml.clib: pure Python only
    CParser = None

MAX_DEPTH = 200
# Anchors and aliases can make a small file stand for a huge tree ("billion laughs"): the nodes
# that aliases add (each alias counts the size of what it stands for) are limited. The nodes
# written out in the file are not counted: the size limit bounds those.
MAX_EXPANDED_NODES = 2_000_000
_STD = "tag:yaml.org,2002:"
_STD_TAGS = {_STD + t for t in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp", "binary")}


def _c_events(body: str):
    return CParser(body).get_event


def _pure_events(body: str):
    return iter(YAML(typ="safe", pure=True).parse(body)).__next__


def read_yaml(text: str, aliased: list | None = None) -> tuple[Node, Any]:
    """Parse ``text`` (BOM allowed) into (root node, data). Raises TemplateError.

    ``aliased``, when given, receives the nodes that one or more aliases stand for (the same
    node object sits at the anchor's path and at every alias's path), paired with the anchor's
    name: an edit to such a node would change every copy."""
    offset = 1 if text.startswith("\ufeff") else 0
    if text.startswith("\ufeff", offset):
        raise TemplateError("a second byte-order mark (U+FEFF) at the start of the file: remove it", 1, 2)
    body = text[offset:]

    def build(events, patched=False):
        builder = _Builder(body, offset, patched)
        result = builder.build(events)
        if aliased is not None:
            aliased.extend(builder.aliased)
        return result

    if CParser is not None:
        try:
            return build(_c_events(body))
        except MarkedYAMLError as e:
            if "':'" in str(e.problem) and _COLON not in body:
                hidden = _hide_flow_colons(body)
                if hidden != body:
                    try:
                        return build(_c_events(hidden), True)
                    except YAMLError:
                        pass
        except YAMLError:
            pass  # the pure parser below words the error
    try:
        result = build(_pure_events(body))
    except MarkedYAMLError as e:
        raise _template_error(e) from None
    except ReaderError as e:
        line, col = _line_col(body, e.position)
        ch = e.character if isinstance(e.character, int) else ord(str(e.character)[:1] or "?")
        raise TemplateError(f"control character U+{ch:04X} is not allowed in YAML", line, col) from None
    except (YAMLError, ValueError, UnicodeError) as e:
        raise TemplateError(f"invalid YAML: {e}", 1, 1) from None
    odd = _ODD_BREAK.search(body) if CParser is not None else None
    if odd:
        # libyaml (YAML 1.1) breaks lines at NEL, LS and PS and the pure parser (YAML 1.2) does
        # not: where only the second reads the file, the two disagree on what it says, and a fix
        # that let libyaml read it would change its meaning.
        line, col = _line_col(body, odd.start())
        raise TemplateError(f"U+{ord(odd.group()):04X} ({_BREAK_NAMES[odd.group()]}) is a line break in YAML 1.1 and "
                            "not in YAML 1.2, and this template reads differently with each: replace it with a line "
                            "break or a space", line, col + (offset if line == 1 else 0))
    return result


_ODD_BREAK = re.compile("[\x85\u2028\u2029]")
_BREAK_NAMES = {"\x85": "next line", "\u2028": "line separator", "\u2029": "paragraph separator"}


def _line_col(text: str, pos: int) -> tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    return line, pos - (text.rfind("\n", 0, pos) + 1) + 1


# libyaml (as bundled) refuses "kms:Decrypt" inside [...]; YAML and CloudFormation accept it.
# Such colons are swapped for a private-use character of the same length, so every offset stays
# valid, and swapped back in the scalars the parser returns.
_COLON = "\ue000"
_QUOTED = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"\\]|\\.)*\"")


def _hide_flow_colons(text: str) -> str:
    out = []
    for line in text.splitlines(keepends=True):
        if "[" not in line and "{" not in line:
            out.append(line)
            continue
        chars = list(line)
        depth = 0
        i = 0
        while i < len(chars):
            c = chars[i]
            if c in "'\"" and (i == 0 or chars[i - 1] in " \t[{,:"):
                m = _QUOTED.match(line, i)
                if m:
                    i = m.end()
                    continue
            if c == "#" and (i == 0 or chars[i - 1] in " \t"):
                break
            if c in "[{":
                depth += 1
            elif c in "]}":
                depth = max(0, depth - 1)
            elif c == ":" and depth and 0 < i < len(chars) - 1 and chars[i - 1] not in " \t\"'" and chars[i + 1] not in " \t\r\n,[]{}":
                chars[i] = _COLON
            i += 1
        out.append("".join(chars))
    return "".join(out)


def _template_error(e: MarkedYAMLError) -> TemplateError:
    mark = e.problem_mark or e.context_mark
    msg = (e.problem or e.context or "invalid YAML").strip()
    if e.context and e.problem:
        msg = f"{e.problem} ({e.context})"
    return TemplateError(msg, (mark.line + 1) if mark else 1, (mark.column + 1) if mark else 1)


class _Frame:
    __slots__ = ("node", "data", "key", "anchor", "size", "rtag", "keys")

    def __init__(self, node, data, anchor, rtag):
        self.node, self.data, self.anchor, self.rtag = node, data, anchor, rtag
        self.key = None
        self.size = 1
        self.keys = set()


class _Builder:
    def __init__(self, text: str, offset: int, patched: bool = False):
        self.text = text  # the original text: slices for block scalars and raw keys come from it
        self.offset = offset
        self.patched = patched  # events come from _hide_flow_colons(text): restore the colons
        self.anchors: dict[str, tuple[Node, Any, int]] = {}
        self.expanded = 0  # nodes added by aliases
        self.aliased: list[tuple[Node, str]] = []  # nodes aliases stand for, with the anchor's name
        self._aliased_ids: set[int] = set()

    def fail(self, mark, message: str):
        raise TemplateError(message, mark.line + 1, mark.column + 1)

    def tag(self, event) -> str | None:
        tag = event.tag
        if tag is None or tag == "!":
            return None
        if not isinstance(tag, str):
            tag = str(getattr(tag, "value", tag))
        if tag in SHORT_TAGS:
            return tag
        if tag in _STD_TAGS:
            return None
        if tag.startswith("!Rain::"):
            self.fail(event.start_mark, f"{tag} is a Rain directive, not CloudFormation: run `rain pkg` first and fix the template it writes")
        self.fail(event.start_mark, f"unsupported tag {tag!r}: CloudFormation knows only its intrinsic function tags")

    def build(self, next_event) -> tuple[Node, Any]:
        """Build from a callable returning one parser event per call, until the stream ends."""
        off = self.offset
        stack: list[_Frame] = []
        root = None
        documents = 0
        while True:
            ev = next_event()
            kind = type(ev).__name__
            if kind == "StreamEndEvent":
                break
            if kind == "ScalarEvent":
                tag = self.tag(ev)
                sm = ev.start_mark
                start = sm.index + off
                end = ev.end_mark.index + off
                style = ev.style or ""
                if style in ("|", ">"):
                    end = start + len(self.text[start - off : end - off].rstrip(" \t\r\n"))
                value = ev.value
                if self.patched and _COLON in value:
                    value = value.replace(_COLON, ":")
                try:
                    data = resolve_plain(value) if not style and ev.tag is None else value
                except ValueError:  # Python's limit on converting long digit strings to int
                    self.fail(sm, f"an integer of {sum(c.isdigit() for c in value):,} digits: cfnfix reads integers of up to "
                                  f"{sys.get_int_max_str_digits():,} digits")
                node = Scalar(start, end, sm.line + 1, sm.column + 1, tag, data, style)
                if tag:
                    data = intrinsic_value(tag, value)
                if ev.anchor:
                    self.anchors[ev.anchor] = (node, data, 1)
                root = self.attach(stack, node, data, 1, ev) or root
            elif kind in ("MappingStartEvent", "SequenceStartEvent"):
                if len(stack) >= MAX_DEPTH:
                    self.fail(ev.start_mark, f"nesting deeper than {MAX_DEPTH} levels")
                tag = self.tag(ev)
                sm = ev.start_mark
                flow = bool(ev.flow_style)
                if kind == "MappingStartEvent":
                    node, data = Mapping(sm.index + off, sm.index + off, sm.line + 1, sm.column + 1, tag, [], flow), {}
                else:
                    node, data = Sequence(sm.index + off, sm.index + off, sm.line + 1, sm.column + 1, tag, [], flow), []
                stack.append(_Frame(node, data, ev.anchor, tag))
            elif kind in ("MappingEndEvent", "SequenceEndEvent"):
                frame = stack.pop()
                node, data = frame.node, frame.data
                if isinstance(node, Mapping) and frame.key is not None:
                    self.fail(ev.start_mark, "mapping key without a value")
                if node.flow:
                    node.end = ev.end_mark.index + off
                else:
                    children = node.pairs if isinstance(node, Mapping) else node.items
                    if children:
                        last = children[-1]
                        node.end = (last[1] if isinstance(node, Mapping) else last).end
                if frame.rtag:
                    data = intrinsic_value(frame.rtag, data)
                elif isinstance(data, dict) and len(data) == 1 and isinstance(data.get("Fn::GetAtt"), str):
                    data = normalize(data)
                if frame.anchor:
                    self.anchors[frame.anchor] = (node, data, frame.size)
                root = self.attach(stack, node, data, frame.size, ev) or root
            elif kind == "AliasEvent":
                if ev.anchor not in self.anchors:
                    self.fail(ev.start_mark, f"unknown alias *{ev.anchor}")
                node, data, size = self.anchors[ev.anchor]
                self.expanded += size
                if self.expanded > MAX_EXPANDED_NODES:
                    self.fail(ev.start_mark, f"aliases expand to more than {MAX_EXPANDED_NODES:,} nodes (a 'billion laughs' document?)")
                if id(node) not in self._aliased_ids:
                    self._aliased_ids.add(id(node))
                    self.aliased.append((node, ev.anchor))
                root = self.attach(stack, node, data, size, ev) or root
            elif kind == "DocumentStartEvent":
                documents += 1
                if documents > 1:
                    self.fail(ev.start_mark, "more than one YAML document in the file: a template is one document")
        if root is None:
            raise TemplateError("empty document: not a CloudFormation template", 1, 1)
        return root

    def attach(self, stack: list[_Frame], node: Node, data: Any, size: int, ev):
        if not stack:
            return (node, data)
        frame = stack[-1]
        frame.size += size
        parent = frame.node
        if isinstance(parent, Sequence):
            parent.items.append(node)
            frame.data.append(data)
            return None
        if frame.key is None:
            if not isinstance(node, Scalar):
                self.fail(ev.start_mark, "a mapping key must be a string")
            raw = node.value if node.style else self._raw(node)
            if raw == "<<" and not node.style:
                self.fail(ev.start_mark, "merge keys (<<) are not supported by CloudFormation")
            if raw in frame.keys:
                self.fail(ev.start_mark, f"duplicate key {raw!r}")
            frame.keys.add(raw)
            node.value = raw
            frame.key = node
            return None
        key = frame.key
        frame.key = None
        if isinstance(node, Scalar) and node.start == node.end and node.value is None and not node.style:
            # An empty value ("Key:" and nothing): libyaml may mark it at the next token, even on
            # a later line; it belongs right after the key's colon, where an edit must go.
            colon = self.text.find(":", key.end - self.offset)
            if colon >= 0 and colon + 1 + self.offset <= node.start:
                node.start = node.end = colon + 1 + self.offset
                node.line, node.column = key.line, key.column + (node.start - key.start)
        parent.pairs.append((key, node))
        frame.data[key.value] = data
        return None

    def _raw(self, node: Scalar) -> str:
        """A plain key as written: ``on:`` is the key "on", not True."""
        return self.text[node.start - self.offset : node.end - self.offset] if not isinstance(node.value, str) else node.value
