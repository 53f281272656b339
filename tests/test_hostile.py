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
    from cfnfix.document import MAX_BYTES

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
    from cfnfix import files, runner

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


def test_unreadable_directory_is_reported_not_fatal(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root can read every directory")
    d = tmp_path / "locked"
    d.mkdir()
    (d / "t.yaml").write_text(BROKEN)
    d.chmod(0)
    try:
        r = cli(tmp_path)
        assert "Traceback" not in r.output
    finally:
        d.chmod(0o755)
