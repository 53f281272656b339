"""What the speed work must keep: the same output, computed with less. Behaviour only (counts of
calls, equal outputs), never timings: bench/benchmark.py prints those."""

from __future__ import annotations

import json

import deepdiff
import pytest
from click.testing import CliRunner

from cfnfix.cli import main

BROKEN = """AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Topic:
    Type: AWS::SNS::Topic
Outputs:
  TopicArn:
    Value: !Ref Topic
    Export: {}
"""


@pytest.fixture
def diffs(monkeypatch):
    """How many times deepdiff compares data (an explanation's cost)."""
    calls = []
    real = deepdiff.DeepDiff

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(deepdiff, "DeepDiff", counting)
    return calls


def cli(*args):
    return CliRunner().invoke(main, ["--validator", "none", *map(str, args)], catch_exceptions=False)


@pytest.fixture
def tpl(tmp_path):
    p = tmp_path / "stack.yaml"
    p.write_text(BROKEN)
    return p


def test_the_default_output_explains_each_fix(tpl, diffs):
    r = cli(tpl)
    assert r.exit_code == 1 and "+ Outputs.TopicArn.Export.Name" in r.output
    assert len(diffs) == 1


@pytest.mark.parametrize("args", [["-q"], ["--diff"], ["--format", "sarif"], ["--statistics"], ["--statistics", "--format", "json"],
                                  ["--check", "-q"], ["--write", "--no-show-fixes"]])
def test_no_explanation_is_computed_when_nothing_prints_it(tpl, diffs, args):
    r = cli(*args, tpl)
    assert r.exit_code in (0, 1)
    assert diffs == []
    assert "+ Outputs.TopicArn.Export.Name" not in r.output


def test_sarif_keeps_each_fix_with_its_message_and_why(tpl, diffs):
    r = cli("--format", "sarif", tpl)
    results = json.loads(r.output)["runs"][0]["results"]
    assert [x["ruleId"] for x in results] == ["OUT001"]
    assert results[0]["message"]["text"] == "Output TopicArn: add Export Name `${AWS::StackName}-TopicArn`. `Export.Name` is required."
    assert diffs == []


def test_sarif_is_the_same_with_or_without_the_explanation(tpl):
    from cfnfix.fixing.engine import build_fixers, fix_document
    from cfnfix.reports.diff import unified_diff
    from cfnfix.reports.explanation import file_record
    from cfnfix.reports.sarif import render_sarif

    result = fix_document(BROKEN, "stack.yaml", build_fixers())
    full = file_record(result, "stack.yaml", unified_diff(result, "stack.yaml"))
    assert full["changes"][0]["details"]
    assert render_sarif([full], []) == render_sarif([file_record(result, "stack.yaml", None, explain=False)], [])


def test_json_and_markdown_still_explain(tpl, diffs):
    record = json.loads(cli("--format", "json", tpl).output)["files"][0]
    assert record["changes"][0]["details"] == [{"kind": "added", "path": ["Outputs", "TopicArn", "Export", "Name"],
                                                "new": {"Fn::Sub": "${AWS::StackName}-TopicArn"}}]
    assert "diff" in record
    assert "`+ Outputs.TopicArn.Export.Name" in cli("--format", "markdown", tpl).output
    assert len(diffs) == 2
