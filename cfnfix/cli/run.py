"""One CLI run over many files: read, fix, report, write; bad files never stop the others."""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import click

from ..errors import TemplateError
from ..fixing.fixer import Safety
from ..fixing.registry import get_fixer, matches
from ..fixing.result import Result
from ..fixing.suppressions import AUDIT_CODES, UNUSED_IGNORE, audit, file_ignored, recording
from ..fixing.verify import Checker
from ..reports.diff import colorize, unified_diff
from ..reports.explanation import file_record
from ..reports.json_report import render_json, render_statistics_json
from ..reports.markdown import render_markdown
from ..reports.terminal import plural, render_statistics, render_text
from ..workspace.discovery import FileRules, discover, looks_like_template
from ..workspace.session import ExitCode, Session
from ..workspace.source import FileChanged, decode, read_source, read_stdin, write_atomic

PROGRESS_MIN_FILES = 20


@dataclass
class Output:
    """What a run prints, and how it ends."""

    write: bool = False  # apply the fixes (for stdin: the fixed template goes to stdout)
    check: bool = False  # list what would be fixed; no diff unless ``diff``
    diff: bool = False  # the unified diff (alone, unless ``check``)
    fmt: str = "text"
    quiet: bool = False
    color: bool = False  # colour the diff on stdout
    show_fixes: bool = True  # with ``write``: list the fixes applied too
    statistics: bool = False
    exit_zero: bool = False
    report_unused_ignores: bool = False
    stdin_filename: str | None = None


class Progress:
    """A one-line progress bar on stderr, cleared before anything else is printed so that it never
    lands inside a diff or a message."""

    WIDTH = 28

    def __init__(self, total: int):
        self.total, self.done, self.shown = total, 0, False

    def advance(self) -> None:
        self.done += 1
        filled = self.WIDTH * self.done // max(self.total, 1)
        stream = sys.stderr
        stream.write(f"\rcfnfix [{'#' * filled}{'-' * (self.WIDTH - filled)}] {self.done}/{self.total}")
        stream.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            stream = sys.stderr
            stream.write("\r\x1b[2K")
            stream.flush()
            self.shown = False


class Run(Session):
    """A command-line run over files and stdin: fix, report in the chosen format, write."""

    def __init__(self, fixers: list, safe_only: bool, out: Output | None = None, checker: Checker | None = None,
                 skip_non_templates: bool = False, rules: FileRules | None = None, validator_asked: bool = False,
                 jobs: int = 1):
        super().__init__(fixers, safe_only, checker)
        self.jobs = max(1, jobs)  # processes for a run over several files (see ``in_parallel``)
        self.captured: list | None = None  # in a worker process: what it would print, in order
        self.validator_asked = validator_asked  # a validator (or none) was chosen, not defaulted to
        self.out = out or Output()
        self.all_fixers = list(fixers)
        self.skip_non_templates = skip_non_templates  # named files get the directory-search treatment
        self.rules = rules or FileRules()
        self.progress: Progress | None = None
        self.records: list[dict] = []
        self.stats: Counter = Counter()
        self.seen = 0  # templates looked at
        self.skipped = 0  # files that ask to be left alone (# cfnfix: ignore-file)
        self.files_fixed = 0  # written (or, for stdin with --write, printed fixed)
        self.files_fixable = 0  # with fixes that apply
        self.fixes = 0
        self.hidden = 0  # unsafe fixes --safe-only held back
        self.unused = 0  # unused suppressions (--report-unused-ignores)
        self.pending = 0  # files with something left to do

    # ----- printing ----------------------------------------------------------------------------
    def echo(self, text: str, err: bool = False, color: bool | None = None) -> None:
        if self.captured is not None:
            self.captured.append(("echo", text, err, color))
            return
        if self.progress is not None:
            self.progress.clear()
        click.echo(text, err=err, nl=not text.endswith("\n"), color=color)

    def error(self, path: str, e: TemplateError | str, line: int | None = 1, column: int | None = 1) -> None:
        """Bad input, as ``path:line:col: message`` (``path: message`` when no position means
        anything); on stderr for text output, in the report for the other formats."""
        if isinstance(e, TemplateError):
            message, line, column = e.message, e.line, e.column
        else:
            message = e
        self.errors.append({"path": path, "line": line, "column": column, "message": message})
        if self.out.fmt == "text":
            self.echo(f"{path}:{line}:{column}: {message}" if line else f"{path}: {message}", err=True)

    def say_internal(self, text: str) -> None:
        if self.out.fmt == "text":  # the other formats carry it in their report
            self.echo(text, err=True)

    def report(self, name: str, result: Result, err: bool = False) -> None:
        """Print (or keep for the run's report) what this file's fixes are. What nothing will
        print is not computed: no explanation for -q, --diff, --statistics or SARIF (which shows
        messages only), no diff unless it is shown or a report keeps it."""
        o = self.out
        if o.statistics:
            return  # the run prints counts only
        if o.fmt != "text":
            sarif = o.fmt == "sarif"
            self.records.append(file_record(result, name, None if sarif else unified_diff(result, name), explain=not sarif))
            return
        if o.diff or (not o.write and not o.check and not o.quiet):
            diff = unified_diff(result, name)
            if diff:
                self.echo(colorize(diff) if o.color and not err else diff, err=err, color=o.color and not err or None)
        if o.quiet or (o.diff and not o.check):
            return
        text = render_text(result, name, changes=not o.write or o.show_fixes)
        if text:
            self.echo(text + "\n", err=err)

    def account(self, result: Result) -> None:
        self.fixes += len(result.changes)
        self.files_fixable += bool(result.changes)
        self.hidden += len(result.available)
        for c in result.changes:
            self.stats[(c.code, "unsafe fix" if c.safety is Safety.UNSAFE else "fix")] += 1
        for c in result.available:
            self.stats[(c.code, "hidden fix")] += 1
        for f in result.findings:
            self.stats[(f.code, "report")] += 1

    # ----- one template ------------------------------------------------------------------------
    def fix_one(self, name: str, path: Path | None, text: str, explicit: bool) -> Result | None:
        """Fix with the fixers this file's per-file-ignores leave, and audit its suppressions."""
        codes = self.rules.ignores(path) if path is not None else []
        fixers = [f for f in self.all_fixers if not matches(f.code, codes)] if codes else self.all_fixers
        self.fixers = fixers
        self.seen += 1
        try:
            with recording() as used:
                result = self.fix(name, text, explicit)
        finally:
            self.fixers = self.all_fixers
        if result is None:
            return None
        found = audit(text, name, used if self.out.report_unused_ignores else None, [f.code for f in fixers])
        result.findings.extend(found)
        unused = sum(f.code == UNUSED_IGNORE for f in found)
        self.unused += unused
        self.account(result)
        if (result.changed and not self.out.write) or result.available or unused:
            self.pending += 1
        return result

    def one_file(self, path: Path, explicit: bool) -> None:
        name = str(path)
        try:
            source = read_source(path)
        except TemplateError as e:
            self.error(name, e)
            return
        if not explicit and not looks_like_template(source.text):
            return
        if file_ignored(source.text):
            self.skipped += 1
            return
        result = self.fix_one(name, path, source.text, explicit)
        if result is None:
            return
        self.report(name, result)
        if self.out.write and result.changed:
            if self.captured is not None:  # a worker process: the run writes, in the files' order
                self.captured.append(("write", name, source, result.text))
            else:
                self.write(name, source, result.text)

    def write(self, name: str, source, text: str) -> None:
        try:
            write_atomic(source, text)
            self.files_fixed += 1
        except FileChanged as e:
            self.error(name, str(e), None, None)
        except OSError as e:
            self.error(name, f"cannot write the file: {e.strerror or e}", None, None)

    def stdin(self) -> None:
        o = self.out
        name = o.stdin_filename or "<stdin>"
        try:
            text = decode(read_stdin(sys.stdin.buffer), "<stdin>")
        except TemplateError as e:
            self.error(name, e)
            return
        result = None
        if file_ignored(text):
            self.skipped += 1
        else:
            result = self.fix_one(name, Path(o.stdin_filename) if o.stdin_filename else None, text, True)
        if o.write:
            # stdout carries the template: the fixed one, or the input as it came when it cannot be
            # fixed (a filter must not swallow its input); everything else goes to stderr.
            out = result.text if result is not None else text
            sys.stdout.flush()
            sys.stdout.buffer.write(out.encode("utf-8"))
            sys.stdout.flush()
            if result is not None and result.changed:
                self.files_fixed += 1
        if result is not None:
            self.report(name, result, err=o.write)

    # ----- the whole run -----------------------------------------------------------------------
    def main(self, paths: list[Path]) -> int:
        o = self.out
        files = []
        for p in paths:
            if str(p) == "-":
                files.append((p, True))
                continue
            if not p.exists() and not p.is_symlink():
                self.error(str(p), "no such file or directory", None, None)
                continue
            if self.rules.excluded_explicit(p):
                continue
            found = discover([p], on_error=lambda path, message: self.error(str(path), message, None, None),
                             excluded=self.rules.excluded_under(p))
            files.extend((f, explicit and not self.skip_non_templates) for f, explicit in found)
        if not o.quiet and len(files) >= PROGRESS_MIN_FILES and _tty(True) and o.fmt == "text":
            self.progress = Progress(len(files))
        workers = min(self.jobs, len(files))
        if workers > 1 and not any(str(path) == "-" for path, _ in files) and _may_fork():
            self.in_parallel(files, workers)
        else:
            for path, explicit in files:
                if self.progress is not None:
                    self.progress.clear()  # also before what the engine itself may print
                if str(path) == "-":
                    self.stdin()
                else:
                    self.one_file(path, explicit)
                if self.progress is not None:
                    self.progress.advance()
        if self.progress is not None:
            self.progress.clear()
            self.progress = None
        self.render(any(str(p) == "-" for p in paths) and o.write)
        self.summary()
        if self.internal:
            return ExitCode.INTERNAL
        if self.errors:
            return ExitCode.BAD_INPUT
        if self.pending and not o.exit_zero:
            return ExitCode.FIXABLE
        return ExitCode.REFUSED if self.refused and not o.exit_zero else ExitCode.OK

    # ----- -j: several processes ----------------------------------------------------------------
    # What a run adds up per file: a worker process adds them up for its files, and this process
    # adds the workers' totals (the lists in the files' order).
    COUNTS = ("seen", "skipped", "files_fixed", "files_fixable", "fixes", "hidden", "unused", "pending", "internal", "refused")
    LISTS = ("records", "errors", "unchecked")

    def in_parallel(self, files: list[tuple[Path, bool]], workers: int) -> None:
        """Fix ``files`` in ``workers`` forked processes (they share this run's settings), each
        taking chunks of consecutive files and handing back what it would have printed, written
        and counted. This process replays the chunks in the files' order, writing the files
        itself: the output, the files written (in the same order) and the exit code are those
        of a run in one process."""
        import multiprocessing

        global _PARENT
        size = max(1, min(16, len(files) // (workers * 4)))
        chunks = [files[i : i + size] for i in range(0, len(files), size)]
        _PARENT = self
        try:
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                for part in pool.imap(_work, chunks):
                    if self.progress is not None:
                        self.progress.clear()
                    self.merge(part)
                    if self.progress is not None:
                        for _ in range(part["files"]):
                            self.progress.clear()  # as a run in one process does before each file
                            self.progress.advance()
        finally:
            _PARENT = None

    def merge(self, part: dict) -> None:
        """Print what a worker printed and write what it fixed, in order; add up its counts."""
        for kind, *args in part["echo"]:
            if kind == "echo":
                self.echo(*args)
            else:
                self.write(*args)
        for name in self.COUNTS:
            setattr(self, name, getattr(self, name) + part[name])
        for name in self.LISTS:
            getattr(self, name).extend(part[name])
        self.stats.update(part["stats"])

    def render(self, to_err: bool) -> None:
        """The report of the run for --format json/markdown/sarif, or --statistics."""
        o = self.out
        if o.statistics:
            rows = [(code, kind, n, _summary(code)) for (code, kind), n in sorted(self.stats.items())]
            if o.fmt == "json":
                click.echo(render_statistics_json(rows), err=to_err)
            elif rows:
                self.echo(render_statistics(rows) + "\n", err=to_err)
        elif o.fmt == "json":
            click.echo(render_json(self.records, self.errors), err=to_err)
        elif o.fmt == "markdown":
            click.echo(render_markdown(self.records, self.errors), err=to_err, nl=False)
        elif o.fmt == "sarif":
            from ..reports.sarif import render_sarif

            click.echo(render_sarif(self.records, self.errors, written=o.write), err=to_err)

    def summary(self) -> None:
        """One line on stderr: what was (or would be) fixed, what --safe-only held back, errors."""
        o = self.out
        if o.quiet or o.fmt != "text":
            return
        parts = []
        if o.write and self.files_fixed:
            parts.append(f"fixed {plural(self.files_fixed, 'file')} ({plural(self.fixes, 'fix')})")
        elif o.write and self.files_fixable:
            parts.append("no file written")
        elif not o.write and self.files_fixable:
            parts.append(f"{plural(self.files_fixable, 'file')} would be fixed ({plural(self.fixes, 'fix')}); run with --write to apply")
        elif self.hidden:
            parts.append("no safe fix to apply")
        elif not self.seen and not self.skipped and not self.errors and not self.internal:
            parts.append("warning: no template found under the given paths")
        else:
            parts.append("nothing to fix")
        if self.hidden:
            them = "it" if self.hidden == 1 else "them"
            parts.append(f"{plural(self.hidden, 'unsafe fix')} hidden by --safe-only: enable {them} with --unsafe-fixes")
        if self.refused:
            parts.append(f"{plural(self.refused, 'fix')} refused by {self.checker.name} (it would make the template worse)")
        if self.unused:
            parts.append(plural(self.unused, "unused suppression"))
        bad_input = sum(e.get("kind") != "internal" for e in self.errors)
        if bad_input:
            parts.append(plural(bad_input, "error"))
        if self.internal:
            parts.append(plural(self.internal, "internal error"))
        self.echo("cfnfix: " + "; ".join(parts), err=True)
        if self.checker is None and self.fixes and not self.validator_asked:
            self.echo("cfnfix: no validator is installed, so these fixes were not checked: "
                      "pip install 'cfnfix[validate]' (or cfn-lint)", err=True)


_PARENT: Run | None = None  # the run whose settings forked workers use


def _may_fork() -> bool:
    """False in a daemonic process (a worker of someone else's pool, which may have no children):
    the run then uses this process alone."""
    import multiprocessing

    return not multiprocessing.current_process().daemon


def _work(chunk: list[tuple[Path, bool]]) -> dict:
    """In a worker process: fix a chunk of files, return what it printed and counted."""
    run = _PARENT
    assert run is not None
    run.progress, run.captured, run.stats = None, [], Counter()
    for name in Run.COUNTS:
        setattr(run, name, 0)
    for name in Run.LISTS:
        setattr(run, name, [])
    for path, explicit in chunk:
        run.one_file(path, explicit)
    part = {name: getattr(run, name) for name in Run.COUNTS + Run.LISTS}
    return {**part, "echo": run.captured, "stats": run.stats, "files": len(chunk)}


def _summary(code: str) -> str:
    if code in AUDIT_CODES:
        return "suppression comment or metadata to clean up"
    cls = get_fixer(code)
    return cls.summary if cls else ""


def _tty(err: bool) -> bool:
    stream = sys.stderr if err else sys.stdout
    return hasattr(stream, "isatty") and stream.isatty()
