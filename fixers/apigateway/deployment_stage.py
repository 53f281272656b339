from __future__ import annotations

import re

from cfnfix.text.edits import Append, Delete, Insert, SetValue
from cfnfix.cloudformation.display import fmt
from cfnfix.fixing import Fix, Fixer, Report, Safety
from cfnfix.cloudformation import Template, ref_target

DEPLOYMENT = "AWS::ApiGateway::Deployment"
STAGE = "AWS::ApiGateway::Stage"


class DeploymentInlineStage(Fixer):
    code = "APIGW001"
    name = "deployment-inline-stage"
    summary = "`AWS::ApiGateway::Deployment` with an inline `StageName` next to a `Stage` resource of the same name"
    safety = Safety.SAFE
    default = True
    docs = """
## What it does
Removes `StageName` (and `StageDescription`) from an `AWS::ApiGateway::Deployment` when an
`AWS::ApiGateway::Stage` resource of the same REST API creates a stage of the same name.
Resources that waited for the stage through `DependsOn: <Deployment>` (usage plans, API keys
with `StageKeys`, base path mappings…) now depend on the `Stage` resource, and those that name
the stage without any dependency on it get `DependsOn: <Stage>`.

The two names are the same when they are the same text (`prod` and `prod`, `!Ref Env` and
`!Sub '${Env}'`), or when the parameters' `AllowedValues` leave both one and the same name.
Names that can differ are two stages, which deploy, and are left alone without a finding:
different literals, `prod` and `!Sub 'prod-${Suffix}'`, `!Ref Env` and `!Sub '${Env}-logs'`,
`Stage` and `!Ref StageName` whose default is `Prod` (what SAM's translation writes), or a
parameter nothing constrains. When the names may differ but are equal with the parameters'
defaults (`!Ref Env` with `Default: prod` next to `prod`), the stack fails as deployed by
default, so that is reported, not changed.

## Why it breaks deploys
The inline `StageName` makes the deployment create a stage itself, so a `Stage` resource of
the same name fails with "Stage already exists" and the stack rolls back. Once the inline stage is gone,
a usage plan or API key that only waited for the deployment can be created before the stage
exists and fails with "Invalid stage identifier specified".

## Example
```yaml
Deployment:
  Type: AWS::ApiGateway::Deployment
  Properties:
    RestApiId: !Ref Api
    StageName: prod
Stage:
  Type: AWS::ApiGateway::Stage
  Properties:
    RestApiId: !Ref Api
    DeploymentId: !Ref Deployment
    StageName: prod
UsagePlan:
  Type: AWS::ApiGateway::UsagePlan
  DependsOn: Deployment
  Properties:
    ApiStages:
      - ApiId: !Ref Api
        Stage: prod
```
Use instead:
```yaml
Deployment:
  Type: AWS::ApiGateway::Deployment
  Properties:
    RestApiId: !Ref Api
Stage:
  ...
UsagePlan:
  Type: AWS::ApiGateway::UsagePlan
  DependsOn: Stage
  ...
```

## Fix safety
Safe: the inline stage and the `Stage` resource's are one stage, which the `Stage` resource
then creates once, with its settings. When the `Stage` resource has a `Condition` the deployment
does not share, nothing is changed and the finding is reported.

## References
- AWS::ApiGateway::Deployment (its `StageName` creates a stage of that name):
  https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-apigateway-deployment.html
- AWS::ApiGateway::Stage:
  https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-apigateway-stage.html
"""

    def run(self, template: Template):
        stages = list(template.resources_of_type(STAGE))
        graph = None
        for dep_id, dep, props in template.resources_of_type(DEPLOYMENT):
            if "StageName" not in props:
                continue
            api = ref_target(props.get("RestApiId"))
            mine = [(sid, s, sp) for sid, s, sp in stages if api and ref_target(sp.get("RestApiId")) == api]
            if not mine:
                continue  # the deployment is the only thing creating the stage: valid
            inline = props["StageName"]
            path = ("Resources", dep_id, "Properties", "StageName")
            verdicts = [(_compare(template, inline, sp.get("StageName")), sid, s, sp) for sid, s, sp in mine]
            # The Stage resource that takes over: one whose name is the inline one, built from this
            # deployment first; else one that has the inline name with the parameters' defaults.
            colliding = [v for v in verdicts if v[0][0] == SAME]
            if not colliding:
                maybe = [v for v in verdicts if v[0][0] == DEFAULTS_EQUAL]
                if maybe:
                    (_, value), stage_id, _, sprops = maybe[0]
                    yield Report(f"Deployment {dep_id}: inline StageName {fmt(inline)} and Stage {stage_id}'s "
                                 f"{fmt(sprops.get('StageName'))} are both {value} with the parameters' defaults, and then "
                                 f"the stack fails with \"Stage already exists\"; remove the inline StageName if they are "
                                 f"meant to be one stage", path)
                continue  # different stages (or names nothing tells apart), which deploy: no finding
            _, stage_id, stage, sprops = max(colliding, key=lambda v: ref_target(v[3].get("DeploymentId")) == dep_id)
            (_, why) = next(v[0] for v in colliding if v[1] == stage_id)
            if stage.get("Condition") is not None and stage.get("Condition") != dep.get("Condition"):
                yield Report(f"Deployment {dep_id}: inline StageName {fmt(inline)} and Stage {stage_id} are the same stage, "
                             f"but {stage_id} is only created under condition {stage['Condition']}; not changed", path)
                continue

            if graph is None:
                graph = _dependency_graph(template)
            edits = [Delete(path)]
            if "StageDescription" in props:
                edits.append(Delete(("Resources", dep_id, "Properties", "StageDescription")))
            orphans = template.parameters_orphaned_by([e.path for e in edits])
            built_from_dep = ref_target(sprops.get("DeploymentId")) == dep_id
            # Who waited for the deployment (to get the stage) now waits for the Stage resource.
            waiting = {}
            for rid, res in template.resources.items():
                if rid not in (stage_id, dep_id) and isinstance(res, dict) and not _depends(graph, rid, stage_id):
                    e = _dependency_edit(res, ("Resources", rid), dep_id, stage_id, built_from_dep)
                    if e is not None:
                        waiting[rid] = e
            # Who names the stage without waiting for anything that creates it, unless it will
            # wait through another resource of this fix.
            users = list(dict.fromkeys(_stage_users(template, api, inline) + _stage_users(template, api, sprops.get("StageName"))))
            later = [r for r in users if r not in waiting and r not in (stage_id, dep_id) and not _depends(graph, r, stage_id)]
            for rid in later:
                extra = {r: {stage_id} for r in [*waiting, *later] if r != rid}
                if not _depends(graph, rid, stage_id, extra):
                    waiting[rid] = _add_dependency(template.resources[rid], ("Resources", rid), stage_id)
            moved = [rid for rid in template.resources if waiting.get(rid) is not None]
            edits += [waiting[rid] for rid in moved]

            name = fmt(inline)
            removed = f"inline StageName {name}" + (" and StageDescription" if "StageDescription" in props else "")
            owns = "now owns" if built_from_dep else "creates"
            msg = f"Deployment {dep_id}: remove {removed}; the Stage resource {stage_id} {owns} stage {name}"
            if why:
                msg += f" ({why})"
            if moved:
                msg += f"; {', '.join(moved)} now depend{'s' if len(moved) == 1 else ''} on {stage_id}"
            if orphans:
                edits += template.remove(*orphans, handled=edits)
                msg += f"; parameter {', '.join(orphans)} is no longer used and is removed"
            yield Fix(msg, edits, path)


SAME, DEFAULTS_EQUAL, OTHER = "same", "defaults-equal", "other"
MAX_NAMES = 256  # above this many combinations of allowed values, a name is not enumerated


def _compare(template: Template, a, b) -> tuple[str, str | None]:
    """How two stage names relate. (SAME, None) when they are the same text (`!Ref Env` and
    `!Sub ${Env}` too); (SAME, why) when the parameters' AllowedValues leave both one and the same
    name; (DEFAULTS_EQUAL, name) when they may differ but are equal with the parameters'
    defaults; (OTHER, None) when they provably differ or nothing tells."""
    pa, pb = _pieces(a), _pieces(b)
    if pa is None or pb is None:
        return OTHER, None
    if pa == pb:
        return SAME, None
    ea, eb = _expand(template, pa, _allowed), _expand(template, pb, _allowed)
    if ea is not None and eb is not None and len(ea) == 1 and ea == eb:
        only = [(n, _var_values(template, n)[0][0]) for n in _vars(pa + pb) if len(_var_values(template, n)[0] or ()) == 1]
        return SAME, ", ".join(f"parameter {n} allows only {fmt(v)}" for n, v in only) or None
    if ea is not None and not any(_regex(template, pb).fullmatch(x) for x in ea):
        return OTHER, None
    if eb is not None and not any(_regex(template, pa).fullmatch(x) for x in eb):
        return OTHER, None
    if _provably_different(pa, pb):
        return OTHER, None
    da, db = _expand(template, pa, _default), _expand(template, pb, _default)
    if da is not None and da == db:
        return DEFAULTS_EQUAL, fmt(next(iter(da)))
    return OTHER, None


def _pieces(value) -> tuple | None:
    """A stage name as literal text and ("var", name) pieces (``!Ref X`` is one variable), or
    None when it is computed some other way."""
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return _merge([str(value)])
    if isinstance(value, dict) and len(value) == 1:
        if isinstance(value.get("Ref"), str):
            return (("var", value["Ref"]),)
        if isinstance(value.get("Fn::Sub"), str):
            text, out, pos = value["Fn::Sub"], [], 0
            for m in re.finditer(r"\$\{([^}]*)\}", text):
                out.append(text[pos:m.start()])
                inner = m.group(1)
                out.append("${" + inner[1:] + "}" if inner.startswith("!") else ("var", inner.strip()))
                pos = m.end()
            out.append(text[pos:])
            return _merge(out)
    return None


def _merge(pieces: list) -> tuple:
    out: list = []
    for p in pieces:
        if isinstance(p, str) and out and isinstance(out[-1], str):
            out[-1] += p
        elif p != "":
            out.append(p)
    return tuple(out)


def _vars(pieces) -> list[str]:
    return list(dict.fromkeys(p[1] for p in pieces if not isinstance(p, str)))


def _var_values(template: Template, name: str) -> tuple[list[str] | None, str | None]:
    """A parameter's AllowedValues (None: any value) and its default (None: unknown). Pseudo
    parameters and resource attributes can be anything."""
    param = template.parameters.get(name)
    if not isinstance(param, dict):
        return None, None

    def text(v):
        return str(v) if isinstance(v, (str, int, float)) and not isinstance(v, bool) else None

    allowed = param.get("AllowedValues")
    allowed = [text(v) for v in allowed] if isinstance(allowed, list) and allowed else None
    if allowed is not None and None in allowed:
        allowed = None
    default = text(param.get("Default"))
    if default is None and allowed is not None and len(allowed) == 1:
        default = allowed[0]
    return allowed, default


def _allowed(allowed, default):
    return allowed


def _default(allowed, default):
    return None if default is None else [default]


def _expand(template: Template, pieces: tuple, pick) -> set[str] | None:
    """Every name the pieces can make with each variable's values as ``pick`` chooses them, or
    None when a variable can be anything (or there are too many)."""
    names = {""}
    for p in pieces:
        options = [p] if isinstance(p, str) else pick(*_var_values(template, p[1]))
        if options is None:
            return None
        names = {n + o for n in names for o in options}
        if len(names) > MAX_NAMES:
            return None
    return names


def _regex(template: Template, pieces: tuple) -> re.Pattern:
    """A pattern every name the pieces can make matches."""
    out = []
    for p in pieces:
        if isinstance(p, str):
            out.append(re.escape(p))
        else:
            allowed = _var_values(template, p[1])[0]
            out.append("(?:" + "|".join(map(re.escape, allowed)) + ")" if allowed else ".*")
    return re.compile("".join(out), re.S)


def _provably_different(pa: tuple, pb: tuple) -> bool:
    """True when two names built from the same variables, in the same order, differ in their
    literal text (`${Env}` and `${Env}-logging`): they cannot be equal."""
    va = [p for p in pa if not isinstance(p, str)]
    vb = [p for p in pb if not isinstance(p, str)]
    return bool(va) and va == vb and pa != pb


def _stage_users(template: Template, api: str, stage_name) -> list[str]:
    """Resources that name ``stage_name`` of REST API ``api`` (usage plans, API keys, base path mappings)."""
    users = []
    for rid, res in template.resources.items():
        props = res.get("Properties") if isinstance(res, dict) else None
        if not isinstance(props, dict):
            continue
        kind = res.get("Type")
        if kind == "AWS::ApiGateway::UsagePlan":
            pairs = [(s.get("ApiId"), s.get("Stage")) for s in _dicts(props.get("ApiStages"))]
        elif kind == "AWS::ApiGateway::ApiKey":
            pairs = [(s.get("RestApiId"), s.get("StageName")) for s in _dicts(props.get("StageKeys"))]
        elif kind in ("AWS::ApiGateway::BasePathMapping", "AWS::ApiGateway::BasePathMappingV2"):
            pairs = [(props.get("RestApiId"), props.get("Stage"))]
        else:
            continue
        if any(ref_target(a) == api and s == stage_name for a, s in pairs):
            users.append(rid)
    return users


def _dicts(value) -> list[dict]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _dependency_edit(res: dict, path: tuple, dep_id: str, stage_id: str, replace: bool):
    """Point a ``DependsOn`` on the deployment at the stage instead. The entry is replaced when
    the stage is built from this deployment (so the order after the deployment is kept) and the
    stage is added next to it otherwise."""
    dep = res.get("DependsOn")
    if dep == dep_id:
        return SetValue(path + ("DependsOn",), stage_id if replace else [dep_id, stage_id])
    if isinstance(dep, list) and dep_id in dep:
        if replace:
            return SetValue(path + ("DependsOn", dep.index(dep_id)), stage_id)
        return Append(path + ("DependsOn",), stage_id)
    return None


def _add_dependency(res: dict, path: tuple, stage_id: str):
    dep = res.get("DependsOn")
    if dep is None:
        return Insert(path, "DependsOn", stage_id, after="Condition" if "Condition" in res else "Type")
    if isinstance(dep, str):
        return SetValue(path + ("DependsOn",), [dep, stage_id])
    if isinstance(dep, list):
        return Append(path + ("DependsOn",), stage_id)
    return None


def _dependency_graph(template: Template) -> dict[str, set[str]]:
    """Resource -> resources it points at (Ref, GetAtt, Sub, DependsOn)."""
    graph: dict[str, set[str]] = {}
    for r in template.references:
        if r.section == "Resources" and r.kind != "Condition" and r.target in template.resources:
            graph.setdefault(r.owner, set()).add(r.target)
    return graph


def _depends(graph: dict[str, set[str]], start: str, target: str, extra: dict | None = None) -> bool:
    """True when resource ``start`` waits for ``target`` (directly or through others), counting
    the ``extra`` edges about to be added."""
    seen, todo = set(), [start]
    while todo:
        rid = todo.pop()
        if rid == target and rid != start:
            return True
        if rid not in seen:
            seen.add(rid)
            todo.extend(graph.get(rid, set()) | (extra or {}).get(rid, set()))
    return False
