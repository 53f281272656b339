from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from cfnfix.text.edits import Append
from cfnfix.fixing import Fix, Fixer, Report, Safety
from cfnfix.cloudformation import Template, ref, ref_target, sub


@dataclass(frozen=True, eq=False)
class Grant:
    """One key policy statement letting an AWS service use a key."""

    sid: str
    service: str  # the principal's first label: what an existing statement must name
    principal: Any
    actions: tuple[str, ...]
    condition: dict | None = None
    via_service_counts: bool = False  # a `kms:ViaService` condition naming the service also counts

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


SECRETS_MANAGER = Grant(
    "AllowSecretsManager", "secretsmanager", "secretsmanager.amazonaws.com",
    ("kms:Decrypt", "kms:GenerateDataKey", "kms:CreateGrant"),
    {"StringEquals": {"kms:ViaService": sub("secretsmanager.${AWS::Region}.amazonaws.com"),
                      "kms:CallerAccount": ref("AWS::AccountId")}},
    via_service_counts=True,
)
CLOUDWATCH_LOGS = Grant(
    "AllowCloudWatchLogs", "logs", sub("logs.${AWS::Region}.amazonaws.com"),
    ("kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"),
    {"ArnLike": {"kms:EncryptionContext:aws:logs:arn":
                 sub("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*")}},
)
CLOUDTRAIL = Grant(
    "AllowCloudTrail", "cloudtrail", "cloudtrail.amazonaws.com",
    ("kms:GenerateDataKey*", "kms:Decrypt", "kms:DescribeKey"),
    {"StringLike": {"aws:SourceArn": sub("arn:${AWS::Partition}:cloudtrail:${AWS::Region}:${AWS::AccountId}:trail/*")}},
)
# AWS services publishing into an encrypted topic or queue (SNS and SQS docs, "event sources").
_PUBLISH = ("kms:GenerateDataKey", "kms:Decrypt")
CLOUDWATCH_ALARMS = Grant("AllowCloudWatchAlarms", "cloudwatch", "cloudwatch.amazonaws.com", _PUBLISH)
EVENTBRIDGE = Grant("AllowEventBridge", "events", "events.amazonaws.com", _PUBLISH)
S3_NOTIFICATIONS = Grant("AllowS3Notifications", "s3", "s3.amazonaws.com", _PUBLISH)
SNS_DELIVERY = Grant("AllowSNSDelivery", "sns", "sns.amazonaws.com", _PUBLISH)

TOPIC, QUEUE = "AWS::SNS::Topic", "AWS::SQS::Queue"

# What is encrypted with a key: resource type -> (key property, grant for the service that owns
# it). SNS and SQS act with the publisher's own permissions, so they need no grant themselves.
ENCRYPTED = {
    "AWS::SecretsManager::Secret": ("KmsKeyId", SECRETS_MANAGER),
    "AWS::Logs::LogGroup": ("KmsKeyId", CLOUDWATCH_LOGS),
    "AWS::CloudTrail::Trail": ("KMSKeyId", CLOUDTRAIL),
    TOPIC: ("KmsMasterKeyId", None),
    QUEUE: ("KmsMasterKeyId", None),
}

# Who publishes into an encrypted topic or queue: (publisher type, where under its Properties it
# names the target, "*" for any list index), target type, grant.
PUBLISHERS = [
    ("AWS::CloudWatch::Alarm", ("AlarmActions",), TOPIC, CLOUDWATCH_ALARMS),
    ("AWS::CloudWatch::Alarm", ("OKActions",), TOPIC, CLOUDWATCH_ALARMS),
    ("AWS::CloudWatch::Alarm", ("InsufficientDataActions",), TOPIC, CLOUDWATCH_ALARMS),
    ("AWS::CloudWatch::CompositeAlarm", ("AlarmActions",), TOPIC, CLOUDWATCH_ALARMS),
    ("AWS::CloudWatch::CompositeAlarm", ("OKActions",), TOPIC, CLOUDWATCH_ALARMS),
    ("AWS::CloudWatch::CompositeAlarm", ("InsufficientDataActions",), TOPIC, CLOUDWATCH_ALARMS),
    ("AWS::Events::Rule", ("Targets", "*", "Arn"), TOPIC, EVENTBRIDGE),
    ("AWS::Events::Rule", ("Targets", "*", "Arn"), QUEUE, EVENTBRIDGE),
    ("AWS::S3::Bucket", ("NotificationConfiguration", "TopicConfigurations", "*", "Topic"), TOPIC, S3_NOTIFICATIONS),
    ("AWS::S3::Bucket", ("NotificationConfiguration", "QueueConfigurations", "*", "Queue"), QUEUE, S3_NOTIFICATIONS),
    ("AWS::SNS::Subscription", ("Endpoint",), QUEUE, SNS_DELIVERY),
    ("AWS::SNS::Topic", ("Subscription", "*", "Endpoint"), QUEUE, SNS_DELIVERY),
]


class KmsServicePrincipal(Fixer):
    code = "KMS001"
    name = "kms-key-service-principal"
    summary = "KMS key policy lacks the service principal of what it encrypts"
    safety = Safety.SAFE
    docs = """
## What it does
When a resource is encrypted with a KMS key defined in the same template (`!Ref Key`,
`!GetAtt Key.Arn`, or an `AWS::KMS::Alias` of that key, by `!Ref Alias` or by its `alias/...`
name) and the key's `KeyPolicy` has no statement naming the service that uses the key, appends
one statement per service to `KeyPolicy.Statement`, as the service's documentation gives it:

| Encrypted resource | Principal | Actions | Condition |
|---|---|---|---|
| `AWS::Logs::LogGroup` | `logs.${AWS::Region}.amazonaws.com` | `kms:Encrypt*`, `kms:Decrypt*`, `kms:ReEncrypt*`, `kms:GenerateDataKey*`, `kms:Describe*` | `kms:EncryptionContext:aws:logs:arn` is a log group of this account and Region |
| `AWS::CloudTrail::Trail` | `cloudtrail.amazonaws.com` | `kms:GenerateDataKey*`, `kms:Decrypt`, `kms:DescribeKey` | `aws:SourceArn` is a trail of this account and Region |
| `AWS::SecretsManager::Secret` | `secretsmanager.amazonaws.com` | `kms:Decrypt`, `kms:GenerateDataKey`, `kms:CreateGrant` | `kms:ViaService` is Secrets Manager in this Region, `kms:CallerAccount` this account |
| `AWS::SNS::Topic`, `AWS::SQS::Queue` | the AWS service that publishes to it in the template (see below) | `kms:GenerateDataKey`, `kms:Decrypt` | none |

Amazon SNS and Amazon SQS themselves need no statement: they use the key with the permissions
of whoever publishes or receives. An AWS service that publishes does need one, so a statement is
added only for the publishers the template wires up: CloudWatch alarm actions
(`cloudwatch.amazonaws.com`), EventBridge rule targets (`events.amazonaws.com`), S3 bucket
notifications (`s3.amazonaws.com`) and SNS subscriptions of a queue (`sns.amazonaws.com`).

A statement counts as present when its `Principal.Service` (a string or a list) names the
service, in any Region form; for Secrets Manager a `kms:ViaService` condition naming it also
counts. Principals are resolved first: `Fn::FindInMap` reads the template's `Mappings` (every
top-level key when the key is `!Ref AWS::Region` or another pseudo parameter), `Fn::If` counts
both branches (a statement inside `Fn::If` too), `Fn::Join` and `Fn::Sub` are read as text, and
a parameter counts with its `AllowedValues`. When a principal depends on something that cannot
be resolved (a parameter without `AllowedValues` whose `Default` is not the service, a missing
mapping), nothing is added and the key is reported. Existing statements are kept in their order. A key used by several resources of one
service gets one statement. When the key has no `KeyPolicy`, or it is not a literal policy with
a `Statement` list (an `Fn::If`, a JSON string), the fixer reports the key instead of editing it.

## Why it breaks deploys
A service can only use a customer managed key that its key policy lets it use, and CloudWatch
Logs and CloudTrail check this when the log group or trail is created. The stack then fails
with "The specified KMS key does not exist or is not allowed to be used" (log group) or
`InsufficientEncryptionPolicyException` (trail). S3 sends a test message when a bucket
notification is created, so a notification to an encrypted topic or queue fails with "Unable to
validate the following destination configurations"; CloudWatch alarms and EventBridge rules
deploy, but their messages to the encrypted topic or queue are dropped.

## Example
```yaml
Resources:
  LogKey:
    Type: AWS::KMS::Key
    Properties:
      KeyPolicy:
        Version: '2012-10-17'
        Statement:
          - Sid: EnableRoot
            Effect: Allow
            Principal:
              AWS: !Sub 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root'
            Action: 'kms:*'
            Resource: '*'
  AppLogs:
    Type: AWS::Logs::LogGroup
    Properties:
      KmsKeyId: !GetAtt LogKey.Arn
```
Use instead (the statement appended to `LogKey`'s policy):
```yaml
          - Sid: AllowCloudWatchLogs
            Effect: Allow
            Principal:
              Service: !Sub 'logs.${AWS::Region}.amazonaws.com'
            Action:
              - kms:Encrypt*
              - kms:Decrypt*
              - kms:ReEncrypt*
              - kms:GenerateDataKey*
              - kms:Describe*
            Resource: '*'
            Condition:
              ArnLike:
                kms:EncryptionContext:aws:logs:arn: !Sub 'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:*'
```

## Fix safety
Safe: the author already asked for the resource to be encrypted with this key; the statement
grants the service only the key operations that encryption needs, and the documented
confused-deputy conditions limit it to this account (and Region) where the service supports
them. The SNS, SQS and S3 documentation give the publishing service's statement without a
condition, so it is added as documented: a source condition that the service does not send to
KMS would silently drop its messages. Secrets Manager uses the key on behalf of the caller (whose permission still comes
from the key's other statements or IAM); its statement is limited by `kms:ViaService` and
`kms:CallerAccount` as in the AWS managed `aws/secretsmanager` key policy.

## References
- CloudWatch Logs: "Encrypt log data in CloudWatch Logs using AWS KMS"
- CloudTrail: "Configure AWS KMS key policies for CloudTrail"
- Secrets Manager: "Secret encryption and decryption in AWS Secrets Manager"
- SNS / SQS: "Key management" ("Enable compatibility between event sources from AWS services
  and encrypted topics", "Configure KMS permissions for AWS services")
"""

    def run(self, template: Template):
        keys = {name for name, _, _ in template.resources_of_type("AWS::KMS::Key")}
        if not keys:
            return
        aliases = {name: props for name, _, props in template.resources_of_type("AWS::KMS::Alias")}
        needed: dict[str, dict[Grant, list[str]]] = {}  # key -> grant -> resources needing it

        def need(key: str, grant: Grant, user: str) -> None:
            users = needed.setdefault(key, {}).setdefault(grant, [])
            if user not in users:
                users.append(user)

        for rtype, (prop, grant) in ENCRYPTED.items():
            for name, _, props in template.resources_of_type(rtype):
                for key in _keys(props.get(prop), keys, aliases):
                    if grant:
                        need(key, grant, name)
                    for publisher, service_grant in _publishers(template, name, rtype):
                        need(key, service_grant, publisher)

        for key in sorted(needed, key=list(template.resources).index):
            yield from self._fix_key(template, key, needed[key])

    def _fix_key(self, template: Template, key: str, grants: dict[Grant, list[str]]):
        props = template.resources[key].get("Properties")
        policy = props.get("KeyPolicy") if isinstance(props, dict) else None
        found = {g: _names(template, policy, g) for g in grants}
        unsure = {g: users for g, users in grants.items() if found[g] is None}
        missing = {g: users for g, users in grants.items() if found[g] is False}
        path = ("Resources", key, "Properties", "KeyPolicy")
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
        sids = {s.get("Sid") for s in statements if isinstance(s, dict)}
        edits = []
        for grant in missing:
            sid, n = grant.sid, 2
            while sid in sids:
                sid, n = f"{grant.sid}{n}", n + 1
            sids.add(sid)
            edits.append(Append(path + ("Statement",), grant.statement(sid)))
        yield Fix(f"KMS key {key}: allow {wanted} to use the key", edits, path)


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


def _publishers(template: Template, target: str, target_type: str):
    """(publisher resource, grant) for each AWS service in the template sending to ``target``."""
    for r in template.references_to(target, ("Ref", "GetAtt", "Sub")):
        if r.section != "Resources" or r.path[2:3] != ("Properties",):
            continue
        rtype = template.resource_type(r.owner)
        where = r.path[3:]
        for ptype, pattern, ttype, grant in PUBLISHERS:
            if ptype == rtype and ttype == target_type and _matches(where, pattern):
                yield r.owner, grant


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
            if k == "Service" or (grant.via_service_counts and k == "kms:ViaService"):
                values, complete = _possible(template, v)
                found = found or any(pattern.match(s) for s in values)
                unsure = unsure or not complete
            else:
                found = walk(v) or found
        return found

    if walk(policy):
        return True
    return None if unsure else False


def _possible(template: Template, node: Any, depth: int = 0) -> tuple[set[str], bool]:
    """The strings a principal value can be, and whether that set is complete. ``Fn::If``
    contributes both branches, ``Fn::FindInMap`` the mapping's values (every top-level key when
    the key is ``!Ref AWS::Region`` or another pseudo parameter), a parameter its AllowedValues
    (or, incompletely, its Default); pseudo parameters read as ``${AWS::Region}`` text."""
    if depth > 20:
        return set(), False
    if isinstance(node, str):
        return {node}, True
    if isinstance(node, list):
        out, complete = set(), True
        for item in node:
            values, ok = _possible(template, item, depth + 1)
            out |= values
            complete = complete and ok
        return out, complete
    if not isinstance(node, dict) or len(node) != 1:
        return set(), False
    (fn, arg), = node.items()
    if fn == "Fn::If" and isinstance(arg, list) and len(arg) == 3:
        return _possible(template, arg[1:], depth + 1)
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
            values, ok = _possible(template, part, depth + 1)
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
            values, ok = _possible(template, entry.get(second), depth + 1)
            out |= values
            complete = complete and ok
    if len(arg) == 4:  # AWS::LanguageExtensions: [map, key, key, {DefaultValue: ...}]
        default = arg[3].get("DefaultValue") if isinstance(arg[3], dict) else None
        values, ok = _possible(template, default, depth + 1)
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
