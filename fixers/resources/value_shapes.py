from __future__ import annotations

from typing import Any, Iterator

from cfnfix.text.edits import SetValue
from cfnfix.fixing import Fix, Fixer, Report, Safety
from cfnfix.cloudformation import Template
from cfnfix.fixers.resources._facts import expanded_later, type_facts
from cfnfix.fixers.resources.property_names import OTHERS, _intrinsic, table

# Intrinsic functions that always return one string (or number), never a list.
SCALAR_FUNCTIONS = ("Fn::Sub", "Fn::Join", "Fn::ImportValue", "Fn::Base64")
LIST_PARAMETER = ("List<", "CommaDelimitedList")


class ValueShapes(Fixer):
    code = "SHAPE001"
    scope = "entry"
    name = "value-shape"
    summary = "Property value in the wrong shape (a map for a list of tags, a single value for a list)"
    safety = Safety.SAFE
    docs = """
## What it does
Rewrites a property value whose shape the resource schema does not allow, where the schema
leaves one reading of it:

- the resource's `Tags` written as a map (`{Team: data, Env: prod}`) on a type whose tags are
  a list of `{Key, Value}` becomes that list, in the same order; and a list of `{Key, Value}` on
  a type whose tags are a map (`AWS::SSM::Parameter`, `AWS::Batch::ComputeEnvironment`, …)
  becomes the map, when its keys are distinct literal strings;
- a single value where the property takes only a list becomes a list of one: a mapping, for a
  list of mappings, when its keys belong to the item's schema; for a top-level property whose
  items are strings or numbers, a literal or an `Fn::Sub` string without a comma, or a `Ref` to
  a resource or to a parameter that is not a list (`SubnetIds: !Ref Subnet` ->
  `SubnetIds: [!Ref Subnet]`); an `Fn::Join` or `Fn::ImportValue` may hold a comma-joined list
  and is left alone;
- a list of one item where the property takes only a single value becomes that item: a
  mapping where a mapping is wanted (`VersioningConfiguration: [{Status: Enabled}]`), a
  literal, a `Ref` or a string function where a single value is wanted (`VpcId: [!Ref Vpc]`).

Numbers written as strings are left alone: CloudFormation converts them. A value built with
`Fn::If`, `Fn::GetAtt`, `Fn::FindInMap` or `Fn::Select` (which may return either shape) is left
alone; a list of several items for a single value, a mapping that is not an item of the list
wanted, and tags whose keys are not literal or repeat are reported. Types the schemas do not know and templates that use a macro are left alone.

## Why it breaks deploys
CloudFormation validates property values against the resource type's schema: a mapping where a
list is required fails the stack at that resource ("Properties validation failed for resource
Bucket with message: #/Tags: expected type: JSONArray, found: JSONObject") and rolls it back.

## Example
```yaml
Bucket:
  Type: AWS::S3::Bucket
  Properties:
    Tags:
      Team: data
      Environment: prod
```
Use instead:
```yaml
Bucket:
  Type: AWS::S3::Bucket
  Properties:
    Tags:
      - Key: Team
        Value: data
      - Key: Environment
        Value: prod
```

## Fix safety
Safe: a resource whose value has the wrong shape never deployed, and the value keeps its
content in the only shape the schema allows.

## References
- cfn-lint E3012 (value of the wrong type), E3024 (tags), E3002.
- https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-resource-tags.html
- The shapes come from the resource schemas that cfn-lint bundles
  (`scripts/gen_property_names.py`, `scripts/gen_resource_facts.py`).
"""

    def run(self, template: Template):
        if expanded_later(template, transforms_allowed=True):
            return
        types = table().types
        self._template = template
        for name, res in template.resources.items():
            if not isinstance(res, dict) or not isinstance(res.get("Type"), str) or res["Type"] not in types:
                continue
            props = res.get("Properties")
            if not isinstance(props, dict) or _intrinsic(props):
                continue
            facts = type_facts(res["Type"]) or {}
            yield from self._walk(name, ("Resources", name, "Properties"), props, types[res["Type"]], facts)

    def _walk(self, resource: str, path: tuple, mapping: dict, sid: int, facts: dict | None) -> Iterator:
        """``facts`` is the type's facts at the top level, None below it."""
        shape = table().shape(sid)
        for key, value in mapping.items():
            if not isinstance(key, str) or key not in shape or key == OTHERS:
                continue
            child, kinds = shape[key]
            kp = path + (key,)
            where = ".".join(str(p) for p in kp[3:])
            found = list(self._shape(resource, kp, where, key, value, child, kinds, facts))
            yield from found
            if found or child <= 0:
                continue
            if isinstance(value, dict) and not _intrinsic(value):
                yield from self._walk(resource, kp, value, child, None)
            elif isinstance(value, list):
                for i, item in enumerate(value):
                    if isinstance(item, dict) and not _intrinsic(item):
                        yield from self._walk(resource, kp + (i,), item, child, None)

    def _shape(self, resource, path, where, key, value, child, kinds, facts) -> Iterator:
        if not kinds or len(kinds) != 1 or value is None:
            return
        if key == "Tags" and facts is not None:
            yield from self._tags(resource, path, where, value, child, kinds)
            return
        if kinds == "a" and not isinstance(value, list):
            items = (facts or {}).get("lists", {}).get(key) if facts is not None else None
            if isinstance(value, dict) and not _intrinsic(value):
                if child > 0 and set(value) <= set(table().shape(child)) - {OTHERS} and value:
                    yield Fix(f"{resource}: make `{where}` a list of one item (it takes a list)", [SetValue(path, [value])], path)
                else:
                    yield Report(f"{resource}: `{where}` takes a list, not a mapping", path)
                return
            if items and items != "o" and self._one_item(value):
                yield Fix(f"{resource}: make `{where}` a list of one item (it takes a list)", [SetValue(path, [value])], path)
            return
        if kinds in ("o", "s") and isinstance(value, list):
            if len(value) != 1:
                yield Report(f"{resource}: `{where}` takes a single value, not a list of {len(value)}", path)
                return
            item = value[0]
            if kinds == "o" and isinstance(item, dict) and not _intrinsic(item):
                yield Fix(f"{resource}: replace the list of one item in `{where}` with the item (it takes a mapping)", [SetValue(path, item)], path)
            elif kinds == "s" and self._single(item):
                yield Fix(f"{resource}: replace the list of one item in `{where}` with the item (it takes a single value)", [SetValue(path, item)], path)
            else:
                yield Report(f"{resource}: `{where}` takes a single value, not a list", path)

    def _tags(self, resource, path, where, value, child, kinds) -> Iterator:
        item_shape = table().shape(child) if child > 0 else {}
        if kinds == "a" and "Key" in item_shape and "Value" in item_shape and isinstance(value, dict) and not _intrinsic(value):
            if all(isinstance(k, str) and not k.startswith("Fn::") for k in value) and all(
                    not isinstance(v, (dict, list)) or (isinstance(v, dict) and _intrinsic(v)) for v in value.values()):
                new = [{"Key": k, "Value": v} for k, v in value.items()]
                yield Fix(f"{resource}: write `{where}` as a list of Key/Value pairs", [SetValue(path, new)], path)
            else:
                yield Report(f"{resource}: `{where}` takes a list of Key/Value pairs", path)
        elif kinds == "o" and isinstance(value, list):
            pairs = [item for item in value if isinstance(item, dict) and set(item) == {"Key", "Value"}]
            keys = [p["Key"] for p in pairs]
            if len(pairs) == len(value) and all(isinstance(k, str) for k in keys) and len(set(keys)) == len(keys) and pairs:
                new = {p["Key"]: p["Value"] for p in pairs}
                yield Fix(f"{resource}: write `{where}` as a map of tag names to values", [SetValue(path, new)], path)
            else:
                yield Report(f"{resource}: `{where}` takes a map of tag names to values", path)

    def _one_item(self, value: Any) -> bool:
        """True when ``value`` is certainly one item of a list, not a list or a comma-joined one:
        a literal without a comma, a ``Ref`` that returns one value, an ``Fn::Sub`` string
        without a comma."""
        if isinstance(value, str):
            return "," not in value
        if isinstance(value, dict) and len(value) == 1 and isinstance(value.get("Fn::Sub"), str):
            return "," not in value["Fn::Sub"]
        if isinstance(value, dict) and len(value) == 1 and "Ref" in value:
            return self._single(value)
        return isinstance(value, (int, float, bool))

    def _single(self, value: Any) -> bool:
        """True when ``value`` is certainly one value, not a list."""
        if isinstance(value, (str, int, float, bool)):
            return True
        if not isinstance(value, dict) or len(value) != 1:
            return False
        (fn, arg), = value.items()
        if fn in SCALAR_FUNCTIONS:
            return True
        if fn == "Ref" and isinstance(arg, str):
            if arg in self._template.whole.resources:
                return True
            param = self._template.parameters.get(arg)
            ptype = param.get("Type") if isinstance(param, dict) else None
            return isinstance(ptype, str) and not ptype.startswith(LIST_PARAMETER) and "List<" not in ptype
        return False
