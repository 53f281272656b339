"""One CLI run over many files: read, fix, report, write; bad files never stop the others."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import TemplateError
from ..fixing.result import Result
from ..reports.diff import colorize, unified_diff
from ..reports.explanation import file_record
from ..reports.json_report import render_json
from ..reports.markdown import render_markdown
from ..reports.terminal import render_text
from ..workspace.discovery import discover, looks_like_template
from ..workspace.session import ExitCode, Session
from ..workspace.source import FileChanged, decode, read_source, read_stdin, write_atomic

PROGRESS_MIN_FILES = 20


class Run(Session):
    """A command-line run over files and stdin: fix, report in the chosen format, write."""

    def __init__(self, fixers: list, safe_only: bool, write: bool, diff_only: bool, fmt: str, quiet: bool,
                 verify: bool = False, skip_non_templates: bool = False):
        super().__init__(fixers, safe_only, verify)
        self.write, self.diff_only, self.fmt, self.quiet = write, diff_only, fmt, quiet
        self.skip_non_templates = skip_non_templates  # named files get the directory-search treatment
        self.records: list[dict] = []
        self.files_fixed = 0
        self.fixes = 0
        self.pending = 0  # files with fixes not written

    # ----- reporting -------------------------------------------------------------------------
    def out(self, text: str, err: bool = False) -> None:
        if text and not self.quiet and self.fmt == "text":
            click.echo(text, err=err, nl=not text.endswith("\n"))

    # ----- one file --------------------------------------------------------------------------
    def report(self, name: str, result: Result, stream_err: bool = False) -> None:
        diff = unified_diff(result, name)
        if self.fmt in ("json", "markdown", "sarif"):
            self.records.append(file_record(result, name, diff))
            return
        if diff and not self.quiet:
            click.echo(colorize(diff) if _tty(stream_err) else diff, err=stream_err, nl=False)
        if not self.diff_only:
            text = render_text(result, name)
            if text:
                self.out(text + "\n", err=stream_err)

    def one_file(self, path: Path, explicit: bool) -> None:
        name = str(path)
        try:
            source = read_source(path)
        except TemplateError as e:
            self.error(name, e)
            return
        if not explicit and not looks_like_template(source.text):
            return
        result = self.fix(name, source.text, explicit)
        if result is None:
            return
        self.account(result)
        self.report(name, result)
        if self.write and result.changed:
            try:
                write_atomic(source, result.text)
                self.files_fixed += 1
            except FileChanged as e:
                self.error(name, str(e))
            except OSError as e:
                self.error(name, f"cannot write the file: {e.strerror or e}")
        if (result.changed and not self.write) or result.available:
            self.pending += 1

    def account(self, result: Result) -> None:
        self.fixes += len(result.changes)

    def stdin(self) -> None:
        try:
            text = decode(read_stdin(sys.stdin.buffer), "<stdin>")
        except TemplateError as e:
            self.error("<stdin>", e)
            return
        result = self.fix("<stdin>", text, True)
        if result is None:
            return
        self.account(result)
        if self.diff_only:
            sys.stdout.write(unified_diff(result, "<stdin>"))
        else:
            sys.stdout.buffer.write(result.text.encode("utf-8"))
            sys.stdout.flush()
            if self.fmt == "text" and not self.quiet:
                text = render_text(result, "<stdin>")
                if text:
                    click.echo(text, err=True)
        if self.fmt != "text":
            self.records.append(file_record(result, "<stdin>"))

    # ----- the whole run ---------------------------------------------------------------------
    def main(self, paths: list[Path]) -> int:
        files = []
        for p in paths:
            if str(p) == "-":
                files.append((p, True))
            else:
                found = discover([p], on_error=lambda path, message: self.error(str(path), message))
                files.extend((f, explicit and not self.skip_non_templates) for f, explicit in found)
        show_progress = not self.quiet and len(files) >= PROGRESS_MIN_FILES and _tty(True) and self.fmt == "text"
        if show_progress:
            with click.progressbar(files, label="cfnfix", file=sys.stderr) as bar:
                for path, explicit in bar:
                    self._dispatch(path, explicit)
        else:
            for path, explicit in files:
                self._dispatch(path, explicit)
        if self.fmt == "json":
            click.echo(render_json(self.records, self.errors), err=self._report_to_err(paths))
        elif self.fmt == "markdown":
            click.echo(render_markdown(self.records, self.errors), err=self._report_to_err(paths), nl=False)
        elif self.fmt == "sarif":
            from ..reports.sarif import render_sarif

            click.echo(render_sarif(self.records, self.errors, written=self.write), err=self._report_to_err(paths))
        self.summary()
        if self.internal:
            return ExitCode.INTERNAL
        if self.errors:
            return ExitCode.BAD_INPUT
        return ExitCode.FIXABLE if self.pending else ExitCode.OK

    def _report_to_err(self, paths: list[Path]) -> bool:
        return any(str(p) == "-" for p in paths) and not self.diff_only

    def _dispatch(self, path: Path, explicit: bool) -> None:
        if str(path) == "-":
            self.stdin()
        else:
            self.one_file(path, explicit)

    def summary(self) -> None:
        if self.quiet or self.fmt != "text":
            return
        parts = []
        if self.write:
            parts.append(f"fixed {_count(self.files_fixed, 'file')} ({_count(self.fixes, 'fix')})")
        elif self.pending:
            parts.append(f"{_count(self.pending, 'file')} would be fixed ({_count(self.fixes, 'fix')}); run with --write to apply")
        else:
            parts.append("nothing to fix")
        if self.errors:
            parts.append(f"{len(self.errors)} error{'s' if len(self.errors) != 1 else ''}")
        click.echo("cfnfix: " + "; ".join(parts), err=True)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "es" if noun.endswith("x") else "s")


def _tty(err: bool) -> bool:
    stream = sys.stderr if err else sys.stdout
    return hasattr(stream, "isatty") and stream.isatty()
