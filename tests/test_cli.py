"""The cfnfix command on real files: dry run, --write, formats, selection, bad input, discovery."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

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
FIXED = BROKEN.replace("    Export: {}\n", '    Export:\n      Name: !Sub "${AWS::StackName}-TopicArn"\n')


def cli(*args, input=None, cwd=None):
    runner = CliRunner()
    if cwd:
        old = os.getcwd()
        os.chdir(cwd)
    try:
        return runner.invoke(main, [str(a) for a in args], input=input, catch_exceptions=False)
    finally:
        if cwd:
            os.chdir(old)


@pytest.fixture
def tpl(tmp_path):
    p = tmp_path / "stack.yaml"
    p.write_text(BROKEN)
    return p


def test_dry_run_prints_diff_and_explanation_and_changes_nothing(tpl):
    r = cli(tpl)
    assert r.exit_code == 1
    assert f"--- {tpl}\n+++ {tpl}\n" in r.output and '+      Name: !Sub "${AWS::StackName}-TopicArn"' in r.output
    assert "OUT001 Output TopicArn: add Export Name" in r.output
    assert "why: `Export.Name` is required." in r.output
    assert tpl.read_text() == BROKEN


def test_nothing_to_fix_exits_0(tmp_path):
    p = tmp_path / "ok.yaml"
    p.write_text(FIXED)
    r = cli(p)
    assert r.exit_code == 0 and "nothing to fix" in r.output


def test_write_applies_in_place_and_keeps_mode(tpl):
    os.chmod(tpl, 0o640)
    r = cli("--write", tpl)
    assert r.exit_code == 0, r.output
    assert tpl.read_text() == FIXED
    assert stat.S_IMODE(tpl.stat().st_mode) == 0o640
    assert not [p for p in tpl.parent.iterdir() if p.name != tpl.name], "temporary file left behind"
    assert cli(tpl).exit_code == 0  # idempotent


def test_diff_only(tpl):
    r = cli("--diff", tpl)
    assert r.exit_code == 1
    assert r.stdout.startswith(f"--- {tpl}") and "why:" not in r.output


def test_json_format(tpl):
    r = cli("--format", "json", tpl)
    data = json.loads(r.stdout)
    assert r.exit_code == 1
    assert data["summary"]["fixes"] == 1 and data["summary"]["files_changed"] == 1
    change = data["files"][0]["changes"][0]
    assert change["code"] == "OUT001" and change["safety"] == "safe" and change["path"] == ["Outputs", "TopicArn", "Export"]
    assert change["details"] == [{"kind": "added", "path": ["Outputs", "TopicArn", "Export", "Name"], "new": {"Fn::Sub": "${AWS::StackName}-TopicArn"}}]
    assert change["line"] == 8


def test_markdown_format(tpl):
    r = cli("--format", "markdown", tpl)
    assert r.stdout.startswith("## cfnfix: 1 fix in 1 template\n")
    assert f"### `{tpl}`" in r.stdout and "- **OUT001** (safe)" in r.stdout and "```diff" in r.stdout


def test_select_and_ignore(tpl):
    assert cli("--ignore", "OUT", tpl).exit_code == 0
    assert cli("--select", "OUT001", tpl).exit_code == 1
    assert cli("--select", "APIGW", tpl).exit_code == 0
    r = cli("--select", "NOPE999", tpl)
    assert r.exit_code == 2 and "matches no fixer" in r.output


def test_list_fixers_and_explain():
    r = cli("--list-fixers")
    assert r.exit_code == 0 and "OUT001" in r.output and "safe" in r.output
    r = cli("--explain", "OUT001")
    assert r.exit_code == 0
    for heading in ("## What it does", "## Why it breaks deploys", "## Example", "## Fix safety"):
        assert heading in r.output
    assert cli("--explain", "XX9").exit_code == 2


def test_stdin_to_stdout():
    r = cli("--fix", "-", input=BROKEN)
    assert r.exit_code == 0
    assert r.stdout == FIXED


def test_stdin_bad_input():
    r = cli("-", input="Resources: [\n")
    assert r.exit_code == 2 and "<stdin>:2:1:" in r.stderr


BAD = {
    "invalid.yaml": ("Resources:\n  A: [1, 2\n", "3:1:"),
    "dupkey.yaml": ("Resources:\n  A:\n    Type: X\n  A:\n    Type: Y\n", "4:3: duplicate key 'A'"),
    "dupkey.json": ('{"Resources": {"A": {"Type": "X"},\n "A": {"Type": "Y"}}}', "2:2: duplicate key 'A'"),
    "invalid.json": ('{"Resources": {"A": 1 2}}', "1:23: expected ',' or '}'"),
    "list.yaml": ("- a\n- b\n", "1:1: not a CloudFormation template"),
    "binary.yaml": ("Resources:\x00\n", "1:11: binary file"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input_reports_position_exit_2_and_leaves_file(tmp_path, name):
    text, expected = BAD[name]
    bad = tmp_path / name
    bad.write_text(text)
    good = tmp_path / "good.yaml"
    good.write_text(BROKEN)
    r = cli("--write", bad, good)
    assert r.exit_code == 2
    assert f"{bad}:{expected}" in r.stderr
    assert "Traceback" not in r.output
    assert bad.read_text() == text
    assert good.read_text() == FIXED  # the other file still got processed


def test_non_utf8_reports_position(tmp_path):
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(b"Resources:\n  A:\n    Type: caf\xe9\n")
    r = cli(bad)
    assert r.exit_code == 2 and f"{bad}:3:14: not UTF-8" in r.stderr


def test_unreadable_file(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root reads everything")
    p = tmp_path / "secret.yaml"
    p.write_text(BROKEN)
    p.chmod(0)
    r = cli(p)
    assert r.exit_code == 2 and "permission denied" in r.stderr


def test_directory_discovery_respects_gitignore_and_skips_non_templates(tmp_path):
    (tmp_path / ".git").mkdir()
    (tmp_path / ".gitignore").write_text("build/\n*.generated.yaml\n")
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "stack.yaml").write_text(BROKEN)
    (tmp_path / "infra" / "stack.json").write_text(json.dumps({"Resources": {"T": {"Type": "AWS::SNS::Topic"}}, "Outputs": {"O": {"Value": 1, "Export": {}}}}, indent=2))
    (tmp_path / "infra" / "x.generated.yaml").write_text(BROKEN)
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "stack.yaml").write_text(BROKEN)
    (tmp_path / "docker-compose.yaml").write_text("services:\n  web:\n    image: nginx\n")
    (tmp_path / "config.json").write_text('{"Resources": "not at top", "x": [}')  # looks like one, is broken
    (tmp_path / "package.json").write_text('{"name": "x"}')
    r = cli("--write", tmp_path)
    assert (tmp_path / "infra" / "stack.yaml").read_text() == FIXED
    assert '"Name"' in (tmp_path / "infra" / "stack.json").read_text()
    assert (tmp_path / "infra" / "x.generated.yaml").read_text() == BROKEN
    assert (tmp_path / "build" / "stack.yaml").read_text() == BROKEN
    assert "docker-compose" not in r.output and "package.json" not in r.output
    assert f"{tmp_path / 'config.json'}:1:" in r.stderr and r.exit_code == 2


def test_config_file_and_options(tmp_path, tpl):
    (tmp_path / "pyproject.toml").write_text('[tool.cfnfix]\nignore = ["OUT001"]\n')
    assert cli(tpl, cwd=tmp_path).exit_code == 0
    (tmp_path / ".cfnfix.toml").write_text('select = ["OUT"]\n')
    assert cli(tpl, cwd=tmp_path).exit_code == 1
    (tmp_path / ".cfnfix.toml").write_text('selekt = ["OUT"]\n')
    r = cli(tpl, cwd=tmp_path)
    assert r.exit_code == 2 and "unknown setting(s) selekt" in r.stderr


def test_suppression_comment_and_metadata(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text(BROKEN.replace("  TopicArn:\n", "  TopicArn:  # cfnfix: ignore[OUT001]\n"))
    assert cli(p).exit_code == 0
    j = tmp_path / "s.json"
    j.write_text(json.dumps({"Resources": {"T": {"Type": "AWS::SNS::Topic"}},
                             "Outputs": {"O": {"Value": 1, "Export": {}, "Metadata": {"cfnfix": {"ignore": ["OUT"]}}},
                                         "P": {"Value": 1, "Export": {}}}}, indent=2))
    r = cli("--format", "json", j)
    assert [c["path"][1] for c in json.loads(r.stdout)["files"][0]["changes"]] == ["P"]


def test_console_script_runs(tpl):
    exe = Path(sys.executable).with_name("cfnfix")
    r = subprocess.run([str(exe), "--diff", str(tpl)], capture_output=True, text=True)
    assert r.returncode == 1 and "+      Name:" in r.stdout


def test_explain_shows_json_version_of_examples():
    r = cli("--explain", "OUT001")
    assert "## Example in JSON" in r.output and '"Fn::Sub": "${AWS::StackName}-BucketArn"' in r.output


UNSAFE_INPUT = Path(__file__).resolve().parent.parent / "golden" / "CT001" / "short-form-yaml" / "input.yaml"


@pytest.fixture
def mixed(tmp_path):
    """A template with one unsafe fix (CT001, a data resource type basic selectors do not support) and one safe (OUT001)."""
    p = tmp_path / "mixed.yaml"
    text = UNSAFE_INPUT.read_text()
    if "Outputs:" not in text:
        text += "Outputs:\n"
    kept = "".join(f"  Kept{i}:\n    Value: kept\n" for i in range(4))  # keeps the two fixes in separate hunks
    p.write_text(text + kept + "  Extra:\n    Value: x\n    Export: {}\n")
    return p


def test_unsafe_fixes_are_marked_and_listed_first(mixed):
    r = cli("--select", "CT001,OUT001", mixed)  # S3003 would also make the trail wait for its bucket policy
    assert r.exit_code == 1
    hunks = [l for l in r.stdout.splitlines() if l.startswith("@@")]
    assert any(h.endswith("UNSAFE: CT001") for h in hunks) and not all("UNSAFE" in h for h in hunks)
    fixes = [l.strip() for l in r.stdout.splitlines() if ": UNSAFE CT001" in l or ": OUT001" in l]
    assert "UNSAFE CT001" in fixes[0] and "OUT001" in fixes[1]
    assert "2 fixes (1 unsafe)" in r.stdout
    data = json.loads(cli("--select", "CT001,OUT001", "--format", "json", mixed).stdout)
    assert [(c["code"], c["safety"]) for c in data["files"][0]["changes"]] == [("CT001", "unsafe"), ("OUT001", "safe")]
    assert data["summary"]["unsafe"] == 1
    md = cli("--format", "markdown", mixed).stdout
    assert "**unsafe**" in md and md.index("CT001") < md.index("OUT001")


def test_safe_only_applies_safe_and_reports_unsafe_as_available(mixed):
    before = mixed.read_text()
    r = cli("--safe-only", "--write", mixed)
    assert r.exit_code == 1  # the unsafe fix is still pending
    after = mixed.read_text()
    assert "Name: !Sub" in after and "Type: 'AWS::S3::Bucket'" in after
    assert "(available, unsafe not applied: --safe-only)" in r.stdout
    assert after != before
    (mixed.parent / ".cfnfix.toml").write_text("safe-only = true\n")
    r = cli(mixed, cwd=mixed.parent)
    assert r.exit_code == 1 and "not applied" in r.stdout and "---" not in r.stdout


def test_progress_bar_on_a_terminal(tmp_path, monkeypatch):
    from cfnfix.cli import run as runner

    for i in range(25):
        (tmp_path / f"s{i}.yaml").write_text(BROKEN)
    monkeypatch.setattr(runner, "_tty", lambda err: False)
    assert "cfnfix [" not in cli("--diff", tmp_path).stderr
    monkeypatch.setattr(runner, "_tty", lambda err: True)
    assert "\rcfnfix [" in cli("--diff", tmp_path).stderr  # the bar, on stderr
    assert "cfnfix [" not in cli("-q", "--diff", tmp_path).stderr  # --quiet: no bar


def test_verify_passes_a_fix_that_lints_clean(tpl):
    pytest.importorskip("cfnlint")
    r = cli("--verify", "--write", tpl)
    assert r.exit_code == 0 and tpl.read_text() == FIXED


def test_verify_refuses_a_fix_that_adds_a_lint_finding(tpl, monkeypatch):
    pytest.importorskip("cfnlint")
    from cfnfix.fixing.verify import LintChecker

    monkeypatch.setattr(LintChecker, "_findings", lambda self, text, filename: {("E3001", "Resources/Topic"): "bad"} if "Name:" in text else {})
    r = cli("--verify", "--write", tpl)
    assert r.exit_code == 4 and "refused by cfn-lint: it would add E3001 at Resources/Topic (bad)" in r.stdout
    assert tpl.read_text() == BROKEN


def test_skip_non_templates_for_named_files(tmp_path):
    wf = tmp_path / "workflow.yml"
    wf.write_text("on: push\njobs: {}\n")
    broken = tmp_path / "broken.yaml"
    broken.write_text("Resources:\n  A: [\n")
    tpl = tmp_path / "t.yaml"
    tpl.write_text(BROKEN)
    assert cli(wf).exit_code == 2  # named, not a template: an error by default
    r = cli("--skip-non-templates", wf, tpl)
    assert r.exit_code == 1 and "workflow.yml" not in r.output
    r = cli("--skip-non-templates", broken)
    assert r.exit_code == 2 and f"{broken}:3:1:" in r.stderr  # a broken template is still reported


def test_readme_lists_every_fixer_with_its_safety_and_default():
    from cfnfix.fixing.registry import all_fixers

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    rows = {line.split("|")[1].strip(): line for line in readme.splitlines() if line.startswith("| ") and line.count("|") == 5}
    for f in all_fixers():
        assert f.code in rows, f"README's fixer table lacks {f.code}"
        assert f.safety.value in rows[f.code] and ("on" if f.default else "opt-in") in rows[f.code].split("|")[4]


def test_readme_example_is_broken_and_its_fix_is_clean(tmp_path):
    example = Path(__file__).resolve().parent.parent / "examples" / "broken-api.yaml"
    r = cli(example)
    assert r.exit_code == 1 and "APIGW001" in r.stdout and "OUT001" in r.stdout
    copy = tmp_path / "api.yaml"
    copy.write_text(example.read_text())
    assert cli("--write", copy).exit_code == 0 and cli(copy).exit_code == 0
    pytest.importorskip("cfnlint")
    from cfnfix.fixing.verify import lint_keys

    assert not {k for k in lint_keys(copy.read_text()) if k[0].startswith("E")}
