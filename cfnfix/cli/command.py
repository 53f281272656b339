"""The ``cfnfix`` command.

    cfnfix template.yaml            dry run: diff + explanation; exit 1 when a fix would apply
    cfnfix --write templates/       apply the fixes in place
    cat t.yaml | cfnfix -           read stdin, write the fixed template to stdout

Exit codes: 0 nothing (left) to fix; 1 fixes available and not written; 2 bad input (a file
that is not a parseable template, bad options or config); 3 internal error (nothing written).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..version import __version__

# The exit codes (cfnfix.workspace.session.ExitCode), without importing the engine for --version.
EXIT_BAD_INPUT = 2


def _split(values: tuple[str, ...]) -> list[str]:
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def _list_fixers(ctx: click.Context, _param, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from ..fixing.registry import all_fixers

    rows = [(f.code, f.safety.value, "on" if f.default else "opt-in", f.summary) for f in all_fixers()]
    width = max((len(r[0]) for r in rows), default=4)
    click.echo(f"{'code':{width}}  safety  default  summary")
    for code, safety, default, summary in rows:
        click.echo(f"{code:{width}}  {safety:6}  {default:7}  {summary}")
    ctx.exit(0)


def _explain(ctx: click.Context, _param, value: str | None) -> None:
    if not value or ctx.resilient_parsing:
        return
    from ..fixing.registry import get_fixer

    cls = get_fixer(value)
    if cls is None:
        click.echo(f"cfnfix: no fixer {value!r} (see --list-fixers)", err=True)
        ctx.exit(EXIT_BAD_INPUT)
    from ..reports.fixer_docs import render

    click.echo(render(cls))
    ctx.exit(0)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path, allow_dash=True))
@click.option("-w", "--write", is_flag=True, help="Apply the fixes in place.")
@click.option("--diff", "diff_only", is_flag=True, help="Print only the unified diff.")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json", "sarif"]), default="text", show_default=True, help="Report format (sarif: SARIF 2.1.0 for code scanning).")
@click.option("--select", multiple=True, metavar="CODES", help="Run only these fixers (codes or prefixes, comma-separated).")
@click.option("--extend-select", multiple=True, metavar="CODES", help="Also run these fixers (e.g. opt-in ones).")
@click.option("--ignore", multiple=True, metavar="CODES", help="Do not run these fixers.")
@click.option("--safe-only", is_flag=True, default=None, help="Apply only safe fixes; report unsafe ones as available.")
@click.option("--verify", is_flag=True, help="Lint before and after with cfn-lint; refuse fixes that add a finding.")
@click.option("--skip-non-templates", is_flag=True, help="Quietly skip named files that are not CloudFormation templates (for pre-commit).")
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False), help="Read settings from this file.")
@click.option("-q", "--quiet", is_flag=True, help="Print only errors.")
@click.option("--pr", is_flag=True, help="Bot mode: commit the base branch's fixes on a branch, push it, open or update a pull request.")
@click.option("--branch", metavar="NAME", help="--pr: the fix branch [default: cfnfix/fixes].")
@click.option("--base", metavar="NAME", help="--pr: the branch to fix and to target [default: the remote's default branch].")
@click.option("--remote", metavar="NAME", help="--pr: the git remote [default: origin].")
@click.option("--token", metavar="TOKEN", help="--pr: GitHub token [default: $GITHUB_TOKEN].")
@click.option("--repo", metavar="OWNER/NAME", help="--pr: GitHub repository [default: $GITHUB_REPOSITORY, else the remote's].")
@click.option("--api-url", metavar="URL", help="--pr: GitHub API URL [default: $GITHUB_API_URL, else https://api.github.com].")
@click.option("--dry-run", is_flag=True, default=None, help="--pr: print the branch, commit message and PR body; push nothing, call no API.")
@click.option("--allow-dirty", is_flag=True, default=None, help="--pr: run even when the working tree has uncommitted changes.")
@click.option("--list-fixers", is_flag=True, expose_value=False, is_eager=True, callback=_list_fixers, help="List the fixers and exit.")
@click.option("--explain", metavar="CODE", expose_value=False, is_eager=True, callback=_explain, help="Show a fixer's documentation and exit.")
@click.version_option(__version__, "--version", prog_name="cfnfix")
def main(paths, write, diff_only, fmt, select, extend_select, ignore, safe_only, verify, skip_non_templates, config_path, quiet, pr, **bot):
    """Fix CloudFormation templates that fail to deploy for known, mechanical reasons.

    PATHS are template files or directories (searched for YAML/JSON templates, honouring
    .gitignore); "-" reads a template from stdin and writes the fixed one to stdout. Without
    --write nothing is changed: the diff and an explanation of each fix are printed.

    With --pr (in a git checkout) the fixes of the base branch go to a pull request instead
    (PATHS default to the repository root; see the README, section Integrations).
    """
    bot_used = [f"--{k.replace('_', '-')}" for k, v in bot.items() if v is not None]
    if bot_used and not pr:
        click.echo(f"cfnfix: {', '.join(bot_used)} only apply with --pr", err=True)
        sys.exit(EXIT_BAD_INPUT)
    if pr and (write or diff_only):
        click.echo("cfnfix: --pr commits the fixes on a branch; it takes neither --write nor --diff", err=True)
        sys.exit(EXIT_BAD_INPUT)
    if pr:  # settings come from the base branch's configuration, not from this checkout's
        from ..bot.pull_request import cli_entry

        sys.exit(cli_entry(paths, select, extend_select, ignore, safe_only, verify, config_path, bot))
    from ..workspace import config as config_mod

    try:
        cfg = config_mod.load_file(config_path) if config_path else config_mod.find(Path.cwd())
    except config_mod.ConfigError as e:
        click.echo(f"cfnfix: {e}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    sel = _split(select) if select else cfg.select
    settings = dict(
        select=sel,
        extend_select=_split(extend_select) + cfg.extend_select,
        ignore=_split(ignore) + cfg.ignore,
        safe_only=cfg.safe_only if safe_only is None else safe_only,
        options=cfg.options,
    )
    try:
        from ..fixing.engine import build_fixers

        fixers = build_fixers(settings["select"], settings["ignore"], settings["extend_select"], settings["options"])
    except ValueError as e:
        click.echo(f"cfnfix: {e}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    if sel and not fixers and not any(s == "" for s in sel):
        click.echo(f"cfnfix: --select {','.join(sel)} matches no fixer (see --list-fixers)", err=True)
        sys.exit(EXIT_BAD_INPUT)
    if not paths:
        click.echo(main.get_usage(click.get_current_context()), err=True)
        click.echo("cfnfix: give a template, a directory, or - for stdin", err=True)
        sys.exit(EXIT_BAD_INPUT)
    from .run import Run

    if verify:
        try:
            import cfnlint.api  # noqa: F401
        except ImportError:
            click.echo("cfnfix: --verify needs cfn-lint (pip install cfn-lint)", err=True)
            sys.exit(EXIT_BAD_INPUT)
    run = Run(fixers, settings["safe_only"], write, diff_only, fmt, quiet, verify, skip_non_templates)
    sys.exit(run.main(list(paths)))


if __name__ == "__main__":  # pragma: no cover
    main()
