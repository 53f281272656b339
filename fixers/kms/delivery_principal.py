from __future__ import annotations

from cfnfix.fixing import Safety

from ._key_policy import PUBLISH, QUEUE, TOPIC, Grant, KeyPolicyGrants, Publisher

CLOUDWATCH_ALARMS = Grant("AllowCloudWatchAlarms", "cloudwatch", "cloudwatch.amazonaws.com", PUBLISH)
EVENTBRIDGE = Grant("AllowEventBridge", "events", "events.amazonaws.com", PUBLISH)
SNS_DELIVERY = Grant("AllowSNSDelivery", "sns", "sns.amazonaws.com", PUBLISH)

_ALARM_ACTIONS = ("AlarmActions", "OKActions", "InsufficientDataActions")
# Services delivering into an encrypted topic or queue at run time; creating the alarm, rule or
# subscription does not use the key.
PUBLISHERS = (
    *(Publisher(alarm, (actions,), TOPIC, CLOUDWATCH_ALARMS)
      for alarm in ("AWS::CloudWatch::Alarm", "AWS::CloudWatch::CompositeAlarm") for actions in _ALARM_ACTIONS),
    Publisher("AWS::Events::Rule", ("Targets", "*", "Arn"), TOPIC, EVENTBRIDGE),
    Publisher("AWS::Events::Rule", ("Targets", "*", "Arn"), QUEUE, EVENTBRIDGE),
    Publisher("AWS::SNS::Subscription", ("Endpoint",), QUEUE, SNS_DELIVERY),
    Publisher("AWS::SNS::Topic", ("Subscription", "*", "Endpoint"), QUEUE, SNS_DELIVERY),
)


class KmsDeliveryPrincipal(KeyPolicyGrants):
    code = "KMS002"
    name = "kms-key-delivery-principal"
    summary = "KMS key policy does not let CloudWatch alarms, EventBridge or SNS deliver to an encrypted topic or queue"
    safety = Safety.UNSAFE
    default = False
    publishers = PUBLISHERS
    docs = """
## What it does
When an `AWS::SNS::Topic` or `AWS::SQS::Queue` is encrypted with a KMS key defined in the same
template (`KmsMasterKeyId: !Ref Key`, `!GetAtt Key.Arn` or an alias of that key) and an AWS
service in the template delivers messages to it, but the key's `KeyPolicy` has no statement
naming that service, appends one statement per service to `KeyPolicy.Statement`, as the SNS
and SQS documentation gives it:

| Delivers to the encrypted topic or queue | Principal | Actions |
|---|---|---|
| `AWS::CloudWatch::Alarm`, `AWS::CloudWatch::CompositeAlarm` (`AlarmActions`, `OKActions`, `InsufficientDataActions`) | `cloudwatch.amazonaws.com` | `kms:GenerateDataKey`, `kms:Decrypt` |
| `AWS::Events::Rule` (`Targets[].Arn`, a topic or a queue) | `events.amazonaws.com` | `kms:GenerateDataKey`, `kms:Decrypt` |
| `AWS::SNS::Subscription` (`Endpoint`), `AWS::SNS::Topic` (`Subscription[].Endpoint`) to an encrypted queue | `sns.amazonaws.com` | `kms:GenerateDataKey`, `kms:Decrypt` |

It reads principals, aliases, `Fn::If`, `Fn::FindInMap` and parameters as KMS001 does (and
shares its code), and reports a key whose policy it cannot read instead of editing it. Code or
roles that publish with their own credentials need IAM permissions, not the key policy, so a
topic or queue that only they use is left alone.

## Why it breaks deploys
The stack deploys, but every message a CloudWatch alarm, an EventBridge rule or an SNS
subscription sends to an encrypted topic or queue whose key policy does not let that service use
the key fails in KMS and is dropped, with no error in the stack. Creating the alarm, rule or
subscription does not use the key, so nothing fails at deploy time and nothing says the
notifications never arrive.

## Example
```yaml
Resources:
  AlertKey:
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
  AlertTopic:
    Type: AWS::SNS::Topic
    Properties:
      KmsMasterKeyId: !Ref AlertKey
  ErrorAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmActions:
        - !Ref AlertTopic
      # ...
```
Use instead (the statement appended to `AlertKey`'s policy):
```yaml
          - Sid: AllowCloudWatchAlarms
            Effect: Allow
            Principal:
              Service: cloudwatch.amazonaws.com
            Action:
              - kms:GenerateDataKey
              - kms:Decrypt
            Resource: '*'
```

## Fix safety
Unsafe: the stack deploys as written, and the statement changes what the deployed key allows:
the service may now generate and decrypt data keys with it, so the notifications start to
arrive. It grants only the two actions the documentation lists, without a condition, as
documented: a source condition that the service does not send to KMS would drop the messages
again.

## When to enable it
Turn it on (`--extend-select KMS002`) when the alarms, EventBridge rules or SNS subscriptions
of the template must actually deliver to their encrypted topic or queue: alerting, paging,
event-driven processing. Without the statement those messages are silently dropped, and nothing
in the deploy says so. Leave it off when the key policy is managed outside the template, or
when you prefer to grant the services yourself (for example with `aws:SourceArn` conditions
that you have checked the service sends).

## References
- SNS: "Key management" ("Enable compatibility between event sources from AWS services and
  encrypted topics": CloudWatch, EventBridge and the other publishing services)
  <https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html>
- SQS: "Key management" ("Configure KMS permissions for AWS services": EventBridge, SNS)
  <https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html>
"""
