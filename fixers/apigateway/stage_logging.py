from __future__ import annotations

from cfnfix.text.edits import Delete
from cfnfix.cloudformation.display import fmt
from cfnfix.fixing import Fix, Fixer, Safety
from cfnfix.cloudformation import Template

ACCOUNT = "AWS::ApiGateway::Account"
STAGE = "AWS::ApiGateway::Stage"
DEPLOYMENT = "AWS::ApiGateway::Deployment"
SAM_API = "AWS::Serverless::Api"
LOGGING = ("LoggingLevel", "DataTraceEnabled")
ADDRESS = ("HttpMethod", "ResourcePath")  # which methods an entry is for, not a setting
NOTE = "execution logging is off until the account's CloudWatch role is set (once per account and region, outside this stack)"


class StageLoggingWithoutAccountRole(Fixer):
    code = "APIGW003"
    name = "stage-logging-without-account-role"
    summary = "Stage execution logging without an `AWS::ApiGateway::Account` role in the template"
    safety = Safety.UNSAFE
    default = False  # APIGW002 applies these edits itself when it removes the account setting
    order = 60  # after APIGW002, which removes the account setting
    docs = """
## What it does
Opt-in. APIGW002 already removes these settings when it removes the template's
`AWS::ApiGateway::Account`; this fixer is for templates that never declared one and are deployed
to accounts where the CloudWatch role is not set. In an account that has the role (most accounts
with API Gateway logging), such a template deploys as it is — which is why this is not on by
default. When the template declares no `AWS::ApiGateway::Account`, removes the execution
logging settings `LoggingLevel` (unless `OFF`) and `DataTraceEnabled` (unless `false`) from each
`MethodSettings` entry of an `AWS::ApiGateway::Stage`, from an
`AWS::ApiGateway::Deployment`'s `StageDescription` and its `MethodSettings`, and from the
`MethodSettings` of a SAM `AWS::Serverless::Api` and of SAM's `Globals: Api:` (SAM copies them
onto the stage it generates). `MetricsEnabled`,
throttling, caching and the entry's `HttpMethod`/`ResourcePath` stay; an entry left with only
`HttpMethod`/`ResourcePath` goes, then an empty `MethodSettings`, then an empty
`StageDescription`.

## Why it breaks deploys
Execution logging needs the account's CloudWatch Logs role, so in an account and region where
that role is not set the stage fails with "CloudWatch Logs role ARN must be set in account
settings to enable logging" and the stack rolls back.

## Example
```yaml
Stage:
  Type: AWS::ApiGateway::Stage
  Properties:
    RestApiId: !Ref Api
    DeploymentId: !Ref Deployment
    StageName: prod
    MethodSettings:
      - HttpMethod: '*'
        ResourcePath: /*
        LoggingLevel: INFO
        DataTraceEnabled: true
        MetricsEnabled: true
```
Use instead:
```yaml
    MethodSettings:
      - HttpMethod: '*'
        ResourcePath: /*
        MetricsEnabled: true
```

## Fix safety
Unsafe: the stage deploys without execution logs. Turn them back on once the account's
CloudWatch role is set (`aws apigateway update-account`, or one `AWS::ApiGateway::Account` in a
stack deployed once per account and region). The fix does not apply when the template declares
an `AWS::ApiGateway::Account`, but it does apply to templates that never declared one: where the
target account already has the role set, those deploy as they are, so ignore APIGW003 there.

Access logging is left alone: an existing `AccessLogSetting` is kept, and none is added for a
log group that looks meant for it. API Gateway's guide ("Set up CloudWatch logging for REST
APIs", section "Permissions for CloudWatch logging") requires the same account-level role for
both kinds of CloudWatch logging, so adding access logging would bring back the very failure
this fix removes. The message says when a kept `AccessLogSetting` needs that role too.
"""

    def run(self, template: Template):
        if any(True for _ in template.resources_of_type(ACCOUNT)):
            return
        yield from stage_logging_fixes(template)


def stage_logging_fixes(template: Template):
    """Fixes removing execution-logging settings from every stage (APIGW002 uses them too):
    Stage resources, SAM APIs (whose MethodSettings SAM copies onto the stage it generates) and
    SAM's Globals for them."""
    for stage_id, _, props in template.resources_of_type(STAGE, SAM_API):
        path = ("Resources", stage_id, "Properties", "MethodSettings")
        edits, said = _method_settings(props.get("MethodSettings"), path, "MethodSettings")
        if edits:
            owner = "Stage" if template.resource_type(stage_id) == STAGE else "SAM API"
            yield _fix(template, f"{owner} {stage_id}", [said], props, edits, path)
    api_globals = template.section("Globals").get("Api")
    if isinstance(api_globals, dict):
        path = ("Globals", "Api", "MethodSettings")
        edits, said = _method_settings(api_globals.get("MethodSettings"), path, "MethodSettings")
        if edits == [Delete(path)] and set(api_globals) == {"MethodSettings"}:
            globals_ = template.section("Globals")
            edits = [Delete(("Globals",) if set(globals_) == {"Api"} else ("Globals", "Api"))]
        if edits:
            yield _fix(template, "Globals Api", [said], api_globals, edits, path)
    for dep_id, _, props in template.resources_of_type(DEPLOYMENT):
        desc = props.get("StageDescription")
        if not isinstance(desc, dict):
            continue
        base = ("Resources", dep_id, "Properties", "StageDescription")
        top = [k for k in LOGGING if k in desc and _logs(k, desc[k])]
        edits = [Delete(base + (k,)) for k in top]
        said = [f"{' and '.join(top)} from StageDescription"] if top else []
        more, ms_said = _method_settings(desc.get("MethodSettings"), base + ("MethodSettings",), "its MethodSettings")
        edits += more
        said += [ms_said] if more else []
        if not edits:
            continue
        gone = set(top) | ({"MethodSettings"} if Delete(base + ("MethodSettings",)) in more else set())
        if gone >= set(desc):
            edits = [Delete(base)]
            said = ["StageDescription, which only set execution logging"]
        yield _fix(template, f"Deployment {dep_id}", said, desc, edits, base)


def _logs(key: str, value) -> bool:
    """True unless the setting provably leaves execution logging off."""
    if key == "LoggingLevel":
        return not (isinstance(value, str) and value.upper() == "OFF")
    return value not in (False, "false", "False")


def _method_settings(settings, path: tuple, where: str) -> tuple[list, str]:
    """Edits removing the logging settings of each entry, and what they remove, in words."""
    if not isinstance(settings, list):
        return [], ""
    edits, removed, dropped = [], [], []
    for i, entry in enumerate(settings):
        if not isinstance(entry, dict):
            continue
        keys = [k for k in LOGGING if k in entry and _logs(k, entry[k])]
        removed += [k for k in keys if k not in removed]
        if keys and set(entry) - set(keys) <= set(ADDRESS):
            edits.append(Delete(path + (i,)))
            dropped.append(" ".join(fmt(entry.get(k, "*")) for k in ADDRESS))
        else:
            edits += [Delete(path + (i, k)) for k in keys]
    if dropped and len(dropped) == len(settings):
        return [Delete(path)], f"{where}, which only set execution logging"
    said = f"{' and '.join(removed)} from {where}"
    if dropped:
        said += f" (and the entr{'y' if len(dropped) == 1 else 'ies'} for {', '.join(dropped)}, left with nothing else)"
    return edits, said


def _dead_conditions(template: Template, edits: list) -> list[str]:
    """Conditions that only the removed settings use (``LoggingLevel: !If [Verbose, INFO, ERROR]``):
    left behind, cfn-lint would flag them as unused."""
    gone = [tuple(e.path) for e in edits]

    def inside(path):
        return any(path[: len(g)] == g for g in gone)

    dead: set[str] = set()
    changed = True
    while changed:
        changed = False
        for cond in template.conditions:
            users = template.references_to(cond, ("Condition",))
            if cond not in dead and users and all(inside(u.path) or (u.section == "Conditions" and u.owner in dead) for u in users):
                dead.add(cond)
                changed = True
    return [c for c in template.conditions if c in dead]


def _fix(template: Template, owner: str, said: list[str], props: dict, edits: list, path: tuple) -> Fix:
    dead = _dead_conditions(template, edits)
    if dead and len(dead) == len(template.conditions):
        edits = edits + [Delete(("Conditions",))]
    else:
        edits = edits + [Delete(("Conditions", c)) for c in dead]
    msg = f"{owner}: remove {' and '.join(said)}"
    if dead:
        msg += f", and condition{'s' if len(dead) > 1 else ''} {', '.join(dead)}, used by nothing else"
    msg += f"; {NOTE}"
    if "AccessLogSetting" in props:
        msg += "; its AccessLogSetting is kept but needs that role too"
    return Fix(msg, edits, path)
