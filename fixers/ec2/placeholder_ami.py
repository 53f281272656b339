from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

from cfnfix.cloudformation import Template, ref
from cfnfix.fixing import Fix, Fixer, Report, Safety
from cfnfix.fixing.suppressions import Suppressions
from cfnfix.text.edits import Delete, Edit, EditError, SetValue
from cfnfix.text.splice import resolve

SSM_TYPE = "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>"
# AWS's public SSM parameters for the latest images (Amazon Linux 2023 and its ECS-optimized
# variant): "Query for the latest Amazon Linux AMI IDs using Systems Manager Parameter Store" and
# "Retrieving Amazon ECS-optimized Linux AMI metadata".
IMAGES = {
    ("al2023", "x86_64"): ("LatestAmiId", "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
                           "Amazon Linux 2023 (x86_64)"),
    ("al2023", "arm64"): ("LatestArm64AmiId", "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64",
                          "Amazon Linux 2023 (arm64)"),
    ("ecs", "x86_64"): ("EcsAmiId", "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id",
                        "ECS-optimized Amazon Linux 2023 (x86_64)"),
    ("ecs", "arm64"): ("EcsArm64AmiId", "/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id",
                       "ECS-optimized Amazon Linux 2023 (arm64)"),
}
# Where each resource type names its image, its instance type and its user data (``*``: each
# item of a list).
LAUNCH_SPECS = {
    "AWS::EC2::Instance": [()],
    "AWS::AutoScaling::LaunchConfiguration": [()],
    "AWS::EC2::LaunchTemplate": [("LaunchTemplateData",)],
    "AWS::EC2::SpotFleet": [("SpotFleetRequestConfigData", "LaunchSpecifications", "*")],
}
_AMI_ID = re.compile(r"ami-(?:[0-9a-f]{8}|[0-9a-f]{17})")
# Image ids from AWS documentation and the sequences people type for one: never a real image.
EXAMPLE_IDS = frozenset({
    "ami-12345678", "ami-87654321", "ami-abcd1234", "ami-1234abcd", "ami-1a2b3c4d", "ami-a1b2c3d4", "ami-abcdef12",
    "ami-0abcdef1234567890", "ami-1234567890abcdef0", "ami-0123456789abcdef0", "ami-0987654321abcdef0",
    "ami-0abcdef1234567890a", "ami-0123456789abcdef", "ami-abc123", "ami-123456",
})
_PLACEHOLDER_WORDS = re.compile(r"(?i)^(<.*>|\{.*\}|.*\b(your|my|example|replace|placeholder|change|todo)\b.*|x{3,}|ami[-_ ]?id)$")
_HEX = "0123456789abcdef"
# Graviton (arm64) families: a1, and a family letter(s), generation and a "g" (t4g, m7gd, c6gn, x2gd, im4gn).
_GRAVITON = re.compile(r"a1|[a-z]+\d+g[a-z]*")
_WINDOWS = re.compile(r"(?i)<powershell>|<script>|\bpowershell(\.exe)?\b|\bEC2Launch\b")
_ECS = re.compile(r"ECS_CLUSTER|/etc/ecs/")
_EKS = re.compile(r"/etc/eks/bootstrap\.sh|\bnodeadm\b|node\.eks\.aws")
# Package managers and tools of distributions other than Amazon Linux (cfn-init's "apt" packages too).
_OTHER_OS = re.compile(r"(?i)\b(cent ?os|rhel\d*|red ?hat|suse|sles|ubuntu|debian|fedora|rocky|alma ?linux|oracle linux|"
                       r"windows|freebsd)\b")
_OTHER_LINUX = re.compile(r"\bapt(-get)?\b|\bdpkg\b|\bzypper\b|\bsubscription-manager\b|\bsnap install\b")


def is_placeholder(value: str) -> bool:
    """An image id that cannot name an image in any account: not an id at all (``ami-xxxxxxxx``,
    ``ami-id``, ``<your-ami>``), an id from AWS documentation, or a typed sequence
    (``ami-12345678``, ``ami-00000000``)."""
    v = value.strip()
    if v.startswith(("{{resolve:", "resolve:ssm:")):
        return False  # a dynamic reference or EC2's own SSM syntax: resolved at deploy time
    if not v.lower().startswith("ami-"):
        return bool(_PLACEHOLDER_WORDS.match(v)) or v == ""
    if v.lower() in EXAMPLE_IDS or not _AMI_ID.fullmatch(v):
        return True
    body = v[4:]
    return _run(body) >= 8


def _run(body: str) -> int:
    """Longest run of one repeated hex digit, or of consecutive hex digits up or down."""
    best = cur_same = cur_up = cur_down = 1
    for a, b in zip(body, body[1:]):
        ia, ib = _HEX.index(a), _HEX.index(b)
        cur_same = cur_same + 1 if a == b else 1
        cur_up = cur_up + 1 if ib == ia + 1 else 1
        cur_down = cur_down + 1 if ib == ia - 1 else 1
        best = max(best, cur_same, cur_up, cur_down)
    return best


def is_real_id(value: str) -> bool:
    return bool(_AMI_ID.fullmatch(value.strip())) and not is_placeholder(value)


def is_graviton(instance_type: str) -> bool:
    return bool(_GRAVITON.fullmatch(instance_type.strip().lower().split(".")[0]))


@dataclass
class Use:
    """One ImageId of a launch specification."""

    resource: str
    path: tuple  # of the ImageId value
    value: Any
    spec: dict
    image: tuple | None = None  # key of IMAGES
    problem: str | None = None


@dataclass
class Plan:
    """What the fix will do: new or converted parameters, replaced values, removed mappings."""

    edits: list[Edit] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)
    resources: list[str] = field(default_factory=list)
    new_parameters: dict[str, dict] = field(default_factory=dict)  # added in one edit when there is no section


class _AmiFixer(Fixer):
    """Shared by EC2002 (placeholder image ids) and EC2004 (real ones, for portability)."""

    wants: ClassVar[str] = ""  # "placeholder" or "real"

    def run(self, template: Template):
        suppress = Suppressions(template.doc)
        every = _uses(template)
        uses = [u for u in every if not suppress.suppressed(self.code, ("Resources", u.resource))]
        # A parameter that a suppressed resource also uses stays as it is.
        kept = {_ref_name(u.value) for u in every if u not in uses} - {None}
        uses = [u for u in uses if _ref_name(u.value) not in kept]
        plan = Plan()
        params: dict[tuple, str] = {}  # image -> parameter name
        taken: set[str] = set()
        replaced_maps: set[str] = set()
        replaced_paths: list[tuple] = []
        by_parameter: dict[str, list[Use]] = {}
        reports: list[Report] = []
        chosen: list[tuple[Use, str, str | None]] = []
        told: set[str] = set()
        for use in uses:
            kind, where = self._classify(template, use.value)
            if kind is None:
                continue
            is_parameter = isinstance(use.value, dict) and list(use.value) == ["Ref"]
            if is_parameter and self.wants == "placeholder":
                # A deploy that passes a value works: only one that keeps the default fails.
                param = use.value["Ref"]
                if kind == "placeholder" and param not in told:
                    told.add(param)
                    default = template.parameters[param]["Default"]
                    reports.append(Report(
                        f"Parameter {param}: its default {default} is a placeholder image id, so a deploy that keeps the "
                        "default fails; set a real default, or enable EC2004 to make the parameter resolve the latest "
                        "Amazon Linux 2023 image from its public SSM parameter", ("Parameters", param, "Default")))
                continue
            if is_parameter and kind in ("placeholder", "real"):
                pass  # EC2004 converts parameters with either default
            elif kind == "mixed":
                if self.wants == "placeholder":
                    reports.append(Report(
                        f"Resource {use.resource}: mapping {where} holds placeholder image ids for some regions and real ones "
                        "for others; fill in real ids, or enable EC2004 to take the image from a public SSM parameter "
                        "everywhere", use.path))
                    continue
            elif kind != self.wants:
                continue
            _choose_image(template, use)
            if use.problem:
                verb = "replace {} by hand" if kind != "real" else "keep {}, or replace it by hand"
                reports.append(Report(f"Resource {use.resource}: {verb.format(self._what(kind, use.value))}: {use.problem}",
                                      use.path))
            elif is_parameter:
                by_parameter.setdefault(use.value["Ref"], []).append(use)
            else:
                chosen.append((use, kind, where))
        for param, users in by_parameter.items():  # converted parameters first: the other uses can share them
            report = self._convert(template, param, users, plan)
            if report:
                reports.append(report)
            else:
                params.setdefault(users[0].image, param)
        for use, kind, where in chosen:
            name = params.get(use.image) or self._parameter(template, use.image, plan, taken)
            params[use.image] = name
            plan.edits.append(SetValue(use.path, ref(name)))
            replaced_paths.append(use.path)
            if where:
                replaced_maps.add(where)
            plan.resources.append(use.resource)
            plan.parts.append(f"{use.resource}: {self._what(kind, use.value)} → !Ref {name}")
        yield from reports
        plan.edits += template.add_entries("Parameters", plan.new_parameters)
        if not plan.edits:
            return
        plan.edits += _unused_mappings(template, plan.edits, replaced_maps, replaced_paths)
        first = next((u for u in uses if u.resource == plan.resources[0]), None) if plan.resources else None
        path = first.path if first else plan.edits[0].path
        yield Fix(self._message(plan), plan.edits, path)

    # ----- classification --------------------------------------------------------------------
    def _classify(self, template: Template, value) -> tuple[str | None, str | None]:
        """("placeholder" | "real" | "mixed" | None, mapping name or None) for an ImageId value."""
        if isinstance(value, str):
            return _kind([value]), None
        if _ref_name(value) is not None:
            body = template.parameters.get(_ref_name(value))
            default = body.get("Default") if isinstance(body, dict) else None
            if isinstance(default, str) and body.get("Type") in ("AWS::EC2::Image::Id", "String"):
                return _kind([default]), None
            return None, None
        if isinstance(value, dict) and list(value) == ["Fn::FindInMap"]:
            args = value["Fn::FindInMap"]
            if not (isinstance(args, list) and len(args) >= 3 and isinstance(args[0], str)):
                return None, None
            mapping = template.section("Mappings").get(args[0])
            if not isinstance(mapping, dict):
                return None, None
            tops = [mapping.get(args[1])] if isinstance(args[1], str) else list(mapping.values())
            found = []
            for top in tops:
                if not isinstance(top, dict):
                    continue
                seconds = [top.get(args[2])] if isinstance(args[2], str) else list(top.values())
                found += [v for v in seconds if isinstance(v, str) and v.lower().startswith("ami-")]
            return _kind(found), args[0]
        return None, None

    @staticmethod
    def _what(kind: str, value) -> str:
        if isinstance(value, str):
            return f"image id {value}"
        if isinstance(value, dict) and "Ref" in value:
            return f"parameter {value['Ref']}'s default image id"
        return f"the image ids of mapping {value['Fn::FindInMap'][0]}"

    # ----- edits ---------------------------------------------------------------------------------
    def _parameter(self, template: Template, image: tuple, plan: Plan, taken: set[str]) -> str:
        """The parameter that resolves ``image``: an existing one with the same SSM path, or a new one."""
        base, path, label = IMAGES[image]
        for name, body in template.parameters.items():
            if isinstance(body, dict) and body.get("Type") == SSM_TYPE and body.get("Default") == path:
                return name
        name = template.unique_id(base, taken)
        taken.add(name)
        plan.new_parameters[name] = {
            "Type": SSM_TYPE,
            "Default": path,
            "Description": f"{label} image from its public SSM parameter",
        }
        return name

    def _convert(self, template: Template, param: str, users: list[Use], plan: Plan) -> Report | None:
        """Turn a parameter with an image id default into an SSM parameter with the image's path."""
        body = template.parameters[param]
        images = {u.image for u in users}
        path = ("Parameters", param, "Default")
        if len(images) > 1:
            labels = " and ".join(sorted(IMAGES[i][2] for i in images))
            return Report(f"Parameter {param}: default image id {body['Default']} is used by instances that need different "
                          f"images ({labels}); give each its own parameter", path)
        constraints = [k for k in ("AllowedValues", "AllowedPattern", "MinLength", "MaxLength") if k in body]
        if constraints:
            what = "is a placeholder" if is_placeholder(body["Default"]) else "works in one region only"
            return Report(f"Parameter {param}: default image id {body['Default']} {what}; it has "
                          f"{', '.join(constraints)}, which an SSM parameter name would not satisfy: set a real default", path)
        image = images.pop()
        _, ssm_path, label = IMAGES[image]
        plan.edits += [SetValue(("Parameters", param, "Type"), SSM_TYPE), SetValue(path, ssm_path)]
        plan.resources += [u.resource for u in users]
        plan.parts.append(f"parameter {param} (default {body['Default']}, used by {', '.join(u.resource for u in users)}) → "
                          f"the SSM parameter of the {label} image (a value passed for it is now an SSM parameter name)")
        return None

    def _message(self, plan: Plan) -> str:  # pragma: no cover - overridden
        raise NotImplementedError


class PlaceholderAmi(_AmiFixer):
    code = "EC2002"
    name = "placeholder-ami"
    summary = "Placeholder image id (`ami-12345678`, `ami-0abcdef1234567890`, `ami-xxxxxxxx`)"
    safety = Safety.UNSAFE
    default = True
    wants = "placeholder"
    docs = """
## What it does
Replaces an `ImageId` that cannot name an image in any account — `ami-xxxxxxxx`, `ami-id`,
`<your-ami>`, the ids AWS documentation uses as examples (`ami-0abcdef1234567890`,
`ami-12345678`, `ami-1a2b3c4d`…) and typed sequences (`ami-00000000`, `ami-0123456789abcdef0`)
— with a reference to a parameter of type `AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>`
whose default is the public SSM parameter of the latest Amazon Linux 2023 image
(`/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64`, or `…-arm64` when
the instance type is a Graviton one such as `t4g` or `m7g`). User data that configures an ECS
container instance (`ECS_CLUSTER`) gets the ECS-optimized Amazon Linux 2023 image instead.

It looks at the `ImageId` of `AWS::EC2::Instance`, `AWS::EC2::LaunchTemplate`,
`AWS::AutoScaling::LaunchConfiguration` and `AWS::EC2::SpotFleet` launch specifications: a
literal, or a `Fn::FindInMap` into a mapping whose image ids are all placeholders (the mapping is
removed when nothing else uses it). An existing parameter with the same SSM path is reused.

Reported, not changed: a parameter whose `Default` is a placeholder (a deploy that passes a value
works; EC2004 makes it an SSM parameter), a mapping that mixes placeholders with real ids
(EC2004 replaces it whole), user data for Windows, EKS nodes or another Linux distribution
(`apt-get`, `zypper`…), a template that says the image is another operating system (Ubuntu,
RHEL, Windows… in its description, mapping or parameter), and an instance type parameter that
allows both architectures.

## Why it breaks deploys
EC2 rejects an image id that does not exist, so the instance, launch template or Auto Scaling
group fails: "The image id '[ami-0abcdef1234567890]' does not exist" (InvalidAMIID.NotFound or
InvalidAMIID.Malformed).

## Example
```yaml
WebServer:
  Type: AWS::EC2::Instance
  Properties:
    ImageId: ami-0abcdef1234567890  # replace with a real AMI
    InstanceType: t3.micro
```
Use instead:
```yaml
Parameters:
  LatestAmiId:
    Type: AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>
    Default: /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64
    Description: Amazon Linux 2023 (x86_64) image, from its public SSM parameter
Resources:
  WebServer:
    Type: AWS::EC2::Instance
    Properties:
      ImageId: !Ref LatestAmiId  # replace with a real AMI
      InstanceType: t3.micro
```

## Fix safety
Unsafe: the instance runs Amazon Linux 2023, which the template did not name (it named no real
image at all); user data written for another distribution may need changes. The image is
resolved at each deploy, so a later update can pick a newer image and replace the instance;
pass a fixed image id as the parameter's value to pin it.

## References
- [Query for the latest Amazon Linux AMI IDs using Systems Manager Parameter Store](https://docs.aws.amazon.com/linux/al2023/ug/ec2.html#launch-via-ssm)
- [CloudFormation SSM parameter types](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-supplied-parameter-types.html#cloudformation-supplied-parameter-types-ssm)
- [Amazon ECS-optimized AMI metadata](https://docs.aws.amazon.com/AmazonECS/latest/developerguide/retrieve-ecs-optimized_AMI.html)
- [AWS Graviton instance types](https://docs.aws.amazon.com/ec2/latest/instancetypes/ec2-nitro-instances.html)
"""

    def _message(self, plan: Plan) -> str:
        return "Replace placeholder image ids with the latest Amazon Linux 2023 image's public SSM parameter: " + "; ".join(plan.parts)


class AmiRegionMap(_AmiFixer):
    code = "EC2004"
    name = "ami-region-map"
    summary = "Hard-coded image ids (region maps, literals) instead of a public SSM parameter"
    safety = Safety.UNSAFE
    default = False
    wants = "real"
    docs = """
## What it does
The same as EC2002, for real image ids: a mapping of image ids per region (`AWSRegionArch2AMI`,
`RegionMap`) or a literal image id becomes a reference to a parameter that resolves the latest
Amazon Linux 2023 image from its public SSM parameter (`arm64` for Graviton instance types,
ECS-optimized for ECS container instances); a mapping that nothing else uses is removed. A
parameter that defaults to an image id (real or placeholder) becomes that SSM parameter itself
(type `AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>`): whoever passes a value for it then
passes an SSM parameter name, not an image id. The same reports as EC2002 keep other operating
systems (by user data, cfn-init metadata or the template's own words) and parameters with
`AllowedValues`/`AllowedPattern` as they are.

## Why it breaks deploys
An image id exists in one region only, and old images get deprecated or deregistered: a region
map works only in the regions it lists and until its images go, and a literal id only in one
region. Deployed in another region (or years later), the stack fails with "The image id … does
not exist".

## Example
```yaml
Mappings:
  RegionMap:
    us-east-1: {AMI: ami-0c02fb55956c7d316}
    eu-west-1: {AMI: ami-0d71ea30463e0ff8d}
Resources:
  Bastion:
    Type: AWS::EC2::Instance
    Properties:
      ImageId: !FindInMap [RegionMap, !Ref 'AWS::Region', AMI]
      InstanceType: t3.micro
```
Use instead:
```yaml
Parameters:
  LatestAmiId:
    Type: AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>
    Default: /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64
    Description: Amazon Linux 2023 (x86_64) image, from its public SSM parameter
Resources:
  Bastion:
    Type: AWS::EC2::Instance
    Properties:
      ImageId: !Ref LatestAmiId
      InstanceType: t3.micro
```

## Fix safety
Unsafe: the instances run the latest Amazon Linux 2023 instead of the images the template
named, which may be another distribution or a custom image with software on it.

## When to enable it
Opt-in (`--extend-select EC2004`): a region map of real images works in its regions. Turn it on
when the images are stock Amazon Linux images picked as an example (typical of generated and
sample templates) and the template must deploy in any region; leave it off for custom or
third-party images (golden images, marketplace products), which Amazon Linux does not replace.

## References
- [Query for the latest Amazon Linux AMI IDs using Systems Manager Parameter Store](https://docs.aws.amazon.com/linux/al2023/ug/ec2.html#launch-via-ssm)
- [CloudFormation SSM parameter types](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-supplied-parameter-types.html#cloudformation-supplied-parameter-types-ssm)
- [Deprecate an AMI](https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ami-deprecate.html)
"""

    def _message(self, plan: Plan) -> str:
        return "Replace hard-coded image ids with the latest Amazon Linux 2023 image's public SSM parameter: " + "; ".join(plan.parts)


# ----- reading the template ---------------------------------------------------------------------
def _kind(values: list[str]) -> str | None:
    if not values:
        return None
    flags = {("placeholder" if is_placeholder(v) else "real" if is_real_id(v) else None) for v in values}
    if None in flags:
        return None  # something else (a dynamic reference, resolve:ssm:…): not ours
    return flags.pop() if len(flags) == 1 else "mixed"


def _uses(template: Template) -> list[Use]:
    out = []
    for name, res, props in template.resources_of_type(*LAUNCH_SPECS):
        for spec_path in LAUNCH_SPECS[res["Type"]]:
            for path, spec in _walk(props, ("Resources", name, "Properties"), spec_path):
                if isinstance(spec, dict) and "ImageId" in spec:
                    out.append(Use(name, path + ("ImageId",), spec["ImageId"], spec))
    return out


def _walk(node, path: tuple, steps: tuple):
    if not steps:
        yield path, node
        return
    step, rest = steps[0], steps[1:]
    if step == "*":
        for i, item in enumerate(node if isinstance(node, list) else []):
            yield from _walk(item, path + (i,), rest)
    elif isinstance(node, dict) and step in node:
        yield from _walk(node[step], path + (step,), rest)


def _choose_image(template: Template, use: Use) -> None:
    """Set ``use.image`` from the instance type and user data, or ``use.problem``."""
    resource = template.resources.get(use.resource, {})
    text = " ".join(_strings(use.spec.get("UserData")) + _strings(resource.get("Metadata"), keys=True))
    if _WINDOWS.search(text):
        use.problem = "its user data is for Windows, so it needs a Windows image"
        return
    if _EKS.search(text):
        use.problem = "its user data joins an EKS cluster, so it needs the EKS-optimized image of the cluster's Kubernetes version"
        return
    named = _OTHER_OS.search(" ".join(_context(template, use)))
    if named:
        use.problem = (f"the template says it is for {named.group()} (in its description, mapping or parameter), which "
                       "Amazon Linux does not replace")
        return
    other = _OTHER_LINUX.search(text)
    if other:
        use.problem = (f"its user data or cfn-init metadata is for another Linux distribution ({other.group()}), which "
                       "Amazon Linux does not run")
        return
    flavour = "ecs" if _ECS.search(text) else "al2023"
    types = _instance_types(template, use.spec.get("InstanceType"))
    archs = {"arm64" if is_graviton(t) else "x86_64" for t in types} or {"x86_64"}
    if len(archs) > 1:
        use.problem = "its instance type may be of either architecture (x86_64 or arm64 Graviton)"
        return
    use.image = (flavour, archs.pop())


def _context(template: Template, use: Use) -> list[str]:
    """What names the image: the template's description, the mapping and keys an image is looked up
    by, the parameter that holds it (name and description)."""
    out = [template.data.get("Description")] if isinstance(template.data.get("Description"), str) else []
    value = use.value
    if _ref_name(value) is not None:
        body = template.parameters.get(_ref_name(value))
        out += [_ref_name(value), body.get("Description", "") if isinstance(body, dict) else ""]
    elif isinstance(value, dict) and list(value) == ["Fn::FindInMap"]:
        out += _strings(value, keys=True)
        for ref_ in _strings(value):
            body = template.parameters.get(ref_)
            if isinstance(body, dict):
                out += [ref_, str(body.get("Description", ""))]
    return [s for s in out if isinstance(s, str)]


def _instance_types(template: Template, value) -> list[str]:
    """The instance types a value can be: a literal, or a parameter's default and allowed values."""
    if isinstance(value, str):
        return [value]
    if _ref_name(value) is not None:
        body = template.parameters.get(_ref_name(value))
        if isinstance(body, dict):
            found = [body["Default"]] if isinstance(body.get("Default"), str) else []
            allowed = body.get("AllowedValues")
            found += [v for v in allowed if isinstance(v, str)] if isinstance(allowed, list) else []
            return found
    return []


def _strings(node, keys: bool = False) -> list[str]:
    """Every string under ``node`` (and every mapping key, with ``keys``)."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in ([k] if keys else []) + _strings(v, keys)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v, keys)]
    return []


def _unused_mappings(template: Template, edits: list[Edit], maps: set[str], replaced: list[tuple]) -> list[Edit]:
    """Deletes of the mappings (those the replaced values used, and mappings only they used) that
    nothing else refers to once the replaced values are gone."""
    mappings = template.section("Mappings")
    inside: set[str] = set()
    outside: set[str] = set()

    def visit(node, path: tuple):
        if isinstance(node, dict):
            if list(node) == ["Fn::FindInMap"] and isinstance(node["Fn::FindInMap"], list) and node["Fn::FindInMap"]:
                target = node["Fn::FindInMap"][0]
                if isinstance(target, str):
                    (inside if any(path[: len(p)] == p for p in replaced) else outside).add(target)
            for k, v in node.items():
                visit(v, path + (k,))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                visit(v, path + (i,))

    for section in ("Resources", "Outputs", "Conditions", "Rules", "Metadata", "Parameters"):
        visit(template.section(section), (section,))
    gone = sorted(m for m in (maps | inside) - outside if m in mappings)
    if not gone:
        return []
    if set(gone) == set(mappings):
        return [Delete(("Mappings",))]
    deletes: list[Edit] = [Delete(("Mappings", m)) for m in gone]
    try:
        resolve(template.doc, edits + deletes)
    except EditError:
        # Neighbouring entries at the end of a JSON or flow mapping cannot be deleted one by one
        # (each takes the comma before it): write the mappings that stay instead.
        deletes = [SetValue(("Mappings",), {k: v for k, v in mappings.items() if k not in gone})]
    return deletes


def _ref_name(value) -> str | None:
    """The name ``value`` is a ``Ref`` to, or None (also for a ``Ref`` whose operand is not a name)."""
    if isinstance(value, dict) and list(value) == ["Ref"] and isinstance(value["Ref"], str):
        return value["Ref"]
    return None
