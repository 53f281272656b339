from __future__ import annotations

from cfnfix.cloudformation import Template, ref
from cfnfix.fixing import Fix, Fixer, Report, Safety
from cfnfix.text.edits import Edit, Insert, SetValue

# Resource types an account may hold only one of per region, by the thing a person turns on:
# (parameter suffix, what it is). AWS Config allows one customer-managed recorder and one
# delivery channel per region; GuardDuty one detector; Security Hub, Macie and Detective are
# enabled once per account and region. API Gateway's AWS::ApiGateway::Account is not one of
# them: a second one overwrites the account's CloudWatch role, it does not fail (APIGW002's).
SINGLETONS = {
    "AWS::Config::ConfigurationRecorder": ("ConfigRecorder", "AWS Config recorder and delivery channel"),
    "AWS::Config::DeliveryChannel": ("ConfigRecorder", "AWS Config recorder and delivery channel"),
    "AWS::GuardDuty::Detector": ("GuardDutyDetector", "GuardDuty detector"),
    "AWS::SecurityHub::Hub": ("SecurityHub", "Security Hub"),
    "AWS::Macie::Session": ("MacieSession", "Macie session"),
    "AWS::Detective::Graph": ("DetectiveGraph", "Detective behavior graph"),
}
NO_VALUE = ref("AWS::NoValue")


class AccountSingletons(Fixer):
    code = "ACCOUNT001"
    name = "account-singleton"
    summary = "Account-level singleton (Config recorder, GuardDuty detector, Security Hub…) created unconditionally"
    safety = Safety.UNSAFE
    default = False
    docs = """
## What it does
Makes the resources an account can hold only one of per region optional:
`AWS::Config::ConfigurationRecorder` and `AWS::Config::DeliveryChannel`,
`AWS::GuardDuty::Detector`, `AWS::SecurityHub::Hub`, `AWS::Macie::Session`,
and `AWS::Detective::Graph`. Per kind it adds a parameter
`Create<Thing>` (`"true"` or `"false"`, default `"false"`) and a condition `ShouldCreate<Thing>`,
and puts under that condition:

- the singletons themselves (those already under a condition are left as they are);
- the resources that configure them through a property (a GuardDuty `Filter` whose `DetectorId`
  is the detector, a Security Hub `Standard`…), and in turn what refers to those;
- the outputs that show them.

Other references become `!If [ShouldCreate<Thing>, <reference>, !Ref AWS::NoValue]`, and a
`DependsOn` on a singleton (Config rules wait for the recorder) becomes a conditional reference
in the resource's `Metadata`, which orders creation only when the singleton is created
(`DependsOn` itself cannot be conditional). The roles and buckets the singletons use stay.

`AWS::ApiGateway::Account` is left alone: a second one in the same account and region does not
fail, it replaces the CloudWatch role the first one set (and making it optional would stop stages
that log from deploying in an account without that role). APIGW002 removes it, when asked to.

## Why it breaks deploys
An account holds one of each per region, so a stack that creates one fails in every account that
already has it. That is any account under AWS Control Tower or with these services enabled by an
organization's delegated administrator: "MaxNumberOfConfigurationRecordersExceededException",
"The request is rejected because a detector already exists for the current account", "Account
is already subscribed to Security Hub", or the early validation
`AWS::EarlyValidation::ResourceExistenceCheck`.

## Example
```yaml
Resources:
  Detector:
    Type: AWS::GuardDuty::Detector
    Properties:
      Enable: true
```
Use instead:
```yaml
Parameters:
  CreateGuardDutyDetector:
    Type: String
    AllowedValues: ["true", "false"]
    Default: "false"
Conditions:
  ShouldCreateGuardDutyDetector: !Equals [!Ref CreateGuardDutyDetector, "true"]
Resources:
  Detector:
    Type: AWS::GuardDuty::Detector
    Condition: ShouldCreateGuardDutyDetector
    Properties:
      Enable: true
```

## Fix safety
Unsafe: by default the stack no longer creates the singleton, and relies on the one the account
has. In an account without one, deploy with `CreateGuardDutyDetector=true` (and so on), or the
services that need it (Config rules need a recorder) do not work. Resources that configure the
singleton are not created either when it is not, and outputs that showed it are gone. When one
of those already has a condition of its own, the kind is reported instead.

## When to enable it
When the template is deployed into accounts where security services are managed centrally
(AWS Control Tower, AWS Organizations delegated administrators, a landing-zone baseline), or
into several stacks per account and region.

## References
- [AWS Config: managing the configuration recorder](https://docs.aws.amazon.com/config/latest/developerguide/stop-start-recorder.html)
  ("you can have only one customer managed configuration recorder for each AWS Region")
- [Amazon GuardDuty detector](https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_regions.html)
- [AWS::SecurityHub::Hub](https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-securityhub-hub.html)
- [Condition functions](https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-conditions.html)
  (`Fn::If` in resource properties and metadata)
"""

    def run(self, template: Template):
        kinds: dict[str, list[str]] = {}
        labels: dict[str, str] = {}
        for rid, res in template.resources.items():
            if not isinstance(res, dict) or not isinstance(res.get("Type"), str) or res["Type"] not in SINGLETONS or "Condition" in res:
                continue
            thing, label = SINGLETONS[res["Type"]]
            kinds.setdefault(thing, []).append(rid)
            labels[thing] = label
        taken: set[str] = set()
        for thing, members in kinds.items():
            path = ("Resources", members[0])
            try:
                yield self._fix(template, thing, labels[thing], members, taken)
            except _Skip as e:
                yield Report(f"{labels[thing]} {', '.join(members)}: {e}; not changed", path)

    def _fix(self, template: Template, thing: str, label: str, members: list[str], taken: set[str]) -> Fix:
        param = template.unique_id(f"Create{thing}", taken)
        taken.add(param)
        cond = template.unique_id(f"ShouldCreate{thing}", taken)
        taken.add(cond)
        # Everything that goes under the condition: the singletons, and what configures them.
        conditional = list(members)
        todo = list(members)
        while todo:
            target = todo.pop()
            for r in template.references_to(target):
                if r.section != "Resources" or r.kind == "DependsOn" or r.owner in conditional:
                    continue
                if len(r.path) == 4 and r.path[2] == "Properties":  # the whole value of a property
                    if "Condition" in template.resources[r.owner]:
                        raise _Skip(f"{r.owner}, which configures {target}, has a condition of its own")
                    conditional.append(r.owner)
                    todo.append(r.owner)
        # New sections are spliced last, after the edits of the entries before them.
        sections: list[Edit] = [
            template.add_parameter(param, {
                "Type": "String", "AllowedValues": ["true", "false"], "Default": "false",
                "Description": f"Create the {label} in this region (false where the account already has one)"}),
            template.add_entry("Conditions", cond, {"Fn::Equals": [ref(param), "true"]}),
        ]
        edits: list[Edit] = []
        for rid in conditional:
            edits.append(Insert(("Resources", rid), "Condition", cond, after="Type"))
        gone = set(conditional)
        outputs, wrapped, waiting = [], [], {}
        for r in template.references:
            if r.target not in gone or r.owner in gone:
                continue
            if r.section == "Outputs":
                out = template.outputs.get(r.owner)
                if isinstance(out, dict) and "Condition" in out:
                    raise _Skip(f"output {r.owner} shows {r.target} under a condition of its own")
                if r.owner not in outputs:
                    outputs.append(r.owner)
                continue
            if r.section != "Resources":
                if r.section in ("Metadata", "Rules"):
                    continue
                raise _Skip(f"{r.section} {r.owner} uses {r.target}")
            if r.kind == "DependsOn":
                waiting.setdefault(r.owner, []).append(r.target)
                continue
            value = _get(template.data, r.path)
            edits.append(SetValue(r.path, {"Fn::If": [cond, value, NO_VALUE]}))
            wrapped.append(r.owner)
        for name in outputs:
            out = template.outputs[name]
            edits.append(Insert(("Outputs", name), "Condition", cond, before=next(iter(out), None)))
        for rid, targets in waiting.items():
            edits += template.drop_dependencies(rid, set(targets))
            res = template.resources[rid]
            entries = {f"WaitFor{t}": {"Fn::If": [cond, ref(t), NO_VALUE]} for t in dict.fromkeys(targets)}
            meta = res.get("Metadata")
            if isinstance(meta, dict):
                edits += [Insert(("Resources", rid, "Metadata"), k, v) for k, v in entries.items()]
            elif meta is None:
                after = "Condition" if "Condition" in res else "Type"
                edits.append(Insert(("Resources", rid), "Metadata", entries, after=after))
            else:
                raise _Skip(f"{rid} waits for it but its Metadata is not a mapping")
        them = "it" if len(members) == 1 else "them"
        msg = (f"{', '.join(members)}: create {them} only when parameter {param} is \"true\" (default \"false\", "
               f"for accounts that already have their {label})")
        extra = [r for r in conditional if r not in members]
        if extra:
            msg += f"; {', '.join(extra)} too"
        if waiting:
            msg += f"; {', '.join(waiting)} wait{'s' if len(waiting) == 1 else ''} for {them} only then"
        if wrapped:
            msg += f"; {', '.join(dict.fromkeys(wrapped))} refer{'s' if len(set(wrapped)) == 1 else ''} to {them} only then"
        if outputs:
            msg += f"; output{'s' if len(outputs) > 1 else ''} {', '.join(outputs)} only then"
        return Fix(msg, edits + sections, ("Resources", members[0]))


class _Skip(Exception):
    pass


def _get(data, path):
    for step in path:
        data = data[step]
    return data
