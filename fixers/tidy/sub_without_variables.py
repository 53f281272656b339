from __future__ import annotations

from typing import Any, Iterator

from cfnfix.text.edits import SetValue
from cfnfix.fixing import Fix, Fixer, Safety
from cfnfix.cloudformation import Template
from cfnfix.cloudformation.references import SUB_VARIABLE


class SubWithoutVariables(Fixer):
    code = "TIDY001"
    name = "sub-without-variables"
    summary = "`Fn::Sub` of a string without variables"
    safety = Safety.SAFE
    default = False
    docs = """
## What it does
Replaces an `Fn::Sub` whose string has no `${}` variable by the string itself, in resources and
outputs. A literal `${!Name}` in it becomes the `${Name}` that `Fn::Sub` would have produced.
The list form is rewritten only when its variable map is empty (a map whose values reference
resources keeps the dependencies they create).

## Why it breaks deploys
It does not: CloudFormation deploys a needless `Fn::Sub`. cfn-lint warns about it (W1020), and
a plain string says the same thing more simply. This is a tidy-up of the `TIDY` group.

## Example
```yaml
Queue:
  Type: AWS::SQS::Queue
  Properties:
    QueueName: !Sub orders-queue
```
Use instead:
```yaml
Queue:
  Type: AWS::SQS::Queue
  Properties:
    QueueName: orders-queue
```

## Fix safety
Safe: the value CloudFormation resolves is the same string.

## When to enable it
When your team wants cfn-lint's warnings gone: `--select TIDY` (or `extend-select = ["TIDY"]`)
turns on every tidy-up at once. Templates with the SAM transform are left alone, as cfn-lint
does.

## References
- cfn-lint W1020 (`Fn::Sub` isn't needed if it doesn't have a variable defined).
- https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-sub.html
"""

    def run(self, template: Template):
        transform = template.data.get("Transform")
        if "AWS::Serverless-2016-10-31" in (transform if isinstance(transform, list) else [transform]):
            return
        for section in ("Resources", "Outputs"):
            for owner, entry in template.section(section).items():
                yield from _walk((section, owner), entry)


def _walk(path: tuple, node: Any) -> Iterator[Fix]:
    stack = [(path, node)]
    while stack:
        p, n = stack.pop()
        if isinstance(n, list):
            stack.extend((p + (i,), v) for i, v in reversed(list(enumerate(n))))
            continue
        if not isinstance(n, dict):
            continue
        if len(n) == 1 and "Fn::Sub" in n:
            text = _plain(n["Fn::Sub"])
            if text is not None:
                where = p[1] if p[0] == "Resources" else f"Output {p[1]}"
                yield Fix(f"{where}: replace `Fn::Sub` without variables with its string", [SetValue(p, text)], p)
                continue
        stack.extend((q, v) for q, v in reversed([(p + (k,), v) for k, v in n.items()]))


def _plain(value: Any) -> str | None:
    """The string an Fn::Sub without variables resolves to, else None."""
    if isinstance(value, list):
        if len(value) == 2 and isinstance(value[0], str) and value[1] in ({}, None):
            value = value[0]
        elif len(value) == 1 and isinstance(value[0], str):
            value = value[0]
        else:
            return None
    if not isinstance(value, str) or SUB_VARIABLE.search(value) or _has_variable(value):
        return None
    return value.replace("${!", "${")


def _has_variable(text: str) -> bool:
    """cfn-lint's reading: ``${`` then a character other than ``!`` or a space opens a variable."""
    i = text.find("${")
    while i >= 0:
        rest = text[i + 2:]
        if rest[:1] not in ("!", "") and "}" in rest:
            return True
        i = text.find("${", i + 2)
    return False
