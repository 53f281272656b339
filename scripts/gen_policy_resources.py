"""Generate fixers/iam/data/policy_resources.json, the table IAM001
(fixers/iam/policy_resource_arn.py) uses to tell a policy ``Resource`` that names a resource by
its name, URL or id (what ``Ref`` returns) from one that gives its ARN.

Sources, both bundled with cfn-lint (a development dependency only):

- the CloudFormation resource provider schemas (cfnlint/data/schemas): ``Ref`` returns a
  resource's primary identifier (cfn-lint reads it the same way, cfnlint/schema/_ref.py). A type
  is listed when that identifier is a single property that is not an ARN (its name does not end
  in ``Arn``, its pattern does not start with ``arn:``) and the type has a read-only ``Arn``
  attribute to use instead. Identifiers called just ``Id``/``Identifier`` without a pattern are
  left out: for some of those types (AWS App Mesh…) ``Ref`` returns the ARN, and the schema
  cannot tell which.
- the IAM service reference (cfnlint/data/AdditionalSpecs/Policies.json): the action prefixes
  of each service, and which Amazon S3 actions act on a bucket and which on objects.

A type's ``services`` are the IAM action prefixes whose resources it is: its namespace in lower
case (``AWS::SQS::Queue`` -> ``sqs``) when that is a service of Policies.json, else the prefix
of ALIASES. A type without one is listed with no services (IAM001 then reports, not fixes).

ARN_TEMPLATES holds, for the few types whose ``Arn`` attribute is not the name's ARN followed by
nothing (a log group's ends with ``:*``), the ARN of a name as an ``Fn::Sub`` string, ``{}`` for
the name (from the types' documentation pages, linked beside each entry).

Refresh after upgrading cfn-lint::

    .venv/bin/python scripts/gen_policy_resources.py

Table format (JSON)::

    {"source": "...", "generated": "YYYY-MM-DD",
     "types": {"AWS::S3::Bucket": {"ref": "BucketName", "services": ["s3"]}, ...},
     "arn_templates": {"AWS::Logs::LogGroup": "arn:${AWS::Partition}:logs:...:log-group:{}"},
     "s3_actions": {"bucket": ["listbucket", ...], "object": ["getobject", ...]}}
"""

from __future__ import annotations

import datetime
import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "fixers" / "iam" / "data" / "policy_resources.json"

# CloudFormation namespace -> IAM action prefixes, where the lower-cased namespace is not one.
ALIASES = {
    "StepFunctions": ["states"],
    "KinesisFirehose": ["firehose"],
    "Elasticsearch": ["es"],
    "OpenSearchService": ["es"],
    "OpenSearchServerless": ["aoss"],
    "ElasticLoadBalancingV2": ["elasticloadbalancing"],
    "CertificateManager": ["acm"],
    "Cognito": ["cognito-idp", "cognito-identity"],
    "EFS": ["elasticfilesystem"],
    "AmazonMQ": ["mq"],
    "EMR": ["elasticmapreduce"],
    "EMRServerless": ["emr-serverless"],
    "EMRContainers": ["emr-containers"],
    "Location": ["geo"],
    "Pinpoint": ["mobiletargeting"],
    "ResourceGroups": ["resource-groups"],
    "SMSVOICE": ["sms-voice"],
    "MWAA": ["airflow"],
    "CodeGuruProfiler": ["codeguru-profiler"],
    "KendraRanking": ["kendra-ranking"],
    "ServiceCatalogAppRegistry": ["servicecatalog"],
    "RefactorSpaces": ["refactor-spaces"],
    "Macie": ["macie2"],
    "S3ObjectLambda": ["s3-object-lambda"],
    "WorkSpacesThinClient": ["thinclient"],
    "DevOpsAgent": [],
}

ARN_TEMPLATES = {
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-logs-loggroup.html
    # (Fn::GetAtt Arn: "arn:aws:logs:us-west-1:123456789012:log-group:/mystack-testgroup-12ABC1AB12A1:*")
    "AWS::Logs::LogGroup": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:{}",
}


def data_dir() -> Path:
    import cfnlint

    return Path(cfnlint.__file__).parent / "data"


def main() -> int:
    base = data_dir()
    schemas = base / "schemas"
    policies = json.loads((base / "AdditionalSpecs" / "Policies.json").read_text())
    by_type: dict[str, str] = {}
    for provider in sorted((schemas / "providers").glob("*.json")):
        if provider.name == "sam.json":
            continue
        for rtype, digest in json.loads(provider.read_text()).items():
            by_type.setdefault(rtype, digest)
    types: dict[str, dict] = {}
    for rtype in sorted(by_type):
        schema = json.loads((schemas / "resources" / f"{by_type[rtype]}.json").read_text())
        ids = schema.get("primaryIdentifier") or []
        if len(ids) != 1 or not ids[0].startswith("/properties/") or ids[0].count("/") != 2:
            continue
        ref = ids[0].split("/")[2]
        props = schema.get("properties") or {}
        readonly = {p.split("/")[2] for p in schema.get("readOnlyProperties", ()) if p.count("/") == 2}
        if "Arn" not in props or "Arn" not in readonly or ref.lower().endswith("arn"):
            continue
        spec = props.get(ref) or {}
        pattern = str(spec.get("pattern") or "")
        if pattern.lstrip("^(").startswith("arn") or "Arn" in str(spec.get("format") or ""):
            continue
        if ref in ("Id", "Identifier") and not pattern:
            continue
        namespace = rtype.split("::")[1]
        services = ALIASES.get(namespace)
        if services is None:
            services = [namespace.lower()] if namespace.lower() in policies else []
        missing = [s for s in services if s not in policies]
        if missing:
            raise SystemExit(f"{rtype}: {missing} not in Policies.json; update ALIASES")
        types[rtype] = {"ref": ref, "services": services}
    for rtype in ARN_TEMPLATES:
        if rtype not in types:
            raise SystemExit(f"{rtype} has an ARN template but is not in the table")
    s3 = policies["s3"]["Actions"]
    kinds = {"bucket": [], "object": []}
    for action, spec in sorted(s3.items()):
        resources = set(spec.get("Resources") or ())
        if "object" in resources:
            kinds["object"].append(action)
        elif "bucket" in resources:
            kinds["bucket"].append(action)
    import cfnlint.version

    version = schemas / "version.json"
    date = json.loads(version.read_text()).get("schema_date", "") if version.exists() else ""
    table = {
        "source": f"cfn-lint {cfnlint.version.__version__} resource schemas {date} and AdditionalSpecs/Policies.json".replace("  ", " "),
        "generated": datetime.date.today().isoformat(),
        "types": types,
        "arn_templates": ARN_TEMPLATES,
        "s3_actions": kinds,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(table, indent=1, sort_keys=False) + "\n")
    print(f"{OUT}: {len(types)} types, {len(kinds['bucket'])} bucket and {len(kinds['object'])} object actions of S3",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
