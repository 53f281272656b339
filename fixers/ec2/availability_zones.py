from __future__ import annotations

import re

from cfnfix.cloudformation import Template
from cfnfix.fixing import Fix, Fixer, Report, Safety
from cfnfix.fixing.suppressions import Suppressions
from cfnfix.text.edits import SetValue

# An availability zone name: region (us-east-1, us-gov-west-1, cn-north-1, eu-central-2) and a letter.
_ZONE = re.compile(r"(?P<region>[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d+)(?P<letter>[a-z])")
# Every region offers at least this many zones to every account (us-west-1 offers two to some).
SAFE_ZONES = 2


def _select(index: int) -> dict:
    return {"Fn::Select": [index, {"Fn::GetAZs": ""}]}


class HardCodedAvailabilityZones(Fixer):
    code = "EC2003"
    name = "hard-coded-availability-zones"
    summary = "Hard-coded availability zone names (`us-east-1a`) instead of `!GetAZs`"
    safety = Safety.UNSAFE
    default = False
    docs = """
## What it does
Replaces literal availability zone names in resource properties (`AvailabilityZone`,
`AvailabilityZones`, `PreferredAvailabilityZone(s)`, `Placement.AvailabilityZone`…) with
`!Select [i, !GetAZs '']`, the i-th zone of the region the stack is deployed in. The same name
always becomes the same index and distinct names distinct indices, so a volume stays in its
instance's zone and subnets meant to be in different zones stay apart.

Indices follow the zones' order: the zones used are numbered from 0 (`us-east-1b` and
`us-east-1d` become 0 and 1). When the template already picks zones with
`!Select [n, !GetAZs '']`, the letter decides instead (`a` → 0, `b` → 1, `c` → 2), so that the
new indices line up with the old ones. Reported, not changed: zones of more than one region,
and, next to existing `!Select`s, letters past `c`. Parameters (of type
`AWS::EC2::AvailabilityZone::Name`) and mappings are left alone: they are inputs.

## Why it breaks deploys
A zone name exists only in its region: deployed in another region, every resource that names
`us-east-1a` fails ("Value (us-east-1a) for parameter availabilityZone is invalid"). Zone names
are also not the same for every account, and an account may not have a given zone at all.

## Example
```yaml
PublicSubnetA:
  Type: AWS::EC2::Subnet
  Properties:
    VpcId: !Ref Vpc
    CidrBlock: 10.0.0.0/24
    AvailabilityZone: us-east-1a
PublicSubnetB:
  Type: AWS::EC2::Subnet
  Properties:
    VpcId: !Ref Vpc
    CidrBlock: 10.0.1.0/24
    AvailabilityZone: us-east-1b
```
Use instead:
```yaml
PublicSubnetA:
  Type: AWS::EC2::Subnet
  Properties:
    VpcId: !Ref Vpc
    CidrBlock: 10.0.0.0/24
    AvailabilityZone: !Select [0, !GetAZs '']
PublicSubnetB:
  Type: AWS::EC2::Subnet
  Properties:
    VpcId: !Ref Vpc
    CidrBlock: 10.0.1.0/24
    AvailabilityZone: !Select [1, !GetAZs '']
```

## Fix safety
Unsafe: in the original region the zones chosen can differ from the named ones (the i-th zone
of the account), and an update of an existing stack then replaces the resources that move. More
than two distinct zones need a region that offers the account that many.

## When to enable it
Opt-in (`--extend-select EC2003`): the template deploys in the region its zones belong to. Turn
it on when the template must deploy in any region or account (a reusable module, a sample, a
template generated for one region and used in others).

## References
- [`Fn::GetAZs`](https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-getavailabilityzones.html)
- [`Fn::Select`](https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/intrinsic-function-reference-select.html)
- [Availability Zones (names differ per account)](https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/using-regions-availability-zones.html#concepts-availability-zones)
"""

    def run(self, template: Template):
        suppress = Suppressions(template.doc)
        found: list[tuple[tuple, str]] = []  # (path, zone)
        selects: set[int] = set()
        for name, res in template.resources.items():
            if not isinstance(res, dict):
                continue
            props = res.get("Properties")
            _walk(props, ("Resources", name, "Properties"), found, selects)
        found = [(p, z) for p, z in found if not suppress.suppressed(self.code, p)]
        if not found:
            return
        zones = sorted({z for _, z in found})
        regions = sorted({_ZONE.fullmatch(z)["region"] for z in zones})
        if len(regions) > 1:
            yield Report(f"Availability zones of {len(regions)} regions ({', '.join(zones)}): a stack deploys in one region; "
                         "choose the zones by hand", found[0][0])
            return
        letters = {z: ord(_ZONE.fullmatch(z)["letter"]) - ord("a") for z in zones}
        if selects:
            far = [z for z in zones if letters[z] > 2]
            if far:
                yield Report(f"Availability zone(s) {', '.join(far)}: the template also picks zones with !Select [n, "
                             "!GetAZs ''], and a zone letter past c cannot be matched to an index; choose the zones by hand",
                             found[0][0])
                return
            index = letters
        else:
            index = {z: i for i, z in enumerate(zones)}
        edits = [SetValue(path, _select(index[zone])) for path, zone in found]
        names = list(dict.fromkeys(p[1] for p, _ in found))
        mapping = ", ".join(f"{z} → !Select [{index[z]}, !GetAZs '']" for z in zones)
        more = (f"; the region must offer this account {max(index.values()) + 1} zones"
                if max(index.values()) + 1 > SAFE_ZONES else "")
        yield Fix(f"Replace hard-coded availability zones with the zones of the stack's region: {mapping} "
                  f"(in {', '.join(names)}){more}", edits, found[0][0])


def _walk(node, path: tuple, found: list, selects: set) -> None:
    if isinstance(node, dict):
        if list(node) == ["Fn::Select"]:
            args = node["Fn::Select"]
            if isinstance(args, list) and len(args) == 2 and isinstance(args[1], dict) and "Fn::GetAZs" in args[1]:
                if isinstance(args[0], int) and not isinstance(args[0], bool):
                    selects.add(args[0])
                elif isinstance(args[0], str) and args[0].isascii() and args[0].isdigit() and len(args[0]) <= 18:
                    selects.add(int(args[0]))  # ("²".isdigit() is true, and int() refuses 4,301 digits)
            return
        first = next(iter(node), None)
        if len(node) == 1 and isinstance(first, str) and (first.startswith("Fn::") or first == "Ref"):
            return  # other functions: not literal zones
        for key, value in node.items():
            if isinstance(key, str) and key.endswith(("AvailabilityZone", "AvailabilityZones")):
                if isinstance(value, str) and _ZONE.fullmatch(value.strip()):
                    found.append((path + (key,), value.strip()))
                    continue
                if isinstance(value, list):
                    for i, item in enumerate(value):
                        if isinstance(item, str) and _ZONE.fullmatch(item.strip()):
                            found.append((path + (key, i), item.strip()))
                    continue
            _walk(value, path + (key,), found, selects)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            _walk(item, path + (i,), found, selects)
