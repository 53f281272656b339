from __future__ import annotations

from cfnfix.text.edits import Delete
from cfnfix.fixing import Fix, Fixer, Safety
from cfnfix.cloudformation import Template


class UnusedConditions(Fixer):
    code = "TIDY003"
    name = "unused-condition"
    summary = "Condition that nothing uses"
    safety = Safety.SAFE
    default = False
    docs = """
## What it does
Removes a condition that no resource, output, `Fn::If` or other condition uses, and then the
conditions only it used (a chain of unused conditions goes at once). The `Conditions` section
goes when it is emptied. Templates with a `Transform` are left alone: a macro may use any
condition.

## Why it breaks deploys
It does not: CloudFormation deploys a template with a condition nothing uses. cfn-lint warns
about it (W8001): it is usually a leftover. This is a tidy-up of the `TIDY` group. A
parameter that only the removed condition used is then unused too (TIDY002).

## Example
```yaml
Conditions:
  IsProduction: !Equals [!Ref Environment, prod]
  HasReplica: !Equals [!Ref Replicas, "1"]
Resources:
  Alarm:
    Type: AWS::CloudWatch::Alarm
    Condition: IsProduction
```
Use instead:
```yaml
Conditions:
  IsProduction: !Equals [!Ref Environment, prod]
Resources:
  Alarm:
    Type: AWS::CloudWatch::Alarm
    Condition: IsProduction
```

## Fix safety
Safe: a condition that nothing uses decides nothing; the same resources are created.

## When to enable it
When your team wants cfn-lint's warnings gone: `--select TIDY` turns on every tidy-up at once.

## References
- cfn-lint W8001 (conditions not used).
- https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/conditions-section-structure.html
"""

    def run(self, template: Template):
        conditions = template.conditions
        if "Transform" in template.data or not conditions:
            return
        users: dict[str, set] = {}
        for r in template.references:
            if r.kind == "Condition" and r.target in conditions:
                users.setdefault(r.target, set()).add(r.owner if r.section == "Conditions" else ("", r.section, r.owner))
        gone: set[str] = set()
        changed = True
        while changed:  # a condition used only by conditions that go, goes too
            changed = False
            for name in conditions:
                if name not in gone and users.get(name, set()) <= gone:
                    gone.add(name)
                    changed = True
        roots = [n for n in conditions if n in gone and not users.get(n)]
        if not roots:
            return
        remaining = [n for n in conditions if n not in gone]
        edits = [Delete(("Conditions",))] if not remaining else [Delete(("Conditions", n)) for n in conditions if n in gone]
        names = ", ".join(f"`{n}`" for n in conditions if n in gone)
        plural = "s" if len(gone) > 1 else ""
        yield Fix(f"remove unused condition{plural} {names}", edits, ("Conditions",))
