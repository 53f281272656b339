"""The ``cfnfix`` command.

    cfnfix template.yaml            dry run: diff + explanation; exit 1 when a fix would apply
    cfnfix --write templates/       apply the fixes in place (also: --fix)
    cfnfix --check templates/       dry run without the diff (for CI)
    cat t.yaml | cfnfix --fix -     read stdin, write the fixed template to stdout

Exit codes: 0 nothing (left) to fix; 1 fixes available and not written (or, with
--report-unused-ignores, suppressions that suppress nothing); 2 bad input (a file that is not a
parseable template, bad options or configuration); 3 internal error (nothing written); 4 fixes
refused by the validator (the others applied).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from ..version import __version__

# The exit codes (cfnfix.workspace.session.ExitCode), without importing the engine for --version.
EXIT_BAD_INPUT = 2

# ``cfnfix --help`` groups the options the way ruff's does: what to check, how to fix, what to print.
HELP_SECTIONS = [
    ("Rule selection", ["select", "extend_select", "ignore", "per_file_ignores", "unattended"]),
    ("File selection", ["exclude", "extend_exclude", "force_exclude", "skip_non_templates", "stdin_filename"]),
    ("Fixing", ["write", "check", "diff_only", "safe_only", "validator", "verify"]),
    ("Output", ["fmt", "color", "show_fixes", "statistics", "report_unused_ignores", "exit_zero", "quiet"]),
    ("Configuration", ["config_path"]),
    ("Pull requests (bot mode)", ["pr", "branch", "base", "remote", "token", "repo", "api_url", "dry_run", "allow_dirty"]),
    ("Miscellaneous", ["jobs", "list_fixers", "explain", "version", "help"]),
]


class GroupedCommand(click.Command):
    """A command whose --help lists its options in sections (HELP_SECTIONS); an option no section
    names is listed under "Other options"."""

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        params = {p.name: p for p in self.get_params(ctx) if isinstance(p, click.Option)}
        help_option = self.get_help_option(ctx)
        if help_option is not None:
            params = {("help" if p is help_option else n): p for n, p in params.items()}
        placed: set[str] = set()
        for title, names in HELP_SECTIONS:
            rows = []
            for name in names:
                if name in params:
                    placed.add(name)
                    record = params[name].get_help_record(ctx)
                    if record:
                        rows.append(record)
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)
        rest = [r for n, p in params.items() if n not in placed for r in [p.get_help_record(ctx)] if r]
        if rest:
            with formatter.section("Other options"):
                formatter.write_dl(rest)


class Command(GroupedCommand):
    """``main`` takes PATHS, so ``cfnfix server ...`` is dispatched to the editor server
    (``cfnfix.server``) before click parses anything; a folder named server is ``./server``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args[:1] == ["server"]:
            from ..server import serve

            ctx.exit(serve(args[1:]))
        return super().parse_args(ctx, args)


def _split(values: tuple[str, ...]) -> list[str]:
    from ..workspace.config import split_codes

    return split_codes(values)


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(EXIT_BAD_INPUT)


def _list_fixers(ctx: click.Context, _param, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from ..fixing.registry import all_fixers

    rows = [(f.code, f.safety.value, "on" if f.default else "opt-in", f.summary) for f in sorted(all_fixers(), key=lambda f: f.code)]
    width = max((len(r[0]) for r in rows), default=4)
    click.echo(f"{'code':{width}}  safety  default  summary")
    for code, safety, default, summary in rows:
        click.echo(f"{code:{width}}  {safety:6}  {default:7}  {summary}")
    ctx.exit(0)


def _explain(ctx: click.Context, _param, value: str | None) -> None:
    if not value or ctx.resilient_parsing:
        return
    from ..fixing.registry import get_fixer

    cls = get_fixer(value) or get_fixer(value.upper())
    if cls is None:
        click.echo(f"cfnfix: no fixer {value!r} (see --list-fixers)", err=True)
        ctx.exit(EXIT_BAD_INPUT)
    from ..reports.fixer_docs import render

    click.echo(render(cls))
    ctx.exit(0)


def color_enabled(choice: str, isatty: bool) -> bool:
    """--color always/never wins; then NO_COLOR (any value) turns colour off and FORCE_COLOR
    (any value but 0/false) on; else colour on a terminal only."""
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR"):
        return False
    force = os.environ.get("FORCE_COLOR")
    if force and force.lower() not in ("0", "false"):
        return True
    return isatty


@click.command(cls=Command, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path, allow_dash=True))
# rule selection
@click.option("--select", multiple=True, metavar="CODES", help="Run only these fixers (codes or prefixes, comma-separated; ALL for every fixer).")
@click.option("--extend-select", multiple=True, metavar="CODES", help="Also run these fixers (e.g. opt-in ones).")
@click.option("--ignore", multiple=True, metavar="CODES", help="Do not run these fixers.")
@click.option("--per-file-ignores", multiple=True, metavar="PATTERN:CODES", help="Do not run these fixers on files matching PATTERN (gitignore-style).")
@click.option("--unattended/--no-unattended", default=None, help="Also run the PARAM fixers: parameters that block a deploy nobody types values for.")
# file selection
@click.option("--exclude", multiple=True, metavar="PATTERNS", help="Skip these files and folders when searching directories (gitignore-style; replaces the configured list).")
@click.option("--extend-exclude", multiple=True, metavar="PATTERNS", help="Skip these too, on top of the configured exclude.")
@click.option("--force-exclude/--no-force-exclude", default=None, help="Apply the exclusions to files named on the command line too (for pre-commit).")
@click.option("--skip-non-templates", is_flag=True, help="Quietly skip named files that are not CloudFormation templates (for pre-commit).")
@click.option("--stdin-filename", metavar="PATH", help="The name of the template read from stdin (for messages, format, per-file-ignores).")
# fixing
@click.option("-w", "--write", "--fix", "write", is_flag=True, help="Apply the fixes in place.")
@click.option("--check", is_flag=True, help="Change nothing: list what would be fixed (no diff unless --diff) and exit 1 if anything would.")
@click.option("--diff", "diff_only", is_flag=True, help="Print the unified diff of the fixes (alone, unless with --check).")
@click.option("--safe-only/--unsafe-fixes", default=None, help="Apply only safe fixes and report the unsafe ones as hidden / apply unsafe fixes too (the default).")
@click.option("--validator", type=click.Choice(["auto", "cloudformation-validate", "cfn-lint", "none"]), default="auto", show_default=True,
              help="Lint before and after fixing and refuse the fixes that add a finding (auto: cloudformation-validate, else cfn-lint, else none).")
@click.option("--verify", is_flag=True, help="The same as --validator cfn-lint.")
# output
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json", "sarif"]), default="text", show_default=True, help="Report format (sarif: SARIF 2.1.0 for code scanning).")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True, help="Colour the diff (auto: on a terminal, unless NO_COLOR is set or FORCE_COLOR is).")
@click.option("--show-fixes/--no-show-fixes", default=True, help="With --write, list each fix applied, with why (the default).")
@click.option("--statistics", is_flag=True, help="Print how often each fixer fired instead of the fixes.")
@click.option("--report-unused-ignores", is_flag=True, help="Report suppressions that suppress nothing (exit 1 when there are some).")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when fixes are available (bad input still exits 2).")
@click.option("-q", "--quiet", is_flag=True, help="Print only errors (and the diff when --diff asks for it).")
# configuration
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False), help="Read settings from this file (default: the nearest .cfnfix.toml or pyproject.toml with [tool.cfnfix]).")
# bot mode
@click.option("--pr", is_flag=True, help="Bot mode: commit the base branch's fixes on a branch, push it, open or update a pull request.")
@click.option("--branch", metavar="NAME", help="--pr: the fix branch [default: cfnfix/fixes].")
@click.option("--base", metavar="NAME", help="--pr: the branch to fix and to target [default: the remote's default branch].")
@click.option("--remote", metavar="NAME", help="--pr: the git remote [default: origin].")
@click.option("--token", metavar="TOKEN", help="--pr: GitHub token [default: $GITHUB_TOKEN].")
@click.option("--repo", metavar="OWNER/NAME", help="--pr: GitHub repository [default: $GITHUB_REPOSITORY, else the remote's].")
@click.option("--api-url", metavar="URL", help="--pr: GitHub API URL [default: $GITHUB_API_URL, else https://api.github.com].")
@click.option("--dry-run", is_flag=True, default=None, help="--pr: print the branch, commit message and PR body; push nothing, call no API.")
@click.option("--allow-dirty", is_flag=True, default=None, help="--pr: run even when the working tree has uncommitted changes.")
# miscellaneous
@click.option("-j", "--jobs", type=click.IntRange(min=1), metavar="N",
              help="Fix files in N processes (default: the number of cores); the output is the same, in the same order.")
@click.option("--list-fixers", is_flag=True, expose_value=False, is_eager=True, callback=_list_fixers, help="List the fixers (in code order) and exit.")
@click.option("--explain", metavar="CODE", expose_value=False, is_eager=True, callback=_explain, help="Show a fixer's documentation and exit.")
@click.version_option(__version__, "--version", prog_name="cfnfix")
def main(paths, select, extend_select, ignore, per_file_ignores, unattended, exclude, extend_exclude, force_exclude,
         skip_non_templates, stdin_filename, write, check, diff_only, safe_only, validator, verify, fmt, color, show_fixes,
         statistics, report_unused_ignores, exit_zero, quiet, config_path, pr, jobs, **bot):
    """Fix CloudFormation templates that fail to deploy for known, mechanical reasons.

    PATHS are template files or directories (searched for YAML/JSON templates, honouring
    .gitignore and the exclude settings); "-" reads a template from stdin. Without --write
    nothing is changed: the diff and an explanation of each fix are printed. With --write and
    "-", the fixed template goes to stdout.

    With --pr (in a git checkout) the fixes of the base branch go to a pull request instead
    (PATHS default to the repository root; see the README, section Integrations).

    "cfnfix server" starts the language server for editors instead (fixes as diagnostics and
    code actions; needs pip install 'cfnfix[server]'; see the README, section Editor integration).
    """
    bot_used = [f"--{k.replace('_', '-')}" for k, v in bot.items() if v is not None]
    if bot_used and not pr:
        _fail(f"cfnfix: {', '.join(bot_used)} only apply with --pr")
    if pr and (write or diff_only or check):
        _fail("cfnfix: --pr commits the fixes on a branch; it takes neither --write, --check nor --diff")
    if check and write:
        _fail("cfnfix: --check changes nothing; it cannot be combined with --write")
    if diff_only and fmt != "text":
        _fail(f"cfnfix: --diff prints a unified diff and --format {fmt} a report; choose one"
              + (" (the JSON report holds each file's diff under \"diff\")" if fmt == "json" else ""))
    if statistics and fmt not in ("text", "json"):
        _fail(f"cfnfix: --statistics prints text or JSON, not {fmt}")
    if stdin_filename and not paths:
        paths = (Path("-"),)
    reads_stdin = any(str(p) == "-" for p in paths)
    if reads_stdin and write and diff_only:
        _fail("cfnfix: with - and --write, stdout carries the fixed template: drop --diff (or --write to see the diff)")
    if pr:  # settings come from the base branch's configuration, not from this checkout's
        from ..bot.pull_request import cli_entry

        files = dict(exclude=exclude, extend_exclude=extend_exclude, force_exclude=force_exclude, per_file_ignores=per_file_ignores)
        sys.exit(cli_entry(paths, select, extend_select, ignore, unattended, safe_only, validator, verify, config_path, bot, files))

    from ..workspace import config as config_mod

    try:
        cfg = config_mod.load_file(config_path) if config_path else config_mod.find(Path.cwd())
        cli_select, cli_extend, cli_ignore = _split(select), _split(extend_select), _split(ignore)
        cli_per_file = [config_mod.per_file_option(entry) for entry in per_file_ignores]
        checks = [
            (cli_select, "cfnfix: --select"), (cli_extend, "cfnfix: --extend-select"), (cli_ignore, "cfnfix: --ignore"),
            (cfg.select or [], cfg.where("select")), (cfg.extend_select, cfg.where("extend-select")), (cfg.ignore, cfg.where("ignore")),
            *[(codes, cfg.where(f"per-file-ignores {pattern!r}")) for pattern, codes in cfg.per_file_ignores.items()],
            *[(codes, f"cfnfix: --per-file-ignores {pattern!r}") for pattern, codes in cli_per_file],
        ]
        for codes, where in checks:
            config_mod.check_codes(codes, where)
        config_mod.check_options(cfg)
    except config_mod.ConfigError as e:
        _fail(str(e))  # "cfnfix: --option …" or "path[:line:col]: …"

    sel = cli_select if select else cfg.select
    extend = cli_extend + cfg.extend_select
    if cfg.unattended if unattended is None else unattended:
        extend = extend + [config_mod.UNATTENDED_PREFIX]  # no PARAM fixer installed is not an error
    ignored = cli_ignore + cfg.ignore
    from ..fixing.engine import build_fixers

    try:
        fixers = build_fixers(sel, ignored, extend, cfg.options)
    except ValueError as e:
        _fail(f"cfnfix: {e}")
    if not fixers and sel != [] and not quiet:
        what = f"--select {','.join(sel)}" if select else ("select in " + str(cfg.source) if sel else "the default fixers")
        click.echo(f"cfnfix: warning: no fixer left to run ({what}, minus the ignored ones): templates are only checked to parse", err=True)

    from ..workspace.discovery import FileRules

    rules = FileRules.from_settings(cfg, Path.cwd(), _split(exclude), _split(extend_exclude), force_exclude, cli_per_file)
    safe = cfg.safe_only if safe_only is None else safe_only

    if not paths:
        click.echo(main.get_usage(click.get_current_context()), err=True)
        _fail("cfnfix: give a template, a directory, or - for stdin")
    from ..fixing.verify import LintUnavailable, make_checker

    try:
        checker = make_checker("cfn-lint" if verify else validator)
    except LintUnavailable as e:
        _fail(f"cfnfix: {e}")
    from .run import Output, Run, _tty

    out = Output(write=write, check=check, diff=diff_only, fmt=fmt, quiet=quiet,
                 color=color_enabled(color, _tty(False)), show_fixes=show_fixes,
                 statistics=statistics, exit_zero=exit_zero, report_unused_ignores=report_unused_ignores,
                 stdin_filename=stdin_filename)
    run = Run(fixers, safe, out, checker=checker, skip_non_templates=skip_non_templates, rules=rules,
              validator_asked=validator != "auto" or verify, jobs=jobs or cores())
    sys.exit(run.main(list(paths)))


def cores() -> int:
    """The cores this process may run on (``-j``'s default)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


if __name__ == "__main__":  # pragma: no cover
    main()
