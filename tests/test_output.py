"""What the command prints and how it exits: stdin like a file, the progress bar, colour, ruff's
and black's option names, one wording per outcome, --safe-only's hidden fixes, diff hunk marks."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from test_cli import BROKEN, FIXED, cli

ROOT = Path(__file__).resolve().parent.parent

# Two fixes: OUT001 (safe) twice over two outputs.
TWO = BROKEN + "  Again:\n    Value: !Ref Topic\n    Export: {}\n"


@pytest.fixture
def tpl(tmp_path):
    p = tmp_path / "stack.yaml"
    p.write_text(BROKEN)
    return p


# ----- stdin: the same results and exit codes as a file ------------------------------------------
def test_stdin_dry_run_is_like_a_file(tpl):
    as_file = cli(tpl)
    r = cli("-", input=BROKEN)
    assert r.exit_code == as_file.exit_code == 1
    assert "+      Name: !Sub" in r.stdout and "OUT001 Output TopicArn: add Export Name" in r.stdout
    assert "cfnfix: 1 file would be fixed (1 fix); run with --write to apply" in r.stderr
    assert "nothing to fix" not in r.output


def test_stdin_diff_exits_like_a_file(tpl):
    assert cli("--diff", "-", input=BROKEN).exit_code == cli("--diff", tpl).exit_code == 1
    assert cli("--diff", "-", input=FIXED).exit_code == 0


def test_stdin_write_prints_the_fixed_template_and_counts_it():
    r = cli("--write", "-", input=TWO)
    assert r.exit_code == 0
    assert r.stdout.count("Name: !Sub") == 2 and "---" not in r.stdout
    assert "cfnfix: fixed 1 file (2 fixes)" in r.stderr
    r = cli("--write", "-", input=FIXED)
    assert r.exit_code == 0 and r.stdout == FIXED and "nothing to fix" in r.stderr


def test_stdin_write_passes_bad_input_through_and_exits_2():
    text = "Resources: [\n"
    r = cli("--write", "-", input=text)
    assert r.exit_code == 2 and r.stdout == text and "<stdin>:2:1:" in r.stderr


def test_stdin_filename_names_the_template():
    r = cli("--stdin-filename", "infra/api.yaml", input=BROKEN)
    assert r.exit_code == 1 and "--- a/infra/api.yaml" in r.stdout and "infra/api.yaml:8:5: OUT001" in r.stdout


def test_json_errors_are_in_the_json_not_on_stderr(tmp_path):
    r = cli("--format", "json", "-", input="Resources: [\n")
    assert r.exit_code == 2 and r.stderr == ""
    data = json.loads(r.stdout)
    assert data["errors"] == [{"path": "<stdin>", "line": 2, "column": 1, "message": data["errors"][0]["message"]}]
    r = cli("--format", "json", tmp_path / "missing.yaml")
    assert r.exit_code == 2 and r.stderr == ""
    assert json.loads(r.stdout)["errors"][0]["line"] is None


# ----- the progress bar -----------------------------------------------------------------------------
def test_progress_bar_is_cleared_before_any_other_output(tmp_path, monkeypatch):
    from cfnfix.cli import run as runner

    for i in range(22):
        (tmp_path / f"s{i:02}.yaml").write_text(BROKEN)
    (tmp_path / "s99.yaml").write_text("Resources:\n  A: [\n")  # an error message among them
    monkeypatch.setattr(runner, "_tty", lambda err: True)
    r = cli("--diff", tmp_path)
    assert "\rcfnfix [" in r.stderr and "cfnfix [" not in r.stdout
    # In what a terminal shows (stdout and stderr interleaved), every drawing of the bar is
    # wiped (carriage return + erase line) before the next output, and at the end.
    shown = r.output
    for m in re.finditer(r"\rcfnfix \[[#-]+\] \d+/\d+", shown):
        assert shown.startswith("\r\x1b[2K", m.end()), repr(shown[m.start(): m.end() + 40])
    lines = [line for line in shown.replace("\r\x1b[2K", "\n").split("\n") if "cfnfix [" in line]
    assert all(re.fullmatch(r"\rcfnfix \[[#-]+\] \d+/\d+", line) for line in lines), lines
    assert shown.count("--- ") == 22 and "s99.yaml:3:1:" in shown


# ----- colour -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "env, args, coloured",
    [({}, [], False), ({"FORCE_COLOR": "1"}, [], True), ({"NO_COLOR": "1", "FORCE_COLOR": "1"}, [], False),
     ({"FORCE_COLOR": "0"}, [], False), ({}, ["--color", "always"], True), ({"FORCE_COLOR": "1"}, ["--color", "never"], False),
     ({"NO_COLOR": "1"}, ["--color", "always"], True)],
)
def test_colour_follows_no_color_force_color_and_the_option(tpl, monkeypatch, env, args, coloured):
    for name in ("NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    r = cli(*args, "--diff", tpl)
    assert r.exit_code == 1 and ("\x1b[" in r.stdout) == coloured


# ----- the names ruff and black users type ------------------------------------------------------------
def test_check_is_a_dry_run_without_the_diff(tpl):
    r = cli("--check", tpl)
    assert r.exit_code == 1 and "---" not in r.stdout and "OUT001 Output TopicArn: add Export Name" in r.stdout
    assert tpl.read_text() == BROKEN
    r = cli("--check", "--diff", tpl)
    assert r.exit_code == 1 and f"--- {tpl}" in r.stdout and "OUT001" in r.stdout
    assert cli("--check", "--write", tpl).exit_code == 2


def test_fix_is_write(tpl):
    r = cli("--fix", tpl)
    assert r.exit_code == 0 and tpl.read_text() == FIXED and "fixed 1 file (1 fix)" in r.stderr


def test_write_explains_what_it_did_unless_no_show_fixes(tmp_path):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text(BROKEN)
    b.write_text(BROKEN)
    r = cli("--write", a)
    assert "OUT001 Output TopicArn: add Export Name" in r.stdout and "why:" in r.stdout and "---" not in r.stdout
    assert "fixed 1 file (1 fix)" in r.stderr
    r = cli("--write", "--no-show-fixes", b)
    assert r.stdout == "" and "fixed 1 file (1 fix)" in r.stderr


def test_exit_zero_reports_but_exits_0(tpl, tmp_path):
    r = cli("--exit-zero", tpl)
    assert r.exit_code == 0 and "OUT001" in r.stdout and tpl.read_text() == BROKEN
    bad = tmp_path / "bad.yaml"
    bad.write_text("Resources: [\n")
    assert cli("--exit-zero", bad).exit_code == 2  # bad input is still bad


def test_statistics_counts_per_code(tmp_path):
    (tmp_path / "a.yaml").write_text(TWO)
    (tmp_path / "b.yaml").write_text(BROKEN)
    r = cli("--statistics", tmp_path)
    assert r.exit_code == 1 and "---" not in r.stdout
    assert re.search(r"^3  OUT001  fix  Output `Export` without a `Name`$", r.stdout, re.M), r.stdout
    data = json.loads(cli("--statistics", "--format", "json", tmp_path).stdout)
    assert data == [{"code": "OUT001", "kind": "fix", "count": 3, "summary": "Output `Export` without a `Name`"}]


def test_diff_with_a_report_format_is_refused_not_dropped(tpl):
    r = cli("--diff", "--format", "json", tpl)
    assert r.exit_code == 2 and "--diff" in r.stderr and r.stdout == ""


def test_quiet_diff_still_prints_the_diff(tpl):
    r = cli("-q", "--diff", tpl)
    assert r.exit_code == 1 and f"--- {tpl}" in r.stdout and r.stderr == ""
    r = cli("-q", tpl)
    assert r.exit_code == 1 and r.output == ""


# ----- wording ------------------------------------------------------------------------------------------
def test_one_wording_for_nothing_to_fix(tmp_path):
    p = tmp_path / "ok.yaml"
    p.write_text(FIXED)
    for args in ((), ("--write",), ("--check",)):
        r = cli(*args, p)
        assert r.exit_code == 0 and r.stderr == "cfnfix: nothing to fix\n", (args, r.stderr)


# One unsafe fix (CT001); the trail logs to a bucket of another stack, so that S3003 (the bucket
# policy CloudTrail needs) has nothing to add.
TRAIL = (ROOT / "golden" / "CT001" / "short-form-yaml" / "input.yaml").read_text().replace(
    "S3BucketName: !Ref AuditBucket", "S3BucketName: audit-logs-of-another-stack")


def test_plurals(tmp_path):
    mixed = tmp_path / "mixed.yaml"
    mixed.write_text(TRAIL)
    md = cli("--format", "markdown", mixed).stdout
    assert md.startswith("## cfnfix: 1 fix in 1 template\n") and "1 of these fixes is **unsafe**" in md
    (tmp_path / "two.yaml").write_text(TWO)
    md = cli("--format", "markdown", tmp_path).stdout
    assert md.startswith("## cfnfix: 3 fixes in 2 templates\n")


def test_list_fixers_in_code_order():
    codes = [line.split()[0] for line in cli("--list-fixers").stdout.splitlines()[1:]]
    assert codes == sorted(codes) and "JSON001" in codes


def test_diff_headers_of_absolute_and_relative_paths(tpl):
    r = cli("--diff", tpl)
    assert f"--- {tpl}\n+++ {tpl}\n" in r.stdout and "//" not in r.stdout.splitlines()[0]
    r = cli("--diff", tpl.name, cwd=tpl.parent)
    assert r.stdout.startswith("--- a/stack.yaml\n+++ b/stack.yaml\n")


def test_missing_path_has_no_position(tmp_path):
    r = cli(tmp_path / "nowhere")
    assert r.exit_code == 2 and r.stderr.startswith(f"{tmp_path / 'nowhere'}: no such file or directory\n")
    assert ":1:1:" not in r.stderr


def test_empty_directory_says_no_template_was_found(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "compose.yaml").write_text("services: {}\n")
    for d in ("empty", "docs"):
        r = cli(tmp_path / d)
        assert r.exit_code == 0 and "no template found" in r.stderr


# ----- --safe-only, when only unsafe fixes remain (issue 10) ---------------------------------------------
@pytest.fixture
def unsafe_only(tmp_path):
    p = tmp_path / "api.yaml"
    p.write_text(TRAIL)
    return p


def test_safe_only_says_how_to_go_on_when_only_unsafe_fixes_remain(unsafe_only):
    before = unsafe_only.read_text()
    for args in (("--safe-only",), ("--safe-only", "--write"), ("--safe-only", "--check")):
        r = cli(*args, unsafe_only)
        assert r.exit_code == 1
        assert "would be fixed" not in r.stderr and "(0 fixes)" not in r.stderr and "fixed 0" not in r.stderr
        assert "no safe fix to apply; 1 unsafe fix hidden by --safe-only: enable it with --unsafe-fixes" in r.stderr, r.stderr
    assert unsafe_only.read_text() == before
    (unsafe_only.parent / ".cfnfix.toml").write_text("safe-only = true\n")
    r = cli("--unsafe-fixes", "--write", unsafe_only, cwd=unsafe_only.parent)
    assert r.exit_code == 0 and unsafe_only.read_text() != before and "hidden" not in r.stderr


def test_safe_only_with_safe_fixes_counts_both(unsafe_only):
    unsafe_only.write_text(unsafe_only.read_text() + "  Extra:\n    Value: x\n    Export: {}\n" if "Outputs:" in unsafe_only.read_text()
                           else unsafe_only.read_text() + "Outputs:\n  Extra:\n    Value: x\n    Export: {}\n")
    r = cli("--safe-only", unsafe_only)
    assert "1 file would be fixed (1 fix); run with --write to apply; 1 unsafe fix hidden by --safe-only" in r.stderr


# ----- diff hunk headers (issue 10) ------------------------------------------------------------------------
HUNKS = """AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  DBPassword:
    Type: String
    NoEcho: true
Resources:
  Database:
    Type: AWS::RDS::DBInstance
    Properties:
      Engine: postgres
      DBInstanceClass: db.t3.micro
      AllocatedStorage: "20"
      MasterUsername: app
      MasterUserPassword: !Ref DBPassword
  Topic1:
    Type: AWS::SNS::Topic
  Topic2:
    Type: AWS::SNS::Topic
  Topic3:
    Type: AWS::SNS::Topic
  Topic4:
    Type: AWS::SNS::Topic
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimout: 60
"""


def test_only_hunks_an_unsafe_fix_touched_are_marked(tmp_path):
    p = tmp_path / "db.yaml"
    p.write_text(HUNKS)
    r = cli("--diff", p)
    hunks = [line for line in r.stdout.splitlines() if line.startswith("@@")]
    assert len(hunks) == 3, r.stdout
    assert hunks[0].endswith("UNSAFE: SM001") and hunks[1].endswith("UNSAFE: SM001")  # the parameter; the secret
    assert hunks[2].endswith("@@"), hunks[2]  # PROP001's safe rename of VisibilityTimout, below the new secret


# ----- the benchmark without its corpus ------------------------------------------------------------------
def test_benchmark_without_corpus_says_what_it_needs(tmp_path):
    r = subprocess.run([sys.executable, str(ROOT / "bench" / "benchmark.py"), "--corpus", str(tmp_path / "none"), "--lint-sample", "0"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "corpus" in r.stderr and "tasks/" in r.stderr


# ----- deleted entries take their comments with them --------------------------------------------------
def _delete(text: str, *names: str) -> str:
    from cfnfix.text.document import Document
    from cfnfix.text.edits import Delete
    from cfnfix.text.splice import resolve, splice

    doc = Document(text, "t.yaml")
    return splice(text, resolve(doc, [Delete(("Resources", n)) for n in names]))


DELETES = """Resources:
  Api:
    Type: AWS::ApiGateway::RestApi
  # the role API Gateway pushes logs with
  Role:
    Type: AWS::IAM::Role
    Properties:
      Path: /
    # the account setting that uses it
  Account:
    Type: AWS::ApiGateway::Account
    Properties:
      CloudWatchRoleArn: !GetAtt Role.Arn
      # set once per account and region

  # the topic
  Topic:
    Type: AWS::SNS::Topic
"""


def test_deleted_resources_take_their_own_comment_lines():
    assert _delete(DELETES, "Role", "Account") == (
        "Resources:\n  Api:\n    Type: AWS::ApiGateway::RestApi\n\n  # the topic\n  Topic:\n    Type: AWS::SNS::Topic\n")
    # a comment inside the entry above the deleted one stays with it
    assert "    # the account setting that uses it\n" in _delete(DELETES, "Account")
    assert "# set once per account" not in _delete(DELETES, "Account")


# ----- internal errors: in every report, never only on stderr ----------------------------------------
@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "markdown"])
def test_an_internal_error_is_in_the_report_of_every_format(tmp_path, monkeypatch, fmt):
    """A fixer that raises on one file: that file is left unchanged and the run exits 3; the other
    file is still fixed; the error is on stderr for text and in the report for the other formats."""
    from cfnfix.fixing.registry import get_fixer

    cls = get_fixer("OUT001")
    real = cls.run

    def run(self, template):
        if "Boom" in template.doc.text:
            raise KeyError("boom")
        return real(self, template)

    monkeypatch.setattr(cls, "run", run)
    bad, good = tmp_path / "bad.yaml", tmp_path / "good.yaml"
    bad.write_text(BROKEN.replace("Topic", "BoomTopic"))
    good.write_text(BROKEN)
    r = cli("--format", fmt, "--validator", "none", bad, good)
    assert r.exit_code == 3, r.output
    said = "internal error, file left unchanged: OUT001: KeyError: 'boom'"
    if fmt == "text":
        assert f"{bad}: {said}" in r.stderr
        assert "cfnfix: 1 file would be fixed (1 fix); run with --write to apply; 1 internal error" in r.stderr, r.stderr
        return
    assert r.stderr == ""
    if fmt == "json":
        data = json.loads(r.stdout)
        assert [e["kind"] for e in data["errors"]] == ["internal"] and said in data["errors"][0]["message"]
        assert data["errors"][0]["path"] == str(bad) and [f["path"] for f in data["files"]] == [str(good)]
    elif fmt == "sarif":
        run_ = json.loads(r.stdout)["runs"][0]
        notes = run_["invocations"][0]["toolExecutionNotifications"]
        assert run_["invocations"][0]["executionSuccessful"] is False and said in notes[0]["message"]["text"]
    else:
        assert f"- ❌ `{bad}`: {said}" in r.stdout
