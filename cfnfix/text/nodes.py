"""Source-positioned syntax tree shared by the YAML and JSON readers.

Every node knows where it sits in the original text: ``start`` is the offset of its first
character (its tag, for a tagged YAML node), ``end`` the offset just past its last character of
content — never past trailing blank lines or comments, which belong to whatever follows. The
edit layer splices new text at these offsets, so they must be exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

# CloudFormation's short-form YAML tags and the long-form key each stands for.
SHORT_TAGS = {
    "!Ref": "Ref",
    "!Condition": "Condition",
    "!And": "Fn::And",
    "!Base64": "Fn::Base64",
    "!Cidr": "Fn::Cidr",
    "!Equals": "Fn::Equals",
    "!FindInMap": "Fn::FindInMap",
    "!ForEach": "Fn::ForEach",
    "!GetAtt": "Fn::GetAtt",
    "!GetAZs": "Fn::GetAZs",
    "!If": "Fn::If",
    "!ImportValue": "Fn::ImportValue",
    "!Join": "Fn::Join",
    "!Length": "Fn::Length",
    "!Not": "Fn::Not",
    "!Or": "Fn::Or",
    "!Select": "Fn::Select",
    "!Split": "Fn::Split",
    "!Sub": "Fn::Sub",
    "!ToJsonString": "Fn::ToJsonString",
    "!Transform": "Fn::Transform",
    "!Rain::Embed": "Rain::Embed",
    # the rule functions of a template's Rules section
    "!Contains": "Fn::Contains",
    "!EachMemberEquals": "Fn::EachMemberEquals",
    "!EachMemberIn": "Fn::EachMemberIn",
    "!RefAll": "Fn::RefAll",
    "!ValueOf": "Fn::ValueOf",
    "!ValueOfAll": "Fn::ValueOfAll",
}
LONG_TO_SHORT = {v: k for k, v in SHORT_TAGS.items()}


@dataclass(eq=False, slots=True)
class Node:
    start: int
    end: int
    line: int  # 1-based
    column: int  # 1-based
    tag: str | None = None  # a CloudFormation short tag such as "!Ref", else None


@dataclass(eq=False, slots=True)
class Scalar(Node):
    value: Any = None  # the resolved Python value (str, int, float, bool, None)
    style: str = ""  # "" plain, "'" or '"' quoted, "|" or ">" block (YAML); '"' or "" for JSON


@dataclass(eq=False, slots=True)
class Mapping(Node):
    pairs: list[tuple[Scalar, "AnyNode"]] = field(default_factory=list)
    flow: bool = False

    def get(self, key: str) -> "AnyNode | None":
        for k, v in self.pairs:
            if k.value == key:
                return v
        return None

    def index_of(self, key: str) -> int:
        for i, (k, _) in enumerate(self.pairs):
            if k.value == key:
                return i
        return -1


@dataclass(eq=False, slots=True)
class Sequence(Node):
    items: list["AnyNode"] = field(default_factory=list)
    flow: bool = False


AnyNode = Union[Scalar, Mapping, Sequence]


def walk(node: Node):
    """Every node of a tree (keys too), without recursion."""
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


def child(node: AnyNode, step: str | int) -> AnyNode | None:
    if isinstance(node, Mapping) and isinstance(step, str):
        return node.get(step)
    if isinstance(node, Sequence) and isinstance(step, int) and 0 <= step < len(node.items):
        return node.items[step]
    return None


def intrinsic_value(tag: str, data: Any) -> dict:
    """The long form of a short-tagged node, normalised the way CloudFormation reads it."""
    key = SHORT_TAGS[tag]
    if key == "Fn::GetAtt" and isinstance(data, str):
        data = data.split(".", 1) if "." in data else [data]
    return {key: data}


def normalize(data: Any) -> Any:
    """Bring long-form data to the shape short tags produce (``Fn::GetAtt: "A.B"`` → list)."""
    if isinstance(data, dict):
        out = {k: normalize(v) for k, v in data.items()}
        if len(out) == 1 and isinstance(out.get("Fn::GetAtt"), str) and "." in out["Fn::GetAtt"]:
            out["Fn::GetAtt"] = out["Fn::GetAtt"].split(".", 1)
        return out
    if isinstance(data, list):
        return [normalize(v) for v in data]
    return data
