"""YAML text → positioned nodes and plain data, through ruamel.yaml's C composer.

The composer (ruamel.yaml.clib) gives every node its start and end marks at several MB/s and
never constructs Python objects from tags, so ``!!python/object`` is inert here. Plain scalars
are resolved by YAML 1.1 rules ourselves (see yaml11), not by the composer's YAML 1.2 resolver.
"""

from __future__ import annotations

from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

try:
    from ruamel.yaml.cyaml import CParser
except ImportError:  # pragma: no cover - ruamel.yaml.clib missing: pure Python only
    CParser = None
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

from .errors import TemplateError
from .nodes import SHORT_TAGS, Mapping, Node, Scalar, Sequence, intrinsic_value
from .yaml11 import resolve_plain

MAX_DEPTH = 200
# Anchors and aliases can make a small file stand for a huge tree ("billion laughs").
MAX_EXPANDED_NODES = 2_000_000
_STD = "tag:yaml.org,2002:"
_STD_TAGS = {_STD + t for t in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp", "binary", "omap", "set", "merge", "value")}


def _compose(body: str):
    """Compose with libyaml (fast); on failure, with ruamel's pure-Python parser.

    The libyaml bundled with ruamel.yaml.clib rejects a ':' inside a plain scalar in flow
    context (``Action: [kms:Decrypt]``, ``[!Ref AWS::Region]``), which PyYAML, cfn-lint and
    CloudFormation accept. The pure parser gives the same marks, 20-30x slower, so it is only
    the fallback; its error is the one reported when both fail.
    """
    if CParser is not None:
        try:
            return _FastComposer(body).get_single_node()
        except MarkedYAMLError:
            pass
    return YAML(typ="safe", pure=True).compose(body)


if CParser is not None:

    class _FastComposer(CParser):
        """libyaml's composer without ruamel's Python tag resolver, which costs more than the
        parse itself: plain scalars are resolved by YAML 1.1 rules in the converter instead."""

        def resolve(self, kind, value, implicit):
            return None

        def descend_resolver(self, parent, index):
            pass

        def ascend_resolver(self):
            pass


def read_yaml(text: str) -> tuple[Node, Any]:
    """Parse ``text`` (BOM allowed) into (root node, data). Raises TemplateError."""
    offset = 1 if text.startswith("\ufeff") else 0
    body = text[offset:]
    try:
        root = _compose(body)
    except MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        msg = (e.problem or e.context or "invalid YAML").strip()
        if e.context and e.problem:
            msg = f"{e.problem} ({e.context})"
        raise TemplateError(msg, (mark.line + 1) if mark else 1, (mark.column + 1) if mark else 1) from None
    except RecursionError:
        raise TemplateError(f"nesting deeper than {MAX_DEPTH} levels", 1, 1) from None
    except (YAMLError, ValueError, UnicodeError) as e:
        raise TemplateError(f"invalid YAML: {e}", 1, 1) from None
    if root is None:
        raise TemplateError("empty document: not a CloudFormation template", 1, 1)
    return _Converter(body, offset).convert(root)


class _Converter:
    def __init__(self, text: str, offset: int):
        self.text = text
        self.offset = offset
        self.nodes: dict[int, Node] = {}
        self.datas: dict[int, Any] = {}
        self.sizes: dict[int, int] = {}
        self.expanded = 0

    def convert(self, root) -> tuple[Node, Any]:
        return self._node(root, 0)

    def _fail(self, rnode, message: str):
        m = rnode.start_mark
        raise TemplateError(message, m.line + 1, m.column + 1)

    def _tag(self, rnode) -> str | None:
        tag = rnode.tag
        if tag in SHORT_TAGS:
            return tag
        if tag is None or tag in _STD_TAGS or tag == "!" or tag == "None":
            return None
        self._fail(rnode, f"unsupported tag {tag!r}: CloudFormation knows only its intrinsic function tags")

    def _node(self, rnode, depth: int) -> tuple[Node, Any]:
        key = id(rnode)
        if key in self.nodes:  # an alias: the same node again
            self.expanded += self.sizes[key]
            if self.expanded > MAX_EXPANDED_NODES:
                self._fail(rnode, "aliases expand to more than 2,000,000 nodes (a 'billion laughs' document?)")
            return self.nodes[key], self.datas[key]
        if depth > MAX_DEPTH:
            self._fail(rnode, f"nesting deeper than {MAX_DEPTH} levels")
        before = self.expanded
        tag = self._tag(rnode)
        sm = rnode.start_mark
        start, line, col = sm.index + self.offset, sm.line + 1, sm.column + 1
        if isinstance(rnode, ScalarNode):
            style = rnode.style or ""
            end = rnode.end_mark.index + self.offset
            if style in ("|", ">"):
                end = start + len(self.text[start - self.offset : end - self.offset].rstrip(" \t\r\n"))
            value = rnode.value
            explicit = self.text.startswith("!", start - self.offset)
            data = resolve_plain(value) if style == "" and not explicit else value
            node = Scalar(start, end, line, col, tag=tag, value=data, style=style)
            if tag:
                data = intrinsic_value(tag, value)
            self.expanded += 1
        elif isinstance(rnode, MappingNode):
            node = Mapping(start, rnode.end_mark.index + self.offset, line, col, tag=tag, flow=bool(rnode.flow_style))
            data = {}
            for rk, rv in rnode.value:
                if rk.tag == _STD + "merge" or (rk.value == "<<" and not rk.style):
                    self._fail(rk, "merge keys (<<) are not supported by CloudFormation")
                if not isinstance(rk, ScalarNode):
                    self._fail(rk, "a mapping key must be a string")
                k, _ = self._node(rk, depth + 1)
                k.value = rk.value
                if rk.value in data:
                    self._fail(rk, f"duplicate key {rk.value!r}")
                v, vd = self._node(rv, depth + 1)
                node.pairs.append((k, v))
                data[rk.value] = vd
            if not node.flow:
                last = node.pairs[-1][1] if node.pairs else None
                node.end = last.end if last is not None else node.start
            if tag:
                data = intrinsic_value(tag, data)
            self.expanded += 1
        elif isinstance(rnode, SequenceNode):
            node = Sequence(start, rnode.end_mark.index + self.offset, line, col, tag=tag, flow=bool(rnode.flow_style))
            data = []
            for ri in rnode.value:
                v, vd = self._node(ri, depth + 1)
                node.items.append(v)
                data.append(vd)
            if not node.flow and node.items:
                node.end = node.items[-1].end
            if tag:
                data = intrinsic_value(tag, data)
            self.expanded += 1
        else:  # pragma: no cover - the composer makes only these three
            self._fail(rnode, "unexpected YAML node")
        if self.expanded > MAX_EXPANDED_NODES:
            self._fail(rnode, "aliases expand to more than 2,000,000 nodes (a 'billion laughs' document?)")
        self.nodes[key] = node
        self.datas[key] = data
        self.sizes[key] = self.expanded - before
        return node, data

