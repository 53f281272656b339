"""Suppressions: the comment above an entry, any case, unknown codes reported, unused ones listed,
reference cycles, and a way for JSON parameters."""

from __future__ import annotations

import json
from pathlib import Path

import cfnfix
from test_cli import BROKEN, cli

ROOT = Path(__file__).resolve().parent.parent


def test_comment_on_the_line_above_counts(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text(BROKEN.replace("  TopicArn:\n", "  # cfnfix: ignore[OUT001]\n  TopicArn:\n"))
    assert cli(p).exit_code == 0
    # several comment lines above still count; one separated by a blank line does not
    p.write_text(BROKEN.replace("  TopicArn:\n", "  # cfnfix: ignore[OUT001] (exported by hand)\n  # owner: team-a\n  TopicArn:\n"))
    assert cli(p).exit_code == 0
    p.write_text(BROKEN.replace("  TopicArn:\n", "  # cfnfix: ignore[OUT001]\n\n  TopicArn:\n"))
    assert cli(p).exit_code == 1


def test_a_comment_inside_the_entry_above_does_not_count_for_the_next_one():
    text = BROKEN.replace("Outputs:\n", "Outputs:\n  First:\n    Value: x\n    # cfnfix: ignore[OUT001]\n")
    r = cfnfix.fix_text(text)
    assert [c.path[1] for c in r.changes] == ["TopicArn"]  # the comment is inside First, deeper than TopicArn's key


def test_codes_are_case_insensitive():
    for comment in ("# cfnfix: ignore[out001]", "# CFNFIX: Ignore[Out]", "#cfnfix:ignore[ out001 ]"):
        r = cfnfix.fix_text(BROKEN.replace("  TopicArn:\n", f"  TopicArn:  {comment}\n"))
        assert not r.changes, comment
    meta = BROKEN.replace("    Export: {}\n", "    Export: {}\n    Metadata: {cfnfix: {ignore: [out001]}}\n")
    assert not cfnfix.fix_text(meta).changes


def test_unknown_code_in_a_suppression_is_reported(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text(BROKEN.replace("  TopicArn:\n", "  TopicArn:  # cfnfix: ignore[OUT00, EC2O01]\n"))
    r = cli(p)
    assert f"{p}:6:14: unknown-ignore ignore[EC2O01]: EC2O01 matches no fixer (see --list-fixers)" in r.stdout, r.stdout
    assert "(not fixed)" not in r.stdout and r.exit_code == 0  # OUT00 is a prefix of OUT001: it suppresses
    data = json.loads(cli("--format", "json", p).stdout)
    assert [f["code"] for f in data["files"][0]["findings"]] == ["unknown-ignore"]


def test_unused_suppressions_are_listed_on_request(tmp_path):
    p = tmp_path / "s.yaml"
    text = BROKEN.replace("  Topic:\n", "  Topic:  # cfnfix: ignore[OUT001]\n").replace("  TopicArn:\n", "  TopicArn:  # cfnfix: ignore[OUT001, LOG001]\n")
    p.write_text(text)
    assert cli(p).exit_code == 0  # not asked: no report
    r = cli("--report-unused-ignores", p)
    assert r.exit_code == 1, r.output
    lines = [line for line in r.stdout.splitlines() if "unused-ignore" in line]
    assert lines == [
        f"  {p}:3:11: unused-ignore unused suppression ignore[OUT001]: nothing to suppress here; remove it",
        f"  {p}:6:14: unused-ignore unused suppression ignore[LOG001]: LOG001 is not enabled; remove it",
    ], r.stdout
    assert "1 file" not in r.stderr and "2 unused suppressions" in r.stderr
    p.write_text(BROKEN.replace("  TopicArn:\n", "  TopicArn:  # cfnfix: ignore[OUT001]\n"))
    assert cli("--report-unused-ignores", p).exit_code == 0


def test_an_ignore_on_any_group_of_a_security_group_cycle_stops_the_fix():
    text = (ROOT / "golden" / "EC2001" / "two-groups-yaml" / "input.yaml").read_text()
    assert cfnfix.fix_text(text, select=["EC2001"]).changes  # the cycle is fixed...
    for group in ("WebSecurityGroup", "DatabaseSecurityGroup"):
        marked = text.replace(f"  {group}:\n", f"  {group}:  # cfnfix: ignore[EC2001]\n")
        r = cfnfix.fix_text(marked, select=["EC2001"])
        assert r.text == marked and not r.changes, group  # ...unless any of its groups says no
        for strategy in ("cidr", "split"):
            assert not cfnfix.fix_text(marked, select=["EC2001"], options={"EC2001": {"strategy": strategy}}).changes


def test_a_cycle_member_ignore_does_not_stop_other_fixes():
    text = (ROOT / "golden" / "EC2001" / "two-groups-yaml" / "input.yaml").read_text()
    text = text.replace("  DatabaseSecurityGroup:\n", "  DatabaseSecurityGroup:  # cfnfix: ignore[EC2001]\n")
    text = text.replace("      GroupDescription: Web servers\n", "      GroupDescription: Web servers\n      GroupNme: web\n")
    r = cfnfix.fix_text(text, select=["EC2001", "PROP001"])
    assert [c.code for c in r.changes] == ["PROP001"]


JSON_PARAMETER = {
    "Parameters": {"DBPassword": {"Type": "String", "NoEcho": True}, "OtherPassword": {"Type": "String", "NoEcho": True}},
    "Resources": {
        "Database": {"Type": "AWS::RDS::DBInstance", "Properties": {
            "Engine": "postgres", "DBInstanceClass": "db.t3.micro", "AllocatedStorage": "20",
            "MasterUsername": "app", "MasterUserPassword": {"Ref": "DBPassword"}}},
        "Other": {"Type": "AWS::RDS::DBInstance", "Properties": {
            "Engine": "postgres", "DBInstanceClass": "db.t3.micro", "AllocatedStorage": "20",
            "MasterUsername": "app", "MasterUserPassword": {"Ref": "OtherPassword"}}},
    },
}


def test_json_parameters_are_suppressed_from_the_top_level_metadata():
    plain = json.dumps(JSON_PARAMETER, indent=2)
    assert {c.path[1] for c in cfnfix.fix_text(plain, "t.json", select=["SM001"]).changes} == {"DBPassword", "OtherPassword"}
    marked = json.dumps({"Metadata": {"cfnfix": {"ignore": {"sm001": ["DBPassword"]}}}, **JSON_PARAMETER}, indent=2)
    r = cfnfix.fix_text(marked, "t.json", select=["SM001"])
    assert {c.path[1] for c in r.changes} == {"OtherPassword"}
    assert "DBPassword" in json.loads(r.text)["Parameters"]


def test_used_metadata_suppressions_are_not_reported_unused(tmp_path):
    p = tmp_path / "t.json"
    p.write_text(json.dumps({"Metadata": {"cfnfix": {"ignore": {"SM001": ["DBPassword", "OtherPassword"]}}}, **JSON_PARAMETER}, indent=2))
    r = cli("--report-unused-ignores", "--select", "SM001", p)
    assert r.exit_code == 0 and "unused" not in r.output, r.output
