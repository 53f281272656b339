"""Reading KMS key policies, shared by KMS001 (grants a deploy needs) and KMS002 (grants that
deliver messages at run time): which of the template's keys a resource is encrypted with, which
AWS services the template wires up to publish into an encrypted topic or queue, whether a key
policy already names a service, and the base fixer that appends one statement per missing
service."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

from cfnfix.cloudformation import Template, ref_target
from cfnfix.fixing import Fix, Fixer, Report
from cfnfix.text.edits import Append


@dataclass(frozen=True, eq=False)
class Grant:
    """One key policy statement letting an AWS service (a service principal) use a key."""

    sid: str
    service: str  # the principal's first label: what an existing statement must name
    principal: Any
    actions: tuple[str, ...]
    condition: dict | None = None

    def statement(self, sid: str) -> dict:
        st = {"Sid": sid, "Effect": "Allow", "Principal": {"Service": self.principal},
              "Action": list(self.actions), "Resource": "*"}
        if self.condition:
            st["Condition"] = self.condition
        return st

    @property
    def shown(self) -> str:
        p = self.principal
        return p["Fn::Sub"] if isinstance(p, dict) else p


@dataclass(frozen=True)
class Publisher:
    """An AWS service sending into an encrypted topic or queue: the publishing resource type,
    where under its Properties it names the target ("*" for any list index), the target type,
    and the grant the service needs on the target's key."""

    type: str
    where: tuple
    target: str
    grant: Grant


TOPIC, QUEUE = "AWS::SNS::Topic", "AWS::SQS::Queue"
# The property naming the key of each encrypted resource type the fixers look at.
KEY_PROPERTY = {
    "AWS::Logs::LogGroup": "KmsKeyId",
    "AWS::CloudTrail::Trail": "KMSKeyId",
    "AWS::SecretsManager::Secret": "KmsKeyId",
    TOPIC: "KmsMasterKeyId",
    QUEUE: "KmsMasterKeyId",
}
# AWS services publishing into an encrypted topic or queue need these on its key (SNS and SQS
# docs, "event sources"); SNS and SQS themselves act with the publisher's own permissions.
PUBLISH = ("kms:GenerateDataKey", "kms:Decrypt")


def template_keys(template: Template) -> tuple[set[str], dict[str, dict]]:
    """The template's KMS keys, and its aliases (logical id -> Properties)."""
    keys = {name for name, _, _ in template.resources_of_type("AWS::KMS::Key")}
    aliases = {name: props for name, _, props in template.resources_of_type("AWS::KMS::Alias")}
    return keys, aliases


def encrypted_with(template: Template, rtype: str, keys: set[str], aliases: dict[str, dict]):
    """(resource, key) for each resource of ``rtype`` encrypted with one of ``keys``."""
    for name, _, props in template.resources_of_type(rtype):
        for key in _keys(props.get(KEY_PROPERTY[rtype]), keys, aliases):
            yield name, key


class KeyPolicyGrants(Fixer):
    """Appends to a template key's policy one statement per AWS service that needs the key and
    is not named yet. Subclasses say which services: ``owners`` (resource type -> grant for the
    service that creates that encrypted resource) and ``publishers`` (services sending into an
    encrypted topic or queue). Not a fixer itself (no code)."""

    owners: ClassVar[dict[str, Grant]] = {}
    publishers: ClassVar[tuple[Publisher, ...]] = ()

    def run(self, template: Template):
        keys, aliases = template_keys(template)
        if not keys:
            return
        needed: dict[str, dict[Grant, list[str]]] = {}  # key -> grant -> resources needing it

        def need(key: str, grant: Grant, user: str) -> None:
            users = needed.setdefault(key, {}).setdefault(grant, [])
            if user not in users:
                users.append(user)

        targets = {p.target for p in self.publishers}
        for rtype in KEY_PROPERTY:
            if rtype not in self.owners and rtype not in targets:
                continue
            for name, key in encrypted_with(template, rtype, keys, aliases):
                if rtype in self.owners:
                    need(key, self.owners[rtype], name)
                for publisher, grant in _publishers(template, name, rtype, self.publishers):
                    need(key, grant, publisher)

        for key in sorted(needed, key=list(template.resources).index):
            yield from self._fix_key(template, key, needed[key])

    def _fix_key(self, template: Template, key: str, grants: dict[Grant, list[str]]):
        policy = key_policy(template, key)
        found = {g: _names(template, policy, g) for g in grants}
        unsure = {g: users for g, users in grants.items() if found[g] is None}
        missing = {g: users for g, users in grants.items() if found[g] is False}
        path = policy_path(key)
        if unsure:
            parts = [f"`{g.shown}` (for {', '.join(users)})" for g, users in unsure.items()]
            yield Report(f"KMS key {key}: a Principal.Service of its KeyPolicy depends on a parameter or mapping that cannot "
                         f"be resolved; make sure it lets {_and(parts)} use the key", path)
        if not missing:
            return
        wanted = _and([f"`{g.shown}` (for {', '.join(users)})" for g, users in missing.items()])
        statements = policy.get("Statement") if isinstance(policy, dict) else None
        if not isinstance(statements, list):
            why = "has no KeyPolicy" if policy is None else "has no literal KeyPolicy with a Statement list"
            yield Report(f"KMS key {key} {why}; it must let {wanted} use the key", path[:2] if policy is None else path)
            return
        sids = statement_ids(statements)
        edits = [Append(path + ("Statement",), grant.statement(new_sid(grant.sid, sids))) for grant in missing]
        yield Fix(f"KMS key {key}: allow {wanted} to use the key", edits, path)


def policy_path(key: str) -> tuple:
    return ("Resources", key, "Properties", "KeyPolicy")


def key_policy(template: Template, key: str) -> Any:
    props = template.resources[key].get("Properties")
    return props.get("KeyPolicy") if isinstance(props, dict) else None


def statement_ids(statements: list) -> set:
    return {s.get("Sid") for s in statements if isinstance(s, dict)}


def new_sid(base: str, taken: set) -> str:
    """``base``, or ``base2``, ``base3``… when taken; the result is added to ``taken``."""
    sid, n = base, 2
    while sid in taken:
        sid, n = f"{base}{n}", n + 1
    taken.add(sid)
    return sid


def _and(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"


def _keys(value: Any, keys: set[str], aliases: dict[str, dict], via_alias: bool = True) -> list[str]:
    """The template's KMS keys that a key property names, directly or through an alias."""
    if isinstance(value, dict) and isinstance(value.get("Fn::If"), list) and len(value["Fn::If"]) == 3:
        return [k for branch in value["Fn::If"][1:] for k in _keys(branch, keys, aliases, via_alias)]
    target = ref_target(value)
    if target in keys:
        return [target]
    if not via_alias:
        return []
    if target in aliases:
        return _keys(aliases[target].get("TargetKeyId"), keys, aliases, via_alias=False)
    name = _alias_name(value)
    if name is None:
        return []
    return [k for props in aliases.values() if _alias_name(props.get("AliasName")) == name
            for k in _keys(props.get("TargetKeyId"), keys, aliases, via_alias=False)]


def _alias_name(value: Any) -> str | None:
    """`alias/...` from a literal or Fn::Sub alias name or alias ARN, else None."""
    if isinstance(value, dict) and len(value) == 1 and "Fn::Sub" in value:
        value = value["Fn::Sub"]
    if not isinstance(value, str):
        return None
    start = value.find("alias/")
    return value[start:] if start == 0 or (start > 0 and value[start - 1] == ":") else None


def _publishers(template: Template, target: str, target_type: str, publishers: tuple[Publisher, ...]):
    """(publisher resource, grant) for each of ``publishers`` in the template sending to ``target``."""
    if not any(p.target == target_type for p in publishers):
        return
    for r in template.references_to(target, ("Ref", "GetAtt", "Sub")):
        if r.section != "Resources" or r.path[2:3] != ("Properties",):
            continue
        rtype = template.resource_type(r.owner)
        where = r.path[3:]
        for p in publishers:
            if p.type == rtype and p.target == target_type and _matches(where, p.where):
                yield r.owner, p.grant


def _matches(path: tuple, pattern: tuple) -> bool:
    if len(path) < len(pattern):
        return False
    return all(p == q or (q == "*" and isinstance(p, int)) for p, q in zip(path, pattern))


MAX_VALUES = 256  # above this many possible strings for one value, give up (unsure)


def _names(template: Template, policy: Any, grant: Grant) -> bool | None:
    """True when ``policy`` already has a statement for the grant's service, False when it
    certainly has none, None when a principal it names cannot be resolved (a parameter without
    allowed values, an unknown mapping): then nobody can tell."""
    pattern = re.compile(rf"{re.escape(grant.service)}\.")
    unsure = False

    def walk(node: Any) -> bool:
        nonlocal unsure
        if isinstance(node, list):
            return any([walk(item) for item in node])
        if not isinstance(node, dict):
            return False
        found = False
        for k, v in node.items():
            if k == "Service":
                values, complete = possible(template, v)
                found = found or any(pattern.match(s) for s in values)
                unsure = unsure or not complete
            else:
                found = walk(v) or found
        return found

    if walk(policy):
        return True
    return None if unsure else False


def possible(template: Template, node: Any, depth: int = 0) -> tuple[set[str], bool]:
    """The strings a value can be, and whether that set is complete. ``Fn::If`` contributes
    both branches, ``Fn::FindInMap`` the mapping's values (every top-level key when the key is
    ``!Ref AWS::Region`` or another pseudo parameter), a parameter its AllowedValues (or,
    incompletely, its Default); pseudo parameters read as ``${AWS::Region}`` text."""
    if depth > 20:
        return set(), False
    if isinstance(node, str):
        return {node}, True
    if isinstance(node, list):
        out, complete = set(), True
        for item in node:
            values, ok = possible(template, item, depth + 1)
            out |= values
            complete = complete and ok
        return out, complete
    if not isinstance(node, dict) or len(node) != 1:
        return set(), False
    (fn, arg), = node.items()
    if fn == "Fn::If" and isinstance(arg, list) and len(arg) == 3:
        return possible(template, arg[1:], depth + 1)
    if fn == "Ref" and isinstance(arg, str):
        return _ref_values(template, arg)
    if fn == "Fn::Sub":
        text = arg[0] if isinstance(arg, list) and arg else arg
        if not isinstance(text, str):
            return set(), False
        return {text}, not re.match(r"\$\{(?!AWS::)", text)  # a leading ${Param} hides the service
    if fn == "Fn::Join" and isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str) and isinstance(arg[1], list):
        combos, complete = [()], True
        for part in arg[1]:
            values, ok = possible(template, part, depth + 1)
            complete = complete and ok
            if values or not ok:  # an AWS::NoValue element drops out of the list
                combos = [c + (v,) for c in combos for v in sorted(values)]
            if len(combos) > MAX_VALUES:
                return set(), False
        return {arg[0].join(c) for c in combos}, complete
    if fn == "Fn::FindInMap" and isinstance(arg, list) and len(arg) in (3, 4):
        return _map_values(template, arg, depth)
    return set(), False


def _ref_values(template: Template, name: str) -> tuple[set[str], bool]:
    if name == "AWS::NoValue":
        return set(), True
    if name.startswith("AWS::"):
        return {"${" + name + "}"}, True
    param = template.parameters.get(name)
    if not isinstance(param, dict):
        return set(), False
    allowed = param.get("AllowedValues")
    if isinstance(allowed, list) and allowed and all(isinstance(v, str) for v in allowed):
        return set(allowed), True
    default = param.get("Default")
    return ({default} if isinstance(default, str) else set()), False


def _map_values(template: Template, arg: list, depth: int) -> tuple[set[str], bool]:
    mapping = template.section("Mappings").get(arg[0]) if isinstance(arg[0], str) else None
    if not isinstance(mapping, dict):
        return set(), False
    out, complete = set(), True
    for top in _map_keys(template, arg[1], mapping):
        entry = mapping.get(top)
        if not isinstance(entry, dict):
            continue
        for second in _map_keys(template, arg[2], entry):
            values, ok = possible(template, entry.get(second), depth + 1)
            out |= values
            complete = complete and ok
    if len(arg) == 4:  # AWS::LanguageExtensions: [map, key, key, {DefaultValue: ...}]
        default = arg[3].get("DefaultValue") if isinstance(arg[3], dict) else None
        values, ok = possible(template, default, depth + 1)
        out |= values
        complete = complete and ok
    return out, complete


def _map_keys(template: Template, key: Any, level: dict) -> list[str]:
    """The keys of one mapping level that ``key`` can select: a literal, a parameter's allowed
    values, or every key for a pseudo parameter or anything else (a missing key fails the deploy,
    so the value is one of the level's)."""
    if isinstance(key, str):
        return [key] if key in level else []
    if isinstance(key, dict) and isinstance(key.get("Ref"), str) and not key["Ref"].startswith("AWS::"):
        values, complete = _ref_values(template, key["Ref"])
        if complete:
            return [k for k in level if k in values]
    return list(level)
