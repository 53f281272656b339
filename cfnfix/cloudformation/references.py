"""References between the parts of a template: ``Ref``, ``Fn::GetAtt``, ``${X}`` / ``${X.Attr}`` in
``Fn::Sub``, ``DependsOn`` and ``Condition`` — and small constructors for the intrinsics fixers
write."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterator

PSEUDO_PREFIX = "AWS::"
SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")  # ``${Name}`` in an Fn::Sub string (``${!Literal}`` excluded); group 1 is the name


def sub_parts(path: tuple, value: Any) -> tuple[str, tuple, set[str]] | None:
    """An ``Fn::Sub`` at ``path`` taken apart: (its string, the string's path, the names its
    variable map defines); None when the string is not a literal."""
    if isinstance(value, str):
        return value, path + ("Fn::Sub",), set()
    if isinstance(value, list) and value and isinstance(value[0], str):
        local = {k for k in value[1] if isinstance(k, str)} if len(value) > 1 and isinstance(value[1], dict) else set()
        return value[0], path + ("Fn::Sub", 0), local
    return None


@dataclass(frozen=True)
class Reference:
    """One place where the template points at a logical id (resource, parameter or condition)."""

    path: tuple  # path of the intrinsic (or of the DependsOn/Condition entry)
    target: str
    kind: str  # "Ref", "GetAtt", "Sub", "DependsOn", "Condition"
    attribute: str | None = None

    @property
    def section(self) -> str:
        return self.path[0] if self.path else ""

    @property
    def owner(self) -> str | None:
        """Logical id of the resource/output/… the reference sits in."""
        return self.path[1] if len(self.path) > 1 else None


def ref(name: str) -> dict:
    return {"Ref": name}


def getatt(name: str, attribute: str) -> dict:
    return {"Fn::GetAtt": [name, attribute]}


def sub(text: str) -> dict:
    return {"Fn::Sub": text}


def ref_target(value: Any) -> str | None:
    """The logical id that ``value`` names through Ref or Fn::GetAtt, else None."""
    if isinstance(value, dict) and len(value) == 1:
        if isinstance(value.get("Ref"), str):
            return value["Ref"]
        ga = value.get("Fn::GetAtt")
        if isinstance(ga, list) and ga and isinstance(ga[0], str):
            return ga[0]
        if isinstance(ga, str):
            return ga.split(".", 1)[0]
    return None


def sub_targets(template_string: str) -> Iterator[tuple[str, str | None]]:
    """(logical id, attribute) for each ``${X}`` / ``${X.Attr}`` in an Fn::Sub string."""
    for m in SUB_VARIABLE.finditer(template_string):
        name, _, attr = m.group(1).strip().partition(".")
        yield name, attr or None


def collect(path: tuple, node: Any, out: list[Reference]) -> None:
    """Append to ``out`` every Ref, GetAtt, ``${}`` in Fn::Sub, Condition and Fn::If condition under
    ``node`` (which sits at ``path``)."""
    stack = [(path, node)]
    while stack:
        p, n = stack.pop()
        if isinstance(n, dict):
            if len(n) == 1:
                (k, v), = n.items()
                if k == "Ref" and isinstance(v, str):
                    out.append(Reference(p, v, "Ref"))
                    continue
                if k == "Fn::GetAtt":
                    t = ref_target(n)
                    if t:
                        attr = v[1] if isinstance(v, list) and len(v) > 1 else None
                        out.append(Reference(p, t, "GetAtt", attr if isinstance(attr, str) else None))
                if k == "Fn::Sub":
                    s = v[0] if isinstance(v, list) and v else v
                    local = set(v[1]) if isinstance(v, list) and len(v) > 1 and isinstance(v[1], dict) else set()
                    if isinstance(s, str):
                        for name, attr in sub_targets(s):
                            if name not in local:
                                out.append(Reference(p, name, "Sub", attr))
                if k == "Condition" and isinstance(v, str) and len(p) > 2:
                    out.append(Reference(p, v, "Condition"))
                if k == "Fn::If" and isinstance(v, list) and v and isinstance(v[0], str):
                    out.append(Reference(p + ("Fn::If", 0), v[0], "Condition"))
            for k, v in n.items():
                if isinstance(v, (dict, list)):
                    stack.append((p + (k,), v))
        elif isinstance(n, list):
            for i, v in enumerate(n):
                if isinstance(v, (dict, list)):
                    stack.append((p + (i,), v))
