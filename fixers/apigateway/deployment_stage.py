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
    summary = "`AWS::ApiGateway::Deployment` with an inline `StageName` next to a `Stage` resource"
    safety = Safety.SAFE
    default = True
    docs = """
## What it does
Removes `StageName` (and `StageDescription`) from an `AWS::ApiGateway::Deployment` when an
`AWS::ApiGateway::Stage` resource serves the same REST API. Resources that waited for the stage
through `DependsOn: <Deployment>` (usage plans, API keys with `StageKeys`, base path mappings…)
now depend on the `Stage` resource, and those that name the stage without any dependency on it
get `DependsOn: <Stage>`.

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
Safe when the inline stage has the same name as the `Stage` resource's: that stage is then
created once, by the `Stage` resource, with its settings. When the names are provably different
(`prod` and `dev`, or `!Ref Env` and `${Env}-logging`) the template creates two distinct stages
and deploys: nothing is changed and the finding is reported. When the names cannot be compared
(`!Ref StageParam` against `prod`) the fix assumes they collide and is unsafe, since it removes a
stage if they do not; when something in the template names that stage, nothing is changed.
"""

    def run(self, template: Template):
        stages = list(template.resources_of_type(STAGE))
        graph = _dependency_graph(template)
        for dep_id, dep, props in template.resources_of_type(DEPLOYMENT):
            if "StageName" not in props:
                continue
            api = ref_target(props.get("RestApiId"))
            mine = [(sid, s, sp) for sid, s, sp in stages if api and ref_target(sp.get("RestApiId")) == api]
            if not mine:
                continue  # the deployment is the only thing creating the stage: valid
            inline = props["StageName"]
            # The Stage resource that takes over: same name first, then one built from this deployment.
            stage_id, stage, sprops = max(
                mine, key=lambda t: (t[2].get("StageName") == inline, ref_target(t[2].get("DeploymentId")) == dep_id)
            )
            same = sprops.get("StageName") == inline
            path = ("Resources", dep_id, "Properties", "StageName")
            if stage.get("Condition") is not None and stage.get("Condition") != dep.get("Condition"):
                yield Report(f"Deployment {dep_id}: inline StageName {fmt(inline)} and Stage {stage_id} serve the same API, "
                             f"but {stage_id} is only created under condition {stage['Condition']}; not changed", path)
                continue
            if not same and _provably_different(inline, sprops.get("StageName")):
                yield Report(f"Deployment {dep_id}: inline StageName {fmt(inline)} and Stage {stage_id}'s "
                             f"{fmt(sprops.get('StageName'))} are two different stages, which deploy; not changed", path)
                continue
            if not same:
                users = _stage_users(template, api, inline)
                if users:
                    yield Report(f"Deployment {dep_id}: inline StageName {fmt(inline)} differs from Stage {stage_id}'s "
                                 f"{fmt(sprops.get('StageName'))} and is used by {', '.join(users)}; not changed", path)
                    continue

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
            users = _stage_users(template, api, inline) if same else []
            later = [r for r in users if r not in waiting and r not in (stage_id, dep_id) and not _depends(graph, r, stage_id)]
            for rid in later:
                extra = {r: {stage_id} for r in [*waiting, *later] if r != rid}
                if not _depends(graph, rid, stage_id, extra):
                    waiting[rid] = _add_dependency(template.resources[rid], ("Resources", rid), stage_id)
            moved = [rid for rid in template.resources if waiting.get(rid) is not None]
            edits += [waiting[rid] for rid in moved]

            name = fmt(inline)
            removed = f"inline StageName {name}" + (" and StageDescription" if "StageDescription" in props else "")
            if same and built_from_dep:
                msg = f"Deployment {dep_id}: remove {removed}; the Stage resource {stage_id} now owns stage {name}"
            elif same:
                msg = f"Deployment {dep_id}: remove {removed}; the Stage resource {stage_id} creates stage {name}"
            else:
                msg = (f"Deployment {dep_id}: remove {removed}, assumed to collide with Stage {stage_id}'s "
                       f"{fmt(sprops.get('StageName'))}; if the two names differ, stage {name} is no longer created")
            if moved:
                msg += f"; {', '.join(moved)} now depend{'s' if len(moved) == 1 else ''} on {stage_id}"
            if orphans:
                edits += template.remove(*orphans, handled=edits)
                msg += f"; parameter {', '.join(orphans)} is no longer used and is removed"
            yield Fix(msg, edits, path, safety=None if same else Safety.UNSAFE)


def _name_text(value) -> str | None:
    """A stage name as Fn::Sub text (``!Ref X`` reads as ``${X}``), or None when it is computed."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("Ref"), str):
        return "${" + value["Ref"] + "}"
    if isinstance(value, dict) and isinstance(value.get("Fn::Sub"), str):
        return value["Fn::Sub"]
    return None


def _provably_different(a, b) -> bool:
    """True when two stage names cannot be equal whatever the parameters are: both literal and
    different, or built from the same variables with different literal text."""
    ta, tb = _name_text(a), _name_text(b)
    if ta is None or tb is None or ta == tb:
        return False
    var = re.compile(r"\$\{[^}]*\}")
    return var.findall(ta) == var.findall(tb)


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
