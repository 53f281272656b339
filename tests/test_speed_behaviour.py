"""What the speed work must keep: the same output, computed with less. Behaviour only (counts of
calls, equal outputs), never timings: bench/benchmark.py prints those."""

from __future__ import annotations

import json

import deepdiff
import pytest
from click.testing import CliRunner

from cfnfix.cli import main
from test_cli import BROKEN



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


@pytest.fixture
def folder(tmp_path):
    """Templates to fix, one to leave alone, one that does not parse, one that is no template."""
    root = tmp_path / "stacks"
    for i in range(7):
        d = root / f"team{i % 3}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"stack{i}.yaml").write_text(BROKEN.replace("TopicArn", f"Arn{i}"))
    (root / "ok.yaml").write_text(BROKEN.replace("    Export: {}\n", ""))
    (root / "broken.yaml").write_text("AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  T: [\n")
    (root / "notes.json").write_text('{"a": 1}\n')
    (root / "out.json").write_text(json.dumps(json.loads(json.dumps({"Resources": {"T": {"Type": "AWS::SNS::Topic"}},
                                                                      "Outputs": {"O": {"Value": {"Ref": "T"}, "Export": {}}}})), indent=2))
    return root


def run_in(folder, *args):
    r = CliRunner().invoke(main, ["--validator", "none", *args, str(folder)], catch_exceptions=False)
    return r.exit_code, r.stdout, r.stderr


@pytest.fixture
def pools(monkeypatch):
    """The sizes of the process pools runs start."""
    from cfnfix.cli.run import Run

    sizes = []
    real = Run.in_parallel

    def spy(self, files, workers):
        sizes.append(workers)
        return real(self, files, workers)

    monkeypatch.setattr(Run, "in_parallel", spy)
    return sizes


@pytest.mark.parametrize("args", [[], ["--format", "json"], ["--format", "sarif"], ["--check"], ["--statistics"], ["-q"]])
def test_jobs_give_the_output_of_one_process(folder, args, pools):
    one = run_in(folder, "-j1", *args)
    assert one[0] == 2 and "broken.yaml" in one[1] + one[2]  # bad input wins over fixable
    assert pools == []
    assert run_in(folder, "-j3", *args) == one
    assert pools == [3]


def test_jobs_write_the_same_files(folder, tmp_path):
    import shutil

    other = tmp_path / "copy"
    shutil.copytree(folder, other)
    one = run_in(folder, "-j1", "--write")
    many = run_in(other, "-j2", "--write")
    assert many == tuple(x.replace(str(folder), str(other)) if isinstance(x, str) else x for x in one)
    assert "fixed 8 files (8 fixes)" in one[2]
    for f in folder.rglob("*"):
        if f.is_file():
            assert (other / f.relative_to(folder)).read_text() == f.read_text()


def test_the_cyclic_gc_is_off_while_a_template_is_fixed_and_back_on_after():
    import gc

    from cfnfix.fixing.engine import fix_document
    from cfnfix.fixing.fixer import Fixer

    seen = []

    class Watch(Fixer):
        code, name, summary = "ZZZ001", "watch", "watches"

        def run(self, template):
            seen.append(gc.isenabled())
            return []

    assert gc.isenabled()
    fix_document(BROKEN, "t.yaml", [Watch()])
    assert seen == [False] and gc.isenabled()
    gc.disable()
    try:
        fix_document(BROKEN, "t.yaml", [Watch()])
        assert not gc.isenabled()  # left as it was found
    finally:
        gc.enable()


def test_the_intended_data_copies_only_what_the_edits_change():
    from cfnfix.text.edits import Append, Delete, Insert, RenameKey, SetValue, apply_to_data

    data = {"Resources": {"A": {"Type": "X", "Properties": {"L": [1, 2, 3], "M": {"k": "v"}}}, "B": {"Type": "Y", "Properties": {"P": [4]}}},
            "Outputs": {"O": {"Value": "x"}}}
    import copy

    before = copy.deepcopy(data)
    edits = [SetValue(("Resources", "A", "Type"), "Z"), Append(("Resources", "A", "Properties", "L"), 4),
             Insert(("Resources", "A", "Properties", "M"), "j", "w", before="k"), Delete(("Outputs", "O")),
             RenameKey(("Resources", "A", "Properties", "L"), "List")]
    out = apply_to_data(data, edits)
    assert data == before  # the input is untouched
    assert out == {"Resources": {"A": {"Type": "Z", "Properties": {"List": [1, 2, 3, 4], "M": {"j": "w", "k": "v"}}},
                                 "B": {"Type": "Y", "Properties": {"P": [4]}}}, "Outputs": {}}
    assert list(out["Resources"]["A"]["Properties"]["M"]) == ["j", "k"]
    assert out["Resources"]["B"] is data["Resources"]["B"]  # what no edit reaches is shared, not copied


LAMBDA = """AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {{}}
  Fn{i}:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: !GetAtt Role.Arn
      Code:
        ZipFile: |
{code}
"""


@pytest.fixture
def cst_parses(monkeypatch):
    import libcst

    from cfnfix.fixers.lambda_ import inline_imports

    inline_imports._analyse.cache_clear()
    calls = []
    real = libcst.parse_module

    def counting(code, *args, **kwargs):
        calls.append(code)
        return real(code, *args, **kwargs)

    monkeypatch.setattr(libcst, "parse_module", counting)
    yield calls
    inline_imports._analyse.cache_clear()


def lambda_template(code: str, i: int = 0) -> str:
    return LAMBDA.format(i=i, code="\n".join("          " + line if line else "" for line in code.splitlines()))


def test_inline_code_whose_missing_imports_are_guarded_is_never_given_to_libcst(cst_parses):
    import cfnfix

    code = "try:\n    import requests\nexcept ImportError:\n    requests = None\n\ndef handler(event, context):\n    return requests\n"
    result = cfnfix.fix_text(lambda_template(code), select=["LAMBDA001"])
    assert not result.changes and not result.findings
    assert cst_parses == []


def test_the_same_inline_code_is_parsed_by_libcst_once(cst_parses):
    import cfnfix

    code = "import json\nimport pymysql\n\ndef handler(event, context):\n    return json.dumps(event)\n"
    for i in range(3):
        result = cfnfix.fix_text(lambda_template(code, i), select=["LAMBDA001"])
        assert [c.code for c in result.changes] == ["LAMBDA001"]
        assert "import pymysql" not in result.text and "import json\n" in result.text
    assert len(cst_parses) == 1


@pytest.fixture
def json_trees(monkeypatch):
    """How many times the positioned JSON reader runs."""
    from cfnfix.text import json_reader

    calls = []
    real = json_reader.read_json

    def counting(text):
        calls.append(1)
        return real(text)

    monkeypatch.setattr(json_reader, "read_json", counting)
    return calls


def test_a_json_template_without_fixes_is_read_without_positions(json_trees, monkeypatch):
    import cfnfix

    # The check mode reads every partly re-read document again, positions and all: not counted here.
    monkeypatch.delenv("CFNFIX_CHECK_REPARSE", raising=False)
    text = json.dumps({"Resources": {"T": {"Type": "AWS::SNS::Topic"}}, "Outputs": {"O": {"Value": {"Fn::GetAtt": "T.TopicName"}}}}, indent=2)
    result = cfnfix.fix_text(text, filename="t.json")
    assert result.text == text and not result.changes and not result.findings
    assert json_trees == []
    fixable = text.replace('"Value": {', '"Export": {},\n      "Value": {')
    result = cfnfix.fix_text(fixable, filename="t.json")
    assert [c.code for c in result.changes] == ["OUT001"] and (result.changes[0].line, result.changes[0].column) == (9, 7)
    assert len(json_trees) == 1  # the positions of the input, for the splice and the fix's line; the
    # fixed text is re-read in part from them (text/reparse.py), not from nothing


@pytest.mark.parametrize("text", ['{"a": 1, "a": 2}', '{"a": NaN}', "[" * 201 + "]" * 201, '{"a": 1,}', "\ufeff\ufeff{}", '{"a": "\x01"}'])
def test_json_the_fast_reader_refuses_gets_the_positioned_readers_error(text):
    from cfnfix.errors import TemplateError
    from cfnfix.text.json_reader import read_json, read_json_data

    with pytest.raises(TemplateError) as full:
        read_json(text)
    with pytest.raises(TemplateError) as fast:
        read_json_data(text)
    assert (str(fast.value), fast.value.line, fast.value.column) == (str(full.value), full.value.line, full.value.column)


def test_json_data_is_the_same_from_either_reader():
    from cfnfix.text.json_reader import read_json, read_json_data

    text = '\ufeff{"A": {"Fn::GetAtt": "B.Arn"}, "L": [1, -0, 2.5, 1e400, true, null, "\\u00e9\\ud800"], "D": {}, "E": []}'
    assert repr(read_json_data(text)) == repr(read_json(text)[1])
    assert read_json_data(text)["A"] == {"Fn::GetAtt": ["B", "Arn"]}
    assert read_json_data("[" * 200 + "]" * 200) == read_json("[" * 200 + "]" * 200)[1]


def test_version_answers_as_click_does_without_importing_click_or_the_engine():
    import subprocess
    import sys

    code = ("import sys\nfrom cfnfix.cli import main\ntry:\n    main(['--version'])\nexcept SystemExit as e:\n    code = e.code\n"
            "print(code, sorted(m for m in ('click', 'cfnfix.fixing.engine', 'cfnfix.fixing.registry') if m in sys.modules))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert p.stdout == CliRunner().invoke(main, ["--version"]).output + "0 []\n"


def test_no_plugin_no_importlib_metadata(tmp_path, monkeypatch):
    from cfnfix.fixing import registry

    assert not registry._may_declare("cfnfix.fixers")  # this checkout declares no fixer plugin
    info = tmp_path / "acme_fixers-1.0.dist-info"
    info.mkdir()
    (info / "entry_points.txt").write_text("[cfnfix.fixers]\nx = acme_fixers:X\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert registry._may_declare("cfnfix.fixers")
    assert [ep.name for ep in registry.entry_points(group="cfnfix.fixers")] == ["x"]


def test_the_never_worse_trials_share_the_parses_of_the_texts_they_have_in_common(monkeypatch):
    from cfnfix.fixing.engine import build_fixers, fix_document
    from cfnfix.fixing.verify import Checker
    from cfnfix.text import document

    class Fussy(Checker):
        name = "fussy"

        def _findings(self, text, filename):
            return {("X1", "Outputs/TopicArn"): "no export names here"} if "Name:" in text else {}

    parses = []
    real = document.Document.__init__

    def counting(self, text, *args, **kwargs):
        parses.append(text)
        real(self, text, *args, **kwargs)

    monkeypatch.setattr(document.Document, "__init__", counting)
    result = fix_document(BROKEN, "t.yaml", build_fixers(), checker=Fussy())
    assert result.text == BROKEN and [c.code for c in result.refused] == ["OUT001"]
    assert "X1 at Outputs/TopicArn (no export names here)" in result.refused[0].reason
    assert parses.count(BROKEN) == 1  # the trial without OUT001 starts from the same parse


def _run_in_daemon(folder):
    return run_in(folder, "-j2")


def test_jobs_inside_a_daemonic_worker_use_that_process_alone(folder):
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(1) as pool:
        assert pool.apply(_run_in_daemon, (folder,)) == run_in(folder, "-j1")
