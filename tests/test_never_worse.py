"""Never worse: no golden output gains a cfn-lint error or warning its input did not have
(compared by rule and by resource, since line numbers move), and on real runs the validator
refuses exactly the fixes that would add a finding while the others still apply."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import cfnfix
from cfnfix.cli import main
from cfnfix.fixing import Fix, Fixer, Safety
from cfnfix.fixing.engine import fix_document
from cfnfix.fixing.verify import Checker, LintUnavailable, ValidateChecker, make_checker
from cfnfix.text.edits import Delete, Insert, SetValue
from golden import cases, read

CHANGED = [c for c in cases() if c.expected.exists() and read(c.expected) != read(c.input)]


@pytest.mark.parametrize("case", CHANGED, ids=[c.id for c in CHANGED])
def test_golden_output_gains_no_lint_finding(case):
    pytest.importorskip("cfnlint")
    from cfnfix.fixing.verify import new_findings

    assert new_findings(read(case.input), read(case.expected)) == []


TEXT = """Resources:
  Queue:
    Type: AWS::SQS::Queue
  Topic:
    Type: AWS::SNS::Topic
"""


class NameTheTopic(Fixer):
    code = "TST101"
    summary = "test: a harmless fix"
    docs = "## Why it breaks deploys\nIt does not, this is a test."

    def run(self, template):
        if "TopicName" not in template.resources["Topic"].get("Properties", {}):
            yield Fix("Topic: add TopicName", [Insert(("Resources", "Topic"), "Properties", {"TopicName": "alerts"})], ("Resources", "Topic"))


class BreakTheQueue(Fixer):
    code = "TST102"
    summary = "test: a fix that makes the template worse"
    safety = Safety.UNSAFE
    docs = "## Why it breaks deploys\nIt does not, this is a test."

    def run(self, template):
        if template.resources["Queue"].get("DependsOn") != "Nowhere":
            yield Fix("Queue: depend on Nowhere", [Insert(("Resources", "Queue"), "DependsOn", "Nowhere")], ("Resources", "Queue"))


class Flags(Checker):
    """A validator that finds what the test tells it to, and counts its calls."""

    name = "flags"

    def __init__(self, bad: dict[str, tuple[str, str]]):
        self.bad, self.calls = bad, 0

    def _findings(self, text, filename):
        self.calls += 1
        return {key: f"{needle} found" for needle, key in self.bad.items() if needle in text}


def test_the_fix_that_adds_a_finding_is_refused_and_the_others_apply():
    checker = Flags({"Nowhere": ("E3005", "Resources/Queue")})
    result = fix_document(TEXT, "t.yaml", [NameTheTopic(), BreakTheQueue()], checker=checker)
    assert "TopicName: alerts" in result.text and "Nowhere" not in result.text
    assert [c.code for c in result.changes] == ["TST101"]
    [refused] = result.refused
    assert (refused.code, refused.applied, refused.line) == ("TST102", False, 2)
    assert refused.reason == "it would add E3005 at Resources/Queue (Nowhere found)"
    again = fix_document(result.text, "t.yaml", [NameTheTopic(), BreakTheQueue()], checker=checker)
    assert again.text == result.text and [c.code for c in again.refused] == ["TST102"]


def test_no_finding_gained_costs_two_validations_and_refuses_nothing():
    checker = Flags({"nothing-like-this": ("E1", "")})
    result = fix_document(TEXT, "t.yaml", [NameTheTopic(), BreakTheQueue()], checker=checker)
    assert {c.code for c in result.changes} == {"TST101", "TST102"} and not result.refused
    assert checker.calls == 2  # before and after, nothing more
    untouched = fix_document(TEXT, "t.yaml", [], checker=checker)
    assert untouched.text == TEXT and checker.calls == 2  # no fix: no validation


def test_a_finding_no_single_fix_explains_refuses_them_all():
    # either fix alone brings the same finding: refusing one of them does not remove it
    key = ("W1", "Resources/Queue")
    checker = Flags({"alerts": key, "Nowhere": key})
    result = fix_document(TEXT, "t.yaml", [NameTheTopic(), BreakTheQueue()], checker=checker)
    assert result.text == TEXT and not result.changes
    assert sorted(c.code for c in result.refused) == ["TST101", "TST102"]


class Marked(Checker):
    """Finds one W9 per resource whose Properties hold a Marker."""

    name = "marked"

    def _findings(self, text, filename):
        from cfnfix.text.document import Document

        data = Document(text, filename).data
        return {("W9", f"Resources/{n}"): "marked" for n, r in data["Resources"].items() if "Marker" in (r.get("Properties") or {})}


class MoveTheMarker(Fixer):
    code = "TST104"
    summary = "test: moves a property into a new resource (as EC2001's split moves a rule)"
    docs = "## Why it breaks deploys\nTest."
    keep = False

    def run(self, template):
        if "Moved" not in template.resources:
            edits = [Insert(("Resources",), "Moved", {"Type": "AWS::SQS::Queue", "Properties": {"Marker": 1}})]
            if not self.keep:
                edits.append(Delete(("Resources", "Queue", "Properties")))
            yield Fix("move the marker", edits, ("Resources", "Queue"))


def test_a_finding_that_moves_into_a_new_entry_is_not_new():
    text = TEXT.replace("    Type: AWS::SQS::Queue\n", "    Type: AWS::SQS::Queue\n    Properties:\n      Marker: 1\n")
    result = fix_document(text, "t.yaml", [MoveTheMarker()], checker=Marked())
    assert [c.code for c in result.changes] == ["TST104"] and not result.refused
    copy = MoveTheMarker()
    copy.keep = True  # the finding is now there twice: one is new
    result = fix_document(text, "t.yaml", [copy], checker=Marked())
    assert not result.changes and [c.reason for c in result.refused] == ["it would add W9 at Resources/Moved (marked)"]


def test_a_validator_that_fails_leaves_the_result_unchecked_not_refused():
    class Broken(Checker):
        name = "broken"

        def _findings(self, text, filename):
            raise RuntimeError("boom")

    result = fix_document(TEXT, "t.yaml", [NameTheTopic()], checker=Broken())
    assert [c.code for c in result.changes] == ["TST101"] and not result.refused
    assert result.check_error == "broken failed: RuntimeError: boom"


def test_cloudformation_validate_refuses_a_dangling_dependency():
    pytest.importorskip("cloudformation_validate")
    result = fix_document(TEXT, "t.yaml", [NameTheTopic(), BreakTheQueue()], checker=ValidateChecker())
    assert [c.code for c in result.changes] == ["TST101"]
    [refused] = result.refused
    assert refused.code == "TST102" and "at Resources/Queue" in refused.reason


def test_make_checker_choices(monkeypatch):
    pytest.importorskip("cloudformation_validate")
    assert make_checker("auto").name == "cloudformation-validate"
    assert make_checker("cfn-lint").name == "cfn-lint"
    assert make_checker("none") is None
    from cfnfix.fixing import verify

    monkeypatch.setattr(verify, "_installed", lambda module: False)
    assert make_checker("auto") is None
    with pytest.raises(LintUnavailable, match="pip install cloudformation-validate"):
        make_checker("cloudformation-validate")


BROKEN_EXPORT = """Resources:
  Topic:
    Type: AWS::SNS::Topic
Outputs:
  TopicArn:
    Value: !Ref Topic
    Export: {}
"""


def test_cli_reports_a_refused_fix_with_its_own_exit_code_in_text_json_and_sarif(tmp_path, monkeypatch):
    from cfnfix.fixing import verify

    monkeypatch.setattr(verify, "make_checker", lambda choice="auto": Flags({"Name:": ("E6001", "Outputs/TopicArn")}))
    path = tmp_path / "t.yaml"
    path.write_text(BROKEN_EXPORT)
    r = CliRunner().invoke(main, ["--write", "--select", "OUT001", str(path)])
    assert r.exit_code == 4, r.output
    assert path.read_text() == BROKEN_EXPORT
    assert "OUT001 Output TopicArn: add Export Name" in r.stderr + r.stdout
    assert "(refused by flags: it would add E6001 at Outputs/TopicArn (Name: found))" in r.stdout
    assert "1 fix refused by flags" in r.stderr
    r = CliRunner().invoke(main, ["--format", "json", "--select", "OUT001", str(path)])
    report = json.loads(r.stdout)
    assert r.exit_code == 4 and report["summary"]["refused"] == 1
    [refused] = report["files"][0]["refused"]
    assert refused["code"] == "OUT001" and refused["applied"] is False and refused["reason"].startswith("it would add E6001")
    r = CliRunner().invoke(main, ["--format", "sarif", "--select", "OUT001", str(path)])
    [result] = json.loads(r.stdout)["runs"][0]["results"]
    assert result["properties"]["kind"] == "refused" and result["level"] == "warning"
    assert "not applied: it would add E6001" in result["message"]["text"]


def test_cli_checks_by_default_and_says_when_it_cannot(tmp_path, monkeypatch):
    path = tmp_path / "t.yaml"
    path.write_text(BROKEN_EXPORT)
    pytest.importorskip("cloudformation_validate")
    r = CliRunner().invoke(main, ["--format", "json", str(path)])
    assert json.loads(r.stdout)["files"][0]["checked_by"] == "cloudformation-validate"
    from cfnfix.fixing import verify

    monkeypatch.setattr(verify, "_installed", lambda module: False)
    r = CliRunner().invoke(main, [str(path)])
    assert r.exit_code == 1 and "no validator is installed, so these fixes were not checked" in r.stderr
    r = CliRunner().invoke(main, ["--validator", "none", str(path)])
    assert r.exit_code == 1 and "no validator" not in r.stderr
    r = CliRunner().invoke(main, ["--validator", "cfn-lint", str(path)])
    assert r.exit_code == 2 and "needs cfn-lint" in r.stderr


def test_fix_text_takes_a_validator():
    pytest.importorskip("cloudformation_validate")
    result = cfnfix.fix_text(BROKEN_EXPORT, validator="auto")
    assert result.checked_by == "cloudformation-validate" and not result.refused and result.changes
