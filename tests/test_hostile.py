"""Hostile and broken input: a clear error with a position, exit 2, no traceback, file untouched."""

from __future__ import annotations

import os
import stat
import tempfile
import time
from pathlib import Path

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
    # an integer past Python's int-conversion limit (4,300 digits) raised ValueError: a traceback
    "long-int.yaml": (b"Resources:\n  A:\n    Type: X\n    Properties: {N: " + b"7" * 5000 + b"}\n", "4:21: an integer of 5,000 digits"),
    "long-int.json": (b'{"Resources": {"A": {"Type": "X", "N": -' + b"7" * 5000 + b"}}}", "1:40: an integer of 5,000 digits"),
    # two byte-order marks: positions off by one, then an internal error
    "two-boms.yaml": ("\ufeff\ufeff".encode() + BROKEN.encode(), "1:2: a second byte-order mark"),
    "two-boms.json": ("\ufeff\ufeff".encode() + b'{"Resources": {}}', "1:2: a second byte-order mark"),
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


def test_file_above_size_limit_rejected_and_one_at_the_limit_read(tmp_path):
    from cfnfix.text.document import MAX_BYTES

    p = tmp_path / "huge.json"
    head, tail = b'{"Resources": {"T": {"Type": "AWS::SNS::Topic"}}, "Description": "', b'"}'
    p.write_bytes(head + b"x" * (MAX_BYTES - len(head) - len(tail)) + tail)
    assert p.stat().st_size == MAX_BYTES
    assert cli(p).exit_code == 0
    p.write_bytes(head + b"x" * (MAX_BYTES + 1 - len(head) - len(tail)) + tail)
    r = cli(p)
    assert r.exit_code == 2 and f"larger than the {MAX_BYTES // (1024 * 1024)} MB limit" in r.stderr


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


# The child runs the real CLI with os.fsync / os.replace wrapped so that it stops at a chosen
# point of a chosen file's write, says so, and waits to be killed: the kill lands where the test
# wants it, on a busy machine as on a quiet one.
_PAUSING_CHILD = """
import os, sys, time
stage, when, nth = sys.argv[1], sys.argv[2], int(sys.argv[3])
real = getattr(os, stage)
calls = [0]
def pause():
    sys.stdout.write("paused\\n"); sys.stdout.flush()
    time.sleep(3600)
def wrapped(*args, **kwargs):
    calls[0] += 1
    if calls[0] == nth and when == "before":
        pause()
    result = real(*args, **kwargs)
    if calls[0] == nth and when == "after":
        pause()
    return result
setattr(os, stage, wrapped)
from cfnfix.cli import main
main(["--write", "-q", sys.argv[4]])
"""


@pytest.mark.parametrize("stage, when, written", [
    ("fsync", "before", 2),    # the third file's temporary copy is written, not yet flushed
    ("replace", "before", 2),  # the third file's temporary copy is complete, not yet renamed
    ("replace", "after", 3),   # the third file is renamed into place
])
def test_killed_during_writes_leaves_every_file_old_or_new(tmp_path, stage, when, written):
    import signal
    import subprocess
    import sys

    d = tmp_path / "stacks"
    d.mkdir()
    for i in range(5):
        (d / f"s{i}.yaml").write_text(BROKEN)
    p = subprocess.Popen([sys.executable, "-c", _PAUSING_CHILD, stage, when, "3", str(d)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()  # blocks until the child reaches the point (or ends)
        assert line == "paused\n", f"the child never reached {when} {stage} #3: {line!r} {p.stderr.read()[-2000:]}"
        p.send_signal(signal.SIGKILL)
    finally:
        p.kill()
        p.wait()
    contents = [(d / f"s{i}.yaml").read_text() for i in range(5)]
    assert all(c in (BROKEN, FIXED) for c in contents), "a partial file after kill -9"
    assert contents == [FIXED] * written + [BROKEN] * (5 - written)  # in the order they are written
    leftovers = sorted(x.name for x in d.iterdir() if not x.name.endswith(".yaml"))
    assert all(x.endswith(".cfnfix.tmp") and x.startswith(".s2.yaml.") for x in leftovers), leftovers
    assert len(leftovers) == (written == 2)
    # the next run finishes the job; once the leftover is old enough it is removed too
    for x in leftovers:
        os.utime(d / x, (time.time() - 3600, time.time() - 3600))
    r = cli("--write", "-q", d)
    assert r.exit_code == 0, r.output
    assert [(d / f"s{i}.yaml").read_text() for i in range(5)] == [FIXED] * 5
    assert sorted(x.name for x in d.iterdir()) == [f"s{i}.yaml" for i in range(5)]


# Found by the long fuzz run.
def test_unicode_line_separator_is_a_yaml_line_break_for_edits_too():
    """libyaml (YAML 1.1, as CloudFormation reads YAML) breaks the line at U+2028 and fails; the
    pure parser reads ``B\u2028`` as a name. Where the readers disagree the template is bad input
    (it was fixed as the pure parser read it, and the next read could differ); a line separator
    both read the same way stays."""
    text = "Resources:\n  B:\n    Type: AWS::S3::Bucket\nOutputs:\n  O:\n    Value: !GetAtt B\u2028.Arn\n    Export:\n  P:\n    Value: 1\n"
    with pytest.raises(cfnfix.TemplateError, match=r"U\+2028 \(line separator\) is a line break in YAML 1.1") as e:
        cfnfix.fix_text(text, select=["OUT001"])
    assert (e.value.line, e.value.column) == (6, 21)
    quoted = text.replace("!GetAtt B\u2028.Arn", '"a\u2028b"')
    r = cfnfix.fix_text(quoted, select=["OUT001"])
    assert r.text == quoted.replace("    Export:\n", '    Export:\n      Name: !Sub "${AWS::StackName}-O"\n')


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
    """A key broken by U+2028: libyaml refuses it, the pure parser reads one key — bad input, not
    a key to rename."""
    text = "Resources:\n  G:\n    Type: AWS::EC2::SecurityGroup\n    Properties:\n      GroupDe\u2028scription: x\n      VpcId: v\n"
    with pytest.raises(cfnfix.TemplateError, match=r"U\+2028 \(line separator\)"):
        cfnfix.fix_text(text, select=["PROP001"])


# ----- issue 15: inputs that hung or crashed it -----------------------------------------------
def _cfnfix_subprocess(*args, timeout=300, input=None, memory=2 << 30):
    """The CLI in a child process: a hang or a runaway read fails the test instead of hanging
    the suite (generous timeout; address space capped so an unbounded read fails fast)."""
    import resource
    import subprocess
    import sys

    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    return subprocess.run([sys.executable, "-m", "cfnfix", *map(str, args)], input=input, capture_output=True,
                          timeout=timeout, preexec_fn=cap)


def test_template_sniffing_is_linear_on_long_runs_of_blank_lines():
    # the old pattern (^[\s{]*"?Resources) backtracked over every blank line from every line
    # start: 80,000 newlines took 33 s of CPU, these 2,000,000 would take days
    import subprocess
    import sys

    code = ("from cfnfix.workspace.discovery import looks_like_template as f\n"
            "blank = '\\n' * 2_000_000 + ' \\t\\r\\n' * 100_000\n"
            "assert not f(blank + 'x: 1\\n') and f(blank + 'Resources:\\n') and f(blank + '  {\"Resources\" : {}}')\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300)


def test_symlink_loops_and_links_to_nowhere_in_a_folder_do_not_stop_the_others(tmp_path):
    d = tmp_path / "stacks"
    d.mkdir()
    (d / "self.yaml").symlink_to("self.yaml")
    (d / "a.yaml").symlink_to("b.yaml")
    (d / "b.yaml").symlink_to("a.yaml")
    (d / "gone.json").symlink_to("nowhere.json")
    (d / "ok.yaml").write_text(BROKEN)
    r = cli("--write", d)  # was: RuntimeError: Symlink loop, traceback, nothing processed
    assert r.exit_code == 0, r.output
    assert (d / "ok.yaml").read_text() == FIXED
    r = cli(d / "self.yaml")
    assert r.exit_code == 2 and f"{d / 'self.yaml'}:1:1: symlink loop" in r.stderr


def test_fifo_device_and_oversized_stdin_are_refused_not_read(tmp_path):
    from cfnfix.text.document import MAX_BYTES

    d = tmp_path / "stacks"
    d.mkdir()
    os.mkfifo(d / "pipe.yaml")  # nobody writes to it: reading it blocked forever
    (d / "ok.yaml").write_text(BROKEN)
    r = _cfnfix_subprocess("--write", d)
    assert r.returncode == 0, r.stderr
    assert (d / "ok.yaml").read_text() == FIXED
    r = _cfnfix_subprocess(d / "pipe.yaml", "/dev/zero")  # /dev/zero was read until memory ran out
    assert r.returncode == 2, r.stderr
    assert b"pipe.yaml:1:1: a FIFO (named pipe): cfnfix reads only regular files" in r.stderr
    assert b"/dev/zero:1:1: a device: cfnfix reads only regular files" in r.stderr
    r = cli("-", input=b" " * (MAX_BYTES + 1))
    assert r.exit_code == 2 and "<stdin>:1:1: file is larger than the" in r.stderr


def test_json_repair_reads_the_file_once_however_many_repairs():
    # it re-parsed the whole file after each repair, up to 500 times: 100 trailing commas next
    # to a 5 MB string took 64 s. Count the parses instead of timing them.
    from cfnfix.text import json_reader

    items = ",\n".join(f'    "Q{i}": {{"Type": "AWS::SQS::Queue", "Properties": {{"DelaySeconds": {i},}},}}' for i in range(100))
    text = '{\n  "Description": "' + "x" * 100_000 + '",\n  "Resources": {\n' + items + "\n  }\n}\n"
    real = json_reader._Reader.read
    parses = []

    def counting(self):
        parses.append(1)
        return real(self)

    import unittest.mock

    with unittest.mock.patch.object(json_reader._Reader, "read", counting):
        r = cfnfix.fix_text(text, filename="t.json")
    assert sum(c.code == "JSON001" for c in r.changes) == 200
    assert r.text.count(",}") == 0 and r.text.count("}\n") >= 2
    assert len(parses) <= 3, f"{len(parses)} parses for one file"  # the text, the repaired text, the end check


def test_only_alias_expansion_counts_towards_the_billion_laughs_limit(monkeypatch):
    # every node used to count: a 19.9 MB file without a single alias was "billion laughs"
    from cfnfix.text import yaml_reader

    monkeypatch.setattr(yaml_reader, "MAX_EXPANDED_NODES", 50)
    plain = "Resources:\n" + "".join(f"  Q{i}:\n    Type: AWS::SQS::Queue\n    Properties: {{DelaySeconds: {i}}}\n" for i in range(40))
    assert len(cfnfix.fix_text(plain).text) == len(plain)
    aliased = plain + "Metadata:\n  A: &a [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n" + "".join(f"  B{i}: *a\n" for i in range(5))
    with pytest.raises(cfnfix.TemplateError, match="aliases expand to more than 50 nodes"):
        cfnfix.fix_text(aliased)


ALIASED_EXPORT = """Resources:
  T:
    Type: AWS::SNS::Topic
Outputs:
  A:
    Value: !Ref T
    Export: &e {}
  B:
    Value: !GetAtt T.TopicName
    Export: *e
"""
ALIASED_OUTPUT = "Resources:\n  T:\n    Type: AWS::SNS::Topic\nOutputs: {A: &A {Value: !Ref T, Export: {}}, B: *A}\n"
ALIASED_INGRESS = """Resources:
  A:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: a
      SecurityGroupIngress: &ingress
        - {SourceSecurityGroupId: !Ref B, IpProtocol: tcp, FromPort: 443, ToPort: 443}
  B:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: b
      SecurityGroupIngress:
        - {SourceSecurityGroupId: !Ref A, IpProtocol: tcp, FromPort: 443, ToPort: 443}
  C:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: c
      SecurityGroupIngress: *ingress
"""
ANCHOR_IN_REMOVED_PARAMETER = """Parameters:
  Pass:
    Type: String
    NoEcho: true
    Description: &d the database password
Resources:
  Db:
    Type: AWS::RDS::DBInstance
    Properties:
      MasterUsername: admin
      MasterUserPassword: !Ref Pass
  T:
    Type: AWS::SNS::Topic
    Properties:
      DisplayName: *d
"""


@pytest.mark.parametrize("text, anchor", [(ALIASED_EXPORT, "&e"), (ALIASED_OUTPUT, "&A"), (ALIASED_INGRESS, "&ingress"),
                                          (ANCHOR_IN_REMOVED_PARAMETER, "&d")])
def test_a_fix_through_a_yaml_alias_is_reported_not_applied(tmp_path, text, anchor):
    # these ended in exit 3, or (Outputs: {B: *A}) gave B the export name of A
    p = tmp_path / "t.yaml"
    p.write_text(text)
    r = cli("--write", p)
    assert r.exit_code == 0, r.output
    assert p.read_text() == text
    assert f"YAML anchor {anchor}" in r.output and "not applied" in r.output
    # an edit elsewhere in the same file still applies
    r = cfnfix.fix_text(text + "  Extra:\n    Value: 1\n    Export: {}\n" if "Outputs:\n" in text else text)
    assert all("Extra" in c.message for c in r.changes)


# ----- issue 15: writes that overreached ------------------------------------------------------
def test_a_file_the_user_may_not_write_is_not_replaced_through_a_writable_folder(tmp_path, monkeypatch):
    # os.replace needs only the folder's permission; the old check read only the mode bits
    from cfnfix.workspace import source

    p = tmp_path / "theirs.yaml"
    p.write_text(BROKEN)
    real_access = os.access
    def access(path, mode, **kw):  # as for a file of another user's: readable, not writable
        return False if os.fspath(path) == str(p) and mode & os.W_OK else real_access(path, mode, **kw)

    monkeypatch.setattr(source.os, "access", access)
    r = cli("--write", p)
    assert r.exit_code == 2 and "you may not write this file" in r.stderr
    assert p.read_text() == BROKEN and sorted(x.name for x in tmp_path.iterdir()) == ["theirs.yaml"]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to become another user")
def test_as_another_user_a_writable_folder_is_not_enough(tmp_path):
    import shutil
    import subprocess
    import sys

    shared = Path(tempfile.mkdtemp(prefix="cfnfix-shared-", dir="/tmp"))
    try:
        shared.chmod(0o777)  # anyone may create and rename files here
        p = shared / "root-owned.yaml"
        p.write_text(BROKEN)
        p.chmod(0o644)  # but only root may write this file
        code = ("import os, sys\nfrom pathlib import Path\nimport fcntl\n"
                "from cfnfix.workspace.source import read_source, write_atomic\n"
                "source = read_source(Path(sys.argv[1]))\n"
                "os.setgroups([]); os.setgid(65534); os.setuid(65534)  # nobody\n"
                "try:\n    write_atomic(source, 'replaced\\n')\n"
                "except PermissionError as e:\n    print('refused:', e); sys.exit(0)\n"
                "print('written'); sys.exit(1)\n")
        r = subprocess.run([sys.executable, "-c", code, str(p)], capture_output=True, text=True, timeout=300)
        assert r.returncode == 0 and "you may not write this file" in r.stdout, r.stdout + r.stderr
        assert p.read_text() == BROKEN and p.stat().st_uid == 0
    finally:
        shutil.rmtree(shared, ignore_errors=True)


def test_hard_links_setuid_owner_and_extended_attributes(tmp_path):
    p = tmp_path / "t.yaml"
    p.write_text(BROKEN)
    os.link(p, tmp_path / "t-link.yaml")
    r = cli("--write", p)  # a rename would have cut the link off: the other name kept the old text
    assert r.exit_code == 2 and "2 hard links" in r.stderr
    assert p.read_text() == BROKEN
    os.unlink(tmp_path / "t-link.yaml")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        os.chown(p, 4321, 4322)
    p.chmod(0o6755)
    xattr = False
    try:
        os.setxattr(p, "user.cfnfix-test", b"kept")
        xattr = True
    except (OSError, AttributeError):
        pass
    assert cli("--write", p).exit_code == 0
    st = p.stat()
    assert p.read_text() == FIXED
    assert stat.S_IMODE(st.st_mode) == 0o6755  # chown after chmod used to clear setuid/setgid
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        assert (st.st_uid, st.st_gid) == (4321, 4322)
    if xattr:
        assert os.getxattr(p, "user.cfnfix-test") == b"kept"


def test_an_edit_saved_while_cfnfix_compares_the_file_is_not_lost(tmp_path, monkeypatch):
    # the old write compared the bytes and renamed: a save landing after the comparison was lost
    p = tmp_path / "race.yaml"
    p.write_text(BROKEN)
    real = Path.read_bytes
    saves = []

    def read_bytes(self):
        data = real(self)
        if self == p and any(x.name.endswith(".cfnfix.tmp") for x in tmp_path.iterdir()):  # the write's last check
            with open(p, "a") as f:  # an editor saves right after cfnfix read the file back
                f.write("# saved meanwhile\n")
            saves.append(1)
        return data

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    r = cli("--write", p)
    assert saves, "the write never re-read the file"
    assert r.exit_code == 2 and "changed on disk" in r.stderr
    assert p.read_text() == BROKEN + "# saved meanwhile\n"


def test_stale_temporary_files_of_killed_runs_are_removed(tmp_path):
    from cfnfix.workspace.source import STALE_TMP_SECONDS

    p = tmp_path / "t.yaml"
    p.write_text(BROKEN)
    old, fresh, other = (tmp_path / ".t.yaml.k1llxd.cfnfix.tmp", tmp_path / ".t.yaml.rUnn1g.cfnfix.tmp",
                         tmp_path / ".t.yaml.backup.cfnfix.tmp.keep")
    for x in (old, fresh, other):
        x.write_text("partial")
    then = time.time() - STALE_TMP_SECONDS - 60
    os.utime(old, (then, then))
    os.utime(other, (then, then))
    assert cli("--write", p).exit_code == 0
    assert sorted(x.name for x in tmp_path.iterdir()) == sorted([p.name, fresh.name, other.name])


def test_each_fix_is_explained_from_what_it_touches_not_from_the_whole_template(monkeypatch):
    # each fix's explanation used to deepdiff the whole template: a template with a fix in each
    # of a few hundred outputs took minutes. Count what deepdiff is given instead of timing it.
    import json

    import deepdiff

    from cfnfix.reports.explanation import details

    text = "Resources:\n  T:\n    Type: AWS::SNS::Topic\nOutputs:\n" + "".join(
        f"  O{i}:\n    Value: !Ref T\n    Export: {{}}\n" for i in range(60))
    result = cfnfix.fix_text(text, select=["OUT001"])
    sizes = []
    real = deepdiff.DeepDiff

    def measuring(t1, t2, **kw):
        sizes.append(len(json.dumps(t1, default=str)))
        return real(t1, t2, **kw)

    monkeypatch.setattr(deepdiff, "DeepDiff", measuring)
    found = details(result)
    assert len(sizes) == len(result.changes) == 60
    assert max(sizes) < 200, max(sizes)  # one output's Export, not the 60 outputs (3,000 bytes)
    assert all(d[0].path[:2] == ("Outputs", c.path[1]) for c, d in zip(result.changes, (found[id(c)] for c in result.changes)))


# ----- found by the long fuzz run of 2026-11-30 (seed 20261130) --------------------------------------
LAMBDA_AT_EOF = ("Resources:\n  Fn:\n    Type: AWS::Lambda::Function\n    Properties:\n      Runtime: python3.12\n"
                 "      Handler: index.handler\n      Role: arn:aws:iam::123456789012:role/fn\n      Code:\n        ZipFile: |\n"
                 "          import json\n          # talks to MySQL\n          import pymysql\n\n          import boto")

FUZZ_FOUND = {
    # RDS001 compared versions as integers: 4,301 digits hit Python's conversion limit.
    "rds-long-version": "Resources:\n  Db:\n    Type: AWS::RDS::DBInstance\n    Properties:\n      Engine: postgres\n"
                        "      EngineVersion: '" + "3" * 4301 + ".1'\n      DBInstanceClass: db.t3.micro\n",
    # EC2002 used a Ref's operand as a key where a mutated tag made it a list.
    # A decimal too large for a float was read as -inf, which SHAPE001 then wrote as the string "-inf".
    "float-overflow-in-tags": "Resources:\n  Data:\n    Type: AWS::S3::Bucket\n    Properties:\n      Tags:\n"
                              "        Team: -" + "4" * 400 + ".5\n",
    # REF002 renamed "${Bucket" to Bucket and kept the attribute "Arn}/", then wrote it unquoted
    # in a flow list, where "}" ends nothing: text that does not parse.
    "getatt-of-a-sub-string": "Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n  Topic:\n    Type: AWS::SNS::Topic\n"
                              "    Properties:\n      Tags: [{Key: k, Value: [!GetAtt '${Bucket.Arn}/']}]\n",
    "ec2-ref-of-a-list": "Resources:\n  Host:\n    Type: AWS::EC2::Instance\n    Properties:\n"
                         "      ImageId: !Ref [RegionMap, !Ref 'AWS::Region', AMI]\n      InstanceType: t3.micro\n",
    # LAMBDA001 rewrote a ``|`` block that ends the file without a line break: the block's value
    # has no final newline there, the rewrite dropped a character and left the last line open.
    "block-scalar-at-eof-without-newline": LAMBDA_AT_EOF,
    # SHAPE001 made a tag list a map whose key was a 4,404-character string: YAML refuses a key of
    # more than 1,024 characters, so the fixed text did not parse.
    "key-longer-than-yaml-allows": "Resources:\n  S:\n    Type: AWS::SSM::Parameter\n    Properties:\n      Type: String\n"
                                   "      Value: x\n      Tags:\n        - Key: 0x" + "2" * 4402 + "\n          Value: a\n",
    # A line separator inside a plain key: libyaml (YAML 1.1) breaks the line there and fails, the
    # pure parser (1.2) reads one key; SM001's fix then let libyaml read it as something else.
    "line-separator-read-two-ways": "Parameters:\n  DbUse\u2028rname:\n    Type: String\n  DbPassword:\n    Type: String\n"
                                    "    NoEcho: true\nResources:\n  Db:\n    Type: AWS::RDS::DBInstance\n    Properties:\n"
                                    "      Engine: postgres\n      DBInstanceClass: db.t3.micro\n      MasterUsername: !Ref DbUse\u2028rname\n"
                                    "      MasterUserPassword: !Ref DbPassword\n      AllocatedStorage: '20'\n",
    # A JSON number too large for a float reads as infinity; SHAPE001 wrote it back into a tag map
    # as ``Infinity``, which is not JSON (2026-11-30, third long run).
    "json-number-read-as-infinity": '{\n  "Resources": {\n    "S": {\n      "Type": "AWS::SSM::Parameter",\n'
                                    '      "Properties": {\n        "Type": "String",\n        "Value": "x",\n        "Tags": [\n'
                                    '          {"Key": "Team", "Value": 1' + "9" * 400 + 'e3},\n'
                                    '          {"Key": "Env", "Value": "prod"}\n        ]\n      }\n    }\n  }\n}\n',
    # SM001 read a parameter's MaxLength with int(), which a number read as infinity overflows.
    "json-max-length-read-as-infinity": '{"Parameters": {"DbPassword": {"Type": "String", "NoEcho": true, "MaxLength": -1'
                                        + "9" * 400 + 'e3}},\n "Resources": {"Db": {"Type": "AWS::RDS::DBInstance", "Properties": '
                                        '{"Engine": "postgres", "DBInstanceClass": "db.t3.micro", "MasterUsername": "admin",'
                                        ' "MasterUserPassword": {"Ref": "DbPassword"}, "AllocatedStorage": "20"}}}}\n',
}


def test_an_availability_zone_index_that_only_looks_like_digits(tmp_path):
    """EC2003 took ``"²"`` (``str.isdigit`` is true for it) for a Select index and int() refused it."""
    p = tmp_path / "az.yaml"
    p.write_text('Resources:\n  S:\n    Type: AWS::EC2::Subnet\n    Properties:\n      VpcId: vpc-1\n'
                 '      CidrBlock: 10.0.0.0/24\n      AvailabilityZone: !Select ["\\u00b2", !GetAZs ""]\n')
    r = cli("--validator", "none", "--select", "EC2003", p)
    assert r.exit_code == 0 and "internal error" not in r.stderr, r.stderr


def test_a_number_that_reads_as_infinity_is_not_written_back(tmp_path):
    p = tmp_path / "t.json"
    p.write_text(FUZZ_FOUND["json-number-read-as-infinity"])
    r = cli("--validator", "none", "--write", p)
    assert r.exit_code == 0, r.output
    assert "not applied: a number too large for a 64-bit float cannot be written back" in r.stdout
    assert p.read_text() == FUZZ_FOUND["json-number-read-as-infinity"]


@pytest.mark.parametrize("name", sorted(FUZZ_FOUND))
def test_fuzz_found_inputs_exit_cleanly(tmp_path, name):
    p = tmp_path / f"{name}.yaml"
    p.write_text(FUZZ_FOUND[name])
    r = cli("--validator", "none", p)
    assert r.exit_code in (0, 1, 2) and "Traceback" not in r.output + r.stderr and "internal error" not in r.stderr, r.stderr


def test_a_fixer_that_raises_is_an_internal_error_of_its_file_only(tmp_path):
    from cfnfix.errors import InternalError
    from cfnfix.fixing import Fixer
    from cfnfix.fixing.engine import fix_document

    class Raises(Fixer):
        code = "TST900"
        summary = "test: a fixer with a bug"
        docs = "## Why it breaks deploys\nIt does not, this is a test."

        def run(self, template):
            yield from ()
            raise KeyError("boom")

    with pytest.raises(InternalError, match=r"TST900: KeyError: 'boom' \(test_hostile.py:\d+\)"):
        fix_document("Resources:\n  Q:\n    Type: AWS::SQS::Queue\n", "t.yaml", [Raises()])


@pytest.fixture
def matcher_sizes(monkeypatch):
    """(len(a), len(b)) of every difflib matcher the splice layer makes."""
    import difflib

    from cfnfix.text import splice

    sizes = []
    real = difflib.SequenceMatcher

    class Recording(real):
        def __init__(self, isjunk, a, b, autojunk=True):
            sizes.append((len(a), len(b)))
            super().__init__(isjunk, a, b, autojunk=autojunk)

    monkeypatch.setattr(splice.difflib, "SequenceMatcher", Recording)
    return sizes


def test_block_scalar_rewrite_matches_only_the_lines_that_differ(matcher_sizes):
    """A fix in a ``|`` block of 100,000 blank lines (the fuzzer's LAMBDA001 input) gave difflib the
    whole block, which is quadratic on identical lines: only the differing middle goes to it now,
    and the opcodes are those difflib gives for the whole."""
    import random

    from cfnfix.text import splice

    old = ["import os", "import pymysql"] + [""] * 100_000 + ["def handler(event, context):", "    return 1"]
    new = ["import os"] + [""] * 100_000 + ["def handler(event, context):", "    return 1"]
    ops = splice._line_opcodes(old, new)
    assert matcher_sizes == [(1, 0)]
    assert [(op, i2 - i1, j2 - j1) for op, i1, i2, j1, j2 in ops] == [("equal", 1, 1), ("delete", 1, 0), ("equal", 100_002, 100_002)]
    rng = random.Random(5)
    for _ in range(200):
        a = [rng.choice("ab ") for _ in range(rng.randint(0, 12))]
        b = [rng.choice("ab ") for _ in range(rng.randint(0, 12))]
        rebuilt = [x for op, i1, i2, j1, j2 in splice._line_opcodes(a, b) for x in (a[i1:i2] if op == "equal" else b[j1:j2])]
        assert rebuilt == b and all(a[i1:i2] == b[j1:j2] for op, i1, i2, j1, j2 in splice._line_opcodes(a, b) if op == "equal")


def test_an_entry_appended_to_a_resource_and_a_resource_inserted_after_it_land_in_order():
    """Two insertions at one offset (found by the fuzzer through S3002): the list that ends a
    resource gets its entry before the new resource that follows, whatever order the fix lists them."""
    from cfnfix.fixing import Fix, Fixer
    from cfnfix.fixing.engine import fix_document
    from cfnfix.text.edits import Append, Insert

    class Both(Fixer):
        code = "TST901"
        summary = "test: insert a resource after one whose DependsOn list it extends"
        docs = "## Why it breaks deploys\nIt does not, this is a test."

        def run(self, template):
            if "Permission" not in template.resources:
                yield Fix("add Permission", [Insert(("Resources",), "Permission", {"Type": "AWS::SNS::Topic"}, after="Bucket"),
                                             Append(("Resources", "Bucket", "DependsOn"), "Permission")], ("Resources", "Bucket"))

    text = "Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n    DependsOn:\n      - Other\n\n  Other:\n    Type: AWS::SNS::Topic\n"
    result = fix_document(text, "t.yaml", [Both()])
    assert result.text == ("Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n    DependsOn:\n      - Other\n      - Permission\n\n"
                           "  Permission:\n    Type: AWS::SNS::Topic\n\n  Other:\n    Type: AWS::SNS::Topic\n")


def test_getatt_short_form_only_for_names_it_can_hold():
    from cfnfix.text.render import yaml_flow
    from cfnfix.text.style import Style

    assert yaml_flow({"Fn::GetAtt": ["Db", "Endpoint.Address"]}, Style()) == "!GetAtt Db.Endpoint.Address"
    assert yaml_flow({"Fn::GetAtt": ["Bucket", "Arn}/"]}, Style()) == "!GetAtt [Bucket, 'Arn}/']"


def test_an_intrinsic_around_an_intrinsic_is_not_written_with_two_tags():
    """A YAML node takes one tag: ``!Base64 !Sub x`` does not parse (the long fuzz run found
    PROP002 moving a ``Fn::Base64: !Sub |`` block into a new mapping, written that way). The
    outer function is written in long form, in block, flow and sequence places alike."""
    from cfnfix.text.document import Document
    from cfnfix.text.render import yaml_after_key, yaml_block_sequence, yaml_flow
    from cfnfix.text.style import Style

    value = {"Fn::Base64": {"Fn::Sub": "#!/bin/bash\necho ${Cluster}\n"}}
    flow = yaml_flow({"UserData": value}, Style())
    block = "UserData:" + yaml_after_key(value, 0, Style())
    seq = "Items:\n" + yaml_block_sequence([value, {"Fn::Base64": {"Ref": "Script"}}], 2, Style())
    assert flow == '{UserData: {Fn::Base64: !Sub "#!/bin/bash\\necho ${Cluster}\\n"}}'
    assert block == "UserData:\n  Fn::Base64: !Sub |\n    #!/bin/bash\n    echo ${Cluster}"
    assert seq == "Items:\n  - Fn::Base64: !Sub |\n      #!/bin/bash\n      echo ${Cluster}\n  - Fn::Base64: !Ref Script"
    for text in (flow, block, seq):
        Document(text + "\n", "t.yaml", fmt="yaml")  # parses
    assert yaml_flow({"Fn::Base64": "x"}, Style()) == "!Base64 x"  # one level stays short


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_block_scalar_that_ends_the_file_without_a_line_break_is_rewritten_whole(tmp_path, newline):
    p = tmp_path / "fn.yaml"
    p.write_bytes(LAMBDA_AT_EOF.replace("\n", newline).encode())
    assert cli("--validator", "none", "--write", p).exit_code == 0
    fixed = LAMBDA_AT_EOF.split("          import pymysql")[0]  # the block ends after the comment, with its line break
    assert fixed.endswith("          # talks to MySQL\n")
    assert p.read_bytes().decode() == fixed.replace("\n", newline)
    assert cli("--validator", "none", p).exit_code == 0


def test_a_key_yaml_cannot_hold_is_reported_not_written(tmp_path):
    p = tmp_path / "long-key.yaml"
    p.write_text(FUZZ_FOUND["key-longer-than-yaml-allows"])
    r = cli("--validator", "none", "--write", p)
    assert r.exit_code == 0, r.output
    assert "not applied: a key of 4,406 characters cannot be written: YAML keys are at most 1,024" in r.stdout
    assert p.read_text() == FUZZ_FOUND["key-longer-than-yaml-allows"]


def test_a_line_separator_the_two_yaml_readers_disagree_on_is_bad_input(tmp_path):
    p = tmp_path / "ls.yaml"
    p.write_text(FUZZ_FOUND["line-separator-read-two-ways"], encoding="utf-8")
    r = cli("--validator", "none", "--write", p)
    assert r.exit_code == 2, r.output
    assert f"{p}:2:8: U+2028 (line separator) is a line break in YAML 1.1 and not in YAML 1.2" in r.stderr
    assert p.read_text(encoding="utf-8") == FUZZ_FOUND["line-separator-read-two-ways"]


def test_lines_that_differ_far_apart_in_a_huge_block_are_matched_piecewise(matcher_sizes):
    """The long fuzz run's next LAMBDA001 input: imports removed at the top and the bottom of a
    block with 100,000 blank lines between them — the common head and tail are short, and difflib
    got the whole middle (minutes). It now gets pieces between lines that occur once in each."""
    import random

    from cfnfix.text import splice

    old = ["from datetime import datetime", "from requests import get", "import boto3"] + [""] * 100_000 + [
        "def handler(event, context):", "    from requests.adapters import HTTPAdapter", "    return 1"]
    new = ["from datetime import datetime", "import boto3"] + [""] * 100_000 + ["def handler(event, context):", "    return 1"]
    ops = splice._line_opcodes(old, new)
    assert max(a * b for a, b in matcher_sizes) <= splice._DIFFLIB_PAIRS
    assert [op for op in ops if op[0] != "equal"] == [("delete", 1, 2, 1, 1), ("delete", 100_004, 100_005, 100_003, 100_003)]
    rng = random.Random(7)
    for _ in range(30):  # any opcodes they give turn old into new, each line accounted for once
        a = [rng.choice(["", "", "", "x", "y", f"u{rng.randrange(10**6)}"]) for _ in range(rng.randrange(600, 1200))]
        b = [line for line in a if rng.random() > 0.01] + [f"v{rng.randrange(10**6)}"]
        ops = splice._line_opcodes(a, b)
        rebuilt = []
        for op, i1, i2, j1, j2 in ops:
            assert (op == "equal") == (a[i1:i2] == b[j1:j2] and i2 - i1 == j2 - j1)
            rebuilt += b[j1:j2]
        assert rebuilt == b and [o[1] for o in ops] + [len(a)] == [0] + [o[2] for o in ops]
