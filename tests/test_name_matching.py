"""What "exactly one close candidate" means for TYPE001, REF001 and REF002, and how
scripts/lint_delta.py decides that a fix introduced a cfn-lint finding."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from cfnfix.fixers.references.getatt import attribute_meant
from cfnfix.fixers.resources._facts import close_names, expanded_later, type_facts
from cfnfix.fixers.resources.resource_type import type_candidates


def test_close_names_rules_in_order():
    assert close_names("VPCId", ["VpcId", "Vpc"]) == ["VpcId"]  # case
    assert close_names("Vpc_Id", ["VpcId"]) == ["VpcId"]  # _ and -
    assert close_names("DatabaseSecurtyGroup", ["DatabaseSecurityGroup"]) == ["DatabaseSecurityGroup"]  # one letter
    assert close_names("AppBucketPolcy", ["AppBucketPolicy", "AppBucketPolicies"]) == ["AppBucketPolicy"]  # closest only
    assert close_names("Rol", ["Role"]) == []  # too short for a distance match
    assert close_names("Subnet3", ["Subnet1"]) == []  # digits differ


def test_close_names_never_a_sibling_or_a_guess_between_two():
    assert close_names("PrivateSubnetB", ["PrivateSubnetA"]) == []
    assert close_names("PublicSubnet", ["PublicSubnetA"]) == []
    assert close_names("AppSubnet", ["AppSubnets"]) == []
    assert close_names("Bucketx", ["Buckets", "Bucket1x"]) == ["Buckets"]  # Bucket1x: other digits
    assert close_names("Queux", ["Queue", "Queuy"]) == ["Queue", "Queuy"]  # two: the caller reports


def test_attribute_meant():
    queue, topic, table = (type_facts(t) for t in ("AWS::SQS::Queue", "AWS::SNS::Topic", "AWS::DynamoDB::Table"))
    assert attribute_meant("ARN", "AWS::SQS::Queue", queue) == "Arn"
    assert attribute_meant("QueueArn", "AWS::SQS::Queue", queue) == "Arn"
    assert attribute_meant("Arn", "AWS::SNS::Topic", topic) == "TopicArn"
    assert attribute_meant("TableName", "AWS::DynamoDB::Table", table) == ""  # what Ref returns
    assert attribute_meant("Nothing", "AWS::DynamoDB::Table", table) == []


def test_type_candidates():
    assert type_candidates("aws::s3::bucket")[0] == ["AWS::S3::Bucket"]
    assert type_candidates("AWS::S3::Buckets")[0] == ["AWS::S3::Bucket"]
    assert type_candidates("AWS::EC2::SecurityGroupIngres")[0] == ["AWS::EC2::SecurityGroupIngress"]
    assert type_candidates("AWS::S3::Object")[0] == []


def test_expanded_later():
    import json

    from cfnfix.cloudformation import Template, parse_template

    def later(data, **kw):
        return expanded_later(Template(parse_template(json.dumps(data), "t.json")), **kw)

    assert later({"Transform": "AWS::Serverless-2016-10-31", "Resources": {}})
    assert not later({"Transform": "AWS::Serverless-2016-10-31", "Resources": {}}, transforms_allowed=True)
    assert later({"Resources": {"N": {"Type": {"Rain::Module": "vpc.yml"}}}})
    assert later({"Resources": {"N": {"Type": "My::Vpc::Network::MODULE"}}})
    assert later({"Resources": {"N": {"Type": "AWS::SNS::Topic", "Properties": {"Fn::Transform": {"Name": "M"}}}}})
    assert not later({"Resources": {"N": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "Fn::Transform"}}}})


def _lint_delta():
    path = Path(__file__).resolve().parent.parent / "scripts" / "lint_delta.py"
    spec = importlib.util.spec_from_file_location("lint_delta", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_lint_delta_counts_and_introduced_findings():
    ld = _lint_delta()
    before = [["E3002", "E", "Resources/Bucket", 2], ["E3004", "E", "Resources/Role", 1]]
    after = [["E3002", "E", "Resources/Bucket", 1], ["W3011", "W", "Resources/Bucket", 1], ["E3004", "E", "Resources/Role", 2]]
    assert ld.introduced(before, after) == ["E3004 at Resources/Role", "W3011 at Resources/Bucket"]
    recs = [{"id": "t1", "changed": True, "before": before, "after": after}, {"id": "t2", "changed": False, "before": [], "after": []}]
    text = ld.summarize(recs, use_validate=False)
    assert "E3002       2 ->     1   -1" in text and "E3004       1 ->     2   +1" in text
    assert "introduced (any level): 2 in 1 templates" in text and "t1: E3004 at Resources/Role, W3011 at Resources/Bucket" in text
