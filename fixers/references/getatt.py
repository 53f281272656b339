from __future__ import annotations

import re
from typing import Any, Iterator

from cfnfix.text.edits import SetValue
from cfnfix.fixing import Fix, Fixer, Report, Safety
from cfnfix.cloudformation import Template
from cfnfix.cloudformation.references import SUB_VARIABLE, sub_parts
from cfnfix.fixers.resources._facts import close_names, expanded_later, type_facts

SECTIONS = ("Resources", "Outputs")


class GetAttTarget(Fixer):
    code = "REF002"
    scope = "entry"
    name = "getatt-typo"
    summary = "`Fn::GetAtt` of a resource or attribute that does not exist, a typo of one"
    safety = Safety.SAFE
    docs = """
## What it does
Checks each `Fn::GetAtt` (and each `${Resource.Attribute}` in an `Fn::Sub` string) against the
template's resources and, from the CloudFormation resource schemas, the attributes of the
resource's type:

- a resource that does not exist is renamed to the one resource it is a typo of (the same name
  in another case, or one letter added, dropped, changed or two letters swapped, two for names
  of ten letters or more; never a sibling such as `SubnetA` for `SubnetB`);
- an attribute the type does not have is renamed to the one attribute meant, by the first of
  these rules that finds one: the same name in another case (`.ARN` -> `.Arn`); the name with or
  without the type's own name in front (`.Arn` -> `.TopicArn` on an `AWS::SNS::Topic`,
  `.QueueArn` -> `.Arn` on an `AWS::SQS::Queue`); one letter away, as above;
- an attribute that is not one but is what `Ref` returns (the schema's primary identifier:
  `!GetAtt Table.TableName`, or `.Name` on a type whose identifier is `<Type>Name`, such as
  `!GetAtt Function.Name` on an `AWS::Lambda::Function`) becomes `!Ref` of the resource.

Resources and attributes with two candidates or none are reported. Types whose attributes are
free (custom resources, nested stacks' `Outputs.*`) and types the schemas do not know are left
alone, as are templates expanded before CloudFormation reads them (a `Transform`, a `Modules`
section, Rain modules), whose expansion may create resources.

## Why it breaks deploys
CloudFormation rejects a template whose `Fn::GetAtt` names a resource that does not exist, or an
attribute the resource type does not return ("Template error: resource Queue does not support
attribute type ARN in Fn::GetAtt"), before creating anything.

## Example
```yaml
Queue:
  Type: AWS::SQS::Queue
Function:
  Type: AWS::Lambda::Function
  Properties:
    Environment:
      Variables:
        QUEUE_ARN: !GetAtt Queue.ARN
        TABLE: !GetAtt Table.TableName
```
Use instead:
```yaml
        QUEUE_ARN: !GetAtt Queue.Arn
        TABLE: !Ref Table
```

## Fix safety
Safe: a template with an unknown attribute never deployed, and the value written is the one
the schema defines under the name meant.

## References
- cfn-lint E1010 (GetAtt to a resource or attribute that does not exist).
- https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-getatt.html
- The attributes of each type are generated from cfn-lint's bundled resource schemas:
  `python scripts/gen_resource_facts.py`.
"""

    def run(self, template: Template):
        if expanded_later(template):
            return
        resources = template.whole.resources  # what a GetAtt may name: every resource
        self._doc = template.doc
        for section in SECTIONS:
            for owner, entry in template.section(section).items():
                yield from self._walk((section, owner), entry, resources)

    def _walk(self, path: tuple, node: Any, resources: dict) -> Iterator:
        stack = [(path, node)]
        while stack:
            p, n = stack.pop()
            if isinstance(n, list):
                stack.extend((p + (i,), v) for i, v in reversed(list(enumerate(n))))
                continue
            if not isinstance(n, dict):
                continue
            if len(n) == 1 and "Fn::GetAtt" in n:
                yield from self._getatt(p, n["Fn::GetAtt"], resources, self._doc)
            elif len(n) == 1 and "Fn::Sub" in n:
                yield from self._sub(p, n["Fn::Sub"], resources)
            stack.extend((p + (k,), v) for k, v in reversed(list(n.items())))

    def _getatt(self, path: tuple, value: Any, resources: dict, doc) -> Iterator:
        if isinstance(value, str) and "." in value:
            name, attr = value.split(".", 1)
        elif isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value):
            name, attr = value
        else:
            return
        where = _where(path)
        verdict = _resolve(name, attr, resources)
        if verdict is None:
            return
        if isinstance(verdict, str):
            yield Report(f"{where}: `GetAtt {name}.{attr}` {verdict}", path)
            return
        new_name, new_attr = verdict
        if new_attr is None:
            yield Fix(f"{where}: replace `GetAtt {name}.{attr}` with `Ref {new_name}` (what Ref returns)",
                      [SetValue(path, {"Ref": new_name})], path)
            return
        inner = path + ("Fn::GetAtt",)
        if doc.node_at(inner + (1,)) is not None:  # [Name, Attribute]: only what changes
            edits = [SetValue(inner + (i,), new) for i, (old, new) in enumerate(((name, new_name), (attr, new_attr))) if old != new]
        else:  # !GetAtt Name.Attribute, or the long form's "Name.Attribute"
            edits = [SetValue(path, {"Fn::GetAtt": [new_name, new_attr]})]
        yield Fix(f"{where}: rename `GetAtt {name}.{attr}` to `GetAtt {new_name}.{new_attr}`", edits, path)

    def _sub(self, path: tuple, value: Any, resources: dict) -> Iterator:
        parts = sub_parts(path, value)
        if parts is None:
            return
        text, at, local = parts
        where = _where(path)
        renames: dict[str, str] = {}
        for m in SUB_VARIABLE.finditer(text):
            var = m.group(1)
            if "." not in var or var in local or var in renames or var.strip() != var:
                continue
            name, attr = var.split(".", 1)
            verdict = _resolve(name, attr, resources)
            if verdict is None:
                continue
            if isinstance(verdict, str):
                yield Report(f"{where}: `${{{var}}}` in Fn::Sub {verdict}", at)
                continue
            new_name, new_attr = verdict
            renames[var] = new_name if new_attr is None else f"{new_name}.{new_attr}"
        if renames:
            new = SUB_VARIABLE.sub(lambda m: "${" + renames.get(m.group(1), m.group(1)) + "}", text)
            what = ", ".join(f"`${{{a}}}` to `${{{b}}}`" for a, b in renames.items())
            yield Fix(f"{where}: rename {what} in Fn::Sub", [SetValue(at, new)], at)


def _resolve(name: str, attr: str, resources: dict):
    """None: nothing to say; a string: why it is reported; (resource, attribute or None for Ref)."""
    if name not in resources:
        if name.startswith("AWS::"):
            return None
        found = close_names(name, resources)
        if len(found) != 1:
            return f"names no resource{_options(found)}"
        name = found[0]
        renamed = True
    else:
        renamed = False
    res = resources[name]
    rtype = res.get("Type") if isinstance(res, dict) else None
    facts = type_facts(rtype) if isinstance(rtype, str) else None
    attrs = facts.get("getatt") if facts else None
    if not attrs or any(_is_pattern(a) for a in attrs):
        return (name, attr) if renamed else None
    if attr in attrs:
        return (name, attr) if renamed else None
    meant = attribute_meant(attr, rtype, facts)
    if isinstance(meant, list):
        if renamed:  # half a fix would still not deploy: say what is close instead
            return f"names no resource; `{name}` is close, but `{attr}` is not one of its attributes"
        valid = meant or [a for a in attrs if a.startswith(attr + ".")]
        hint = _options(valid) if valid else ""
        return f"names an attribute `{rtype}` does not have{hint}"
    return (name, meant or None)


def attribute_meant(attr: str, rtype: str, facts: dict):
    """The attribute ``attr`` stands for: a valid attribute name, "" for Ref, or the list of
    candidates when there is not exactly one."""
    attrs = facts["getatt"]
    low = attr.lower()
    same = [a for a in attrs if a.lower() == low]
    if len(same) == 1:
        return same[0]
    short = rtype.rsplit("::", 1)[-1].lower()
    prefixed = [a for a in attrs if a.lower() == short + low or (low.startswith(short) and a.lower() == low[len(short):])]
    if len(prefixed) == 1:
        return prefixed[0]
    primary = facts.get("primary")
    if primary and primary not in attrs and primary.lower() in (low, short + low):
        return ""
    found = close_names(attr, attrs)
    if len(found) == 1:
        return found[0]
    return found


def _is_pattern(attr: str) -> bool:
    return bool(re.search(r"[\\*+?\[\]()|^$]", attr))


def _options(found: list[str]) -> str:
    if not found:
        return ""
    return ": did you mean " + " or ".join(f"`{n}`" for n in found) + "?"


def _where(path: tuple) -> str:
    return path[1] if path[0] == "Resources" else f"Output {path[1]}"
