from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

from cfnfix.text.edits import Delete, Insert, SetValue
from cfnfix.fixing import Fix, Fixer, Report, Safety
from cfnfix.cloudformation import Template, getatt, ref

SG = "AWS::EC2::SecurityGroup"
RULE_KEYS = {"SecurityGroupEgress": "DestinationSecurityGroupId", "SecurityGroupIngress": "SourceSecurityGroupId"}
STANDALONE = {"SecurityGroupEgress": "AWS::EC2::SecurityGroupEgress", "SecurityGroupIngress": "AWS::EC2::SecurityGroupIngress"}
# Without any inline egress rule EC2 adds the allow-all egress rule, so a group whose only egress
# rule moves out keeps this rule (the one the AWS CDK uses) that matches no traffic.
NO_TRAFFIC = {
    "IpProtocol": "icmp", "FromPort": 252, "ToPort": 86, "CidrIp": "255.255.255.255/32", "Description": "Disallow all traffic",
}
MAX_EXACT = 10  # above this many group pairs in one cycle, cut greedily


@dataclass(frozen=True)
class Rule:
    group: str
    other: str
    prop: str
    index: int
    body: dict

    @property
    def path(self) -> tuple:
        return ("Resources", self.group, "Properties", self.prop, self.index)

    @property
    def egress(self) -> bool:
        return self.prop == "SecurityGroupEgress"

    def describe(self) -> str:
        proto, lo, hi = (self.body.get(k) for k in ("IpProtocol", "FromPort", "ToPort"))
        ports = "" if lo is None else f" {lo}" if lo == hi else f" {lo}-{hi}"
        plain = all(isinstance(v, (str, int)) for v in (proto, lo if lo is not None else 0, hi if hi is not None else 0))
        what = " (all traffic)" if str(proto) == "-1" else f" ({proto}{ports})" if plain else ""
        return f"{self.group}'s {'egress rule to' if self.egress else 'ingress rule from'} {self.other}{what}"


class SecurityGroupCycle(Fixer):
    code = "EC2001"
    name = "security-group-cycle"
    summary = "Security groups that reference each other"
    safety = Safety.SAFE
    options = {"strategy": "split"}
    docs = """
## What it does
Finds security groups whose inline rules reference each other in a cycle (A's
`SecurityGroupEgress` names B in `DestinationSecurityGroupId` and B's `SecurityGroupIngress` names
A in `SourceSecurityGroupId`, or any longer cycle, through `!Ref` or `!GetAtt <group>.GroupId`),
and breaks each cycle by moving as few rules as possible out of their group, into a standalone
`AWS::EC2::SecurityGroupIngress` / `AWS::EC2::SecurityGroupEgress` resource
(`<Group>IngressFrom<Other>`, `<Group>EgressTo<Other>`) with the same protocol, ports,
description and peer group. An ingress rule moves rather than an egress rule where either would
do, and a group's last inline egress rule moves only when nothing else breaks the cycle.

With `strategy = "cidr"`, an egress rule of the cycle instead stays inline and sends to the CIDR
range of the group's VPC (`CidrIp: !GetAtt <Vpc>.CidrBlock`, or the parameter the VPC's
`CidrBlock` uses); a cycle of ingress rules only, a self-reference, or an egress rule whose VPC
is not in the template is still split.

## Why it breaks deploys
A group whose inline rule names another group can only be created after that group, so groups
that name each other (or a group that names itself) form a circular dependency and CloudFormation
rejects the template ("Circular dependency between resources") before creating anything.

## Example
```yaml
AppSecurityGroup:
  Type: AWS::EC2::SecurityGroup
  Properties:
    GroupDescription: app
    VpcId: !Ref Vpc
    SecurityGroupEgress:
      - IpProtocol: tcp
        FromPort: 5432
        ToPort: 5432
        DestinationSecurityGroupId: !Ref DbSecurityGroup
DbSecurityGroup:
  Type: AWS::EC2::SecurityGroup
  Properties:
    GroupDescription: db
    VpcId: !Ref Vpc
    SecurityGroupIngress:
      - IpProtocol: tcp
        FromPort: 5432
        ToPort: 5432
        SourceSecurityGroupId: !Ref AppSecurityGroup
```
Use instead (`DbSecurityGroup` without its inline `SecurityGroupIngress`, and):
```yaml
DbSecurityGroupIngressFromAppSecurityGroup:
  Type: AWS::EC2::SecurityGroupIngress
  Properties:
    GroupId: !Ref DbSecurityGroup
    IpProtocol: tcp
    FromPort: 5432
    ToPort: 5432
    SourceSecurityGroupId: !Ref AppSecurityGroup
```
or, with `strategy = "cidr"`, `AppSecurityGroup`'s egress rule sends to the VPC range:
```yaml
    SecurityGroupEgress:
      - IpProtocol: tcp
        FromPort: 5432
        ToPort: 5432
        CidrIp: !GetAtt Vpc.CidrBlock
```

## Fix safety
Safe with the default strategy `split`: once the stack is created the groups have exactly the
rules the template wrote. When the only egress rule of a group moves out, a rule that matches no
traffic (`255.255.255.255/32`, as the AWS CDK writes it) stays inline, because a group without
inline egress rules gets EC2's default allow-all egress rule. A standalone rule between two
groups with the same `Condition` gets that condition; when the groups have different conditions
nothing is changed and the cycle is reported.

`cidr` is unsafe: the egress rule then allows traffic to every address of the VPC, not only to
the members of the other group (the other group's ingress rules still limit what arrives there).

## Options
- `strategy` (`"split"` or `"cidr"`, default `"split"`): how an egress rule of a cycle is cut.
  `cidr` keeps every rule inline where it can, at the price of wider egress.

## References
- AWS::EC2::SecurityGroup (to cross-reference two groups, define the rules with
  AWS::EC2::SecurityGroupIngress and AWS::EC2::SecurityGroupEgress, not inline):
  https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ec2-securitygroup.html
- cfn-lint E3004 (circular dependency between resources)
"""

    def run(self, template: Template):
        strategy = self.config["strategy"]
        if strategy not in ("cidr", "split"):
            raise ValueError(f"{self.code}: strategy must be 'cidr' or 'split', not {strategy!r}")
        groups = {name: props for name, _, props in template.resources_of_type(SG)}
        pairs: dict[tuple[str, str], list[Rule]] = {}
        for name, props in groups.items():
            for prop, key in RULE_KEYS.items():
                rules = props.get(prop)
                for i, body in enumerate(rules if isinstance(rules, list) else []):
                    other = _group_target(body.get(key)) if isinstance(body, dict) else None
                    if other in groups:
                        pairs.setdefault((name, other), []).append(Rule(name, other, prop, i, body))
        # References between groups that are not a plain inline rule (a DependsOn, a tag, a rule
        # inside Fn::If) also make a cycle, but only rules can be changed.
        rule_refs = {r.path + (RULE_KEYS[r.prop],) for rs in pairs.values() for r in rs}
        fixed = {
            (r.owner, r.target)
            for r in template.references
            if r.section == "Resources" and r.owner in groups and r.target in groups and r.path not in rule_refs
            and r.path[2:3] in (("Properties",), ("DependsOn",)) and r.kind in ("Ref", "GetAtt", "Sub", "DependsOn")
        }
        plan = _Plan(template, groups, pairs, fixed, strategy)
        for component in _cycles(set(pairs) | fixed):
            candidates = sorted(p for p in pairs if p[0] in component and p[1] in component)
            if not candidates:
                continue
            cut = plan.choose(candidates)
            if cut is None:
                names = ", ".join(sorted(component))
                yield Report(f"Security groups {names} depend on each other in a way that changing inline rules cannot break "
                             "(references outside the rules, or groups with different conditions)", ("Resources", min(component)))
                continue
            plan.cut.extend(cut)
        yield from plan.fixes()


def _group_target(value) -> str | None:
    """The security group that a rule's group-id value names (Ref, or GetAtt GroupId)."""
    if not isinstance(value, dict) or len(value) != 1:
        return None
    if isinstance(value.get("Ref"), str):
        return value["Ref"]
    ga = value.get("Fn::GetAtt")
    if isinstance(ga, str):
        ga = ga.split(".", 1)
    if isinstance(ga, list) and len(ga) == 2 and ga[1] == "GroupId" and isinstance(ga[0], str):
        return ga[0]
    return None


def _reaches(edges: set, start: str, goal: str) -> bool:
    seen, stack = set(), [start]
    while stack:
        node = stack.pop()
        if node == goal:
            return True
        if node not in seen:
            seen.add(node)
            stack.extend(b for a, b in edges if a == node)
    return False


def _cycles(edges: set) -> list[frozenset]:
    """The groups of each cycle (strongly connected component with an edge), in name order."""
    nodes = sorted({n for e in edges for n in e})
    out, done = [], set()
    for n in nodes:
        if n in done:
            continue
        comp = frozenset(m for m in nodes if _reaches(edges, n, m) and _reaches(edges, m, n))
        done |= comp
        if len(comp) > 1 or (n, n) in edges:
            out.append(comp)
    return out


def _acyclic(edges: set) -> bool:
    return not any(_reaches(edges, b, a) for a, b in edges)


def _path(edges: set, start: str, goal: str) -> list[str]:
    """A shortest path of group names from ``start`` to ``goal``."""
    prev, queue = {start: None}, [start]
    for node in queue:
        for a, b in sorted(edges):
            if a == node and b not in prev:
                prev[b] = node
                queue.append(b)
    out, node = [], goal
    while node is not None:
        out.append(node)
        node = prev[node]
    return out[::-1]


class _Plan:
    """Which group pairs to cut, how each rule is changed, and the fixes that do it."""

    def __init__(self, template, groups, pairs, fixed, strategy):
        self.template, self.groups, self.pairs, self.fixed, self.strategy = template, groups, pairs, fixed, strategy
        self.cut: list[tuple[str, str]] = []

    def cidr(self, rule: Rule):
        """The VPC range for an egress rule of ``rule.group``, when the template knows it."""
        vpc = _vpc_target(self.groups[rule.group].get("VpcId"))
        if self.template.resource_type(vpc) != "AWS::EC2::VPC":
            return None
        props = self.template.resources[vpc].get("Properties")
        block = props.get("CidrBlock") if isinstance(props, dict) else None
        if isinstance(block, dict) and block.get("Ref") in self.template.parameters:
            return ref(block["Ref"])
        return getatt(vpc, "CidrBlock")

    def how(self, rule: Rule) -> str | None:
        if self.strategy == "cidr" and rule.egress and rule.group != rule.other and "CidrIp" not in rule.body and self.cidr(rule):
            return "cidr"
        return "split" if self.condition(rule) is not False else None

    def condition(self, rule: Rule):
        """The Condition a standalone rule needs (None for none), False when it cannot have one."""
        conds = [self.template.resources[g].get("Condition") for g in (rule.group, rule.other)]
        conds = [c for c in conds if c is not None]
        if not all(isinstance(c, str) for c in conds) or len(set(conds)) > 1:
            return False
        return conds[0] if conds else None

    def emptied(self, cut) -> set:
        """(group, property) lists whose every entry is split out by ``cut``."""
        moved: dict[tuple, int] = {}
        for pair in cut:
            for r in self.pairs[pair]:
                if self.how(r) == "split":
                    moved[(r.group, r.prop)] = moved.get((r.group, r.prop), 0) + 1
        return {k for k, n in moved.items() if n == len(self.groups[k[0]][k[1]])}

    def cost(self, cut) -> tuple | None:
        rules = [r for p in cut for r in self.pairs[p]]
        hows = [self.how(r) for r in rules]
        if None in hows:
            return None
        splits = [r for r, h in zip(rules, hows) if h == "split"]
        emptied_egress = sum(1 for _, prop in self.emptied(cut) if prop == "SecurityGroupEgress")
        return (len(rules), len(splits), emptied_egress, sum(r.egress for r in splits), sorted(cut))

    def choose(self, candidates: list) -> list | None:
        """The cheapest set of group pairs whose removal leaves no cycle."""
        fixed = self.fixed
        edges = set(candidates) | fixed
        if len(candidates) > MAX_EXACT:
            cut = []
            for pair in sorted(candidates, key=lambda p: self.cost([p]) or (float("inf"),)):
                if pair not in fixed and self.cost([pair]) is not None and _reaches(edges, pair[1], pair[0]):
                    edges.discard(pair)
                    cut.append(pair)
            return cut if _acyclic(edges) else None
        best = None
        for k in range(1, len(candidates) + 1):
            for cut in combinations(candidates, k):
                c = self.cost(cut)
                if c is not None and (best is None or c < best[0]) and _acyclic(edges - set(cut) | fixed):
                    best = (c, list(cut))
        return best and best[1]

    def fixes(self):
        emptied = self.emptied(self.cut)
        taken: set[str] = set()
        edges = set(self.pairs) | self.fixed
        merged: dict[tuple, Fix] = {}
        lists_done: set[tuple] = set()
        for pair in sorted(self.cut):
            cycle = " -> ".join([pair[0]] + _path(edges, pair[1], pair[0]))
            edits, notes, safe = [], [], True
            for rule in self.pairs[pair]:
                if self.how(rule) == "cidr":
                    cidr = self.cidr(rule)
                    keys = list(rule.body)
                    at = keys.index("DestinationSecurityGroupId")
                    edits += [Delete(rule.path + ("DestinationSecurityGroupId",)),
                              Insert(rule.path, "CidrIp", cidr, after=keys[at - 1] if at else None)]
                    notes.append(f"{rule.describe()} now targets the VPC range ({_show(cidr)}): "
                                 f"egress widens from security group {rule.other} to the whole VPC range")
                    safe = False
                    continue
                new_id = self.template.unique_id(f"{rule.group}{'EgressTo' if rule.egress else 'IngressFrom'}{rule.other}", taken)
                taken.add(new_id)
                props = {"GroupId": self.group_id(rule.group), **rule.body}
                body = {"Type": STANDALONE[rule.prop]}
                if self.condition(rule):
                    body["Condition"] = self.condition(rule)
                body["Properties"] = props
                edits.append(self.template.add_resource(new_id, body, after=rule.group))
                if (rule.group, rule.prop) not in emptied:
                    edits.append(Delete(rule.path))
                fallback = self.strategy == "cidr" and rule.egress and rule.group != rule.other
                why = " (the CIDR range of its VPC is not in the template)" if fallback else ""
                notes.append(f"{rule.describe()} moves to the standalone {STANDALONE[rule.prop]} {new_id}{why}")
            whole = sorted(k for k in emptied if k[0] == pair[0] and any(r.prop == k[1] for r in self.pairs[pair]))
            for group, prop in sorted(set(whole) - lists_done):
                lists_done.add((group, prop))
                path = ("Resources", group, "Properties", prop)
                if prop == "SecurityGroupEgress":
                    edits.append(SetValue(path, [NO_TRAFFIC]))
                    notes.append(f"{group} keeps a no-traffic egress rule so that EC2 adds no allow-all egress rule")
                else:
                    edits.append(Delete(path))
            message = f"Break the security group cycle {cycle}: " + "; ".join(notes)
            fix = Fix(message, edits, self.pairs[pair][0].path, None if safe else Safety.UNSAFE)
            # Fixes that empty the same list must be one fix, or the engine could apply one alone.
            key = ("group", pair[0]) if whole else pair
            if key in merged:
                prev = merged[key]
                prev.edits += fix.edits
                prev.message += "; " + message[0].lower() + message[1:]
                prev.safety = prev.safety or fix.safety
            else:
                merged[key] = fix
        yield from merged.values()

    def group_id(self, group: str):
        """How the template names the group's id: GetAtt GroupId when it never uses Ref."""
        kinds = {r.kind for r in self.template.references_to(group, ("Ref", "GetAtt"))}
        if "VpcId" not in self.groups[group] or kinds == {"GetAtt"}:
            return getatt(group, "GroupId")
        return ref(group)


def _vpc_target(value) -> str | None:
    if isinstance(value, dict) and isinstance(value.get("Ref"), str):
        return value["Ref"]
    ga = value.get("Fn::GetAtt") if isinstance(value, dict) else None
    if isinstance(ga, str):
        ga = ga.split(".", 1)
    if isinstance(ga, list) and len(ga) == 2 and ga[1] == "VpcId":
        return ga[0]
    return None


def _show(value) -> str:
    if "Ref" in value:
        return f"!Ref {value['Ref']}"
    return "!GetAtt " + ".".join(value["Fn::GetAtt"])
