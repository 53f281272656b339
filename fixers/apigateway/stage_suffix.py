from __future__ import annotations

import json
import re

from cfnfix.text.edits import SetValue
from cfnfix.cloudformation.display import fmt
from cfnfix.fixing import Fix, Fixer, Report, Safety
from cfnfix.cloudformation import Template, ref, ref_target, sub

# Parameters that carry the environment, in order of preference (compared case-insensitively).
SUFFIX_PARAMETERS = ("EnvironmentSuffix", "StageName", "Stage", "Environment", "EnvironmentName", "EnvName", "Env")
STAGE_LIKE = {"stagename", "stage"}

# (resource type, property holding the API, property holding the stage name) for the resources
# that create a stage...
STAGES = {
    "AWS::ApiGateway::Stage": ("RestApiId", "StageName"),
    "AWS::ApiGateway::Deployment": ("RestApiId", "StageName"),
    "AWS::ApiGatewayV2::Stage": ("ApiId", "StageName"),
}
# ... and for those that name one: (list property or None, API key, stage key).
USERS = {
    "AWS::ApiGateway::UsagePlan": ("ApiStages", "ApiId", "Stage"),
    "AWS::ApiGateway::ApiKey": ("StageKeys", "RestApiId", "StageName"),
    "AWS::ApiGateway::BasePathMapping": (None, "RestApiId", "Stage"),
    "AWS::ApiGateway::BasePathMappingV2": (None, "RestApiId", "Stage"),
    "AWS::ApiGatewayV2::ApiMapping": (None, "ApiId", "Stage"),
}


class HardCodedStageName(Fixer):
    code = "APIGW004"
    name = "hard-coded-stage-name"
    summary = "Literal API Gateway `StageName` in a template with an environment parameter"
    safety = Safety.UNSAFE
    default = False
    docs = """
## What it does
When the template has an environment parameter (a `String` parameter named `EnvironmentSuffix`,
`StageName`, `Stage`, `Environment`, `EnvironmentName`, `EnvName` or `Env`, case-insensitive;
`EnvironmentSuffix` first, then one whose `Default` is the stage name, then that order), a
literal `StageName` of an `AWS::ApiGateway::Stage`, an `AWS::ApiGateway::Deployment` or an
`AWS::ApiGatewayV2::Stage` becomes:

- `!Ref <Param>` when the literal is the parameter's `Default` (the default deployment keeps
  its stage name) or the parameter is named `Stage`/`StageName` (it is meant to be the stage
  name), provided no other stage of the same API would get the same name;
- `!Sub '<literal>-${Param}'` otherwise: the chosen name stays recognisable and gains the suffix.

Everything that names the old stage of the same API follows: usage plan `ApiStages`, API key
`StageKeys`, base path and API mappings, `AWS/ApiGateway` alarm `Stage` dimensions next to an
`ApiName`/`ApiId` dimension of that API, and in `Fn::Sub` strings that mention the API
(`${Api}`, `${Api.ApiEndpoint}`), the first path segment equal to the stage name after each
mention (`https://${Api}.execute-api.${AWS::Region}.amazonaws.com/prod`,
`/restapis/${Api}/stages/prod`, `${Api}/prod/GET/items`, the execution log group
`API-Gateway-Execution-Logs_${Api}/prod`). `$default` (the HTTP API default stage) is never
changed. When the stage name also appears in an `Fn::Join` built with the API,
which this fixer does not rewrite, the finding is reported and nothing changes.

## Why it breaks deploys
A literal stage name is the same in every stack built from the template: two stacks that share
one API fail with "Stage already exists", and environments cannot be told apart by stage or URL.
Stacks share an API when its id is passed in (a parameter or an import). When each stack
creates its own API the deploy succeeds (stage names are unique per API only): then this is the
naming convention that every name carries the environment suffix, which is why the fixer is
opt-in.

## Example
```yaml
Parameters:
  EnvironmentSuffix: {Type: String, Default: dev}
Resources:
  ApiStage:
    Type: AWS::ApiGateway::Stage
    Properties:
      RestApiId: !Ref Api
      DeploymentId: !Ref Deployment
      StageName: prod
Outputs:
  Url:
    Value: !Sub 'https://${Api}.execute-api.${AWS::Region}.amazonaws.com/prod'
```
Use instead:
```yaml
      StageName: !Sub 'prod-${EnvironmentSuffix}'
...
    Value: !Sub 'https://${Api}.execute-api.${AWS::Region}.amazonaws.com/prod-${EnvironmentSuffix}'
```

## Fix safety
Unsafe: the deployed stage gets a new name (unless the literal was the parameter's default),
so its URL changes and clients calling the old one break. Opt-in (`--extend-select APIGW004`).
"""

    def run(self, template: Template):
        params = _suffix_parameters(template)
        if not params:
            return
        by_api: dict[str, list] = {}  # api key -> [(path, stage name value)]
        for rid, res, props in template.resources_of_type(*STAGES):
            api_prop, name_prop = STAGES[res["Type"]]
            if name_prop in props and props.get(api_prop) is not None:
                path = ("Resources", rid, "Properties", name_prop)
                by_api.setdefault(_api_key(props.get(api_prop)), []).append((path, props[name_prop]))
        for api, sites in by_api.items():
            literals = list(dict.fromkeys(v for _, v in sites if _is_literal(v)))
            for literal in literals:
                yield from self._fix(template, api, literal, sites, literals, _choose(template, params, literal))

    def _fix(self, template, api, literal, sites, literals, param):
        mine = [p for p, v in sites if v == literal]
        path = mine[0]
        default = template.parameters[param].get("Default")
        as_ref = (literal == default or param.lower() in STAGE_LIKE) and len(literals) == 1 and \
            not any(template.refers_to(v, param) for _, v in sites if v != literal)
        text = f"${{{param}}}" if as_ref else f"{literal}-${{{param}}}"
        value = ref(param) if as_ref else sub(text)
        taken = {_name_text(v) for _, v in sites if v != literal}
        if text in taken:
            yield Report(f"Stage name {fmt(literal)}: {fmt(value)} is already the name of another stage of the same API; not changed", path)
            return
        edits = [SetValue(p, value) for p in mine]
        edits += [SetValue(p, value) for p in _user_paths(template, api, literal)]
        target = api if api in template.resources or api in template.parameters else None
        if target is not None:
            joins = _join_mentions(template, target, literal)
            if joins:
                yield Report(f"Stage name {fmt(literal)} is also built into the Fn::Join at {'/'.join(map(str, joins[0]))}, "
                             f"which is not rewritten; not changed", path)
                return
            try:
                edits += _sub_edits(template, target, literal, text, param)
            except _Shadowed as e:
                yield Report(f"Stage name {fmt(literal)}: the Fn::Sub at {e} defines its own {param}; not changed", path)
                return
        owners = list(dict.fromkeys(p[1] for p in mine))
        others = list(dict.fromkeys(e.path[1] for e in edits if e.path[1] not in owners))
        msg = f"{', '.join(owners)}: stage name {fmt(literal)} becomes {fmt(value)}"
        if others:
            msg += f"; also updated in {', '.join(others)}"
        yield Fix(msg, edits, path)


class _Shadowed(Exception):
    pass


def _suffix_parameters(template: Template) -> list[str]:
    """Names of the String parameters that carry the environment, best first."""
    rank = {n.lower(): i for i, n in enumerate(SUFFIX_PARAMETERS)}
    found = [n for n, body in template.parameters.items()
             if n.lower() in rank and isinstance(body, dict) and body.get("Type") == "String"]
    return sorted(found, key=lambda n: rank[n.lower()])


def _choose(template: Template, params: list[str], literal: str) -> str:
    """EnvironmentSuffix first, then a parameter whose Default is the stage name, then the order."""
    if params[0].lower() == "environmentsuffix":
        return params[0]
    return next((p for p in params if template.parameters[p].get("Default") == literal), params[0])


def _is_literal(value) -> bool:
    return isinstance(value, str) and value != "" and not value.startswith("$")


def _api_key(value) -> str:
    """The logical id behind an API id (Ref/GetAtt), else the value itself as JSON."""
    return ref_target(value) or json.dumps(value, sort_keys=True)


def _name_text(value) -> str | None:
    if isinstance(value, dict) and isinstance(value.get("Ref"), str):
        return "${" + value["Ref"] + "}"
    if isinstance(value, dict) and isinstance(value.get("Fn::Sub"), str):
        return value["Fn::Sub"]
    return value if isinstance(value, str) else None


def _user_paths(template: Template, api: str, literal: str) -> list[tuple]:
    """Paths of the stage-name properties that name ``literal`` of the same API."""
    paths = []
    for rid, res, props in template.resources_of_type(*USERS):
        lst, api_key, stage_key = USERS[res["Type"]]
        base = ("Resources", rid, "Properties")
        entries = [(base, props)] if lst is None else \
            [(base + (lst, i), e) for i, e in enumerate(_list(props.get(lst))) if isinstance(e, dict)]
        paths += [p + (stage_key,) for p, e in entries
                  if e.get(stage_key) == literal and _api_key(e.get(api_key)) == api]
    api_res = template.resources.get(api)
    api_props = api_res.get("Properties") if isinstance(api_res, dict) else None
    api_name = api_props.get("Name") if isinstance(api_props, dict) else None
    for rid, res, props in template.resources_of_type("AWS::CloudWatch::Alarm"):
        dims = props.get("Dimensions")
        if props.get("Namespace") != "AWS/ApiGateway" or not isinstance(dims, list):
            continue
        ours = any(isinstance(d, dict) and d.get("Name") in ("ApiName", "ApiId")
                   and (_api_key(d.get("Value")) == api or api_name is not None and d.get("Value") == api_name) for d in dims)
        if ours:
            paths += [("Resources", rid, "Properties", "Dimensions", i, "Value") for i, d in enumerate(dims)
                      if isinstance(d, dict) and d.get("Name") == "Stage" and d.get("Value") == literal]
    return paths


_TOKEN_END = re.compile(r"[\s\"'<>,]")


def _segment(literal: str) -> re.Pattern:
    return re.compile(r"(?<=/)" + re.escape(literal) + r"(?=$|[/?#\s\"'])")


def _sub_edits(template: Template, api: str, literal: str, text: str, param: str) -> list[SetValue]:
    """Rewrite the stage segment in Fn::Sub strings that mention the API, directly (``${Api}``)
    or through a variable of their own (``!Sub ['...${Id}...', {Id: !Ref Api}]``)."""
    subs: dict[tuple, set] = {}
    for r in template.references_to(api):
        if r.section not in ("Resources", "Outputs"):
            continue
        if r.kind == "Sub":
            subs.setdefault(r.path, set()).add(api)
        elif len(r.path) >= 3 and r.path[-3:-1] == ("Fn::Sub", 1):
            subs.setdefault(r.path[:-3], set()).add(r.path[-1])
    edits = []
    seg = _segment(literal)
    for path, names in subs.items():
        node = _at(template.data, path)["Fn::Sub"]
        s = node[0] if isinstance(node, list) else node
        if not isinstance(s, str):
            continue
        mention = re.compile(r"\$\{(?:" + "|".join(map(re.escape, names)) + r")(?:\.[^}]*)?\}")
        out, pos = [], 0
        for m in mention.finditer(s):
            if m.end() < pos:
                continue
            end = _TOKEN_END.search(s, m.end())  # stay within this URL or ARN
            hit = seg.search(s, m.end(), end.start() if end else len(s))
            if hit:
                out.append(s[pos:hit.start()] + text)
                pos = hit.end()
        new = "".join(out) + s[pos:]
        if new == s:
            continue
        if isinstance(node, list):
            if len(node) > 1 and isinstance(node[1], dict) and param in node[1]:
                raise _Shadowed("/".join(map(str, path)))
            edits.append(SetValue(path + ("Fn::Sub", 0), new))
        else:
            edits.append(SetValue(path + ("Fn::Sub",), new))
    return edits


def _join_mentions(template: Template, api: str, literal: str) -> list[tuple]:
    """Paths of Fn::Join nodes built with the API whose text holds ``literal`` as a path segment."""
    seg, found = _segment(literal), []
    for r in template.references_to(api, ("Ref", "GetAtt")):
        if r.section in ("Resources", "Outputs") and "Fn::Join" in r.path:
            path = r.path[: len(r.path) - r.path[::-1].index("Fn::Join")]
            join = _at(template.data, path)
            parts = join[1] if isinstance(join, list) and len(join) > 1 else None
            if any(isinstance(p, str) and (p == literal or seg.search(p)) for p in _list(parts)):
                found.append(path)
    return found


def _list(value) -> list:
    return value if isinstance(value, list) else []


def _at(data, path):
    for step in path:
        data = data[step]
    return data
