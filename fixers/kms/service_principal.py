from __future__ import annotations

import re
from typing import Any

from cfnfix.cloudformation import Template, ref, sub
from cfnfix.fixing import Fix, Report, Safety
from cfnfix.text.edits import Append

from ._key_policy import (
    PUBLISH, QUEUE, TOPIC, Grant, KeyPolicyGrants, Publisher, encrypted_with, key_policy, new_sid,
    policy_path, possible, statement_ids, template_keys,
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
S3_NOTIFICATIONS = Grant("AllowS3Notifications", "s3", "s3.amazonaws.com", PUBLISH)

# Services that check the key when the resource is created: resource type -> grant.
OWNERS = {
    "AWS::Logs::LogGroup": CLOUDWATCH_LOGS,
    "AWS::CloudTrail::Trail": CLOUDTRAIL,
}
# S3 sends a test event when a notification is created, so the destination's key must let it in.
PUBLISHERS = (
    Publisher("AWS::S3::Bucket", ("NotificationConfiguration", "TopicConfigurations", "*", "Topic"), TOPIC, S3_NOTIFICATIONS),
    Publisher("AWS::S3::Bucket", ("NotificationConfiguration", "QueueConfigurations", "*", "Queue"), QUEUE, S3_NOTIFICATIONS),
)

SECRET = "AWS::SecretsManager::Secret"
# What a caller creating a secret needs on its key (Secrets Manager validates both at creation).
SECRETS_MANAGER_ACTIONS = ("kms:GenerateDataKey", "kms:Decrypt")


def secrets_manager_statement(sid: str) -> dict:
    """Callers of this account may use the key through Secrets Manager in this Region: the
    first statement of the AWS managed `aws/secretsmanager` key's policy, for the two actions."""
    return {
        "Sid": sid, "Effect": "Allow", "Principal": {"AWS": "*"},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": "*",
        "Condition": {"StringEquals": {"kms:ViaService": sub("secretsmanager.${AWS::Region}.amazonaws.com"),
                                       "kms:CallerAccount": ref("AWS::AccountId")}},
    }


class KmsServicePrincipal(KeyPolicyGrants):
    code = "KMS001"
    name = "kms-key-service-principal"
    summary = "KMS key policy lacks the statement a service needs to create what the key encrypts"
    safety = Safety.SAFE
    owners = OWNERS
    publishers = PUBLISHERS
    docs = """
## What it does
When a resource is encrypted with a KMS key defined in the same template (`!Ref Key`,
`!GetAtt Key.Arn`, or an `AWS::KMS::Alias` of that key, by `!Ref Alias` or by its `alias/...`
name) and the service that creates the resource checks the key at creation, but the key's
`KeyPolicy` does not let it, appends the statement the service's documentation gives to
`KeyPolicy.Statement`:

| Encrypted resource | Principal | Actions | Condition |
|---|---|---|---|
| `AWS::Logs::LogGroup` | `logs.${AWS::Region}.amazonaws.com` | `kms:Encrypt*`, `kms:Decrypt*`, `kms:ReEncrypt*`, `kms:GenerateDataKey*`, `kms:Describe*` | `kms:EncryptionContext:aws:logs:arn` is a log group of this account and Region |
| `AWS::CloudTrail::Trail` | `cloudtrail.amazonaws.com` | `kms:GenerateDataKey*`, `kms:Decrypt`, `kms:DescribeKey` | `aws:SourceArn` is a trail of this account and Region |
| `AWS::SNS::Topic`, `AWS::SQS::Queue` that an `AWS::S3::Bucket` notification sends to | `s3.amazonaws.com` | `kms:GenerateDataKey`, `kms:Decrypt` | none |
| `AWS::SecretsManager::Secret`, only when no statement lets any IAM principal use the key (see below) | `AWS: "*"` | `kms:Decrypt`, `kms:GenerateDataKey` | `kms:ViaService` is Secrets Manager in this Region, `kms:CallerAccount` this account |

A statement counts as present when its `Principal.Service` (a string or a list) names the
service, in any Region form. Principals are resolved first: `Fn::FindInMap` reads the template's
`Mappings` (every top-level key when the key is `!Ref AWS::Region` or another pseudo
parameter), `Fn::If` counts both branches (a statement inside `Fn::If` too), `Fn::Join` and
`Fn::Sub` are read as text, and a parameter counts with its `AllowedValues`. When a principal
depends on something that cannot be resolved (a parameter without `AllowedValues` whose
`Default` is not the service, a missing mapping), nothing is added and the key is reported.
Existing statements are kept in their order. A key used by several resources of one service gets
one statement. When the key has no `KeyPolicy`, or it is not a literal policy with a `Statement`
list (an `Fn::If`, a JSON string), the fixer reports the key instead of editing it.

**Secrets Manager** is different: it uses the key on behalf of the caller creating the secret
(the person or role deploying the stack), with the caller's permissions, never as
`secretsmanager.amazonaws.com`; a statement for that service principal lets nothing through. A
key policy with the usual statement for the account (`arn:aws:iam::${AWS::AccountId}:root` with
`kms:*`) lets the account's IAM policies grant the caller what it needs, so the secret deploys
and the fixer leaves it alone. Only when no `Allow` statement for an IAM principal (`AWS`, or
`"*"`) allows `kms:GenerateDataKey` and `kms:Decrypt` (directly or by a wildcard, whatever its
condition) can no caller in any account create the secret; then the fixer appends the statement
of the AWS managed `aws/secretsmanager` key: any caller of this account, only through Secrets
Manager in this Region. It stays silent when a statement cannot be read (an intrinsic principal
or action list it cannot resolve, `NotPrincipal`, `NotAction`) or a `Deny` statement could deny
those actions, and reports instead of fixing when the policy names no IAM principal at all
(KMS then refuses to create the key itself) and `BypassPolicyLockoutSafetyCheck` is not true.

CloudWatch alarms, EventBridge rules and SNS subscriptions that deliver to an encrypted topic or
queue deploy without a statement (their messages are dropped at run time): that is KMS002's,
which is opt-in.

## Why it breaks deploys
CloudWatch Logs, CloudTrail, S3 notifications and Secrets Manager use a customer managed key
when the log group, trail, notification or secret is created, and fail the deploy when the key
policy does not let them. The log group fails with "The specified KMS key does not exist or is
not allowed to be used", the trail with `InsufficientEncryptionPolicyException`, a bucket
notification to an encrypted topic or queue (S3 sends a test message when it is created) with
"Unable to validate the following destination configurations", and a secret whose key lets no
caller generate and decrypt data keys with an `AccessDeniedException` from KMS.

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
Safe for the service statements: the template cannot deploy without them, the author already
asked for the resource to be encrypted with this key, and the statement grants the service only
the key operations that encryption needs, limited by the documented confused-deputy conditions
to this account (and Region) where the service supports them. The SNS, SQS and S3 documentation
give S3's statement without a condition, so it is added as documented: a source condition that
the service does not send to KMS would make the notification fail.

Unsafe for the Secrets Manager statement: the key policy named who may use the key and named
nobody who could create the secret; the statement lets every principal of this account that IAM
allows to read or write the secrets use the key through Secrets Manager (as the AWS managed key
does). Review who should read the secrets; `--safe-only` leaves it out.

## References
- CloudWatch Logs: "Encrypt log data in CloudWatch Logs using AWS KMS"
  https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
- CloudTrail: "Configure AWS KMS key policies for CloudTrail"
  https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html
- Amazon S3: "Walkthrough: Configuring a bucket for notifications (SNS topic or SQS queue)"
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/ways-to-add-notification-config-to-bucket.html
  and SNS "Key management" ("Enable compatibility between event sources from AWS services and
  encrypted topics") https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html
- Secrets Manager: "Secret encryption and decryption in AWS Secrets Manager" ("Permissions for
  the KMS key": it acts on behalf of the caller; the `aws/secretsmanager` key policy)
  https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html
- KMS: "Default key policy" (the statement for the account enables IAM policies; the key policy
  lockout safety check) https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
"""

    def run(self, template: Template):
        yield from super().run(template)
        yield from self._secrets(template)

    def _secrets(self, template: Template):
        keys, aliases = template_keys(template)
        users: dict[str, list[str]] = {}
        for name, key in encrypted_with(template, SECRET, keys, aliases):
            if name not in users.setdefault(key, []):
                users[key].append(name)
        for key in sorted(users, key=list(template.resources).index):
            policy = key_policy(template, key)
            statements = policy.get("Statement") if isinstance(policy, dict) else None
            if not isinstance(statements, list):
                continue  # no KeyPolicy: the default one enables IAM policies; a non-literal one: nobody can tell
            access = _iam_access(template, statements)
            if access is None:
                continue
            named, allowed = access
            if set(SECRETS_MANAGER_ACTIONS) <= allowed:
                continue
            secrets, path = ", ".join(users[key]), policy_path(key)
            props = template.resources[key]["Properties"]
            if not named and props.get("BypassPolicyLockoutSafetyCheck") not in (True, "true"):
                yield Report(f"KMS key {key}: its KeyPolicy names no IAM principal, so KMS refuses to create the key "
                             f"(the key policy lockout safety check) and no caller could use it for {secrets}; "
                             "add a statement for the account or the roles that administer and use the key", path)
                continue
            sid = new_sid("AllowSecretsManager", statement_ids(statements))
            yield Fix(f"KMS key {key}: allow callers of this account to use the key through Secrets Manager (for {secrets})",
                      [Append(path + ("Statement",), secrets_manager_statement(sid))], path, safety=Safety.UNSAFE)


def _iam_access(template: Template, statements: list) -> tuple[bool, set[str]] | None:
    """Whether some ``Allow`` statement names an IAM principal, and which of the actions
    Secrets Manager needs such statements may allow (conditions are not read: any may hold).
    None when a statement cannot be read, or a ``Deny`` may deny one of those actions."""
    named, allowed = False, set()

    def visit(st: Any) -> bool:  # False: cannot tell
        nonlocal named
        if isinstance(st, dict) and len(st) == 1 and "Fn::If" in st:
            branches = st["Fn::If"]
            return isinstance(branches, list) and len(branches) == 3 and all(visit(b) for b in branches[1:])
        if st == {"Ref": "AWS::NoValue"}:
            return True
        if not isinstance(st, dict) or "NotPrincipal" in st or "NotAction" in st:
            return False
        actions, complete = possible(template, st.get("Action"))
        if not complete:
            return False
        covered = {need for need in SECRETS_MANAGER_ACTIONS if any(_action_matches(a, need) for a in actions)}
        effect = st.get("Effect")
        if effect == "Deny":
            return not covered
        if effect != "Allow":
            return False
        principal = st.get("Principal")
        if principal == "*" or (isinstance(principal, dict) and "AWS" in principal):
            named = True
            allowed.update(covered)
            return True
        # Only service (or federated) principals: not a caller creating a secret.
        return isinstance(principal, dict) and bool(principal) and set(principal) <= {"Service", "Federated"}

    if not all(visit(st) for st in statements):
        return None
    return named, allowed


def _action_matches(pattern: str, action: str) -> bool:
    """An IAM action pattern (``*`` and ``?`` wildcards, any case) matching ``action``."""
    regex = re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")
    return re.fullmatch(regex, action, re.IGNORECASE) is not None
