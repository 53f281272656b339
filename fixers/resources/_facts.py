"""What the resource schemas say about each type beyond property names (attributes for GetAtt,
what Ref returns, required and scalar properties): the table scripts/gen_resource_facts.py
generates from cfn-lint's bundled schemas, and the name matching TYPE001, REF001 and REF002
share. Not a fixer (the registry skips modules whose name starts with ``_``)."""

from __future__ import annotations

import gzip
import json
import re
from functools import lru_cache
from pathlib import Path

from cfnfix.fixers.resources.property_names import _distance

DATA = Path(__file__).resolve().parent / "data" / "resource_facts.json.gz"


@lru_cache(maxsize=1)
def facts() -> dict:
    return json.loads(gzip.decompress(DATA.read_bytes()))


def type_facts(rtype: str) -> dict | None:
    return facts()["types"].get(rtype)


def getatts(rtype: str) -> list[str] | None:
    entry = type_facts(rtype)
    return entry["getatt"] if entry is not None else None


def known_type(rtype: str) -> bool:
    return rtype in facts()["types"] or rtype in facts()["sam"]


def close_names(name: str, valid, min_length: int = 4) -> list[str]:
    """The names of ``valid`` that ``name`` is a typo of, by the first rule that finds any:

    1. the same name in another case (``VPCId`` / ``VpcId``);
    2. the same name up to ``_``, ``-`` and case (``Vpc_Id``);
    3. names of the same digits at Damerau-Levenshtein distance 1 (one letter added, dropped,
       changed, or two neighbours swapped) — distance 2 for names of ten letters or more — the
       closest ones only, and never for names shorter than ``min_length``.

    A candidate of rule 3 is dropped when the edit is not a slip of the keyboard but a different
    thing of the same kind: the names differ in a one-character word (``SubnetA`` /
    ``SubnetB``, ``PublicSubnet`` / ``PublicSubnetA``) or by a final ``s`` (``Subnet`` /
    ``Subnets``). A caller acts only when exactly one name is returned."""
    valid = [v for v in valid if isinstance(v, str)]
    low = name.lower()
    same = sorted(v for v in valid if v.lower() == low)
    if same:
        return same
    squash = _squash(name)
    squashed = sorted(v for v in valid if _squash(v) == squash)
    if squashed:
        return squashed
    if len(name) < min_length:
        return []
    limit = 1 if len(name) < 10 else 2
    digits = "".join(c for c in low if c.isdigit())
    scored = []
    for v in valid:
        lv = v.lower()
        if abs(len(lv) - len(low)) > limit or "".join(c for c in lv if c.isdigit()) != digits:
            continue
        d = _distance(low, lv, limit)
        if d <= limit and not _sibling(name, v):
            scored.append((d, v))
    best = min((d for d, _ in scored), default=None)
    return sorted(v for d, v in scored if d == best)


def words(name: str) -> list[str]:
    """``PrivateSubnetA2`` -> [Private, Subnet, A, 2]; ``VPCId`` -> [VPC, Id]."""
    return re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+|[^A-Za-z0-9]+", name)


def _sibling(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` name two things of a kind rather than one thing misspelt."""
    if a.lower().rstrip("s") == b.lower().rstrip("s"):
        return True
    wa, wb = words(a), words(b)
    # Drop the common words at both ends: what is left is where they differ.
    while wa and wb and wa[0] == wb[0]:
        wa, wb = wa[1:], wb[1:]
    while wa and wb and wa[-1] == wb[-1]:
        wa, wb = wa[:-1], wb[:-1]
    return any(len(w) == 1 for w in wa + wb)


def _squash(name: str) -> str:
    return name.replace("_", "").replace("-", "").lower()


def expanded_later(template, transforms_allowed: bool = False) -> bool:
    """True for a template that something expands before CloudFormation reads it, so that the
    names and properties it uses may come from the expansion: a ``Transform`` (SAM, macros,
    ``AWS::LanguageExtensions``' ``Fn::ForEach``; with ``transforms_allowed``, only transforms
    other than SAM and language extensions count), an ``Fn::Transform`` anywhere, a ``Modules``
    section, a module resource (``Type: My::Thing::MODULE``) or a resource whose ``Type`` is not a
    string (Rain's ``Rain::Module``). ``template`` is a Template; a view of one (``fixing.memo``)
    gets its template's answer."""
    whole = template.whole
    return whole.computed(("expanded_later", transforms_allowed), lambda: _expanded_later(whole, transforms_allowed))


def _expanded_later(template, transforms_allowed: bool) -> bool:
    data = template.data
    transform = data.get("Transform")
    if transforms_allowed:
        names = transform if isinstance(transform, list) else [] if transform is None else [transform]
        if not all(n in ("AWS::Serverless-2016-10-31", "AWS::LanguageExtensions") for n in names):
            return True
    elif "Transform" in data:
        return True
    resources = data.get("Resources")
    if "Modules" in data or not isinstance(resources, dict):
        return True
    if template.section_fact("for each", "Resources",
                             lambda: any(isinstance(k, str) and k.startswith("Fn::ForEach") for k in resources)):
        return True
    types = template.resource_types()  # every resource that is a mapping with a string Type, counted
    if sum(types.values()) != len(resources) or any(t.endswith("::MODULE") for t in types):
        return True
    text = template.doc.text
    return ("Transform" in text and ("Fn::Transform" in text or "!Transform" in text)
            and _has_key(data, "Fn::Transform"))


def _has_key(node, key: str) -> bool:
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, dict):
            if key in n:
                return True
            stack.extend(v for v in n.values() if isinstance(v, (dict, list)))
        elif isinstance(n, list):
            stack.extend(v for v in n if isinstance(v, (dict, list)))
    return False
