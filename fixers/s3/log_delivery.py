from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cfnfix.cloudformation import Template, ref, ref_target, sub
from cfnfix.fixing import Fix, Fixer, Report, Safety
from cfnfix.text.edits import Append, Delete, Edit, EditError, SetValue

BUCKET = "AWS::S3::Bucket"
BUCKET_POLICY = "AWS::S3::BucketPolicy"
ACLS_ALLOWED = ("BucketOwnerPreferred", "ObjectWriter")  # ObjectOwnership settings that keep ACLs
CANNED_ACLS_WITHOUT_ACLS = ("Private", "BucketOwnerFullControl")  # accepted when ACLs are disabled


@dataclass(frozen=True)
class Service:
    """A service that delivers logs into a bucket: how its statements are recognised and
    written, and whether a missing statement stops the deploy."""

    key: str
    label: str
    principals: tuple[str, ...]  # a statement naming one of these (as a substring) is its
    blocking: bool  # the consumer's creation fails without the statement
    aws_principal_counts: bool = False  # an AWS account principal (the region's ELB account) counts

    def present(self, statements: list) -> bool:
        for st in statements:
            if not isinstance(st, dict) or st.get("Effect") != "Allow":
                continue
            principal = st.get("Principal")
            text = str(principal.get("Service") if isinstance(principal, dict) else principal)
            if any(p in text for p in self.principals):
                return True
            if self.aws_principal_counts and isinstance(principal, dict) and "AWS" in principal and principal["AWS"] != "*":
                return True
        return False


ELB = Service("elb", "load balancer access logs", ("elasticloadbalancing", "logdelivery.elb", "delivery.logs"), True, True)
CLOUDTRAIL = Service("cloudtrail", "CloudTrail", ("cloudtrail",), True)
S3_ACCESS = Service("s3", "S3 server access logs", ("logging.s3",), False)
VENDED = Service("vended", "log delivery", ("delivery.logs",), False)


class LogDelivery(Fixer):
    code = "S3003"
    name = "log-delivery-bucket"
    summary = "Log bucket without the policy its delivering service needs, or with an ACL its disabled ACLs refuse"
    safety = Safety.SAFE
    default = True
    options = {"all_deliveries": False}
    docs = """
## What it does
For each `AWS::S3::Bucket` of the template that receives logs:

- `AccessControl: LogDeliveryWrite` on a bucket whose ACLs are disabled (no `OwnershipControls`,
  or `BucketOwnerEnforced`) is removed, and the bucket policy gets the statement that lets S3
  server access logs in, which is what that ACL was for;
- an Application (or Classic) Load Balancer writing access logs there
  (`access_logs.s3.bucket`, `AccessLoggingPolicy`), or a CloudTrail trail (`S3BucketName`),
  gets the statement its service needs in the bucket policy, when no statement names that
  service;
- the load balancer, trail or bucket that delivers the logs waits for the policy (`DependsOn`).

The policy is the bucket's `AWS::S3::BucketPolicy` (statements are appended) or a new one. The
statements are AWS's:

```json
{"Effect": "Allow", "Principal": {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
 "Action": "s3:PutObject",
 "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/prefix/AWSLogs/123456789012/*"}
```
(Elastic Load Balancing User Guide, "Enable access logs for your Application Load Balancer",
step 2), and

```json
{"Sid": "AWSCloudTrailAclCheck20150319", "Effect": "Allow",
 "Principal": {"Service": "cloudtrail.amazonaws.com"},
 "Action": "s3:GetBucketAcl", "Resource": "arn:aws:s3:::myBucketName"},
{"Sid": "AWSCloudTrailWrite20150319", "Effect": "Allow",
 "Principal": {"Service": "cloudtrail.amazonaws.com"},
 "Action": "s3:PutObject", "Resource": "arn:aws:s3:::myBucketName/[optional prefix]/AWSLogs/myAccountID/*",
 "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}}
```
(CloudTrail User Guide, "Amazon S3 bucket policy for CloudTrail"), and

```json
{"Sid": "S3ServerAccessLogsPolicy", "Effect": "Allow",
 "Principal": {"Service": "logging.s3.amazonaws.com"},
 "Action": ["s3:PutObject"], "Resource": "arn:aws:s3:::amzn-s3-demo-bucket/EXAMPLE-LOGGING-PREFIX*",
 "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::SOURCE-BUCKET-NAME"},
               "StringEquals": {"aws:SourceAccount": "SOURCE-AWS-ACCOUNT-ID"}}}
```
(S3 User Guide, "Enabling Amazon S3 server access logging"), without the `aws:SourceArn`
condition: naming the source bucket would make the policy wait for it while it waits for the
policy. With `all_deliveries`, VPC flow logs and Network Load Balancer logs get the statements
that log delivery attaches itself when it may (VPC User Guide, "Amazon S3 bucket permissions for
flow logs"):

```json
{"Sid": "AWSLogDeliveryWrite", "Effect": "Allow",
 "Principal": {"Service": "delivery.logs.amazonaws.com"},
 "Action": "s3:PutObject", "Resource": "arn:aws:s3:::bucket_name/optional_folder/AWSLogs/account_id/*",
 "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}},
{"Sid": "AWSLogDeliveryAclCheck", "Effect": "Allow",
 "Principal": {"Service": "delivery.logs.amazonaws.com"},
 "Action": "s3:GetBucketAcl", "Resource": "arn:aws:s3:::bucket_name"}
```

## Why it breaks deploys
Load balancers and CloudTrail fail when the bucket's policy does not let them write yet, and S3
refuses a log bucket's `LogDeliveryWrite` ACL, since new buckets have ACLs disabled. A load
balancer or trail checks that it may write into the bucket when it is configured: without the
statement (or with the policy created after it) the load balancer fails with "Access Denied for
bucket … Please check S3bucket permission" and the trail with "Incorrect S3 bucket policy is
detected for bucket". Since April 2023 new buckets are created with ACLs disabled
(`BucketOwnerEnforced`), and S3 refuses one with a canned ACL: "Bucket cannot have ACLs set
with ObjectOwnership's BucketOwnerEnforced setting".

## Example
```yaml
TrailBucket:
  Type: AWS::S3::Bucket
  Properties:
    AccessControl: LogDeliveryWrite
Trail:
  Type: AWS::CloudTrail::Trail
  Properties:
    IsLogging: true
    S3BucketName: !Ref TrailBucket
```
Use instead:
```yaml
TrailBucket:
  Type: AWS::S3::Bucket
TrailBucketPolicy:
  Type: AWS::S3::BucketPolicy
  Properties:
    Bucket: !Ref TrailBucket
    PolicyDocument:
      Version: "2012-10-17"
      Statement:
        - Sid: S3ServerAccessLogsPolicy
          Effect: Allow
          Principal: {Service: logging.s3.amazonaws.com}
          Action: s3:PutObject
          Resource: !Sub "${TrailBucket.Arn}/*"
          Condition:
            StringEquals: {aws:SourceAccount: !Ref AWS::AccountId}
        - Sid: AWSCloudTrailAclCheck20150319
          Effect: Allow
          Principal: {Service: cloudtrail.amazonaws.com}
          Action: s3:GetBucketAcl
          Resource: !GetAtt TrailBucket.Arn
        - Sid: AWSCloudTrailWrite20150319
          Effect: Allow
          Principal: {Service: cloudtrail.amazonaws.com}
          Action: s3:PutObject
          Resource: !Sub "${TrailBucket.Arn}/AWSLogs/${AWS::AccountId}/*"
          Condition:
            StringEquals: {s3:x-amz-acl: bucket-owner-full-control}
Trail:
  Type: AWS::CloudTrail::Trail
  DependsOn: TrailBucketPolicy
  Properties:
    IsLogging: true
    S3BucketName: !Ref TrailBucket
```

## Fix safety
Adding the statement a load balancer or trail of the template needs, and the `DependsOn`, is
safe: it is what the template meant. Removing `LogDeliveryWrite` is unsafe: the ACL let the S3
log delivery group write from any account, and the statement that replaces it admits only this
account's buckets (`aws:SourceAccount`); buckets of other accounts that log here need a
statement of their own. Other canned ACLs on a bucket whose ACLs are disabled (`PublicRead`…)
are reported: what replaces them is a decision (a public bucket policy, or CloudFront). An
organization trail, a policy cfnfix cannot read, or several policies for one bucket are
reported too.

## Options
- `all_deliveries` (default `false`): also add the statements of deliveries that do not stop a
  deploy when missing but lose the logs: S3 server access logs from other buckets of the
  template, VPC flow logs to S3 and Network Load Balancer access logs (log delivery attaches its
  policy itself when the deploying role may, and a bucket policy of the template replaces it on
  the next update).

## References
- [Enable access logs for your Application Load Balancer](https://docs.aws.amazon.com/elasticloadbalancing/latest/application/enable-access-logging.html)
- [Amazon S3 bucket policy for CloudTrail](https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html)
- [Enabling Amazon S3 server access logging](https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html)
- [Controlling ownership of objects and disabling ACLs](https://docs.aws.amazon.com/AmazonS3/latest/userguide/about-object-ownership.html)
- [Publish flow logs to Amazon S3](https://docs.aws.amazon.com/vpc/latest/userguide/flow-logs-s3.html)
"""

    def run(self, template: Template):
        every = bool(self.config.get("all_deliveries"))
        consumers = _consumers(template)
        for bid, bucket, props in template.resources_of_type(BUCKET):
            mine = [c for c in consumers if c.bucket == bid and (c.service.blocking or every)]
            acl = props.get("AccessControl")
            acl_off = _acls_disabled(props)
            path = ("Resources", bid)
            if isinstance(acl, str) and acl not in CANNED_ACLS_WITHOUT_ACLS + ("LogDeliveryWrite",) and acl_off:
                yield Report(f"Bucket {bid}: AccessControl {acl} is refused on a bucket whose ACLs are disabled; "
                             "replace it with a bucket policy (or OwnershipControls that enable ACLs)", ("Resources", bid, "Properties", "AccessControl"))
            drop_acl = acl == "LogDeliveryWrite" and acl_off
            if not mine and not drop_acl:
                continue
            try:
                fix = _fix_bucket(template, bid, mine, drop_acl, every)
            except _Skip as e:
                yield Report(f"Bucket {bid}: {e}; not changed", path)
                continue
            if fix is not None:
                yield fix


class _Skip(Exception):
    pass


@dataclass
class _Consumer:
    rid: str
    bucket: str
    service: Service
    prefix: Any  # literal text, an intrinsic, or None


def _consumers(template: Template) -> list[_Consumer]:
    out: list[_Consumer] = []
    for rid, _, props in template.resources_of_type("AWS::ElasticLoadBalancingV2::LoadBalancer"):
        attrs = {a.get("Key"): a.get("Value") for a in props.get("LoadBalancerAttributes") or [] if isinstance(a, dict)}
        if str(attrs.get("access_logs.s3.enabled")).lower() != "true":
            continue
        bucket = ref_target(attrs.get("access_logs.s3.bucket"))
        kind = props.get("Type", "application")
        service = ELB if kind == "application" else VENDED if kind == "network" else None
        if bucket and service:
            out.append(_Consumer(rid, bucket, service, attrs.get("access_logs.s3.prefix")))
    for rid, _, props in template.resources_of_type("AWS::ElasticLoadBalancing::LoadBalancer"):
        policy = props.get("AccessLoggingPolicy")
        if isinstance(policy, dict) and str(policy.get("Enabled")).lower() == "true":
            bucket = ref_target(policy.get("S3BucketName"))
            if bucket:
                out.append(_Consumer(rid, bucket, ELB, policy.get("S3BucketPrefix")))
    for rid, _, props in template.resources_of_type("AWS::CloudTrail::Trail"):
        bucket = ref_target(props.get("S3BucketName"))
        if bucket:
            out.append(_Consumer(rid, bucket, CLOUDTRAIL, props.get("S3KeyPrefix")))
    for rid, _, props in template.resources_of_type(BUCKET):
        logging = props.get("LoggingConfiguration")
        bucket = ref_target(logging.get("DestinationBucketName")) if isinstance(logging, dict) else None
        if bucket:
            out.append(_Consumer(rid, bucket, S3_ACCESS, logging.get("LogFilePrefix")))
    for rid, _, props in template.resources_of_type("AWS::EC2::FlowLog"):
        if props.get("LogDestinationType") == "s3":
            dest = props.get("LogDestination")
            bucket, prefix = ref_target(dest), None
            text = dest.get("Fn::Sub") if isinstance(dest, dict) and len(dest) == 1 else None
            if bucket is None and isinstance(text, str) and text.startswith("${") and ".Arn}" in text:
                bucket = text[2 : text.index(".Arn}")]
                prefix = text[text.index(".Arn}") + 5 :].strip("/") or None
                prefix = {"Fn::Sub": "*"} if prefix and "$" in prefix else prefix  # unknown: the whole bucket
            if bucket:
                out.append(_Consumer(rid, bucket, VENDED, prefix))
    return [c for c in out if template.resource_type(c.bucket) == BUCKET]


def _acls_disabled(props: dict) -> bool:
    controls = props.get("OwnershipControls")
    rules = controls.get("Rules") if isinstance(controls, dict) else None
    settings = [r.get("ObjectOwnership") for r in rules if isinstance(r, dict)] if isinstance(rules, list) else []
    return not any(s in ACLS_ALLOWED for s in settings) and not any(isinstance(s, dict) for s in settings)


def _fix_bucket(template: Template, bid: str, consumers: list[_Consumer], drop_acl: bool, every: bool) -> Fix | None:
    policies = [(pid, props) for pid, _, props in template.resources_of_type(BUCKET_POLICY) if ref_target(props.get("Bucket")) == bid]
    if len(policies) > 1:
        raise _Skip(f"it has several bucket policies ({', '.join(p for p, _ in policies)})")
    statements: list = []
    pid = None
    if policies:
        pid, pprops = policies[0]
        doc = pprops.get("PolicyDocument")
        statements = doc.get("Statement") if isinstance(doc, dict) else None
        if isinstance(statements, dict):
            statements = [statements]
        if not isinstance(statements, list):
            raise _Skip(f"its bucket policy {pid} is not a list of statements cfnfix can read")
    edits: list[Edit] = []
    parts: list[str] = []
    new: list[dict] = []
    unsafe = False
    sids = {s.get("Sid") for s in statements if isinstance(s, dict)}
    if drop_acl:
        edits.append(Delete(("Resources", bid, "Properties", "AccessControl")))
        unsafe = True
        parts.append("remove AccessControl LogDeliveryWrite, which a bucket with ACLs disabled refuses")
        if not S3_ACCESS.present(statements):
            sources = [c for c in _consumers(template) if c.bucket == bid and c.service is S3_ACCESS]
            new += _s3_access(bid, [c.prefix for c in sources], sids)
            parts.append("let S3 server access logs in with a bucket policy statement instead")
    added: set[Service] = set()
    for c in consumers:
        if c.service in added or c.service.present(statements) or (c.service is S3_ACCESS and drop_acl):
            continue
        if c.service is CLOUDTRAIL and str(template.resources[c.rid]["Properties"].get("IsOrganizationTrail")).lower() == "true":
            raise _Skip(f"organization trail {c.rid} needs the organization's statements too")
        added.add(c.service)
        if c.service is ELB:
            new += _elb(bid, [x.prefix for x in consumers if x.service is ELB], sids)
        elif c.service is CLOUDTRAIL:
            new += _cloudtrail(bid, [x.prefix for x in consumers if x.service is CLOUDTRAIL], sids)
        elif c.service is S3_ACCESS:
            new += _s3_access(bid, [x.prefix for x in consumers if x.service is S3_ACCESS], sids)
        else:
            new += _vended(bid, [x.prefix for x in consumers if x.service is VENDED], sids)
        users = ", ".join(dict.fromkeys(x.rid for x in consumers if x.service is c.service))
        parts.append({ELB: f"add the statement that lets load balancer {users} write its access logs",
                      CLOUDTRAIL: f"add the statements that let trail {users} deliver its logs",
                      S3_ACCESS: f"add the statement that lets the server access logs of {users} in",
                      VENDED: f"add the statements that let log delivery write the logs of {users}"}[c.service])
    name = pid
    if new:
        if pid is None:
            name = template.unique_id(f"{bid}Policy")
            body = {"Type": BUCKET_POLICY}
            condition = template.resources[bid].get("Condition")
            if condition:
                body["Condition"] = condition
            body["Properties"] = {"Bucket": ref(bid), "PolicyDocument": {"Version": "2012-10-17", "Statement": new}}
            edits.append(template.add_resource(name, body, after=bid))
            parts[-1] += f" in a new bucket policy {name}"
        else:
            base = ("Resources", pid, "Properties", "PolicyDocument", "Statement")
            current = template.resources[pid]["Properties"]["PolicyDocument"]["Statement"]
            if isinstance(current, dict):
                edits.append(SetValue(base, [current, *new]))
            else:
                edits += [Append(base, st) for st in new]
            parts[-1] += f" to bucket policy {pid}"
    # the deliverers wait for the policy
    waiting = []
    if name is not None:
        for c in consumers + ([c for c in _consumers(template) if c.bucket == bid and c.service is S3_ACCESS] if drop_acl else []):
            if c.rid in waiting or c.rid == bid or (pid and template.waits_for(c.rid, pid)):
                continue
            if pid and template.waits_for(pid, c.rid):
                continue  # the policy names the deliverer: it cannot wait for the policy
            policy_condition = template.resources[bid].get("Condition") if pid is None else template.resources[pid].get("Condition")
            if policy_condition and policy_condition != template.resources[c.rid].get("Condition"):
                continue  # the policy may not exist when the deliverer does: no DependsOn on it (E3005)
            waiting.append(c.rid)
            try:
                edits += template.add_dependencies(c.rid, [name])
            except EditError as e:
                raise _Skip(str(e)) from None
    if waiting:
        parts.append(f"make {', '.join(waiting)} wait for bucket policy {name}")
    if not edits:
        return None
    return Fix(f"Bucket {bid}: " + "; ".join(parts), edits, ("Resources", bid), safety=Safety.UNSAFE if unsafe else None)


# ----- AWS's statements ------------------------------------------------------------------------
def _sid(base: str, sids: set) -> str:
    sid, n = base, 2
    while sid in sids:
        sid, n = f"{base}{n}", n + 1
    sids.add(sid)
    return sid


def _prefix_text(prefixes: list) -> str | None:
    """One prefix as Fn::Sub text ('' for none); None when they differ or cannot be written."""
    texts = set()
    for p in prefixes:
        if p is None or p == "":
            texts.add("")
        elif isinstance(p, str):
            texts.add(p.strip("/").replace("${", "${!") + "/")
        elif isinstance(p, dict) and isinstance(p.get("Ref"), str) and len(p) == 1:
            texts.add("${" + p["Ref"] + "}/")
        else:
            return None
    return texts.pop() if len(texts) == 1 else None


def _objects(bid: str, prefixes: list, tail: str) -> dict:
    prefix = _prefix_text(prefixes)
    if prefix is None:
        return sub("${%s.Arn}/*" % bid)
    return sub("${%s.Arn}/%s%s" % (bid, prefix, tail))


def _elb(bid: str, prefixes: list, sids: set) -> list[dict]:
    return [{"Sid": _sid("AllowELBAccessLogs", sids), "Effect": "Allow",
             "Principal": {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"},
             "Action": "s3:PutObject", "Resource": _objects(bid, prefixes, "AWSLogs/${AWS::AccountId}/*")}]


def _cloudtrail(bid: str, prefixes: list, sids: set) -> list[dict]:
    return [
        {"Sid": _sid("AWSCloudTrailAclCheck20150319", sids), "Effect": "Allow",
         "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:GetBucketAcl",
         "Resource": {"Fn::GetAtt": [bid, "Arn"]}},
        {"Sid": _sid("AWSCloudTrailWrite20150319", sids), "Effect": "Allow",
         "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:PutObject",
         "Resource": _objects(bid, prefixes, "AWSLogs/${AWS::AccountId}/*"),
         "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}},
    ]


def _s3_access(bid: str, prefixes: list, sids: set) -> list[dict]:
    prefix = _prefix_text(prefixes) if prefixes else ""
    resource = sub("${%s.Arn}/%s*" % (bid, prefix or ""))
    return [{"Sid": _sid("S3ServerAccessLogsPolicy", sids), "Effect": "Allow",
             "Principal": {"Service": "logging.s3.amazonaws.com"}, "Action": "s3:PutObject",
             "Resource": resource,
             "Condition": {"StringEquals": {"aws:SourceAccount": ref("AWS::AccountId")}}}]


def _vended(bid: str, prefixes: list, sids: set) -> list[dict]:
    return [
        {"Sid": _sid("AWSLogDeliveryWrite", sids), "Effect": "Allow",
         "Principal": {"Service": "delivery.logs.amazonaws.com"}, "Action": "s3:PutObject",
         "Resource": _objects(bid, prefixes, "AWSLogs/${AWS::AccountId}/*"),
         "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}},
        {"Sid": _sid("AWSLogDeliveryAclCheck", sids), "Effect": "Allow",
         "Principal": {"Service": "delivery.logs.amazonaws.com"}, "Action": "s3:GetBucketAcl",
         "Resource": {"Fn::GetAtt": [bid, "Arn"]}},
    ]
