from __future__ import annotations

from cfnfix.text.edits import SetValue
from cfnfix.fixing import Fix, Fixer, Report, Safety
from cfnfix.cloudformation import Template
from cfnfix.fixers.resources._facts import expanded_later, facts, known_type
from cfnfix.fixers.resources.property_names import READ_ONLY, _distance, candidates, table


class ResourceType(Fixer):
    code = "TYPE001"
    scope = "entry"
    name = "unknown-resource-type"
    summary = "Unknown resource type, a typo of one registered type"
    safety = Safety.SAFE
    docs = """
## What it does
Checks each resource's `Type` against the resource types CloudFormation registers (the
resource schemas of every region, and the SAM types). An `AWS::` type that is not one of them
is replaced by the registered type it is a typo of, when exactly one is close and the
resource's properties fit it better than any other type near the name:

- the same type in another case (`AWS::Ec2::Vpc` -> `AWS::EC2::VPC`);
- else, in the same service (the service name matched the same way), the resource name in
  another case, its singular or plural (`AWS::S3::Buckets` -> `AWS::S3::Bucket`), or one
  letter added, dropped, changed or two letters swapped (two for names of ten letters or more;
  not for names shorter than four letters, nor between names with different digits:
  `AWS::EC2::SecurityGroupIngres` -> `AWS::EC2::SecurityGroupIngress`), with no other name as
  close.

"Fit" counts the resource's property names that the type defines. The type is changed only
when the resource's properties all belong to it, or more of them belong to it than to any
other type of the service within three letters of the name (`AWS::EC2::SecurityGroupEgres`
with `SourceSecurityGroupId` fits `SecurityGroupIngress` as well as `SecurityGroupEgress`: it
is reported). Every other unknown type is reported, with the types near its name when there
are some: a type that does not exist at all (`AWS::S3::Object`) needs a person, not a rename.
Types outside `AWS::` (`Custom::*`, third-party registry types) are left alone, as are
templates expanded before CloudFormation reads them (a `Transform` other than
`AWS::Serverless-2016-10-31` and `AWS::LanguageExtensions`, `Fn::Transform`, modules): a macro
or a module may define types.

## Why it breaks deploys
CloudFormation rejects a template with a resource type it does not know ("Template format
error: Unrecognized resource types: [AWS::S3::Buckets]") before creating anything.

## Example
```yaml
Bucket:
  Type: AWS::S3::Buckets
  Properties:
    VersioningConfiguration:
      Status: Enabled
```
Use instead:
```yaml
Bucket:
  Type: AWS::S3::Bucket
  Properties:
    VersioningConfiguration:
      Status: Enabled
```

## Fix safety
Safe: a template with an unknown resource type never deployed, and the type written is the one
registered type the name and the properties point to.

## References
- cfn-lint E3006 (resource type does not exist).
- https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-template-resource-type-ref.html
- The registered types are generated from cfn-lint's bundled resource schemas:
  `python scripts/gen_resource_facts.py`.
"""

    def run(self, template: Template):
        if expanded_later(template, transforms_allowed=True):
            return
        for name, res in template.resources.items():
            rtype = res.get("Type") if isinstance(res, dict) else None
            if not isinstance(rtype, str) or known_type(rtype) or not rtype.lower().startswith("aws::"):
                continue
            props = res.get("Properties")
            given = [k for k in props if isinstance(k, str)] if isinstance(props, dict) else []
            yield from self._check(name, rtype, given)

    def _check(self, name: str, rtype: str, given: list[str]):
        path = ("Resources", name, "Type")
        close, near = type_candidates(rtype)
        unknown = f"{name}: unknown resource type `{rtype}`"
        if len(close) != 1:
            options = close
            hint = ": did you mean " + " or ".join(f"`{t}`" for t in options) + "?" if options else ""
            yield Report(unknown + hint, path)
            return
        best = close[0]
        score = _fit(best, given)
        rivals = [t for t in near if t != best and _fit(t, given) >= score]
        if given and (score == 0 or (score < len(given) and rivals)):
            why = f"its properties fit `{rivals[0]}` at least as well" if rivals else "none of its properties belong to it"
            yield Report(f"{unknown}: `{best}` is close, but {why}", path)
            return
        yield Fix(f"{name}: replace unknown resource type `{rtype}` with `{best}`", [SetValue(path, best)], path)


def type_candidates(rtype: str) -> tuple[list[str], list[str]]:
    """(the registered types ``rtype`` is a typo of, the types near it): see the docs."""
    registered = list(facts()["types"]) + list(facts()["sam"])
    low = rtype.lower()
    same = [t for t in registered if t.lower() == low]
    if same:
        return same, same
    parts = rtype.split("::")
    if len(parts) != 3:
        return [], []
    _, service, resource = parts
    services: dict[str, list[str]] = {}
    for t in registered:
        s = t.split("::")
        if len(s) == 3 and s[0] == "AWS":
            services.setdefault(s[1], []).append(s[2])
    meant_services = [s for s in services if s.lower() == service.lower()] or candidates(service, list(services))
    close: list[str] = []
    near: list[str] = []
    for s in meant_services:
        close += [f"AWS::{s}::{r}" for r in candidates(resource, services[s])]
        near += [f"AWS::{s}::{r}" for r in services[s] if _distance(resource.lower(), r.lower(), 3) <= 3]
    if len(meant_services) != 1:  # a service name that is not clear makes every type a guess
        return ([] if len(close) == 1 else close), sorted(set(close + near))
    return close, sorted(set(close + near))


def _fit(rtype: str, given: list[str]) -> int:
    """How many of the property names ``given`` the type defines (read-only ones excluded)."""
    sid = table().types.get(rtype)
    if not sid:
        return 0
    shape = table().shape(sid)
    return sum(1 for g in given if g in shape and shape[g][0] != READ_ONLY)
