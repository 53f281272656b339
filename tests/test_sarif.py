"""--format sarif: a real run over a folder of templates, checked against SARIF 2.1.0's required
structure (the parts GitHub code scanning reads: rules, results, uri, region)."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from click.testing import CliRunner

from cfnfix.cli import main
from cfnfix.fixing.registry import get_fixer

STACK = """AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties:
      CidrBlock: 10.0.0.0/16
  AppGroup:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: app
      VpcId: !Ref Vpc
      SecurityGroupEgress:
        - IpProtocol: tcp
          FromPort: 5432
          ToPort: 5432
          DestinationSecurityGroupId: !Ref DbGroup
  DbGroup:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: db
      VpcId: !Ref Vpc
      SecurityGroupIngress:
        - IpProtocol: tcp
          FromPort: 5432
          ToPort: 5432
          SourceSecurityGroupId: !Ref AppGroup
Outputs:
  DbGroupId:
    Value: !Ref DbGroup
    Export: {}
"""
KMS = """{
  "Resources": {
    "Key": {"Type": "AWS::KMS::Key"},
    "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"KmsKeyId": {"Fn::GetAtt": ["Key", "Arn"]}}}
  }
}
"""
BROKEN = '{"Resources": {"A": 1 2}}\n'
LEVELS = {"none", "note", "warning", "error"}


@pytest.fixture
def infra(tmp_path, monkeypatch):
    d = tmp_path / "infra"
    d.mkdir()
    (d / "stack.yaml").write_text(STACK)
    (d / "kms key.json").write_text(KMS)
    (d / "broken.json").write_text(BROKEN)
    (d / "notes.yaml").write_text("just: yaml\n")
    (tmp_path / ".cfnfix.toml").write_text('[options.EC2001]\nstrategy = "cidr"\n')  # EC2001's unsafe strategy
    monkeypatch.chdir(tmp_path)
    return d


def sarif(*args) -> tuple[int, dict]:
    r = CliRunner().invoke(main, ["--format", "sarif", *map(str, args)], catch_exceptions=False)
    return r.exit_code, json.loads(r.stdout)


def check_structure(log: dict, root: Path) -> list[dict]:
    """The required properties of SARIF 2.1.0 (and what code scanning needs); returns the results."""
    assert log["version"] == "2.1.0" and "sarif-2.1.0" in log["$schema"]
    (run,) = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "cfnfix" and driver["version"]
    rule_ids = [r["id"] for r in driver["rules"]]
    assert len(rule_ids) == len(set(rule_ids))
    for rule in driver["rules"]:
        cls = get_fixer(rule["id"])
        assert rule["shortDescription"]["text"] == cls.summary
        assert rule["help"]["text"] and rule["help"]["markdown"] == cls.docs.strip()
        assert "## Why it breaks deploys" in rule["help"]["markdown"]
        assert rule["defaultConfiguration"]["level"] in LEVELS
    bases = run["originalUriBaseIds"]
    for result in run["results"]:
        assert result["ruleId"] in rule_ids and rule_ids[result["ruleIndex"]] == result["ruleId"]
        assert result["level"] in LEVELS and result["message"]["text"]
        (loc,) = result["locations"]
        check_location(loc, bases, root)
    for invocation in run["invocations"]:
        assert isinstance(invocation["executionSuccessful"], bool)
        for note in invocation["toolExecutionNotifications"]:
            assert note["message"]["text"] and note["level"] in LEVELS
            check_location(note["locations"][0], bases, root)
    return run["results"]


def check_location(loc: dict, bases: dict, root: Path) -> None:
    artifact = loc["physicalLocation"]["artifactLocation"]
    region = loc["physicalLocation"]["region"]
    assert region["startLine"] >= 1 and region["startColumn"] >= 1
    assert not artifact["uri"].startswith(("/", "./")) and "\\" not in artifact["uri"]
    base = urlparse(bases[artifact["uriBaseId"]]["uri"])
    assert base.scheme == "file" and Path(unquote(base.path)) == root
    assert (root / unquote(artifact["uri"])).is_file()


def by_code(results: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in results:
        out.setdefault(r["ruleId"], []).append(r)
    return out


def region(result: dict) -> tuple[str, int, int]:
    loc = result["locations"][0]["physicalLocation"]
    return loc["artifactLocation"]["uri"], loc["region"]["startLine"], loc["region"]["startColumn"]


def test_sarif_of_a_dry_run(infra, tmp_path):
    code, log = sarif("infra")
    assert code == 2  # broken.json is not a parseable template
    results = by_code(check_structure(log, tmp_path))
    assert set(results) == {"OUT001", "EC2001", "KMS001"}
    (out,) = results["OUT001"]
    assert out["level"] == "error" and region(out) == ("infra/stack.yaml", 30, 5)
    assert out["message"]["text"].startswith("Output DbGroupId: add Export Name") and "is required" in out["message"]["text"]
    assert out["properties"] == {"kind": "fix", "safety": "safe"}
    (ec2,) = results["EC2001"]
    assert ec2["level"] == "error" and ec2["properties"]["safety"] == "unsafe" and region(ec2)[0] == "infra/stack.yaml"
    (kms,) = results["KMS001"]
    assert kms["level"] == "warning" and kms["properties"] == {"kind": "finding"}
    assert region(kms)[0] == "infra/kms%20key.json" and "needs a person" in kms["message"]["text"]
    (invocation,) = log["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    (note,) = invocation["toolExecutionNotifications"]
    assert note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "infra/broken.json"
    assert note["locations"][0]["physicalLocation"]["region"] == {"startLine": 1, "startColumn": 23}


def test_safe_only_reports_the_unsafe_fix_as_a_warning(infra, tmp_path):
    (infra / "broken.json").unlink()
    code, log = sarif("--safe-only", "infra")
    assert code == 1
    results = by_code(check_structure(log, tmp_path))
    (ec2,) = results["EC2001"]
    assert ec2["level"] == "warning" and ec2["properties"] == {"kind": "available", "safety": "unsafe"}
    assert "--safe-only" in ec2["message"]["text"]
    assert results["OUT001"][0]["level"] == "error"
    assert log["runs"][0]["invocations"][0]["executionSuccessful"] is True


def test_after_write_only_what_is_left_is_reported(infra, tmp_path):
    (infra / "broken.json").unlink()
    code, log = sarif("--write", "--safe-only", "infra")
    assert code == 1  # the unsafe fix is still available
    results = by_code(check_structure(log, tmp_path))
    assert set(results) == {"EC2001", "KMS001"} and results["EC2001"][0]["properties"]["kind"] == "available"
    assert "Name: !Sub" in (infra / "stack.yaml").read_text()
    code, log = sarif("--write", "infra")
    assert code == 0  # everything fixable is fixed; KMS001's finding (which needs a person) is still reported
    assert set(by_code(check_structure(log, tmp_path))) == {"KMS001"}


def test_nothing_to_report(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("ok.yaml").write_text("Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n")
    code, log = sarif("ok.yaml")
    assert code == 0 and check_structure(log, tmp_path) == [] and log["runs"][0]["tool"]["driver"]["rules"] == []


def test_absolute_paths_become_relative_to_the_working_directory(infra, tmp_path):
    (infra / "broken.json").unlink()
    _, log = sarif(infra.resolve() / "stack.yaml")
    assert {region(r)[0] for r in check_structure(log, tmp_path)} == {"infra/stack.yaml"}
