"""Configuration that fails loudly and exactly, fixer codes checked wherever they come from, and
the files a run takes (exclude, per-file-ignores, ignore-file)."""

from __future__ import annotations

import json

import pytest

from test_cli import BROKEN, FIXED, cli

BROKEN_JSON = json.dumps({"Resources": {"T": {"Type": "AWS::SNS::Topic"}}, "Outputs": {"O": {"Value": 1, "Export": {}}}}, indent=2)


@pytest.fixture
def project(tmp_path):
    (tmp_path / "stack.yaml").write_text(BROKEN)
    return tmp_path


# ----- malformed files and wrong types ------------------------------------------------------------
def test_malformed_pyproject_is_reported_with_its_position(project):
    (project / "pyproject.toml").write_text('[project]\nname = "x"\nversion = \n')
    r = cli("stack.yaml", cwd=project)
    assert r.exit_code == 2
    assert r.stderr.startswith(f"{project / 'pyproject.toml'}:3:11: ") and "Traceback" not in r.output, r.stderr


def test_pyproject_without_tool_cfnfix_is_not_an_error(project):
    (project / "pyproject.toml").write_text('[project]\nname = "x"\n[tool.black]\nline-length = 100\n')
    r = cli("stack.yaml", cwd=project)
    assert r.exit_code == 1 and r.stderr.endswith("run with --write to apply\n")


def test_malformed_dot_cfnfix_toml_has_a_position_too(project):
    (project / ".cfnfix.toml").write_text('select = ["OUT001"\n')
    r = cli("stack.yaml", cwd=project)
    assert r.exit_code == 2 and r.stderr.startswith(f"{project / '.cfnfix.toml'}:2:1: ")


@pytest.mark.parametrize(
    "line, message",
    [
        ('safe-only = "false"', '[tool.cfnfix] safe-only: expected true or false, not a string ("false")'),
        ("unattended = 1", "[tool.cfnfix] unattended: expected true or false, not a number (1)"),
        ('select = "OUT001"', "[tool.cfnfix] select: expected a list of fixer codes"),
        ("ignore = [1]", "[tool.cfnfix] ignore: expected a list of fixer codes"),
        ('exclude = "legacy/"', "[tool.cfnfix] exclude: expected a list of file patterns"),
        ('per-file-ignores = ["a"]', "[tool.cfnfix] per-file-ignores: expected a table"),
        ("options = 3", "[tool.cfnfix] options: expected one table per fixer code"),
    ],
)
def test_every_setting_is_type_checked(project, line, message):
    (project / "pyproject.toml").write_text(f"[tool.cfnfix]\n{line}\n")
    r = cli("stack.yaml", cwd=project)
    assert r.exit_code == 2 and message in r.stderr, r.stderr
    assert (project / "stack.yaml").read_text() == BROKEN


def test_safe_only_false_string_no_longer_turns_safe_only_on(project):
    (project / "pyproject.toml").write_text("[tool.cfnfix]\nsafe-only = false\n")
    assert cli("stack.yaml", cwd=project).exit_code == 1


# ----- fixer options, checked at start-up ------------------------------------------------------------
@pytest.mark.parametrize(
    "table, message",
    [
        ('[tool.cfnfix.options.EC2001]\nstrategy = "splt"\n', "[tool.cfnfix.options.EC2001]: strategy must be 'cidr' or 'split', not 'splt'"),
        ('[tool.cfnfix.options.EC2001]\nstrategi = "split"\n', "[tool.cfnfix.options.EC2001]: unknown option 'strategi' (options of EC2001: strategy)"),
        ('[tool.cfnfix.options.LOG001]\ndays = "30"\n', "[tool.cfnfix.options.LOG001]: days must be a number like its default 30, not a string ('30')"),
        ("[tool.cfnfix.options.LOG001]\ndays = 31\n", "[tool.cfnfix.options.LOG001]: days must be one of 1, 3"),
        ("[tool.cfnfix.options.NOPE1]\nx = 1\n", "[tool.cfnfix.options.NOPE1]: no fixer 'NOPE1'"),
    ],
)
def test_bad_fixer_options_fail_before_any_file_is_read(project, table, message):
    (project / "pyproject.toml").write_text(table)
    r = cli("missing.yaml", cwd=project)  # the option is reported, not the missing file
    assert r.exit_code == 2 and message in r.stderr, r.stderr
    assert "missing.yaml" not in r.stderr and "Traceback" not in r.output


def test_good_fixer_options_pass(project):
    (project / "pyproject.toml").write_text('[tool.cfnfix.options.EC2001]\nstrategy = "split"\n[tool.cfnfix.options.LOG001]\ndays = 90\n')
    assert cli("stack.yaml", cwd=project).exit_code == 1


# ----- fixer codes, wherever they come from ------------------------------------------------------------
@pytest.mark.parametrize(
    "args, config, message",
    [
        (["--ignore", "FOO"], "", "cfnfix: --ignore: 'FOO' matches no fixer"),
        (["--extend-select", "OUT001,FOO"], "", "cfnfix: --extend-select: 'FOO' matches no fixer"),
        (["--select", "FOO"], "", "cfnfix: --select: 'FOO' matches no fixer"),
        (["--per-file-ignores", "*.yaml:FOO"], "", "cfnfix: --per-file-ignores '*.yaml': 'FOO' matches no fixer"),
        ([], 'select = ["FOO"]', "pyproject.toml: [tool.cfnfix] select: 'FOO' matches no fixer"),
        ([], 'ignore = ["FOO"]', "pyproject.toml: [tool.cfnfix] ignore: 'FOO' matches no fixer"),
        ([], 'extend-select = ["FOO"]', "pyproject.toml: [tool.cfnfix] extend-select: 'FOO' matches no fixer"),
        ([], '[tool.cfnfix.per-file-ignores]\n"x.yaml" = ["FOO"]', "pyproject.toml: [tool.cfnfix] per-file-ignores 'x.yaml': 'FOO' matches no fixer"),
        (["--ignore", "out001"], "", "'out001' matches no fixer (codes are upper case: OUT001)"),
    ],
)
def test_unknown_codes_are_errors_that_name_their_source(project, args, config, message):
    if config:
        (project / "pyproject.toml").write_text(("[tool.cfnfix]\n" if not config.startswith("[") else "") + config + "\n")
    r = cli(*args, "stack.yaml", cwd=project)
    assert r.exit_code == 2 and message in r.stderr, r.stderr
    assert "--select FOO" not in r.stderr or "--select" in args


def test_selection_emptied_by_ignore_is_not_called_unknown(project):
    r = cli("--select", "LOG001", "--ignore", "LOG", "stack.yaml", cwd=project)
    assert r.exit_code == 0 and "matches no fixer" not in r.stderr and "no fixer left to run" in r.stderr


# ----- unattended ---------------------------------------------------------------------------------------
@pytest.fixture
def param_fixer(monkeypatch):
    """An opt-in PARAM fixer, as the PARAM group will have (registered like a third-party fixer)."""
    from cfnfix.fixing import Fixer, Fix, registry
    from cfnfix.text.edits import Insert

    class ParamDefault(Fixer):
        code, name, summary, default = "PARAM999", "test-param", "a parameter without a default", False

        def run(self, template):
            for name, body in template.parameters.items():
                if isinstance(body, dict) and "Default" not in body:
                    yield Fix(f"Parameter {name}: add a Default", [Insert(("Parameters", name), "Default", "x")], ("Parameters", name))

    class EP:
        name = "param"

        def load(self):
            return ParamDefault

    monkeypatch.setattr(registry, "entry_points", lambda group: [EP()] if group == "cfnfix.fixers" else [])
    registry.all_fixers.cache_clear()
    yield
    registry.all_fixers.cache_clear()


def test_unattended_turns_on_the_param_group(tmp_path, param_fixer):
    (tmp_path / "p.yaml").write_text(FIXED.replace("Resources:", "Parameters:\n  Env:\n    Type: String\nResources:"))
    assert cli("p.yaml", cwd=tmp_path).exit_code == 0  # opt-in: off by default
    assert cli("--unattended", "p.yaml", cwd=tmp_path).exit_code == 1
    (tmp_path / ".cfnfix.toml").write_text("unattended = true\n")
    r = cli("p.yaml", cwd=tmp_path)
    assert r.exit_code == 1 and "PARAM999 Parameter Env: add a Default" in r.stdout
    assert cli("--no-unattended", "p.yaml", cwd=tmp_path).exit_code == 0


def test_unattended_without_any_param_fixer_is_not_an_error(project):
    (project / ".cfnfix.toml").write_text("unattended = true\n")
    r = cli("stack.yaml", cwd=project)
    assert r.exit_code == 1 and "matches no fixer" not in r.stderr


# ----- exclude, per-file-ignores -------------------------------------------------------------------------
@pytest.fixture
def tree(tmp_path):
    for rel in ("infra/stack.yaml", "legacy/old.yaml", "modules/bucket.rain.yaml", "sandbox/dev.yaml"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(BROKEN)
    return tmp_path


def _fixed(tree) -> set[str]:
    return {p.relative_to(tree).as_posix() for p in tree.rglob("*.yaml") if p.read_text() == FIXED}


def test_exclude_from_config_and_command_line(tree):
    (tree / "pyproject.toml").write_text('[tool.cfnfix]\nexclude = ["legacy/"]\nextend-exclude = ["*.rain.yaml"]\n')
    r = cli("--write", ".", cwd=tree)
    assert r.exit_code == 0 and _fixed(tree) == {"infra/stack.yaml", "sandbox/dev.yaml"}
    # named on the command line: always processed (a file, or a folder: the other patterns still apply in it)
    assert cli("--write", "legacy/old.yaml", cwd=tree).exit_code == 0 and "legacy/old.yaml" in _fixed(tree)
    (tree / "legacy" / "old.yaml").write_text(BROKEN)
    (tree / "legacy" / "x.rain.yaml").write_text(BROKEN)
    assert cli("--write", "legacy", cwd=tree).exit_code == 0
    assert "legacy/old.yaml" in _fixed(tree) and "legacy/x.rain.yaml" not in _fixed(tree)
    # ...unless --force-exclude (pre-commit names files)
    (tree / "modules" / "bucket.rain.yaml").write_text(BROKEN)
    r = cli("--force-exclude", "--write", "modules/bucket.rain.yaml", cwd=tree)
    assert r.exit_code == 0 and (tree / "modules" / "bucket.rain.yaml").read_text() == BROKEN


def test_exclude_on_the_command_line_replaces_and_extend_exclude_adds(tree):
    (tree / "pyproject.toml").write_text('[tool.cfnfix]\nexclude = ["legacy/"]\n')
    cli("--exclude", "sandbox", "--extend-exclude", "modules/", "--write", ".", cwd=tree)
    assert _fixed(tree) == {"infra/stack.yaml", "legacy/old.yaml"}


def test_exclude_patterns_are_relative_to_the_config_file(tree):
    (tree / "pyproject.toml").write_text('[tool.cfnfix]\nexclude = ["/infra/stack.yaml"]\n')
    cli("--write", ".", cwd=tree / "infra")
    assert _fixed(tree) == set()  # run from infra/: the one file there is excluded by the root's pattern
    cli("--write", ".", cwd=tree / "sandbox")
    assert _fixed(tree) == {"sandbox/dev.yaml"}


def test_per_file_ignores(tree):
    (tree / "pyproject.toml").write_text('[tool.cfnfix.per-file-ignores]\n"sandbox/*" = ["OUT"]\n"!infra/**" = ["OUT001"]\n')
    r = cli("--write", ".", cwd=tree)
    assert r.exit_code == 0 and _fixed(tree) == {"infra/stack.yaml"}
    (tree / "infra" / "stack.yaml").write_text(BROKEN)
    cli("--per-file-ignores", "infra/*.yaml:OUT001", "--write", "infra", cwd=tree)
    assert (tree / "infra" / "stack.yaml").read_text() == BROKEN


def test_per_file_ignores_apply_to_stdin_by_its_filename(tree):
    (tree / ".cfnfix.toml").write_text('[per-file-ignores]\n"sandbox/*" = ["OUT001"]\n')
    assert cli("--stdin-filename", "sandbox/x.yaml", "-", input=BROKEN, cwd=tree).exit_code == 0
    assert cli("--stdin-filename", "infra/x.yaml", "-", input=BROKEN, cwd=tree).exit_code == 1


# ----- a file that asks to be left alone -------------------------------------------------------------------
def test_ignore_file_comment_leaves_the_file_alone(tmp_path):
    rain = tmp_path / "module.yaml"
    text = "# cfnfix: ignore-file\nResources:\n  B:\n    Type: !Rain::Module ./bucket.yaml\n"
    rain.write_text(text)
    (tmp_path / "stack.yaml").write_text(BROKEN)
    r = cli("--write", tmp_path)
    assert r.exit_code == 0 and rain.read_text() == text and (tmp_path / "stack.yaml").read_text() == FIXED


def test_ignore_file_with_codes_and_top_level_metadata(tmp_path):
    y = tmp_path / "a.yaml"
    y.write_text("# cfnfix: ignore-file[out001]\n" + BROKEN)
    j = tmp_path / "b.json"
    j.write_text(json.dumps({"Metadata": {"cfnfix": {"ignore": ["OUT"]}}, **json.loads(BROKEN_JSON)}, indent=2))
    r = cli(y, j)
    assert r.exit_code == 0, r.output
    j.write_text(json.dumps({"Metadata": {"cfnfix": {"ignore": ["SM001"]}}, **json.loads(BROKEN_JSON)}, indent=2))
    assert cli(j).exit_code == 1


def test_rain_tags_say_that_rain_pkg_must_run_first(tmp_path):
    p = tmp_path / "module.yaml"
    p.write_text("Resources:\n  B:\n    Type: !Rain::Module ./bucket.yaml\n")
    r = cli(p)
    assert r.exit_code == 2 and f"{p}:3:11: !Rain::Module is a Rain directive" in r.stderr and "rain pkg" in r.stderr


RULES = """Parameters:
  Env:
    Type: String
  Subnets:
    Type: List<AWS::EC2::Subnet::Id>
Rules:
  ProdSubnets:
    RuleCondition: !Equals [!Ref Env, prod]
    Assertions:
      - Assert: !Contains [[prod, staging], !Ref Env]
      - Assert: !EachMemberEquals [!ValueOfAll [AWS::EC2::Subnet::Id, VpcId], !Ref AWS::NoValue]
      - Assert: !EachMemberIn [!ValueOf [Subnets, VpcId], !RefAll AWS::EC2::VPC::Id]
Resources:
  Topic:
    Type: AWS::SNS::Topic
"""


def test_rule_function_short_tags_are_accepted():
    import cfnfix

    r = cfnfix.fix_text(RULES, "rules.yaml")
    assert r.text == RULES and not r.changes
    from cfnfix.text.document import Document

    assertions = Document(RULES, "rules.yaml").data["Rules"]["ProdSubnets"]["Assertions"]
    assert assertions[0]["Assert"] == {"Fn::Contains": [["prod", "staging"], {"Ref": "Env"}]}
    assert assertions[2]["Assert"] == {"Fn::EachMemberIn": [{"Fn::ValueOf": ["Subnets", "VpcId"]}, {"Fn::RefAll": "AWS::EC2::VPC::Id"}]}
    assert assertions[1]["Assert"]["Fn::EachMemberEquals"][0] == {"Fn::ValueOfAll": ["AWS::EC2::Subnet::Id", "VpcId"]}
