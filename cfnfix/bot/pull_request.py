"""Bot mode (``cfnfix --pr``): fix the templates of the base branch and propose the fixes in one
pull request that is kept up to date, Renovate-style.

Each run builds the fix branch afresh from the tip of the base branch on the remote, in a
temporary worktree (the user's checkout — branch, index, files — is never touched), and
force-pushes it only when the fixed tree differs from what the fix branch already holds: a run
with nothing new makes no commit, no push and no API write. Then it opens the pull request, or
updates the open one's title and body when they differ, or closes it when nothing is left to fix.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import click

from ..errors import TemplateError
from ..reports.diff import unified_diff
from ..reports.explanation import file_record
from ..reports.markdown import render_markdown
from ..workspace.discovery import discover, looks_like_template
from ..workspace.session import ExitCode, Session
from ..workspace.source import FileChanged, read_source, write_atomic
from .github import DEFAULT_API_URL, MAX_BODY, GitHub, GitHubError, redact

DEFAULT_BRANCH = "cfnfix/fixes"
BOT_NAME = "github-actions[bot]"
BOT_EMAIL = "41898282+github-actions[bot]@users.noreply.github.com"
TMP_BASE, TMP_BRANCH = "refs/cfnfix-tmp/base", "refs/cfnfix-tmp/branch"


class BotError(Exception):
    """A failure with a clear message: bad options, a dirty tree, git or the API refusing (exit 2)."""


@dataclass
class BotOptions:
    paths: list[Path] = field(default_factory=list)
    branch: str = DEFAULT_BRANCH
    base: str | None = None
    remote: str = "origin"
    token: str | None = None  # default $GITHUB_TOKEN
    repo: str | None = None  # default $GITHUB_REPOSITORY, else from the remote's URL
    api_url: str | None = None  # default $GITHUB_API_URL, else https://api.github.com
    dry_run: bool = False
    allow_dirty: bool = False


class Git:
    """``git`` in a directory; failures become BotErrors with the secrets redacted. Hooks are
    off (``core.hooksPath=/dev/null``): checking out, committing and pushing are the bot's own."""

    def __init__(self, cwd: Path, secrets: tuple = ()):
        self.cwd = cwd
        self.secrets = secrets
        self.env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}

    def __call__(self, *args: str, cwd: Path | None = None, env: dict | None = None, input: str | None = None, check: bool = True) -> str:
        p = subprocess.run(
            ["git", "-c", "core.hooksPath=/dev/null", *args],
            cwd=cwd or self.cwd, env={**self.env, **(env or {})}, input=input,
            capture_output=True, text=True, encoding="utf-8", errors="replace",
        )
        if check and p.returncode:
            said = (p.stderr or p.stdout).strip()
            raise BotError(redact(f"git {' '.join(args)} failed: {said}", *self.secrets))
        return p.stdout


def run_bot(fixers: list, safe_only: bool, options: BotOptions, cwd: Path | None = None, checker=None) -> int:
    token = options.token or os.environ.get("GITHUB_TOKEN") or None
    try:
        return Bot(fixers, safe_only, checker, options, cwd or Path.cwd(), token).run()
    except (BotError, GitHubError) as e:
        click.echo(f"cfnfix: {redact(str(e), token)}", err=True)
        return ExitCode.BAD_INPUT


class Bot:
    def __init__(self, fixers, safe_only, checker, options: BotOptions, cwd: Path, token: str | None):
        self.fixers, self.safe_only, self.checker, self.o = fixers, safe_only, checker, options
        self.cwd = cwd
        self.token = token
        self.git = Git(cwd, (token,))
        self.records: list[dict] = []
        self.changed: list[str] = []
        self.errors: list[dict] = []
        self.fixes = 0
        self.internal = 0

    def say(self, text: str) -> None:
        click.echo(f"cfnfix: {redact(text, self.token)}", err=True)

    # ----- the run -----------------------------------------------------------------------------
    def run(self) -> int:
        o, git = self.o, self.git
        try:
            root = Path(git("rev-parse", "--show-toplevel").strip())
        except BotError:
            raise BotError(f"--pr works in a git checkout, and {self.cwd} is not in one") from None
        rels = [self._relative(root, p) for p in (o.paths or [root])]
        if not o.allow_dirty and git("status", "--porcelain", "--untracked-files=no").strip():
            raise BotError("the working tree has uncommitted changes: commit or stash them, or pass --allow-dirty "
                           "(bot mode fixes the base branch as it is on the remote, not your working tree)")
        gh = None if o.dry_run else self._github()
        base, default = self._branches()
        heads = _refs(git("ls-remote", "--", o.remote, f"refs/heads/{base}", f"refs/heads/{o.branch}"))
        if f"refs/heads/{base}" not in heads:
            raise BotError(f"the base branch {base!r} is not on the remote {o.remote!r}")
        remote_branch = f"refs/heads/{o.branch}" in heads
        fetch = ["fetch", "--no-tags", "--quiet"]
        if git("rev-parse", "--is-shallow-repository").strip() == "true":
            fetch.append("--depth=1")  # a shallow CI checkout: the tips are all we need
        fetch += ["--", o.remote, f"+refs/heads/{base}:{TMP_BASE}"]
        if remote_branch:
            fetch.append(f"+refs/heads/{o.branch}:{TMP_BRANCH}")
        tmp = Path(tempfile.mkdtemp(prefix="cfnfix-pr-"))
        worktree = tmp / "worktree"
        try:
            git(*fetch)
            base_sha = git("rev-parse", TMP_BASE).strip()
            branch_sha = git("rev-parse", TMP_BRANCH).strip() if remote_branch else None
            git("worktree", "add", "--detach", str(worktree), base_sha)
            self._fix(worktree, rels, base)
            tree = git("rev-parse", f"{base_sha}^{{tree}}").strip()
            if self.changed:
                git("add", "--", *self.changed, cwd=worktree)
                tree = git("write-tree", cwd=worktree).strip()
            branch_tree = git("rev-parse", f"{branch_sha}^{{tree}}").strip() if branch_sha else None
            return self._publish(gh, base, base_sha, tree, branch_sha, branch_tree)
        finally:
            git("worktree", "remove", "--force", str(worktree), check=False)
            shutil.rmtree(tmp, ignore_errors=True)
            git("worktree", "prune", check=False)
            for ref in (TMP_BASE, TMP_BRANCH):
                git("update-ref", "-d", ref, check=False)

    def _relative(self, root: Path, path: Path) -> Path:
        if str(path) == "-":
            raise BotError("--pr fixes files in the repository; it does not read stdin")
        full = Path(os.path.abspath(self.cwd / path))
        try:
            return full.relative_to(root)
        except ValueError:
            raise BotError(f"{path} is outside the repository {root}") from None

    def _github(self) -> GitHub:
        if not self.token:
            raise BotError("no GitHub token: set GITHUB_TOKEN or pass --token (or use --dry-run)")
        repo = self.o.repo or os.environ.get("GITHUB_REPOSITORY") or self._repo_from_remote()
        if not repo:
            raise BotError("cannot tell the GitHub repository: set GITHUB_REPOSITORY or pass --repo OWNER/NAME")
        return GitHub(self.token, repo, self.o.api_url or os.environ.get("GITHUB_API_URL") or DEFAULT_API_URL)

    def _repo_from_remote(self) -> str | None:
        url = self.git("remote", "get-url", "--", self.o.remote, check=False).strip()
        m = re.search(r"[:/]([\w.-]+)/([\w.-]+?)(?:\.git)?/?$", url)
        return f"{m.group(1)}/{m.group(2)}" if m and ("github" in url) else None

    def _branches(self) -> tuple[str, str | None]:
        """(base branch, the remote's default branch), with the fix branch checked against both."""
        o, git = self.o, self.git
        default = None
        for line in git("ls-remote", "--symref", "--", o.remote, "HEAD").splitlines():
            m = re.match(r"ref: refs/heads/(\S+)\tHEAD$", line)
            if m:
                default = m.group(1)
        base = o.base or default or git("symbolic-ref", "--short", "-q", "HEAD", check=False).strip()
        if not base:
            raise BotError("cannot tell the base branch (the remote names no default branch and HEAD is detached): pass --base")
        if o.branch.startswith("-") or git("check-ref-format", "--branch", o.branch, check=False).strip() != o.branch:
            raise BotError(f"{o.branch!r} is not a valid branch name")
        if o.branch in (base, default):
            raise BotError(f"the fix branch {o.branch!r} is the base or the default branch; cfnfix never pushes there: pick another --branch")
        return base, default

    # ----- fixing in the worktree ----------------------------------------------------------------
    def _fix(self, worktree: Path, rels: list[Path], base: str) -> None:
        run = Session(self.fixers, self.safe_only, self.checker)
        top = Path(os.path.realpath(worktree))
        seen: set[Path] = set()
        for rel in rels:
            start = worktree / rel
            if not start.exists() and not start.is_symlink():
                raise BotError(f"{rel.as_posix()}: not found on the base branch {base!r}")
            for path, explicit in discover([start]):
                real = Path(os.path.realpath(path))
                shown = path.relative_to(worktree).as_posix()
                if real != top and top not in real.parents:
                    self.say(f"{shown}: a symlink out of the repository; left alone")
                    continue
                if real in seen:
                    continue
                seen.add(real)
                name = real.relative_to(top).as_posix()
                try:
                    source = read_source(real)
                except TemplateError as e:
                    run.error(name, e)
                    continue
                if not explicit and not looks_like_template(source.text):
                    continue
                result = run.fix(name, source.text, explicit)
                if result is None:
                    continue
                self.records.append(file_record(result, name, unified_diff(result, name)))
                if result.changed:
                    try:
                        write_atomic(source, result.text)
                    except (FileChanged, OSError) as e:
                        run.error(name, f"cannot write the fix: {e}")
                        continue
                    self.changed.append(name)
                    self.fixes += len(result.changes)
        self.errors = run.errors
        self.internal = run.internal

    # ----- commit, push, pull request ------------------------------------------------------------
    def _publish(self, gh: GitHub | None, base, base_sha, tree, branch_sha, branch_tree) -> int:
        o = self.o
        if not self.changed:
            if o.dry_run:
                click.echo(f"Nothing to fix on {base}: no commit, no pull request (an open one from {o.branch} would be closed).")
                return self._exit()
            self.say(f"nothing to fix on {base}")
            for pr in gh.pulls(o.branch, state="open"):
                gh.update_pull(pr["number"], state="closed")
                self.say(f"closed pull request #{pr['number']}: nothing left to fix")
            return self._exit()
        title, message, body = self.title(), self.commit_message(base), self.body(base)
        up_to_date = branch_tree == tree
        if o.dry_run:
            click.echo(f"Branch: {o.branch} (from {base} at {base_sha[:12]}; "
                       + ("already holds these fixes: nothing to push)" if up_to_date else "would be force-pushed)"))
            click.echo(f"\nCommit message:\n\n{message}\n\nPull request into {base}: {title}\n\n{body}", nl=False)
            return self._exit()
        pulls = gh.pulls(o.branch)  # before pushing: a token that cannot see the repository fails here
        head = branch_sha
        if up_to_date:
            self.say(f"{o.branch} already holds these fixes: nothing pushed")
        else:
            head = self._commit_and_push(base, base_sha, tree, message, branch_sha)
            self.say(f"pushed {o.branch} ({head[:12]}): {self.fixes} fix{'es' if self.fixes != 1 else ''} in {len(self.changed)} template(s)")
        opened = [p for p in pulls if p.get("state") == "open"]
        if opened:
            pr = opened[0]
            fields = {}
            if pr.get("title") != title:
                fields["title"] = title
            if _norm(pr.get("body")) != _norm(body):
                fields["body"] = body
            if (pr.get("base") or {}).get("ref") != base:
                fields["base"] = base
            if fields:
                gh.update_pull(pr["number"], **fields)
                self.say(f"updated pull request #{pr['number']}: {pr.get('html_url', '')}")
            else:
                self.say(f"pull request #{pr['number']} is up to date: {pr.get('html_url', '')}")
            return self._exit()
        declined = [p for p in pulls if not p.get("merged_at") and (p.get("head") or {}).get("sha") == head]
        if up_to_date and declined:
            self.say(f"pull request #{declined[0]['number']} with these same fixes was closed without merging: not reopening it")
            return self._exit()
        pr = gh.create_pull(title, body, o.branch, base)
        self.say(f"opened pull request #{pr.get('number')}: {pr.get('html_url', '')}")
        return self._exit()

    def _commit_and_push(self, base, base_sha, tree, message, expected) -> str:
        o, git = self.o, self.git
        env = {}
        if not git("config", "user.name", check=False).strip():
            env.update(GIT_AUTHOR_NAME=BOT_NAME, GIT_COMMITTER_NAME=BOT_NAME)
        if not git("config", "user.email", check=False).strip():
            env.update(GIT_AUTHOR_EMAIL=BOT_EMAIL, GIT_COMMITTER_EMAIL=BOT_EMAIL)
        commit = git("commit-tree", tree, "-p", base_sha, "-F", "-", input=message, env=env).strip()
        ref = f"refs/heads/{o.branch}"
        assert o.branch != base, "never push to the base branch"
        git("push", "--quiet", f"--force-with-lease={ref}:{expected or ''}", "--", o.remote, f"{commit}:{ref}")
        return commit

    def _exit(self) -> int:
        return ExitCode.INTERNAL if self.internal else ExitCode.OK

    # ----- texts ---------------------------------------------------------------------------------
    def title(self) -> str:
        n, m = self.fixes, len(self.changed)
        return f"cfnfix: fix {n} CloudFormation deploy issue{'s' if n != 1 else ''} in {m} template{'s' if m != 1 else ''}"

    def commit_message(self, base: str) -> str:
        lines = [self.title(), ""]
        for r in self.records:
            if not r["changes"]:
                continue
            lines.append(f"{r['path']}:")
            for c in r["changes"]:
                unsafe = " (unsafe)" if c["safety"] == "unsafe" else ""
                lines.append(f"- {c['code']}{unsafe} {c['message']}")
            lines.append("")
        lines.append(f"Generated by `cfnfix --pr` from {base}.")
        return "\n".join(lines) + "\n"

    def body(self, base: str) -> str:
        footer = (f"\n---\n*Generated by `cfnfix --pr`.* This branch is rebuilt from `{base}` and force-pushed on "
                  "every run: commits pushed to it are overwritten. Close this pull request to decline these fixes; "
                  "it is closed automatically once nothing is left to fix.\n")
        body = render_markdown(self.records, self.errors) + footer
        if len(body) > MAX_BODY:
            short = [{**r, "diff": None} for r in self.records]
            body = render_markdown(short, self.errors) + "\n*The diffs are left out (too long for a description): see Files changed.*\n" + footer
        if len(body) > MAX_BODY:
            body = body[: MAX_BODY - len(footer) - 40] + "\n\n… (cut: too long)\n" + footer
        return body


def _refs(ls_remote: str) -> dict[str, str]:
    out = {}
    for line in ls_remote.splitlines():
        sha, _, ref = line.partition("\t")
        if ref:
            out[ref] = sha
    return out


def _norm(text: str | None) -> str:
    return (text or "").replace("\r\n", "\n").strip()
