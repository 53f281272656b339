from __future__ import annotations

import re

from cfnfix.cloudformation import Template
from cfnfix.cloudformation.display import fmt
from cfnfix.fixing import Fix, Fixer, Report, Safety
from cfnfix.text.edits import Insert

try:  # Python 3.11+
    from re import _constants as _sre_c, _parser as _sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as _sre_c  # type: ignore[no-redef]
    import sre_parse as _sre_parse  # type: ignore[no-redef]

KEY_PAIR_TYPE = "AWS::EC2::KeyPair::KeyName"  # PARAM001's


class ParameterDefaults(Fixer):
    code = "PARAM002"
    name = "parameter-without-default"
    summary = "Parameter without a `Default` where its constraints allow one certain value"
    safety = Safety.UNSAFE
    default = False
    order = 110  # after SM001 (which replaces password parameters), with PARAM001
    docs = """
## What it does
Gives a parameter without a `Default` the default its own constraints point at:

- the value of an `AllowedPattern` that allows exactly one value (`^prod$`), or of an
  `AllowedValues` list of one;
- the first of its `AllowedValues`;
- its `MinValue`, for a `Number` without `AllowedValues`.

The value must meet the parameter's other constraints (`MinLength`, `MaxLength`,
`AllowedPattern`, `MinValue`, `MaxValue`). Every other parameter without a default is reported:
network ids (VPC, subnets, security groups), e-mail addresses, domain names, certificate ARNs
and secrets have no value that cfnfix could know, and a person must choose them (or the pipeline
must pass them). `NoEcho` database passwords are SM001's; key pairs are PARAM001's.

Part of the unattended-deploy group (`PARAM`): `unattended = true` in the configuration, or
`--extend-select PARAM`, turns it on with PARAM001.

## Why it breaks deploys
A parameter without a default must be given a value on every create, so an unattended deploy
(a pipeline, StackSets, `sam deploy` without overrides) stops with "Parameters: [Environment]
must have values".

## Example
```yaml
Parameters:
  Environment:
    Type: String
    AllowedValues: [dev, staging, prod]
  Replicas:
    Type: Number
    MinValue: 2
    MaxValue: 10
```
Use instead:
```yaml
Parameters:
  Environment:
    Type: String
    Default: dev
    AllowedValues: [dev, staging, prod]
  Replicas:
    Type: Number
    Default: 2
    MinValue: 2
    MaxValue: 10
```

## Fix safety
Unsafe: a deploy that passes no value now gets the first allowed value, or the smallest number
allowed — a development environment, the fewest replicas — where it stopped before. Stacks
that pass their parameters deploy as before. A default that is the only value the constraints
allow is safe.

## When to enable it
When stacks are deployed by a pipeline that passes no parameters (or only some), and the
first allowed value is the one an unattended deploy should get; order `AllowedValues` so that
it is.

## References
- [Parameters: properties (`Default`, `AllowedValues`, `MinValue`)](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/parameters-section-structure.html)
"""

    def run(self, template: Template):
        for name, param in template.parameters.items():
            if not isinstance(param, dict) or "Default" in param or param.get("Type") == KEY_PAIR_TYPE:
                continue
            path = ("Parameters", name)
            value, why, certain = _certain_default(param)
            if value is None:
                yield Report(f"Parameter {name} has no default and none follows from its constraints "
                             f"({_kind(name, param)}); a person must choose it, or the pipeline pass it", path)
                continue
            problem = _violates(param, value)
            if problem:
                yield Report(f"Parameter {name}: {why}, {fmt(value)}, {problem}; a person must choose its default", path)
                continue
            edit = Insert(path, "Default", value, after="Type" if "Type" in param else None)
            yield Fix(f"Parameter {name}: add Default {fmt(value)} ({why})", [edit], path,
                      safety=Safety.SAFE if certain else None)


def _certain_default(param: dict):
    """(value, how it was found, whether it is the only value allowed) or (None, "", False)."""
    allowed = param.get("AllowedValues")
    if isinstance(allowed, list) and allowed and all(isinstance(v, (str, int, float)) for v in allowed):
        if len(allowed) == 1:
            return allowed[0], "the only allowed value", True
        return allowed[0], "the first of its AllowedValues", False
    pattern = param.get("AllowedPattern")
    if isinstance(pattern, str):
        only = single_value(pattern)
        if only is not None:
            return only, "the only value its AllowedPattern allows", True
    if param.get("Type") == "Number" and isinstance(param.get("MinValue"), (str, int, float)) and _number(param["MinValue"]) is not None:
        return param["MinValue"], "its MinValue", False
    return None, "", False


def single_value(pattern: str) -> str | None:
    """The one string a (full-match) pattern allows, when it allows only one: literal text,
    anchors and groups; else None."""
    try:
        parsed = _sre_parse.parse(pattern)
    except (re.error, RecursionError):
        return None
    out: list[str] = []

    def walk(items) -> bool:
        for op, arg in items:
            if op is _sre_c.LITERAL:
                out.append(chr(arg))
            elif op is _sre_c.AT and arg in (_sre_c.AT_BEGINNING, _sre_c.AT_BEGINNING_STRING, _sre_c.AT_END, _sre_c.AT_END_STRING):
                continue
            elif op is _sre_c.SUBPATTERN:
                if not walk(arg[-1]):
                    return False
            else:
                return False
        return True

    return "".join(out) if walk(parsed) else None


def _number(value) -> float | None:
    try:
        return float(str(value))
    except ValueError:
        return None


def _violates(param: dict, value) -> str | None:
    """Why ``value`` breaks one of the parameter's other constraints, or None."""
    text = str(value)
    kind = param.get("Type", "String")
    if kind == "Number":
        n = _number(value)
        if n is None:
            return "is not a number"
        lo, hi = _number(param.get("MinValue", "-inf")), _number(param.get("MaxValue", "inf"))
        if lo is not None and n < lo or hi is not None and n > hi:
            return "is outside MinValue/MaxValue"
    if kind == "String":
        lo, hi = _number(param.get("MinLength", 0)), _number(param.get("MaxLength", "inf"))
        if lo is not None and len(text) < lo or hi is not None and len(text) > hi:
            return "does not meet MinLength/MaxLength"
    pattern = param.get("AllowedPattern")
    if isinstance(pattern, str):
        try:
            if re.fullmatch(pattern, text) is None:
                return "does not match its AllowedPattern"
        except re.error:
            return "cannot be checked against its AllowedPattern"
    return None


def _kind(name: str, param: dict) -> str:
    """What kind of value the parameter takes, as a person would say it."""
    kind = str(param.get("Type", "String"))
    low = name.lower()
    if str(param.get("NoEcho")).lower() == "true":
        return "a secret"
    if kind.startswith(("AWS::", "List<AWS::")):
        return f"an id of the account, {kind}"
    if "email" in low or "mail" in low:
        return "an e-mail address"
    if any(w in low for w in ("domain", "zone", "hostname", "certificate", "cert")):
        return "a domain name or certificate"
    if any(w in low for w in ("vpc", "subnet", "securitygroup", "cidr")):
        return "a network id or range"
    return "nothing fixes its value"
