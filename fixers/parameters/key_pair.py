from __future__ import annotations

import re

from cfnfix.cloudformation import Template, ref
from cfnfix.fixing import Fix, Fixer, Report, Safety
from cfnfix.text.edits import Delete, Edit, Insert, SetValue

KEY_PAIR_TYPE = "AWS::EC2::KeyPair::KeyName"
# Properties whose whole value is the name of a key pair (EC2 instances, launch templates and
# configurations, spot fleets, EMR, Batch, OpsWorks, Image Builder, Lightsail).
KEY_PROPERTIES = {"KeyName", "Ec2KeyName", "Ec2KeyPair", "KeyPair", "KeyPairName", "SshKeyName", "DefaultSshKeyName"}
# Properties that need their enclosing object to go when there is no key (EKS node group
# RemoteAccess requires Ec2SshKey).
ENCLOSED_KEY_PROPERTIES = {"Ec2SshKey"}
NO_VALUE = ref("AWS::NoValue")


class KeyPairParameter(Fixer):
    code = "PARAM001"
    name = "key-pair-parameter"
    summary = "Key-pair parameter (`AWS::EC2::KeyPair::KeyName`) without a `Default`"
    safety = Safety.SAFE
    default = False
    order = 110  # after SM001, with the other unattended-deploy fixers
    docs = """
## What it does
Makes a key-pair parameter optional, so that a pipeline that passes no parameters can deploy
the stack: the parameter becomes `Type: String` with `Default: ""`, a condition
`HasKeyPair: !Not [!Equals [!Ref KeyName, ""]]` is added, and every place that takes the key
becomes `!If [HasKeyPair, !Ref KeyName, !Ref AWS::NoValue]` (the `KeyName` of instances, launch
templates, launch configurations and spot fleets, EMR `Ec2KeyName`, Batch `Ec2KeyPair`, the
Elastic Beanstalk `EC2KeyName` option setting, the `RemoteAccess` of an EKS node group…).
Outputs that show the key name are created only when one is given. A `MinLength`,
`AllowedPattern` or `AllowedValues` that would refuse the empty default accepts it.

The parameter is reported, not changed, when it is used anywhere else (inside a `Fn::Sub`, a
tag, UserData, a rule), because an empty name there may not be what the template needs.

Part of the unattended-deploy group (`PARAM`): `unattended = true` in the configuration, or
`--extend-select PARAM`, turns it on with PARAM002.

## Why it breaks deploys
A parameter without a default must be given a value on every create, so an unattended deploy
stops with "Parameters: [KeyName] must have values"; and an `AWS::EC2::KeyPair::KeyName`
parameter cannot be empty, since CloudFormation checks that the key pair exists in the region.

## Example
```yaml
Parameters:
  KeyName:
    Type: AWS::EC2::KeyPair::KeyName
Resources:
  Instance:
    Type: AWS::EC2::Instance
    Properties:
      ImageId: !Ref LatestAmiId
      KeyName: !Ref KeyName
```
Use instead:
```yaml
Parameters:
  KeyName:
    Type: String
    Default: ""
Conditions:
  HasKeyPair: !Not [!Equals [!Ref KeyName, ""]]
Resources:
  Instance:
    Type: AWS::EC2::Instance
    Properties:
      ImageId: !Ref LatestAmiId
      KeyName: !If [HasKeyPair, !Ref KeyName, !Ref AWS::NoValue]
```

## Fix safety
Safe: given a key name, the stack deploys exactly as before. Given none, instances start
without a key pair (reach them with Session Manager or EC2 Instance Connect), which is what an
unattended deploy that passes no key asks for. The parameter no longer lists the region's key
pairs in the console, and a misspelt name fails when the instance is created rather than when
the parameters are checked.

## When to enable it
When stacks are deployed by a pipeline (or `sam deploy`, `rain`, StackSets) that passes no
parameters, and SSH keys are not how you reach the instances.

## References
- [Parameters: AWS-specific parameter types](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-supplied-parameter-types.html)
- [Condition functions (`Fn::If`, `AWS::NoValue`)](https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-conditions.html)
- [Pseudo parameters: `AWS::NoValue`](https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/pseudo-parameter-reference.html)
"""

    def run(self, template: Template):
        fixable = [n for n, p in template.parameters.items()
                   if isinstance(p, dict) and p.get("Type") == KEY_PAIR_TYPE and "Default" not in p]
        # Key pairs made optional in an earlier pass (they have their condition) count too, so
        # that a second key pair is named the same way whichever pass it is fixed in.
        done = [n for n in template.parameters if n not in fixable and _existing_condition(template, n)]
        taken: set[str] = set()
        for name in fixable:
            path = ("Parameters", name)
            try:
                edits, condition = self._edits(template, name, len(fixable) + len(done) == 1, taken)
            except _Skip as e:
                yield Report(f"Parameter {name}: {e}; give it a value, or make it optional by hand", path)
                continue
            taken.add(condition)
            yield Fix(f"Parameter {name}: make the key pair optional (String, default \"\"), "
                      f"given only when {condition}", edits, path)

    def _edits(self, template: Template, name: str, alone: bool, taken: set[str]) -> tuple[list[Edit], str]:
        condition = _existing_condition(template, name)
        edits: list[Edit] = []
        section: list[Edit] = []  # spliced last: a new section goes after the edits of the one before it
        if condition is None:
            condition = template.unique_id("HasKeyPair" if alone else f"Has{name}", taken)
            body = {"Fn::Not": [{"Fn::Equals": [ref(name), ""]}]}
            section.append(template.add_entry("Conditions", condition, body))
        wrapped: set[tuple] = set()
        for r in template.references_to(name):
            if r.section == "Conditions" or r.section == "Metadata":
                continue
            if r.section == "Outputs":
                out = template.outputs.get(r.owner)
                if not isinstance(out, dict) or "Condition" in out:
                    raise _Skip(f"output {r.owner} shows it under a condition of its own")
                if ("Outputs", r.owner) not in wrapped:
                    wrapped.add(("Outputs", r.owner))
                    edits.append(Insert(("Outputs", r.owner), "Condition", condition, before=next(iter(out), None)))
                continue
            if r.section != "Resources":
                raise _Skip(f"{r.section[:-1].lower()} {r.owner} uses it")
            if r.kind != "Ref":
                raise _Skip(f"{r.owner} uses it inside {'Fn::Sub' if r.kind == 'Sub' else r.kind}, where an empty name "
                            "may not be what it needs")
            target = _wrap_target(template, r.path)
            if target is None and "Fn::If" in r.path:
                raise _Skip(f"{r.owner} already chooses it under a condition (Fn::If at {'.'.join(map(str, r.path[2:]))})")
            if target is None:
                raise _Skip(f"{r.owner} uses it at {'.'.join(map(str, r.path[2:]))}, which is not a key-pair name")
            if target in wrapped:
                continue
            wrapped.add(target)
            edits.append(SetValue(target, {"Fn::If": [condition, _get(template.data, target), NO_VALUE]}))
        param = template.parameters[name]
        path = ("Parameters", name)
        edits.append(SetValue(path + ("Type",), "String"))
        edits.append(Insert(path, "Default", "", after="Type"))
        if _positive(param.get("MinLength")):
            edits.append(Delete(path + ("MinLength",)))
        pattern = param.get("AllowedPattern")
        if isinstance(pattern, str) and not _full_match(pattern, ""):
            edits.append(SetValue(path + ("AllowedPattern",), f"(?:{pattern})?"))
        allowed = param.get("AllowedValues")
        if isinstance(allowed, list) and "" not in allowed:
            edits.append(SetValue(path + ("AllowedValues",), ["", *allowed]))
        return edits + section, condition


class _Skip(Exception):
    pass


def _existing_condition(template: Template, name: str) -> str | None:
    """A condition that already says "the key is given": ``!Not [!Equals [!Ref P, ""]]``."""
    for cname, body in template.conditions.items():
        inner = body.get("Fn::Not") if isinstance(body, dict) and len(body) == 1 else None
        eq = inner[0].get("Fn::Equals") if isinstance(inner, list) and len(inner) == 1 and isinstance(inner[0], dict) else None
        if isinstance(eq, list) and len(eq) == 2 and ref(name) in eq and "" in eq:
            return cname
    return None


def _wrap_target(template: Template, path: tuple) -> tuple | None:
    """The path of the value to put under the condition, for a Ref at ``path``; None when the
    Ref is not a key-pair name."""
    if len(path) < 4 or any(isinstance(s, str) and s.startswith("Fn::") for s in path[3:]):
        return None
    key = path[-1]
    if key in KEY_PROPERTIES:
        return path
    if key in ENCLOSED_KEY_PROPERTIES:
        return path[:-1]
    if key == "Value" and isinstance(path[-2], int) and path[-3] == "OptionSettings":
        item = _get(template.data, path[:-1])
        if isinstance(item, dict) and str(item.get("OptionName", "")).lower() == "ec2keyname":
            return path[:-1]
    return None


def _positive(value) -> bool:
    try:
        return int(str(value)) > 0
    except ValueError:
        return False


def _full_match(pattern: str, text: str) -> bool:
    try:
        return re.fullmatch(pattern, text) is not None
    except re.error:
        return True  # a pattern Python cannot read: leave it alone


def _get(data, path):
    for step in path:
        data = data[step]
    return data
