from __future__ import annotations

from cfnfix.fixing import Fix, Fixer, Safety
from cfnfix.cloudformation import Template


class RedundantDependsOn(Fixer):
    code = "TIDY004"
    name = "redundant-depends-on"
    summary = "`DependsOn` a resource already referenced with `Ref`, `GetAtt` or `Fn::Sub`"
    safety = Safety.SAFE
    default = False
    docs = """
## What it does
Removes from a resource's `DependsOn` each resource that its `Properties` already reference
through `Ref`, `Fn::GetAtt` or `${}` in `Fn::Sub`; `DependsOn` goes when it is emptied. A
reference inside an `Fn::If` does not count (when the condition picks the other branch there
is no dependency), nor does one in `Metadata`.

## Why it breaks deploys
It does not: CloudFormation creates a resource after everything its properties reference, so
the `DependsOn` adds nothing. cfn-lint warns about it (W3005). This is a tidy-up of the `TIDY`
group.

## Example
```yaml
Function:
  Type: AWS::Lambda::Function
  DependsOn: [Role, Table]
  Properties:
    Role: !GetAtt Role.Arn
```
Use instead:
```yaml
Function:
  Type: AWS::Lambda::Function
  DependsOn: [Table]
  Properties:
    Role: !GetAtt Role.Arn
```

## Fix safety
Safe: the order of creation and deletion is the same, since the reference already orders the
two resources.

## When to enable it
When your team wants cfn-lint's warnings gone: `--select TIDY` turns on every tidy-up at once.

## References
- cfn-lint W3005 (obsolete DependsOn).
- https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-dependson.html
"""

    def run(self, template: Template):
        resources = template.resources
        implied: dict[str, set[str]] = {}
        for r in template.references:
            if (r.section == "Resources" and r.kind in ("Ref", "GetAtt", "Sub") and r.path[2:3] == ("Properties",)
                    and "Fn::If" not in r.path and r.target in resources and r.target != r.owner):
                implied.setdefault(r.owner, set()).add(r.target)
        for name, res in resources.items():
            if not isinstance(res, dict) or name not in implied:
                continue
            dep = res.get("DependsOn")
            listed = [dep] if isinstance(dep, str) else [d for d in dep if isinstance(d, str)] if isinstance(dep, list) else []
            redundant = [d for d in dict.fromkeys(listed) if d in implied[name]]
            if not redundant:
                continue
            edits = template.drop_dependencies(name, set(redundant))
            names = ", ".join(f"`{d}`" for d in redundant)
            yield Fix(f"{name}: remove {names} from DependsOn (already referenced)", edits, ("Resources", name, "DependsOn"))
