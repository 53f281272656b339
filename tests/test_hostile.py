"""Hostile and broken input: a clear error with a position, exit 2, no traceback, file untouched."""

from __future__ import annotations

import os
import time

import pytest

import cfnfix
from test_cli import BROKEN, FIXED, cli

CASES = {
    "truncated.yaml": (BROKEN[:33].encode(), "1:34: found unexpected end of stream"),
    "truncated.json": (b'{"Resources": {"A": {"Type": "AWS::SNS::Top', "1:"),
    "empty.yaml": (b"", "1:1: empty document"),
    "whitespace.json": (b"  \n", "1:1: empty document"),
    "scalar.yaml": (b"just a string\n", "1:1: not a CloudFormation template"),
    "list.json": (b"[1, 2]", "1:1: not a CloudFormation template"),
    "two-docs.yaml": (b"Resources: {}\n---\nResources: {}\n", "2:1: more than one YAML document"),
    "python-tag.yaml": (b"Resources: !!python/object/apply:os.system ['echo pwned > /tmp/cfnfix-pwned']\n", "1:12: unsupported tag"),
    "unknown-tag.yaml": (b"Resources:\n  A: !Frobnicate x\n", "2:6: unsupported tag '!Frobnicate'"),
    "control-char.yaml": (b"Resources:\n  A: x\x0f\n", "2:7: control character U+000F is not allowed in YAML"),
    # found by the long fuzz run: a control character in a file whose flow colons take the libyaml retry
    "control-char-flow.yaml": (b"Resources:\n  A: [kms:Decrypt, \x7f]\n", "2:20: control character U+007F"),
    "nul.json": (b'{"Resources": {}}\x00', "1:18: binary file"),
    "not-a-template.yaml": (b"name: x\nitems: [1]\n", "1:1: not a CloudFormation template"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_file(tmp_path, name):
    raw, expected = CASES[name]
    p = tmp_path / name
    p.write_bytes(raw)
    r = cli("--write", p)
    assert r.exit_code == 2, r.output
    assert r.stderr.startswith(f"{p}:") and (expected is None or f"{p}:{expected}" in r.stderr), r.stderr
    assert "Traceback" not in r.output
    assert p.read_bytes() == raw
    assert not os.path.exists("/tmp/cfnfix-pwned")


def test_bom_is_fine_and_kept(tmp_path):
    p = tmp_path / "bom.yaml"
    p.write_bytes(b"\xef\xbb\xbf" + BROKEN.encode())
    assert cli("--write", p).exit_code == 0
    assert p.read_bytes() == b"\xef\xbb\xbf" + FIXED.encode()


def test_billion_laughs_rejected_fast():
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 10):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 10) + "]")
    text = "Resources:\n" + "\n".join("  " + l for l in lines) + "\n"
    t0 = time.perf_counter()
    with pytest.raises(cfnfix.TemplateError, match="billion laughs"):
        cfnfix.fix_text(text)
    assert time.perf_counter() - t0 < 5


@pytest.mark.parametrize("fmt", ["yaml-flow", "yaml-block", "json"])
def test_deep_nesting_is_an_error_not_a_crash(fmt):
    n = 10_000
    if fmt == "json":
        text, name = '{"Resources": ' + "[" * n + "]" * n + "}", "t.json"
    elif fmt == "yaml-flow":
        text, name = "Resources: " + "[" * n + "]" * n + "\n", "t.yaml"
    else:
        text, name = "Resources:\n" + "".join(" " * i + "- \n" for i in range(0, 2 * n, 2)), "t.yaml"
    with pytest.raises(cfnfix.TemplateError, match="nesting deeper than"):
        cfnfix.fix_text(text, filename=name)


def test_file_above_size_limit_rejected(tmp_path):
    from cfnfix.text.document import MAX_BYTES

    p = tmp_path / "huge.json"
    with open(p, "wb") as f:
        f.write(b'{"Resources": {}, "Pad": "')
        f.write(b"x" * (MAX_BYTES + 1))
        f.write(b'"}')
    r = cli(p)
    assert r.exit_code == 2 and "larger than the 20 MB limit" in r.stderr


def test_read_only_file_not_written(tmp_path):
    p = tmp_path / "ro.yaml"
    p.write_text(BROKEN)
    p.chmod(0o444)
    r = cli("--write", p)
    assert r.exit_code == 2 and "read-only" in r.stderr
    assert p.read_text() == BROKEN


def test_symlink_out_of_tree_not_modified(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    target = outside / "shared.yaml"
    target.write_text(BROKEN)
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "link.yaml").symlink_to(target)
    (repo / "own.yaml").write_text(BROKEN)
    r = cli("--write", repo)
    assert r.exit_code == 0
    assert target.read_text() == BROKEN
    assert (repo / "own.yaml").read_text() == FIXED


def test_file_changed_between_read_and_write_is_not_overwritten(tmp_path, monkeypatch):
    from cfnfix.cli import run as runner
    from cfnfix.workspace import source as files

    p = tmp_path / "race.yaml"
    p.write_text(BROKEN)
    real = files.write_atomic

    def racing_write(source, text):
        p.write_text(BROKEN + "# edited meanwhile\n")
        return real(source, text)

    monkeypatch.setattr(runner, "write_atomic", racing_write)
    r = cli("--write", p)
    assert r.exit_code == 2 and "changed on disk" in r.stderr
    assert p.read_text() == BROKEN + "# edited meanwhile\n"
    assert [x.name for x in tmp_path.iterdir()] == ["race.yaml"]


def test_unreadable_directory_is_reported_not_fatal(tmp_path, monkeypatch):
    d = tmp_path / "locked"
    d.mkdir()
    (d / "t.yaml").write_text(BROKEN)
    (tmp_path / "ok.yaml").write_text(BROKEN)
    real_scandir = os.scandir

    def scandir(path="."):
        if os.fspath(path) == str(d):  # as root, chmod 0 would not stop us: simulate it
            raise PermissionError(13, "Permission denied", str(d))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    r = cli("--write", tmp_path)
    assert r.exit_code == 2 and f"{d}: cannot read the directory: Permission denied" in r.stderr
    assert "Traceback" not in r.output
    assert (tmp_path / "ok.yaml").read_text() == FIXED and (d / "t.yaml").read_text() == BROKEN


def test_killed_during_writes_leaves_every_file_old_or_new(tmp_path):
    import random
    import signal
    import subprocess
    import sys
    from pathlib import Path

    exe = Path(sys.executable).with_name("cfnfix")
    big = BROKEN + "".join(f"  Out{i}:\n    Value: {'x' * 2000}\n    Export: {{}}\n" for i in range(40))
    fixed = None
    mixed_runs = 0
    rng = random.Random(3)
    for attempt in range(6):
        d = tmp_path / f"run{attempt}"
        d.mkdir()
        for i in range(60):
            (d / f"s{i}.yaml").write_text(big)
        if fixed is None:
            subprocess.run([str(exe), "--write", "-q", str(d / "s0.yaml")], check=True)
            fixed = (d / "s0.yaml").read_text()
            (d / "s0.yaml").write_text(big)
        p = subprocess.Popen([str(exe), "--write", "-q", str(d)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.3, 1.5))
        p.send_signal(signal.SIGKILL)
        p.wait()
        states = {(d / f"s{i}.yaml").read_text() == fixed for i in range(60)}
        mixed_runs += states == {True, False}  # killed mid-run: some files written, some not
        for i in range(60):
            assert (d / f"s{i}.yaml").read_text() in (big, fixed), f"partial file after kill: s{i}.yaml"
        leftovers = [x.name for x in d.iterdir() if not x.name.endswith(".yaml") or x.name.startswith(".")]
        # a temporary file may be left by a kill between create and rename; never a half-written template
        assert all(x.endswith(".cfnfix.tmp") for x in leftovers), leftovers
    assert fixed != big
    assert mixed_runs, "no kill landed in the middle of the writes; the test proved nothing"


# Found by the long fuzz run.
def test_unicode_line_separator_is_a_yaml_line_break_for_edits_too():
    text = "Resources:\n  B:\n    Type: AWS::S3::Bucket\nOutputs:\n  O:\n    Value: !GetAtt B\u2028.Arn\n    Export:\n  P:\n    Value: 1\n"
    r = cfnfix.fix_text(text, select=["OUT001"])
    assert r.text == text.replace("    Export:\n", "    Export:\n      Name: !Sub '${AWS::StackName}-O'\n")


def test_interface_metadata_with_odd_entries_does_not_crash_removal():
    text = ("Metadata:\n  AWS::CloudFormation::Interface:\n    ParameterGroups:\n      - Parameters: [{x: 1}, Pass]\n"
            "Parameters:\n  Pass: {Type: String, NoEcho: true}\n"
            "Resources:\n  Db:\n    Type: AWS::RDS::DBInstance\n    Properties:\n      MasterUsername: admin\n      MasterUserPassword: !Ref Pass\n")
    r = cfnfix.fix_text(text, select=["SM001"])
    assert "Pass:" not in r.text.split("Resources:")[0] and "[{x: 1}]" in r.text


def test_present_but_empty_transform_is_filled_in():
    from cfnfix.text.document import Document
    from cfnfix.text.edits import SetValue
    from cfnfix.cloudformation import Template

    t = Template(Document("Transform:\nResources:\n  A: {Type: X}\n", "t.yaml"))
    assert t.add_top_level("Transform", "AWS::Serverless-2016-10-31") == SetValue(("Transform",), "AWS::Serverless-2016-10-31")


# Found by the CI fuzz run on the golden inputs.
def test_insert_over_an_empty_key_fills_it_in():
    from cfnfix.text.document import Document
    from cfnfix.text.edits import Insert, apply_to_data
    from cfnfix.text.splice import resolve, splice

    text = "Resources:\n  A:\n    Type: X\n    DependsOn:\n    Properties: {}\n"
    doc = Document(text, "t.yaml")
    edits = [Insert(("Resources", "A"), "DependsOn", "B", after="Type")]
    out = splice(text, resolve(doc, edits))
    assert out == "Resources:\n  A:\n    Type: X\n    DependsOn: B\n    Properties: {}\n"
    assert Document(out, "t.yaml").data == apply_to_data(doc.data, edits)


def test_a_fix_the_template_does_not_allow_is_reported_not_fatal():
    # a logical id used by a parameter and a resource (invalid, but it parses)
    text = ("Parameters:\n  Pass: {Type: String, NoEcho: true}\n"
            "Outputs:\n  O:\n    Value: 1\n    Export: {}\n"
            "Resources:\n  Pass:\n    Type: AWS::RDS::DBInstance\n    Properties:\n      MasterUsername: a\n      MasterUserPassword: !Ref Pass\n")
    r = cfnfix.fix_text(text)
    assert [c.code for c in r.changes] == ["OUT001"]  # the other fixes still apply
    assert any(f.code == "SM001" and "not applied" in f.message for f in r.findings)


def test_a_key_spanning_lines_is_not_renamed():
    text = "Resources:\n  G:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n      GroupDe\u2028scription: x\n      VpcId: v\n"
    r = cfnfix.fix_text(text, select=["PROP001"])
    assert r.text == text and "spans lines" in r.findings[0].message
