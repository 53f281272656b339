from __future__ import annotations

from cfnfix.text.edits import EditError
from cfnfix.fixing import Fix, Fixer, Report, Safety
from cfnfix.cloudformation import Template


class UnusedParameters(Fixer):
    code = "TIDY002"
    name = "unused-parameter"
    summary = "Parameter that nothing uses"
    safety = Safety.UNSAFE
    default = False
    docs = """
## What it does
Removes a parameter that no `Ref` or `Fn::Sub` of the template names (in resources, outputs,
conditions, rules or metadata), with its entries in the `AWS::CloudFormation::Interface`
metadata (parameter groups and labels). Templates with a `Transform` are left alone, as
cfn-lint does: a macro may use any parameter.

## Why it breaks deploys
It does not: CloudFormation deploys a template with a parameter it never uses. cfn-lint warns
about it (W2001): an unused parameter is usually a leftover, or the sign of a value that was
meant to be used and is not. This is a tidy-up of the `TIDY` group.

## Example
```yaml
Parameters:
  Environment:
    Type: String
  LegacyBucketName:
    Type: String
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub ${Environment}-orders
```
Use instead:
```yaml
Parameters:
  Environment:
    Type: String
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub ${Environment}-orders
```

## Fix safety
Unsafe: what gets deployed is the same, but how it is deployed changes. A pipeline, a
parameter file or a `--parameter-overrides` that still passes the removed parameter makes the
deploy fail ("Parameters: [LegacyBucketName] do not exist in the template") until it stops
passing it.

## When to enable it
When your team wants cfn-lint's warnings gone (`--select TIDY` turns on every tidy-up), and
you can remove the parameter from wherever stacks are deployed from at the same time.

## References
- cfn-lint W2001 (parameters not used).
- https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/parameters-section-structure.html
"""

    def run(self, template: Template):
        if "Transform" in template.data:
            return
        used = {r.target for r in template.references if not (r.section == "Parameters")}
        for name in template.parameters:
            if not isinstance(name, str) or name in used:
                continue
            path = ("Parameters", name)
            try:
                edits = template.remove(name)
            except EditError as e:  # pragma: no cover - nothing uses it, so nothing should stop it
                yield Report(f"Parameter {name} is not used, but cannot be removed: {e}", path)
                continue
            yield Fix(f"remove unused parameter `{name}`", edits, path)
