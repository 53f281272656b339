from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from typing import Any

from cfnfix.cloudformation import Template, ref, ref_target, sub
from cfnfix.cloudformation.references import Reference, collect
from cfnfix.fixing import Fix, Fixer, Report, Safety
from cfnfix.text.edits import Append, Delete, Edit, EditError, RenameKey, SetValue

BUCKET = "AWS::S3::Bucket"
PERMISSION = "AWS::Lambda::Permission"
FUNCTIONS = ("AWS::Lambda::Function", "AWS::Lambda::Alias", "AWS::Lambda::Version", "AWS::Serverless::Function")
S3_PRINCIPAL = "s3.amazonaws.com"


@dataclass(frozen=True)
class Destination:
    """A kind of notification destination: where it sits in NotificationConfiguration, and the
    resource that lets S3 deliver to it."""

    kind: str  # "function", "queue", "topic"
    key: str  # NotificationConfiguration list
    field: str  # the destination's ARN inside an entry
    types: tuple[str, ...]
    policy_types: tuple[str, ...] = ()
    policy_targets: str = ""  # the policy's list of queues/topics
    action: str = ""

    def statement(self, target: str, source_arn: Any) -> dict:
        """The statement AWS documents for S3 event notifications (S3 User Guide, "Granting
        permissions to publish event notification messages to a destination")."""
        resource = {"Fn::GetAtt": [target, "Arn"]} if self.kind == "queue" else ref(target)
        condition: dict = {"StringEquals": {"aws:SourceAccount": ref("AWS::AccountId")}}
        if source_arn is not None:
            condition = {"ArnLike": {"aws:SourceArn": source_arn}, **condition}
        return {"Effect": "Allow", "Principal": {"Service": S3_PRINCIPAL}, "Action": self.action,
                "Resource": resource, "Condition": condition}


LAMBDA = Destination("function", "LambdaConfigurations", "Function", FUNCTIONS)
QUEUE = Destination("queue", "QueueConfigurations", "Queue", ("AWS::SQS::Queue",),
                    ("AWS::SQS::QueuePolicy",), "Queues", "sqs:SendMessage")
TOPIC = Destination("topic", "TopicConfigurations", "Topic", ("AWS::SNS::Topic",),
                    ("AWS::SNS::TopicPolicy", "AWS::SNS::TopicInlinePolicy"), "Topics", "sns:Publish")


class NotificationPermissions(Fixer):
    code = "S3002"
    name = "notification-permissions"
    summary = "S3 event notifications to a function, queue or topic that S3 may not deliver to when the bucket is created"
    safety = Safety.SAFE
    default = True
    docs = """
## What it does
For each `AWS::S3::Bucket` whose `NotificationConfiguration` sends events to a Lambda function,
an SQS queue or an SNS topic of the same template:

- when nothing lets S3 deliver there, adds it: an `AWS::Lambda::Permission` for
  `s3.amazonaws.com`, or the statement AWS documents in the queue's or topic's policy (a new
  `AWS::SQS::QueuePolicy` / `AWS::SNS::TopicPolicy`, or a statement appended to the one the
  template has);
- makes the bucket wait for that permission or policy (`DependsOn`);
- builds the `SourceArn` from the bucket's name (`arn:${AWS::Partition}:s3:::<BucketName>`)
  rather than from `!Ref`/`!GetAtt` of the bucket, which would make the permission wait for the
  bucket and the bucket for the permission, a circular dependency.

The statements added are AWS's, from the S3 User Guide:

```json
{"Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
 "Action": "SQS:SendMessage", "Resource": "arn:aws:sqs:Region:account-id:queue-name",
 "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:s3:*:*:awsexamplebucket1"},
               "StringEquals": {"aws:SourceAccount": "bucket-owner-account-id"}}}
```

and, for a topic, the same with `"Action": "SNS:Publish"` and the topic's ARN; a Lambda
permission has `Principal: s3.amazonaws.com`, `SourceArn` and `SourceAccount`, as in the
`AWS::Lambda::Permission` example for S3.

When the function, queue or topic itself waits for the bucket (its role's policy names
`!GetAtt Bucket.Arn`, an environment variable holds `!Ref Bucket`), the bucket cannot wait for
it: those references are written from the bucket's name instead (`!Ref Bucket` becomes the
`BucketName` value, `!GetAtt Bucket.Arn` and `${Bucket.Arn}` the ARN built from it), which
are the same values and break the loop. A policy `Resource` that starts with `${Bucket}` (the
bucket's name, where IAM needs an ARN) gets the ARN.

Destinations outside the template (an ARN, a parameter) are not checked.

## Why it breaks deploys
S3 checks each notification destination when CloudFormation creates the bucket, and the bucket
fails with "Unable to validate the following destination configurations" when S3 may not
deliver there yet. The function's resource policy, or the queue's or topic's policy, must let S3
in before the bucket is created; a permission that refers to the bucket is created after it,
so it is always too late, and nothing else orders a permission before the bucket.

## Example
```yaml
Uploads:
  Type: AWS::S3::Bucket
  Properties:
    BucketName: !Sub uploads-${AWS::AccountId}
    NotificationConfiguration:
      LambdaConfigurations:
        - Event: s3:ObjectCreated:*
          Function: !GetAtt Resize.Arn
ResizePermission:
  Type: AWS::Lambda::Permission
  Properties:
    FunctionName: !GetAtt Resize.Arn
    Action: lambda:InvokeFunction
    Principal: s3.amazonaws.com
    SourceArn: !GetAtt Uploads.Arn
```
Use instead:
```yaml
Uploads:
  Type: AWS::S3::Bucket
  DependsOn: ResizePermission
  Properties:
    ...
ResizePermission:
  Type: AWS::Lambda::Permission
  Properties:
    FunctionName: !GetAtt Resize.Arn
    Action: lambda:InvokeFunction
    Principal: s3.amazonaws.com
    SourceArn: !Sub arn:${AWS::Partition}:s3:::uploads-${AWS::AccountId}
```

## Fix safety
Safe when the bucket has a `BucketName`: the permission names exactly that bucket, as the
template meant. Unsafe when it has none: CloudFormation generates the name when it creates the
bucket, after the permission must exist, so the permission can only be scoped to the account
(`SourceAccount`) — any bucket of the account may then invoke the function or send to the queue.
Give the bucket a `BucketName` to scope it. When the function, queue or topic waits for a bucket
that has no `BucketName`, or uses an attribute of the bucket that its name does not give
(`DomainName`, a `DependsOn`), no order can work and the finding is reported; cfn-lint reports
that loop as E3004.

## References
- [Walkthrough: Configuring a bucket for notifications (SNS topic or SQS queue)](https://docs.aws.amazon.com/AmazonS3/latest/userguide/ways-to-add-notification-config-to-bucket.html)
- [Granting permissions to publish event notification messages to a destination](https://docs.aws.amazon.com/AmazonS3/latest/userguide/grant-destinations-permissions-to-s3.html)
- [AWS::S3::Bucket NotificationConfiguration](https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-s3-bucket-notificationconfiguration.html)
- [AWS::Lambda::Permission](https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-lambda-permission.html)
- [Why does "Unable to validate the following destination configurations" appear?](https://repost.aws/knowledge-center/unable-validate-destination-s3)
- cfn-lint E3004 (circular dependencies)
"""

    def run(self, template: Template):
        buckets = [b for b, _, _ in template.resources_of_type(BUCKET)]
        for bid, bucket, props in template.resources_of_type(BUCKET):
            config = props.get("NotificationConfiguration")
            if not isinstance(config, dict):
                continue
            plan = _Plan(template, bid, bucket, props, buckets)
            for dest in (LAMBDA, QUEUE, TOPIC):
                entries = config.get(dest.key)
                for entry in entries if isinstance(entries, list) else []:
                    value = entry.get(dest.field) if isinstance(entry, dict) else None
                    target = ref_target(value)
                    if target and template.resource_type(target) in dest.types and target not in plan.seen:
                        plan.seen.add(target)
                        plan.destination(dest, target, value)
            path = ("Resources", bid)
            for message in plan.reports:
                yield Report(message, path)
            if plan.reports or not plan.parts:
                continue
            try:
                edits = plan.edits + template.add_dependencies(bid, plan.waits)
            except EditError as e:
                yield Report(f"Bucket {bid}: {e}; not changed", path)
                continue
            safety = Safety.UNSAFE if plan.unsafe else None
            message = f"Bucket {bid}: " + "; ".join(plan.parts)
            if plan.unsafe:
                message += ("; the bucket has no BucketName, so S3 is allowed from any bucket of the account: "
                            "give it a name to scope the permission")
            yield Fix(message, edits, path, safety=safety)


@dataclass
class _Plan:
    template: Template
    bid: str
    bucket: dict
    props: dict
    buckets: list[str]
    seen: set = field(default_factory=set)
    edits: list[Edit] = field(default_factory=list)
    waits: list[str] = field(default_factory=list)  # resources the bucket must wait for
    parts: list[str] = field(default_factory=list)
    reports: list[str] = field(default_factory=list)
    unsafe: bool = False
    taken: set = field(default_factory=set)
    cut: set = field(default_factory=set)  # resources whose references to the bucket are rewritten

    def __post_init__(self):
        self.arn = _bucket_arn(self.template, self.bid, self.props.get("BucketName"))

    # ----- one destination -------------------------------------------------------------------
    def destination(self, dest: Destination, target: str, value: Any) -> None:
        t = self.template
        condition = self._condition(target)
        if condition is False:
            return
        if self._reaches_bucket(target) and not self._cut_loop(dest, target):
            return
        if dest is LAMBDA:
            self._lambda(target, value, condition)
        else:
            self._policy(dest, target, condition)

    def _lambda(self, target: str, value: Any, condition: str | None) -> None:
        t = self.template
        perms = [p for p, _, pp in t.resources_of_type(PERMISSION)
                 if ref_target(pp.get("FunctionName")) == target and _is_s3(pp.get("Principal"))
                 and self._covers(pp.get("SourceArn"))]
        if not perms:
            name = t.unique_id(f"{self.bid}To{target}Permission", self.taken)
            self.taken.add(name)
            body: dict = {"Type": PERMISSION}
            if condition:
                body["Condition"] = condition
            body["Properties"] = {"FunctionName": value, "Action": "lambda:InvokeFunction", "Principal": S3_PRINCIPAL,
                                  "SourceAccount": ref("AWS::AccountId")}
            if self.arn is not None:
                body["Properties"]["SourceArn"] = self.arn
            else:
                self.unsafe = True
            self.edits.append(t.add_resource(name, body, after=self.bid))
            self.waits.append(name)
            self.parts.append(f"add Lambda permission {name} that lets S3 invoke {target}, and make the bucket wait for it")
            return
        names_bucket = [p for p in perms if t.refers_to(t.resources[p]["Properties"].get("SourceArn"), self.bid)]
        if not names_bucket and any(t.waits_for(self.bid, p) for p in perms):
            return  # the bucket already waits for a permission that lets S3 in
        perm = (names_bucket or perms)[0]
        pprops = t.resources[perm]["Properties"]
        source = pprops.get("SourceArn")
        rewrite = source is not None and t.refers_to(source, self.bid)
        ordered = t.waits_for(self.bid, perm)
        if ordered and not rewrite:
            return
        if not self._free_of_bucket(perm, ("Resources", perm, "Properties", "SourceArn")) or not self._can_wait(perm):
            return
        note = ""
        if rewrite:
            if self.arn is None:
                self.edits += _drop_source_arn(perm, pprops)
                self.unsafe = True
                note = " (its SourceArn named the bucket, which made it wait for the bucket; the account scopes it now)"
            else:
                self.edits.append(SetValue(("Resources", perm, "Properties", "SourceArn"), self.arn))
                note = " (its SourceArn is now built from the bucket's name: naming the bucket made it wait for the bucket)"
        self.edits += t.drop_dependencies(perm, {self.bid})
        if ordered:
            self.parts.append(f"build the SourceArn of Lambda permission {perm} from the bucket's name: naming the bucket "
                              "made the permission and the bucket wait for each other")
        else:
            self.waits.append(perm)
            self.parts.append(f"make the bucket wait for Lambda permission {perm}{note}")

    def _policy(self, dest: Destination, target: str, condition: str | None) -> None:
        t = self.template
        policies = [(pid, pp) for pid, _, pp in t.resources_of_type(*dest.policy_types) if _governs(pp, dest, target)]
        if len(policies) > 1:
            self.reports.append(f"Bucket {self.bid}: {dest.kind} {target} has several policies "
                                f"({', '.join(p for p, _ in policies)}), and only one of them applies; not changed")
            return
        statement = dest.statement(target, self.arn)
        if not policies:
            self.unsafe = self.unsafe or self.arn is None
            name = t.unique_id(f"{target}Policy", self.taken)
            self.taken.add(name)
            body: dict = {"Type": dest.policy_types[0]}
            if condition:
                body["Condition"] = condition
            body["Properties"] = {dest.policy_targets: [ref(target)],
                                  "PolicyDocument": {"Version": "2012-10-17", "Statement": [statement]}}
            self.edits.append(t.add_resource(name, body, after=target))
            self.waits.append(name)
            what = "send messages to" if dest is QUEUE else "publish to"
            self.parts.append(f"add {'queue' if dest is QUEUE else 'topic'} policy {name} that lets S3 {what} {target}, "
                              "and make the bucket wait for it")
            return
        pid, pprops = policies[0]
        if not self._can_wait(pid):
            return
        doc = pprops.get("PolicyDocument")
        statements = doc.get("Statement") if isinstance(doc, dict) else None
        if isinstance(statements, dict):
            statements = [statements]
        if not isinstance(statements, list):
            self.reports.append(f"Bucket {self.bid}: the policy {pid} of {dest.kind} {target} is not a list of statements "
                                "cfnfix can read; not changed")
            return
        base = ("Resources", pid, "Properties", "PolicyDocument", "Statement")
        found = [i for i, s in enumerate(statements) if isinstance(s, dict) and _allows_s3(s, dest) and self._covers_statement(s)]
        note = ""
        if not found:
            if t.waits_for(pid, self.bid):
                self.reports.append(f"Bucket {self.bid}: policy {pid} of {dest.kind} {target} is created after the bucket; "
                                    "not changed")
                return
            self.unsafe = self.unsafe or self.arn is None
            if isinstance(doc.get("Statement"), dict):
                self.edits.append(SetValue(base, [doc["Statement"], statement]))
            else:
                self.edits.append(Append(base, statement))
            self.parts.append(f"add to policy {pid} the statement that lets S3 "
                              f"{'send messages to' if dest is QUEUE else 'publish to'} {target}, and make the bucket wait for it")
        else:
            rewrites: list[Edit] = []
            reported = len(self.reports)
            single = not isinstance(doc.get("Statement"), list)
            for i in found:
                rewrites += self._rewrite_condition(statements[i], base if single else base + (i,))
            if len(self.reports) > reported:
                return
            ordered = t.waits_for(self.bid, pid)
            if ordered and not rewrites:
                return
            if not self._free_of_bucket(pid, *[e.path for e in rewrites]):
                return
            self.edits += rewrites
            self.edits += t.drop_dependencies(pid, {self.bid})
            if ordered:
                self.parts.append(f"build the aws:SourceArn of policy {pid} from the bucket's name: naming the bucket made "
                                  "the policy and the bucket wait for each other")
                return
            if rewrites:
                note = " (its aws:SourceArn is now built from the bucket's name: naming the bucket made it wait for the bucket)"
            self.parts.append(f"make the bucket wait for policy {pid} of {dest.kind} {target}{note}")
            self.waits.append(pid)
            return
        self.edits += t.drop_dependencies(pid, {self.bid})
        self.waits.append(pid)

    # ----- the destination that waits for the bucket ---------------------------------------
    def _reaches_bucket(self, start: str) -> bool:
        """True when ``start`` waits for the bucket, not counting the references already
        rewritten to the bucket's name."""
        graph = self.template.dependency_graph
        seen, todo = {start}, [start]
        while todo:
            rid = todo.pop()
            for nxt in graph.get(rid, set()):
                if nxt == self.bid and rid not in self.cut:
                    return True
                if nxt != self.bid and nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return False

    def _cut_loop(self, dest: Destination, target: str) -> bool:
        """Rewrite the references to the bucket that make the destination wait for it (a role's
        policy naming the bucket, an environment variable holding its name) into values built
        from the bucket's name. False, with a report, when that cannot be done."""
        t = self.template
        graph = t.dependency_graph
        # resources the destination waits for (itself included) that refer to the bucket
        seen, todo = {target}, [target]
        while todo:
            for nxt in graph.get(todo.pop(), set()):
                if nxt != self.bid and nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        owners = sorted(x for x in seen if self.bid in graph.get(x, set()) and x not in self.cut)
        why = (f"Bucket {self.bid}: {dest.kind} {target} is created after the bucket, since "
               f"{', '.join(owners)} refer{'s' if len(owners) == 1 else ''} to it")
        if self.arn is None:
            self.reports.append(why + ", and the bucket has no BucketName to name it by instead; not changed")
            return False
        edits: list[Edit] = []
        done: set[tuple] = set()
        for r in t.references:
            if r.target != self.bid or r.section != "Resources" or r.owner not in owners or r.path in done:
                continue
            new = self._by_name(r)
            if new is None:
                what = "DependsOn" if r.kind == "DependsOn" else f"{r.kind} {r.attribute or ''}".strip()
                self.reports.append(why + f" ({r.owner} uses its {what}, which cannot be built from its name); not changed")
                return False
            done.add(r.path)
            edits.append(SetValue(r.path, new))
        self.cut.update(owners)
        self.edits += edits
        self.parts.append(f"name the bucket by its BucketName in {', '.join(owners)} instead of referring to it, "
                          f"since that made {target} wait for the bucket")
        return True

    def _by_name(self, r: Reference) -> Any:
        """The value of a reference to the bucket, built from its name (None when it cannot be)."""
        name = self.props.get("BucketName")
        if r.kind == "Ref":
            return name
        if r.kind == "GetAtt":
            return self.arn if r.attribute == "Arn" else None
        if r.kind != "Sub":
            return None
        text = _sub_text(name)
        arn = self.arn.get("Fn::Sub") if isinstance(self.arn, dict) else None
        value = _get(self.template.data, r.path)["Fn::Sub"]
        body = value[0] if isinstance(value, list) else value
        if text is None or not isinstance(arn, str) or not isinstance(body, str):
            return None
        pattern = re.compile(r"\$\{\s*" + re.escape(self.bid) + r"(\.[A-Za-z]+)?\s*\}")
        if any(m.group(1) not in (None, ".Arn") for m in pattern.finditer(body)):
            return None
        # A policy Resource that starts with the bucket's name means its ARN (a name there is a
        # MalformedPolicyDocument): write the ARN.
        in_resource = any(step in ("Resource", "NotResource") for step in r.path[-3:])
        body = pattern.sub(lambda m: arn if m.group(1) or (in_resource and m.start() == 0) else text, body)
        return sub([body, *value[1:]] if isinstance(value, list) else body)

    # ----- checks ----------------------------------------------------------------------------
    def _condition(self, target: str):
        """The condition a new permission takes (None for none); False, with a report, when the
        bucket and the destination exist under different conditions."""
        mine = self.bucket.get("Condition")
        theirs = self.template.resources[target].get("Condition")
        if theirs and theirs != mine:
            self.reports.append(f"Bucket {self.bid} notifies {target}, which exists only under condition {theirs}; "
                                "not changed")
            return False
        return mine

    def _can_wait(self, rid: str) -> bool:
        """True when the bucket may wait for ``rid``: a DependsOn on a resource that may not
        exist when the bucket does is an error (E3005)."""
        theirs = self.template.resources[rid].get("Condition")
        if theirs and theirs != self.bucket.get("Condition"):
            self.reports.append(f"Bucket {self.bid}: {rid} exists only under condition {theirs}, so the bucket "
                                "cannot wait for it; not changed")
            return False
        return True

    def _covers(self, source_arn: Any) -> bool:
        """True when a permission's SourceArn lets this bucket in (or may: when it cannot tell)."""
        if source_arn is None or self.template.refers_to(source_arn, self.bid):
            return True
        if any(self.template.refers_to(source_arn, b) for b in self.buckets if b != self.bid):
            return False
        mine = _arn_text(self.arn)
        theirs = _arn_text(source_arn)
        if mine is None or theirs is None:
            return True
        return fnmatch.fnmatchcase(mine, theirs) or mine == theirs

    def _covers_statement(self, statement: dict) -> bool:
        cond = statement.get("Condition")
        values = [v for op in (cond.values() if isinstance(cond, dict) else []) if isinstance(op, dict)
                  for k, v in op.items() if isinstance(k, str) and k.lower() == "aws:sourcearn"]
        return not values or any(self._covers(v) for v in values)

    def _rewrite_condition(self, statement: dict, spath: tuple) -> list[Edit]:
        out: list[Edit] = []
        cond = statement.get("Condition")
        for op, pairs in (cond.items() if isinstance(cond, dict) else []):
            for k, v in (pairs.items() if isinstance(pairs, dict) else []):
                if isinstance(k, str) and k.lower() == "aws:sourcearn" and self.template.refers_to(v, self.bid):
                    if self.arn is None:
                        self.reports.append(f"Bucket {self.bid}: a policy's aws:SourceArn names the bucket, which has no "
                                            "BucketName to build it from; not changed")
                        return []
                    out.append(SetValue(spath + ("Condition", op, k), self.arn))
        return out

    def _free_of_bucket(self, rid: str, *handled: tuple) -> bool:
        """True when ``rid`` refers to the bucket only at the ``handled`` paths (and DependsOn)."""
        for r in self.template.references:
            if r.owner != rid or r.section != "Resources" or r.kind == "DependsOn" or r.target != self.bid:
                continue
            if any(tuple(r.path[: len(h)]) == tuple(h) for h in handled):
                continue
            self.reports.append(f"Bucket {self.bid}: {rid} refers to the bucket at {'.'.join(map(str, r.path[2:]))}, "
                                "so it is created after it; not changed")
            return False
        others = [x for x in self.template.dependency_graph.get(rid, set()) if x != self.bid and self._reaches_bucket(x)]
        if others:
            self.reports.append(f"Bucket {self.bid}: {rid} waits for {', '.join(sorted(others))}, which is created after the "
                                "bucket; not changed")
            return False
        return True


def _sub_text(name: Any) -> str | None:
    """The bucket's name as text inside an Fn::Sub string."""
    if isinstance(name, str):
        return name.replace("${", "${!")
    if isinstance(name, dict) and len(name) == 1:
        if isinstance(name.get("Ref"), str):
            return "${" + name["Ref"] + "}"
        if isinstance(name.get("Fn::Sub"), str):
            return name["Fn::Sub"]
    return None


def _get(data: Any, path: tuple) -> Any:
    for step in path:
        data = data[step]
    return data


def _is_s3(principal: Any) -> bool:
    if isinstance(principal, str):
        return principal.startswith("s3.")
    if isinstance(principal, dict) and isinstance(principal.get("Fn::Sub"), str):
        return principal["Fn::Sub"].startswith("s3.")
    return False


def _governs(props: dict, dest: Destination, target: str) -> bool:
    """True when a queue or topic policy applies to ``target``."""
    if dest.policy_targets in props:
        items = props[dest.policy_targets]
        return isinstance(items, list) and any(ref_target(i) == target for i in items)
    return ref_target(props.get("TopicArn")) == target  # AWS::SNS::TopicInlinePolicy


def _allows_s3(statement: dict, dest: Destination) -> bool:
    if str(statement.get("Effect")) != "Allow":
        return False
    principal = statement.get("Principal")
    services = principal.get("Service") if isinstance(principal, dict) else None
    services = services if isinstance(services, list) else [services]
    if not any(_is_s3(s) for s in services):
        return False
    actions = statement.get("Action")
    actions = actions if isinstance(actions, list) else [actions]
    wanted = dest.action.lower()
    return any(isinstance(a, str) and fnmatch.fnmatchcase(wanted, a.lower()) for a in actions)


def _bucket_arn(template: Template, bid: str, name: Any) -> Any:
    """The bucket's ARN built from its BucketName, or None when the name is unknown before the
    bucket exists (absent, or computed from something created after the bucket)."""
    if name is None or name == "":
        return None
    found: list[Reference] = []
    collect((), name, found)
    for r in found:
        if r.target == bid or (r.target in template.resources and template.waits_for(r.target, bid)):
            return None
    prefix = "arn:${AWS::Partition}:s3:::"
    if isinstance(name, str):
        return sub(prefix + name.replace("${", "${!"))
    if isinstance(name, dict) and len(name) == 1:
        if isinstance(name.get("Ref"), str):
            return sub(prefix + "${" + name["Ref"] + "}")
        value = name.get("Fn::Sub")
        if isinstance(value, str):
            return sub(prefix + value)
        if isinstance(value, list) and value and isinstance(value[0], str):
            return sub([prefix + value[0], *value[1:]])
    return {"Fn::Join": ["", ["arn:", ref("AWS::Partition"), ":s3:::", name]]}


def _arn_text(value: Any) -> str | None:
    """A bucket ARN as comparable text: ``${AWS::Partition}`` reads ``aws``."""
    if isinstance(value, dict) and len(value) == 1 and isinstance(value.get("Fn::Sub"), str):
        value = value["Fn::Sub"]
    if not isinstance(value, str):
        return None
    return value.replace("${AWS::Partition}", "aws")


def _drop_source_arn(perm: str, props: dict) -> list[Edit]:
    """Drop a SourceArn that cannot be built from the bucket's name; the account scopes the
    permission instead (SourceAccount)."""
    path = ("Resources", perm, "Properties", "SourceArn")
    if "SourceAccount" in props:
        return [Delete(path)]
    return [SetValue(path, ref("AWS::AccountId")), RenameKey(path, "SourceAccount")]
