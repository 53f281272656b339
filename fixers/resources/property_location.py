from __future__ import annotations

from typing import Iterator

from cfnfix.text.edits import Delete, Insert
from cfnfix.fixing import Fix, Fixer, Report, Safety
from cfnfix.cloudformation import Template
from cfnfix.fixers.resources._facts import expanded_later
from cfnfix.fixers.resources.property_names import (
    OTHERS, READ_ONLY, _intrinsic, candidates, table,
)

UP = ""  # a place: the level above
# Resource attributes that people write inside Properties by mistake.
ATTRIBUTES = ("DependsOn", "Condition", "DeletionPolicy", "UpdateReplacePolicy", "CreationPolicy", "UpdatePolicy", "Metadata")


class PropertyLocation(Fixer):
    code = "PROP002"
    scope = "entry"
    name = "property-at-wrong-level"
    summary = "Property or resource attribute written one level away from where the schema has it"
    safety = Safety.SAFE
    order = 110  # after PROP001, which renames misspelt names first
    docs = """
## What it does
Looks at the property names that the resource's schema does not define at the level where
they are written, and that are not a misspelling of a name defined there (PROP001 renames
those), and moves each one where the schema has it:

- a resource attribute written inside `Properties` (`DependsOn`, `Condition`,
  `DeletionPolicy`, `UpdateReplacePolicy`, `CreationPolicy`, `UpdatePolicy`, `Metadata`) when
  the type has no property of that name: it moves up to the resource, beside `Type`;
- a name that the schema defines one level up (the mapping that holds this one) moves up:
  `VersioningConfiguration: {Status: Enabled, BucketName: logs}` gives `BucketName` back to
  the bucket's `Properties`;
- a name that the schema defines one level down, in exactly one property of this level that
  takes a mapping, moves into it, creating that property when it is not set
  (`AWS::Lambda::Function` with `Variables:` beside `Runtime` moves into `Environment`).

The name moves only when its new place does not already set it, and, for a level inside a
list, when the list holds that one item. Every other name that the schema does not define is
reported: it must be removed or rewritten by a person. Values built with intrinsic functions,
types the schemas do not know and templates that use a macro are left alone, as PROP001 does.

## Why it breaks deploys
CloudFormation rejects a property that the resource type does not define at that place
("Encountered unsupported property DependsOn") and rolls the stack back; a resource attribute
written as a property is not applied.

## Example
```yaml
Table:
  Type: AWS::DynamoDB::Table
  Properties:
    DeletionPolicy: Retain
    BillingMode: PAY_PER_REQUEST
```
Use instead:
```yaml
Table:
  Type: AWS::DynamoDB::Table
  DeletionPolicy: Retain
  Properties:
    BillingMode: PAY_PER_REQUEST
```

## Fix safety
Safe: a resource with an unknown property never deployed; the value moves unchanged to the only
place the schema gives its name.

## References
- cfn-lint E3002 (resource properties are invalid), E3001 for resource attributes.
- https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-product-attribute-reference.html
- The schema levels come from `fixers/resources/data/property_names.json.gz`
  (`python scripts/gen_property_names.py`).
"""

    def run(self, template: Template):
        if expanded_later(template, transforms_allowed=True):
            return
        types = table().types
        for name, res in template.resources.items():
            if not isinstance(res, dict) or not isinstance(res.get("Type"), str) or res["Type"] not in types:
                continue
            props = res.get("Properties")
            if not isinstance(props, dict) or _intrinsic(props):
                continue
            sid = types[res["Type"]]
            path = ("Resources", name, "Properties")
            yield from self._attributes(name, res, props, sid)
            yield from self._walk(name, path, props, sid, None)

    def _attributes(self, name: str, res: dict, props: dict, sid: int) -> Iterator:
        shape = table().shape(sid)
        if OTHERS in shape:
            return
        base = ("Resources", name)
        for key in ATTRIBUTES:
            if key not in props or key in shape:
                continue
            path = base + ("Properties", key)
            if key in res:
                yield Report(f"{name}: `{key}` is a resource attribute, not a property, and the resource already sets it", path)
                continue
            edits = [Delete(path), Insert(base, key, props[key], before="Properties")]
            yield Fix(f"{name}: move `{key}` out of Properties to the resource (a resource attribute)", edits, path)

    def _walk(self, resource: str, path: tuple, mapping: dict, sid: int, parent) -> Iterator:
        """``parent``: (path, mapping, shape id, whether ``mapping`` is the only item of a list) of
        the level that holds this one, None at the top."""
        shape = table().shape(sid)
        if OTHERS not in shape and not any(isinstance(k, str) and k.startswith("Fn::") for k in mapping):
            yield from self._level(resource, path, mapping, shape, parent)
        for key, value in mapping.items():
            child = shape.get(key, shape.get(OTHERS, (0, "")))[0] if isinstance(key, str) else 0
            if child <= 0:
                continue
            here = (path, mapping, sid)
            if isinstance(value, dict) and not _intrinsic(value):
                yield from self._walk(resource, path + (key,), value, child, here + (True,))
            elif isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, dict) and not _intrinsic(item):
                        yield from self._walk(resource, path + (key, i), item, child, here + (len(value) == 1,))

    def _level(self, resource: str, path: tuple, mapping: dict, shape: dict, parent) -> Iterator:
        valid = [n for n, (child, _) in shape.items() if child != READ_ONLY]
        top = parent is None
        where = ".".join(str(p) for p in path[3:])
        at = f" in {where}" if where else ""
        places: dict[str, list] = {}  # unknown name -> ["up"] and/or the properties below that define it
        for key in mapping:
            if not isinstance(key, str) or key in shape or key == "Ref" or "${" in key or "&{" in key:
                continue
            if (top and key in ATTRIBUTES) or candidates(key, valid):
                continue  # a resource attribute (_attributes) or a misspelling (PROP001)
            found = []
            if parent is not None:
                pshape = table().shape(parent[2])
                if key in pshape and pshape[key][0] != READ_ONLY and parent[3]:
                    found.append(UP)
            for name, (child, kinds) in shape.items():
                if name == OTHERS or child <= 0 or (kinds and "o" not in kinds):
                    continue
                cshape = table().shape(child)
                if key in cshape and cshape[key][0] != READ_ONLY:
                    found.append(name)
            places[key] = found
        # Names that could go into several properties below go where all of them can: when exactly
        # one property below takes every name of this level that belongs below, that is the one.
        below = [set(f) - {UP} for f in places.values() if set(f) - {UP}]
        common = set.intersection(*below) if below else set()
        if len(common) == 1:
            for key, found in places.items():
                if len(found) > 1 and common <= set(found) and UP not in found:
                    places[key] = list(common)
        moves: dict[str, list[str]] = {}
        for key, found in places.items():
            kp = path + (key,)
            unknown = f"{resource}: unknown property `{key}`{at}"
            if not found:
                yield Report(f"{unknown}: the resource type does not define it here; remove or rewrite it", kp)
            elif len(found) > 1:
                options = " or ".join("one level up" if f == UP else f"`{f}`" for f in found)
                yield Report(f"{unknown}: it belongs in {options}", kp)
            elif found[0] == UP and key in parent[1]:
                yield Report(f"{unknown}: it belongs one level up, which already sets it", kp)
            elif found[0] != UP and found[0] in mapping and not (
                    isinstance(mapping[found[0]], dict) and not _intrinsic(mapping[found[0]]) and key not in mapping[found[0]]):
                yield Report(f"{unknown}: it belongs in `{found[0]}`, which already sets it or is not a plain mapping", kp)
            else:
                moves.setdefault(found[0], []).append(key)
        for dest, keys in moves.items():
            names = ", ".join(f"`{k}`" for k in keys)
            plural = "properties" if len(keys) > 1 else "property"
            deletes = [Delete(path + (k,)) for k in keys]
            if dest == UP:
                ppath = parent[0]
                up = ".".join(str(p) for p in ppath[3:]) or "Properties"
                edits = deletes + [Insert(ppath, k, mapping[k]) for k in keys]
                yield Fix(f"{resource}: move {plural} {names} up to {up}", edits, path + (keys[0],))
                continue
            if dest in mapping:
                edits = deletes + [Insert(path + (dest,), k, mapping[k]) for k in keys]
            else:
                edits = deletes + [Insert(path, dest, {k: mapping[k] for k in keys}, after=_previous(mapping, keys[0]))]
            yield Fix(f"{resource}: move {plural} {names} into `{dest}`{at}", edits, path + (keys[0],))


def _previous(mapping: dict, key: str) -> str | None:
    keys = [k for k in mapping if isinstance(k, str)]
    i = keys.index(key)
    return keys[i - 1] if i > 0 else None


