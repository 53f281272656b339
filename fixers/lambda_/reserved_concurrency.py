from __future__ import annotations

from cfnfix.cloudformation import Template
from cfnfix.cloudformation.display import fmt
from cfnfix.fixing import Fix, Fixer, Report, Safety
from cfnfix.text.edits import Delete, EditError, SetValue

FUNCTIONS = ("AWS::Lambda::Function", "AWS::Serverless::Function")
PROPERTY = "ReservedConcurrentExecutions"
MIN_UNRESERVED = 100  # Lambda keeps this many for functions without reserved concurrency


class ReservedConcurrency(Fixer):
    code = "LAMBDA003"
    name = "reserved-concurrency"
    summary = "`ReservedConcurrentExecutions` that the account may not have to reserve"
    safety = Safety.UNSAFE
    default = False
    options = {"account_limit": None, "strategy": "remove"}
    docs = """
## What it does
Removes `ReservedConcurrentExecutions` from Lambda functions (`AWS::Lambda::Function`,
`AWS::Serverless::Function`). A reservation of 0 (a function switched off) is kept. A parameter
that only set the reservation goes with it.

With `account_limit` (the account's concurrent-executions quota in the region), only a template
whose reservations add up to more than the quota minus the unreserved minimum is changed, and
with `strategy = "lower"` each reservation is lowered in proportion until they fit, instead of
being removed.

## Why it breaks deploys
Lambda refuses a reservation that would leave the account fewer unreserved concurrent
executions than its minimum (100, or the whole quota where the quota is lower): "Specified
ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution
below its minimum value of [100]". New accounts often start with a quota of 10, where no
reservation at all can be made, and reservations made by other stacks count too.

## Example
```yaml
PaymentsFunction:
  Type: AWS::Lambda::Function
  Properties:
    Runtime: python3.12
    Handler: index.handler
    Role: !GetAtt PaymentsRole.Arn
    ReservedConcurrentExecutions: 50
    Code:
      ZipFile: def handler(event, context): return event
```
Use instead:
```yaml
PaymentsFunction:
  Type: AWS::Lambda::Function
  Properties:
    Runtime: python3.12
    Handler: index.handler
    Role: !GetAtt PaymentsRole.Arn
    Code:
      ZipFile: def handler(event, context): return event
```

## Fix safety
Unsafe: without a reservation the function shares the account's unreserved pool, so it is no
longer guaranteed its concurrency, nor capped by it (a reservation also limits how far a function
scales, which can protect a database behind it). Set the reservation again once the account's
quota has been raised (Service Quotas, "Concurrent executions").

## Options
- `account_limit` (integer, default unset): the account's concurrent-executions quota in the
  region. Unset, every reservation is removed, since the template cannot know how much the
  account has left to reserve.
- `strategy` (`"remove"` or `"lower"`, default `"remove"`): with `account_limit`, lower each
  reservation in proportion so that all of them fit under the quota minus the unreserved minimum
  (a reservation that would fall to 0 is removed).

## When to enable it
When stacks deploy into new or sandbox accounts whose Lambda concurrency quota has not been
raised, or into accounts where other stacks already reserve most of it.

## References
- [Configuring reserved concurrency](https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html)
- [Lambda quotas: concurrent executions](https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html)
- [AWS::Lambda::Function ReservedConcurrentExecutions](https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-lambda-function.html)
"""

    def run(self, template: Template):
        limit = self.config.get("account_limit")
        strategy = self.config.get("strategy", "remove")
        if strategy not in ("remove", "lower"):
            raise ValueError(f"{self.code}: strategy must be \"remove\" or \"lower\", not {strategy!r}")
        reserved = []  # (function, path, amount or None when not a literal number)
        for name, _, props in template.resources_of_type(*FUNCTIONS):
            if PROPERTY not in props:
                continue
            amount = _amount(template, props[PROPERTY])
            if amount == 0:
                continue
            reserved.append((name, ("Resources", name, "Properties", PROPERTY), amount))
        if not reserved:
            return
        available = None
        if limit is not None:
            limit = int(limit)
            available = max(limit - min(MIN_UNRESERVED, limit), 0)
            known = [a for _, _, a in reserved if a is not None]
            if len(known) == len(reserved) and sum(known) <= available:
                return
        total = sum(a for _, _, a in reserved if a is not None)
        for name, path, amount in reserved:
            value = template.resources[name]["Properties"][PROPERTY]
            if strategy == "lower" and available is not None:
                if amount is None:
                    yield Report(f"Function {name}: ReservedConcurrentExecutions {fmt(value)} is not a number "
                                 "that can be lowered; not changed", path)
                    continue
                lowered = amount * available // total if total else 0
                if lowered > 0:
                    yield Fix(f"Function {name}: lower ReservedConcurrentExecutions from {amount} to {lowered}, so that "
                              f"the template's reservations fit in the {available} the account can reserve", [SetValue(path, lowered)], path)
                    continue
            edits = [Delete(path)]
            msg = f"Function {name}: remove ReservedConcurrentExecutions {fmt(value)}"
            msg += (f" (the account can reserve {available})" if available is not None
                    else " (the account may have none left to reserve)")
            edits, unused = _with_unused(template, path, edits)
            if unused:
                msg += f"; {unused} no longer used and removed"
            yield Fix(msg, edits, path)


def _with_unused(template: Template, path: tuple, edits: list) -> tuple[list, str]:
    """The edits, plus the removal of the conditions and parameters only the removed value used
    (left, they would be declared but unused: cfn-lint W8001, W2001); and what those are."""
    conditions = template.conditions_orphaned_by([path])
    removed = [path] + [("Conditions", c) for c in conditions]
    params = template.parameters_orphaned_by(removed)
    extra: list = []
    if params:
        try:
            extra = template.remove(*params, handled=edits)
        except EditError:
            params, extra = [], []
    gone = {e.path for e in extra if isinstance(e, Delete)}
    left = [c for c in conditions if ("Conditions", c) not in gone and ("Conditions",) not in gone]
    if left and set(left) | {p[1] for p in gone if p[:1] == ("Conditions",) and len(p) == 2} >= set(template.conditions):
        extra = [e for e in extra if not (isinstance(e, Delete) and e.path[:1] == ("Conditions",))]
        extra.append(Delete(("Conditions",)))
    else:
        extra += [Delete(("Conditions", c)) for c in left]
    words = []
    if conditions:
        words.append(f"condition{'s' if len(conditions) > 1 else ''} {', '.join(conditions)}")
    if params:
        words.append(f"parameter{'s' if len(params) > 1 else ''} {', '.join(params)}")
    verb = "are" if len(conditions) + len(params) > 1 else "is"
    return edits + extra, (" and ".join(words) + f" {verb}") if words else ""


def _amount(template: Template, value) -> int | None:
    """The reservation as a number: a literal, or the default of the parameter it names."""
    if isinstance(value, dict) and isinstance(value.get("Ref"), str) and len(value) == 1:
        param = template.parameters.get(value["Ref"])
        value = param.get("Default") if isinstance(param, dict) else None
    if isinstance(value, bool):
        return None
    try:
        return int(str(value))
    except ValueError:
        return None
