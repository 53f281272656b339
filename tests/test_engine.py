"""The engine: rounds until stable, the safety net, safe-only, suppression, entry points."""

from __future__ import annotations

import pytest

import cfnfix
from cfnfix.text.edits import Insert, SetValue
from cfnfix.fixing.engine import fix_document
from cfnfix.errors import InternalError
from cfnfix.fixing import Fix, Fixer, Report, Safety

TEXT = "Resources:\n  A:\n    Type: AWS::SNS::Topic\n  B:\n    Type: AWS::SNS::Topic\n"


class AddDisplayName(Fixer):
    code = "TST001"
    summary = "test: topics need a display name"
    safety = Safety.UNSAFE
    docs = "## Why it breaks deploys\nIt does not, this is a test."

    def run(self, template):
        for name, res, props in template.resources_of_type("AWS::SNS::Topic"):
            if "Properties" not in res:
                yield Fix(f"{name}: add Properties", [Insert(("Resources", name), "Properties", {"DisplayName": name})], ("Resources", name))


class Retype(Fixer):
    code = "TST002"
    summary = "test: change a type"

    def run(self, template):
        if template.resources["A"]["Type"] != "AWS::SQS::Queue":
            yield Fix("retype", [SetValue(("Resources", "A", "Type"), "AWS::SQS::Queue")], ("Resources", "A"))


class Flipper(Fixer):
    """Never settles: each run undoes the previous one."""

    code = "TST003"
    summary = "test: never settles"

    def run(self, template):
        t = template.resources["A"]["Type"]
        yield Fix("flip", [SetValue(("Resources", "A", "Type"), "X" if t != "X" else "Y")], ("Resources", "A"))


class Reporter(Fixer):
    code = "TST004"
    summary = "test: reports only"

    def run(self, template):
        yield Report("needs a person", ("Resources", "A"))


def test_fixes_apply_and_result_is_a_fixed_point():
    r = fix_document(TEXT, "t.yaml", [AddDisplayName()])
    assert r.text == TEXT.replace("Topic\n  B", "Topic\n    Properties:\n      DisplayName: A\n  B") + "    Properties:\n      DisplayName: B\n"
    assert [c.message for c in r.changes] == ["A: add Properties", "B: add Properties"]
    assert all(c.safety is Safety.UNSAFE for c in r.changes)
    assert not fix_document(r.text, "t.yaml", [AddDisplayName()]).changes


def test_safe_only_reports_unsafe_as_available():
    r = fix_document(TEXT, "t.yaml", [AddDisplayName()], safe_only=True)
    assert r.text == TEXT and not r.changes
    assert [c.message for c in r.available] == ["A: add Properties", "B: add Properties"]
    assert not any(c.applied for c in r.available)


def test_safety_net_refuses_output_that_differs_from_intent(monkeypatch):
    from cfnfix.text import render

    assert fix_document(TEXT, "t.yaml", [Retype()]).changed
    monkeypatch.setattr(render, "yaml_string", lambda s, style, flow=False: "AWS::SQS::Queuee")  # a renderer bug
    with pytest.raises(InternalError, match="TST002: the fixed text does not say what the fix meant"):
        fix_document(TEXT, "t.yaml", [Retype()])


def test_fixers_that_never_settle_are_an_internal_error():
    with pytest.raises(InternalError, match="did not settle"):
        fix_document(TEXT, "t.yaml", [Flipper()])


def test_reports_are_findings_not_changes():
    r = fix_document(TEXT, "t.yaml", [Reporter()])
    assert r.text == TEXT and not r.changes
    assert [(f.code, f.message, f.line) for f in r.findings] == [("TST004", "needs a person", 2)]


def test_suppression_by_comment_and_metadata():
    text = TEXT.replace("  A:\n", "  A:  # cfnfix: ignore[TST]\n")
    r = fix_document(text, "t.yaml", [AddDisplayName()])
    assert [c.path for c in r.changes] == [("Resources", "B")]
    text = TEXT.replace("  B:\n    Type: AWS::SNS::Topic\n", "  B:\n    Type: AWS::SNS::Topic\n    Metadata: {cfnfix: {ignore: [TST001]}}\n")
    r = fix_document(text, "t.yaml", [AddDisplayName()])
    assert [c.path for c in r.changes] == [("Resources", "A")]


def test_select_empty_is_pure_round_trip_and_template_error_has_position():
    assert cfnfix.fix_text(TEXT, select=[]).text == TEXT
    with pytest.raises(cfnfix.TemplateError) as e:
        cfnfix.fix_text("Resources:\n  A: {Type: X\n", "t.yaml")
    assert (e.value.line, e.value.column) == (3, 1)


def test_entry_point_fixers_are_loaded(monkeypatch):
    from cfnfix.fixing import registry

    class EP:
        name = "test"

        def load(self):
            return Reporter

    monkeypatch.setattr(registry, "entry_points", lambda group: [EP()] if group == "cfnfix.fixers" else [])
    registry.all_fixers.cache_clear()
    try:
        assert "TST004" in [c.code for c in registry.all_fixers()]
        assert "TST004" not in [c.code for c in registry.select_fixers(["OUT"])]
        assert "TST004" in [c.code for c in registry.select_fixers(["TST"])]
    finally:
        registry.all_fixers.cache_clear()


def test_explanation_ignores_intrinsic_form():
    from cfnfix.text.document import Document
    from cfnfix.reports.explanation import details

    # a YAML short form and a JSON long form of the same template are the same data
    assert Document("Resources: {A: {Type: AWS::SNS::Topic, Properties: {X: !GetAtt B.Arn}}}", "t.yaml").data == \
        Document('{"Resources": {"A": {"Type": "AWS::SNS::Topic", "Properties": {"X": {"Fn::GetAtt": "B.Arn"}}}}}', "t.json").data
    r = fix_document(TEXT, "t.yaml", [AddDisplayName()])
    d = details(r)
    assert [(x.kind, x.path, x.new) for x in d[id(r.changes[0])]] == [("added", ("Resources", "A", "Properties"), {"DisplayName": "A"})]


def test_why_is_the_first_sentence_even_with_abbreviations(monkeypatch):
    from cfnfix.reports import explanation as explain

    class Doc:
        docs = "## Why it breaks deploys\nSome types (e.g. AWS::X::Y) are rejected. Another sentence.\n"
        summary = "s"

    monkeypatch.setattr(explain, "get_fixer", lambda code: Doc)
    assert explain.why("X") == "Some types (e.g. AWS::X::Y) are rejected."


def test_location_of_a_fix_under_a_key_renamed_in_an_earlier_round():
    from cfnfix.text.edits import RenameKey

    class Rename(Fixer):
        code = "TST005"
        summary = "rename"
        order = 1

        def run(self, template):
            if "Propertes" in template.resources["A"]:
                yield Fix("rename", [RenameKey(("Resources", "A", "Propertes"), "Properties")], ("Resources", "A", "Propertes"))

    class Inner(Fixer):
        code = "TST006"
        summary = "inner"
        order = 2

        def run(self, template):
            props = template.resources["A"].get("Properties") or {}
            if "X" in props:
                yield Report("seen", ("Resources", "A", "Properties", "X"))

    text = "Resources:\n  A:\n    Type: T\n    Propertes:\n      X: 1\n"
    r = fix_document(text, "t.yaml", [Rename(), Inner()])
    assert [(f.code, f.line) for f in r.findings] == [("TST006", 5)]
