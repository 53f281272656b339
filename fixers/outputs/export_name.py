from __future__ import annotations

from cfnfix.text.edits import Insert, SetValue
from cfnfix.fixing import Fix, Fixer, Safety
from cfnfix.cloudformation import Template, sub


class ExportName(Fixer):
    code = "OUT001"
    name = "export-without-name"
    summary = "Output `Export` without a `Name`"
    safety = Safety.SAFE
    docs = """
## What it does
Adds `Name: !Sub '${AWS::StackName}-<OutputLogicalId>'` to an output's `Export` that has no
`Name` (or is empty). When that name is already exported by another output of the template, a
numeric suffix keeps it unique.

## Why it breaks deploys
`Export.Name` is required. CloudFormation rejects the template during validation
("Template format error: Output X is malformed... Name is required") before any resource is
created.

## Example
```yaml
Outputs:
  BucketArn:
    Value: !GetAtt Bucket.Arn
    Export: {}
```
Use instead:
```yaml
Outputs:
  BucketArn:
    Value: !GetAtt Bucket.Arn
    Export:
      Name: !Sub '${AWS::StackName}-BucketArn'
```

## Fix safety
Safe: the stack did not deploy before, and the name is scoped by the stack name so that two
stacks from the same template do not collide. Other stacks can import it with
`!ImportValue '<stack>-BucketArn'`.
"""

    def run(self, template: Template):
        outputs = template.outputs
        taken = {_literal_name(o) for o in outputs.values()}
        for name, out in outputs.items():
            if not isinstance(out, dict) or "Export" not in out:
                continue
            export = out["Export"]
            if isinstance(export, dict) and export.get("Name") not in (None, ""):
                continue
            export_name = f"${{AWS::StackName}}-{name}"
            n = 2
            while export_name in taken:
                export_name = f"${{AWS::StackName}}-{name}{n}"
                n += 1
            taken.add(export_name)
            path = ("Outputs", name, "Export")
            if isinstance(export, dict) and "Name" not in export:
                edit = Insert(path, "Name", sub(export_name))
            elif isinstance(export, dict):
                edit = SetValue(path + ("Name",), sub(export_name))
            else:
                edit = SetValue(path, {"Name": sub(export_name)})
            yield Fix(f"Output {name}: add Export Name `{export_name}`", [edit], path)


def _literal_name(output) -> str | None:
    """The export name as an Fn::Sub string, when it is one we can compare."""
    if not isinstance(output, dict) or not isinstance(output.get("Export"), dict):
        return None
    value = output["Export"].get("Name")
    if isinstance(value, dict) and isinstance(value.get("Fn::Sub"), str):
        return value["Fn::Sub"]
    return value if isinstance(value, str) else None
