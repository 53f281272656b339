from __future__ import annotations

import gzip
import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

from cfnfix.text.edits import RenameKey
from cfnfix.fixing import Fix, Fixer, Report, Safety
from cfnfix.cloudformation import Template

DATA = Path(__file__).resolve().parent / "data" / "property_names.json.gz"
ATTRIBUTES = ("Type", "Properties", "DependsOn", "Condition", "Metadata", "DeletionPolicy",
              "UpdateReplacePolicy", "CreationPolicy", "UpdatePolicy")
# Transforms that leave the properties of AWS resource types as they are.
KNOWN_TRANSFORMS = {"AWS::Serverless-2016-10-31", "AWS::LanguageExtensions"}
READ_ONLY, OTHERS = -1, "*"
KINDS = {"o": "a mapping", "a": "a list", "s": "a single value"}


class Table:
    """Valid property names per resource type, generated from the CloudFormation resource
    provider schemas by scripts/gen_property_names.py (see that script for the format).
    Levels are decoded only when first visited."""

    def __init__(self, raw: dict):
        self.types: dict[str, int] = raw["types"]
        self._raw: list[str] = raw["shapes"]
        self._shapes: dict[int, dict[str, tuple[int, str]]] = {}

    def shape(self, sid: int) -> dict[str, tuple[int, str]]:
        """name -> (child level, kinds of value it takes: o mapping, a list, s scalar; "" any)."""
        shape = self._shapes.get(sid)
        if shape is None:
            shape = self._shapes[sid] = {}
            for pair in self._raw[sid].split(","):
                if pair:
                    name, _, value = pair.rpartition(":")
                    kinds = value.lstrip("-0123456789")
                    shape[name] = (int(value[: len(value) - len(kinds)]), kinds)
        return shape


@lru_cache(maxsize=1)
def table() -> Table:
    return Table(json.loads(gzip.decompress(DATA.read_bytes())))


class PropertyNames(Fixer):
    code = "PROP001"
    scope = "entry"
    name = "unknown-property-name"
    summary = "Misspelt or unknown property name"
    safety = Safety.SAFE
    docs = """
## What it does
Checks the property names of each resource, at every level (nested property types and list
items included), against the CloudFormation resource provider schema of its type, and the
resource's own attributes (`Type`, `Properties`, `DependsOn`, `Condition`, `Metadata`,
`DeletionPolicy`, `UpdateReplacePolicy`, `CreationPolicy`, `UpdatePolicy`). A name that is not
valid at its level is renamed when exactly one valid name is clearly meant:

- the same name in another case (`bucketName` -> `BucketName`);
- its singular or plural (`NoncurrentVersionExpirations` -> `NoncurrentVersionExpiration`,
  `DeletionPolicies` -> `DeletionPolicy`);
- one edit away (`Propertes` -> `Properties`: a letter added, dropped, changed or two letters
  swapped), or two for names of ten letters or more, with no other valid name as close; names
  shorter than four letters, or whose digits differ (`CidrIpv4` is not `CidrIpv6`), are not
  matched this way. Read-only properties (an `Arn` the resource returns) are never meant.

The name meant must also take the kind of value written (a mapping, a list or a single value):
`IntelligentTieringConfiguration` with a mapping is not renamed to
`IntelligentTieringConfigurations`, which takes a list.

When two valid names are equally close, or the name meant is already set beside it, the name is
reported and left alone. Names far from every valid name are left alone too, as are values
built with intrinsic functions (`Fn::If`, …), resource types the table does not know (`Custom::*`,
`AWS::Serverless::*`, third-party types) and templates that use a macro (a `Transform` other
than `AWS::Serverless-2016-10-31` or `AWS::LanguageExtensions`).

## Why it breaks deploys
CloudFormation rejects a property name that the resource type does not define, and a resource
attribute name it does not know. An unknown property fails the stack at that resource
("Encountered unsupported property NoncurrentVersionExpirations") and rolls it back; an unknown
resource attribute fails validation before anything is created.

## Example
```yaml
Bucket:
  Type: AWS::S3::Bucket
  Properties:
    LifecycleConfiguration:
      Rules:
        - Status: Enabled
          NoncurrentVersionExpirations:
            NoncurrentDays: 30
```
Use instead:
```yaml
Bucket:
  Type: AWS::S3::Bucket
  Properties:
    LifecycleConfiguration:
      Rules:
        - Status: Enabled
          NoncurrentVersionExpiration:
            NoncurrentDays: 30
```

## Fix safety
Safe: a resource with an unknown property never deployed, and the renamed key keeps its value.

## References
The table of valid names is generated from the resource provider schemas that cfn-lint bundles;
refresh it after upgrading cfn-lint with `python scripts/gen_property_names.py`.
"""

    def run(self, template: Template):
        if not _known_transforms(template.data.get("Transform")):
            return
        types = table().types
        attributes = {name: (0, "") for name in ATTRIBUTES}
        for name, res in template.resources.items():
            if not isinstance(res, dict) or not isinstance(res.get("Type"), str) or res["Type"] not in types:
                continue
            path = ("Resources", name)
            renamed = yield from self._level(name, path, res, attributes, "resource attribute", "")
            props = res.get("Properties")
            if "Properties" not in renamed and isinstance(props, dict) and not _intrinsic(props):
                yield from self._walk(name, path + ("Properties",), props, types[res["Type"]], "")

    def _walk(self, resource: str, path: tuple, mapping: dict, sid: int, where: str) -> Iterator:
        shape = table().shape(sid)
        renamed = yield from self._level(resource, path, mapping, shape, "property", where)
        for key, value in mapping.items():
            child = shape.get(key, shape.get(OTHERS, (0, "")))[0] if isinstance(key, str) else 0
            if child > 0 and key not in renamed:
                yield from self._values(resource, path + (key,), value, child, f"{where}.{key}".lstrip("."))

    def _values(self, resource: str, path: tuple, value: Any, sid: int, where: str) -> Iterator:
        if isinstance(value, dict) and not _intrinsic(value):
            yield from self._walk(resource, path, value, sid, where)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                yield from self._values(resource, path + (i,), item, sid, f"{where}[{i}]")

    def _level(self, resource: str, path: tuple, mapping: dict, shape: dict, what: str, where: str):
        """Fixes and reports for the unknown names of one mapping; returns the names renamed."""
        if OTHERS in shape or any(isinstance(k, str) and k.startswith("Fn::") for k in mapping):
            return set()
        valid = [n for n, (child, _) in shape.items() if child != READ_ONLY]
        meant: dict[str, tuple[list[str], list[str]]] = {}
        for key, value in mapping.items():
            if isinstance(key, str) and key not in shape and key != "Ref" and "${" not in key and "&{" not in key:
                found = candidates(key, valid)
                kind = _kind(value)
                meant[key] = (found, [n for n in found if not kind or not shape[n][1] or kind in shape[n][1]])
        targets = [fitting[0] for _, fitting in meant.values() if len(fitting) == 1]
        at = f" in {where}" if where else ""
        findings, renamed = [], set()
        for key, (found, fitting) in meant.items():
            unknown = f"{resource}: unknown {what} `{key}`{at}"
            if not found:
                continue
            if len(fitting) == 1 and fitting[0] not in mapping and targets.count(fitting[0]) == 1:
                renamed.add(key)
                findings.append(Fix(f"{resource}: rename {what} `{key}` to `{fitting[0]}`{at}",
                                    [RenameKey(path + (key,), fitting[0])], path + (key,)))
            elif len(fitting) == 1:
                why = "it is already set" if fitting[0] in mapping else "so it is for another name here"
                findings.append(Report(f"{unknown}: `{fitting[0]}` is meant, but {why}", path + (key,)))
            elif not fitting and len(found) == 1:
                takes = " or ".join(KINDS[k] for k in shape[found[0]][1])
                findings.append(Report(f"{unknown}: `{found[0]}` is meant, but it takes {takes}", path + (key,)))
            else:
                names = fitting or found
                options = ", ".join(f"`{n}`" for n in names[:-1]) + f" or `{names[-1]}`"
                findings.append(Report(f"{unknown}: did you mean {options}?", path + (key,)))
        yield from findings
        return renamed


def candidates(name: str, valid: list[str]) -> list[str]:
    """The valid names clearly meant by ``name``: the first non-empty of its case variants, its
    singular/plural forms, and the closest names within the edit distance allowed."""
    low = name.lower()
    lowered = {n: n.lower() for n in valid}
    same = [n for n, l in lowered.items() if l == low]
    if same:
        return same
    forms = _number_forms(low)
    numbered = [n for n, l in lowered.items() if l in forms]
    if numbered:
        return numbered
    if len(name) < 4:
        return []
    limit = 1 if len(name) < 10 else 2
    digits = _digits(low)  # CidrIpv4 is not a typo of CidrIpv6
    scored = [(d, n) for n, l in lowered.items()
              if abs(len(l) - len(low)) <= limit and _digits(l) == digits and (d := _distance(low, l, limit)) <= limit]
    best = min((d for d, _ in scored), default=None)
    return sorted(n for d, n in scored if d == best)


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def _number_forms(low: str) -> set[str]:
    forms = {low + "s", low + "es"}
    if low.endswith("s"):
        forms.add(low[:-1])
    if low.endswith("es"):
        forms.add(low[:-2])
    if low.endswith("ies"):
        forms.add(low[:-3] + "y")
    if low.endswith("y"):
        forms.add(low[:-1] + "ies")
    return forms


def _distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein distance (optimal string alignment), or limit + 1 once it exceeds limit."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return min(prev[-1], limit + 1)


def _kind(value: Any) -> str:
    """o, a or s for a literal mapping, list or scalar; "" when an intrinsic function (or null)
    leaves it open."""
    if isinstance(value, dict):
        return "" if _intrinsic(value) else "o"
    if isinstance(value, list):
        return "a"
    return "" if value is None else "s"


def _intrinsic(value: dict) -> bool:
    return len(value) == 1 and isinstance(key := next(iter(value)), str) and (key == "Ref" or key.startswith("Fn::"))


def _known_transforms(transform: Any) -> bool:
    names = transform if isinstance(transform, list) else [] if transform is None else [transform]
    return all(isinstance(n, str) and n in KNOWN_TRANSFORMS for n in names)
