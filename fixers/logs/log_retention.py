from __future__ import annotations

from cfnfix.text.edits import Insert
from cfnfix.fixing import Fix, Fixer, Safety
from cfnfix.cloudformation import Template

# The values CloudWatch Logs accepts (PutRetentionPolicy, and the AWS::Logs::LogGroup schema).
RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731,
                  1096, 1827, 2192, 2557, 2922, 3288, 3653)


class LogGroupRetention(Fixer):
    code = "LOG001"
    name = "log-group-retention"
    summary = "`AWS::Logs::LogGroup` without `RetentionInDays`"
    safety = Safety.UNSAFE
    default = False
    options = {"days": 30}
    docs = """
## What it does
Adds `RetentionInDays: <days>` (30 unless configured) to an `AWS::Logs::LogGroup` that has no
`RetentionInDays`, after `LogGroupName` when there is one. A log group of class `DELIVERY`
(whose events CloudWatch keeps for one day anyway) is left alone.

## Why it breaks deploys
Without `RetentionInDays` log events never expire, so the group grows (and is billed) forever,
which review checklists and policy scanners flag; the deploy itself succeeds.

## Example
```yaml
AppLogs:
  Type: AWS::Logs::LogGroup
  Properties:
    LogGroupName: !Sub '/app/${AWS::StackName}'
```
Use instead:
```yaml
AppLogs:
  Type: AWS::Logs::LogGroup
  Properties:
    LogGroupName: !Sub '/app/${AWS::StackName}'
    RetentionInDays: 30
```

## Fix safety
Unsafe: log events older than the retention period are deleted, including events already in
the group when the stack is updated. Opt-in (`--extend-select LOG001`).

## Options
`days`: the retention period, one of the values CloudWatch accepts: 1, 3, 5, 7, 14, 30, 60,
90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653.
```toml
[options.LOG001]
days = 90
```
"""

    def __init__(self, options=None):
        super().__init__(options)
        days = self.config["days"]
        if not isinstance(days, int) or isinstance(days, bool) or days not in RETENTION_DAYS:
            allowed = ", ".join(map(str, RETENTION_DAYS))
            raise ValueError(f"{self.code}: days must be one of {allowed}, not {days!r}")

    def run(self, template: Template):
        days = self.config["days"]
        for name, res, props in template.resources_of_type("AWS::Logs::LogGroup"):
            current = res.get("Properties")
            if current is not None and not isinstance(current, dict):
                continue
            if "RetentionInDays" in props or props.get("LogGroupClass") == "DELIVERY":
                continue
            path = ("Resources", name)
            if "Properties" not in res:
                edit = Insert(path, "Properties", {"RetentionInDays": days}, after="Type")
            else:
                after = "LogGroupName" if "LogGroupName" in props else None
                edit = Insert(path + ("Properties",), "RetentionInDays", days, after=after)
            yield Fix(f"Log group {name}: add RetentionInDays {days}", [edit], path)
