from __future__ import annotations

from cfnfix.text.edits import EditError
from cfnfix.fixing import Fix, Fixer, Report, Safety
from cfnfix.fixers.apigateway.stage_logging import stage_logging_fixes
from cfnfix.cloudformation import Template

ACCOUNT = "AWS::ApiGateway::Account"
ROLE = "AWS::IAM::Role"


class ApiGatewayAccountSingleton(Fixer):
    code = "APIGW002"
    name = "apigateway-account-singleton"
    summary = "Account-level `AWS::ApiGateway::Account` declared in a stack"
    safety = Safety.UNSAFE
    default = True
    order = 50  # before APIGW003, which strips the logging settings that relied on it
    docs = """
## What it does
Removes an `AWS::ApiGateway::Account` resource, with every `DependsOn` entry and output that
names it. The IAM role it points at (`CloudWatchRoleArn: !GetAtt Role.Arn`) goes too when
nothing but the account (and `DependsOn` lists) uses that role; a role that something else uses
(an output, a policy, another property) is kept. Stage execution-logging settings
(`LoggingLevel`, `DataTraceEnabled`) that needed the role this stack set are removed in the same
fix, as APIGW003 describes.

## Why it breaks deploys
`AWS::ApiGateway::Account` is not a stack resource but the one per-account, per-region API
Gateway setting that holds the CloudWatch Logs role ARN, so a stack that declares it fails early
validation (`AWS::EarlyValidation::ResourceExistenceCheck`) or overwrites the role another
stack set. It should be set once per account and region, outside application stacks.

## Example
```yaml
ApiLogsRole:
  Type: AWS::IAM::Role
  Properties:
    AssumeRolePolicyDocument: {...}
    ManagedPolicyArns:
      - arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs
ApiAccount:
  Type: AWS::ApiGateway::Account
  Properties:
    CloudWatchRoleArn: !GetAtt ApiLogsRole.Arn
Stage:
  Type: AWS::ApiGateway::Stage
  DependsOn: ApiAccount
  Properties: {...}
```
Use instead: the stage without `DependsOn: ApiAccount`, and neither `ApiAccount` nor
`ApiLogsRole`.

## Fix safety
Unsafe: it removes resources the author wrote. Until the account's CloudWatch role is set (once
per account and region, outside this stack), API Gateway cannot write execution or access logs
to CloudWatch Logs; APIGW003 removes the stage settings that would fail without it. When
something other than an output or a `DependsOn` refers to the account, nothing is changed and
the finding is reported.
"""

    def run(self, template: Template):
        logging_handled = False
        for acc_id, _, props in template.resources_of_type(ACCOUNT):
            path = ("Resources", acc_id)
            roles = sorted(set(_roles(template, acc_id)))
            removable = [r for r in roles if not _other_users(template, r, acc_id)]
            kept = [r for r in roles if r not in removable]
            try:
                edits = template.remove(acc_id, *removable)
            except EditError as e:
                yield Report(f"Account {acc_id}: the account-level API Gateway setting cannot be removed ({e}); not changed", path)
                continue
            msg = f"Account {acc_id}: remove the account-level AWS::ApiGateway::Account"
            if removable:
                msg += f" and its CloudWatch role {', '.join(removable)}"
            for role in kept:
                msg += f"; role {role} is kept, used by {', '.join(_other_users(template, role, acc_id))}"
            msg += ("; API Gateway logs nothing to CloudWatch Logs until the account's CloudWatch role is set "
                    "(once per account and region, outside this stack)")
            if not logging_handled:
                # The stages' execution logging needed the role this stack set: it goes in the same fix.
                for fix in stage_logging_fixes(template):
                    edits = edits + fix.edits
                    msg += f"; {fix.message.split('; ')[0]}"
                logging_handled = True
            yield Fix(msg, edits, path)


def _roles(template: Template, acc_id: str) -> list[str]:
    """IAM roles of this template that the account's properties name."""
    return [r.target for r in template.references
            if r.path[:3] == ("Resources", acc_id, "Properties") and template.resource_type(r.target) == ROLE]


def _other_users(template: Template, role: str, acc_id: str) -> list[str]:
    """Entries other than the account that use ``role`` (DependsOn entries do not count)."""
    users = []
    for r in template.references_to(role):
        if r.kind == "DependsOn" or r.owner == acc_id:
            continue
        name = r.owner if r.section == "Resources" else f"{r.section[:-1] if r.section.endswith('s') else r.section} {r.owner}"
        if name not in users:
            users.append(name)
    return users
