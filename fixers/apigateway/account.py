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
    default = False  # most stacks that declare it deploy; see "When to enable it"
    order = 50  # before APIGW003, which strips the logging settings that relied on it
    docs = """
## What it does
Opt-in. Removes an `AWS::ApiGateway::Account` resource, with every `DependsOn` entry and output
that names it. The IAM role it points at (`CloudWatchRoleArn: !GetAtt Role.Arn`) goes too when
nothing but the account (and `DependsOn` lists) uses that role; a role that something else uses
(an output, a policy, another property) is kept. The execution-logging settings that needed the
role this stack set (`LoggingLevel`, `DataTraceEnabled`) are removed in the same fix, as APIGW003
describes: from the `MethodSettings` of each `AWS::ApiGateway::Stage`, of a deployment's
`StageDescription`, of each SAM `AWS::Serverless::Api` and of SAM's `Globals: Api:`.

## Why it breaks deploys
`AWS::ApiGateway::Account` is not a resource of one stack but the one API Gateway setting of the
account and Region that holds the CloudWatch Logs role, so stacks that declare it overwrite each
other's role. Where the setting is already managed (by another stack, or an account baseline),
creating it again can fail the change set's early validation
(`AWS::EarlyValidation::ResourceExistenceCheck`), and deleting a stack whose role is the current
one leaves every API of the account and Region without a working logging role. A template that
is the only one to set it deploys as it is, which is why this fixer is not on by default.

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
  Properties:
    ...
    MethodSettings:
      - HttpMethod: '*'
        ResourcePath: /*
        LoggingLevel: INFO
        MetricsEnabled: true
```
Use instead:
```yaml
Stage:
  Type: AWS::ApiGateway::Stage
  Properties:
    ...
    MethodSettings:
      - HttpMethod: '*'
        ResourcePath: /*
        MetricsEnabled: true
```

## Fix safety
Unsafe: it removes resources and settings the author wrote. Until the account's CloudWatch role
is set (once per account and Region, outside this stack), API Gateway writes no execution logs
to CloudWatch Logs, so the stage settings that turn them on are removed with the account
setting: left on, they fail the stage in an account without the role. An `AccessLogSetting` is
kept, and the message says that it needs the role too. When something other than an output or a
`DependsOn` refers to the account, nothing is changed and the finding is reported.

## When to enable it
Turn it on (`--extend-select APIGW002`) when the account's API Gateway CloudWatch role is, or
should be, set outside this stack: when the deploy fails with
`AWS::EarlyValidation::ResourceExistenceCheck` naming the account resource; when the template is
deployed more than once per account and Region (one stack per environment or per developer), so
that the stacks overwrite each other's role; or when an account-setup stack (such as SAM's
`integration/setup/companion-stack.yaml`) already sets the role. Leave it off for the one stack
that is meant to own the setting.

## References
- AWS::ApiGateway::Account ("you should only have one AWS::ApiGateway::Account resource per
  region per account"):
  https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-apigateway-account.html
- Set up CloudWatch logging for REST APIs in API Gateway:
  https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html
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
