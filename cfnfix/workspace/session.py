"""What every way in (command line, bot, editor server) shares when it fixes files: the exit
codes, and a session that fixes one text after another with the same settings, recording bad
input and internal errors so that one bad file never stops the others."""

from __future__ import annotations

from enum import IntEnum

import click

from ..errors import InternalError, NotATemplate, TemplateError
from ..fixing.engine import fix_document
from ..fixing.result import Result
from ..fixing.verify import Checker


class ExitCode(IntEnum):
    OK = 0  # nothing (left) to fix
    FIXABLE = 1  # fixes available and not written
    BAD_INPUT = 2  # a file that is not a parseable template, bad options or configuration
    INTERNAL = 3  # a fix would not have produced what it intended; nothing was written
    REFUSED = 4  # nothing else to report, but the validator refused fixes (the others were applied)


class Session:
    """``checker`` (see ``cfnfix.fixing.verify.make_checker``) refuses fixes that would make a
    template worse; None writes fixes unchecked."""

    def __init__(self, fixers: list, safe_only: bool, checker: Checker | None = None):
        self.fixers = fixers
        self.safe_only = safe_only
        self.checker = checker
        self.errors: list[dict] = []
        self.internal = 0
        self.refused = 0
        self.unchecked: list[str] = []  # files the validator failed on

    def error(self, path: str, e: TemplateError | str, line: int = 1, column: int = 1) -> None:
        """Record bad input (``path:line:col: message``) and say it on stderr."""
        if isinstance(e, TemplateError):
            message, line, column = e.message, e.line, e.column
        else:
            message = e
        self.errors.append({"path": path, "line": line, "column": column, "message": message})
        self.echo(f"{path}:{line}:{column}: {message}", err=True)

    def internal_error(self, path: str, e: InternalError) -> None:
        """Record a fix that went wrong (nothing of it is written): on stderr, and in the reports'
        errors with ``"kind": "internal"`` so that JSON, SARIF and markdown carry it too."""
        self.internal += 1
        message = f"internal error, file left unchanged: {e}"
        self.errors.append({"path": path, "line": None, "column": None, "message": message, "kind": "internal"})
        self.say_internal(f"{path}: {message}\nPlease report this at the cfnfix issue tracker with the template.")

    def say_internal(self, text: str) -> None:
        self.echo(text, err=True)

    def echo(self, text: str, err: bool = False) -> None:
        click.echo(text, err=err)

    def fix(self, name: str, text: str, explicit: bool) -> Result | None:
        """The fixed template, or None when the text is not one (reported when ``explicit``) or a
        fix went wrong (an internal error: nothing of it is used)."""
        try:
            result = fix_document(text, name, self.fixers, safe_only=self.safe_only, checker=self.checker)
        except NotATemplate as e:
            if explicit:
                self.error(name, e)
            return None
        except TemplateError as e:
            self.error(name, e)
            return None
        except InternalError as e:
            self.internal_error(name, e)
            return None
        self.refused += len(result.refused)
        if result.check_error:
            self.unchecked.append(name)
            self.echo(f"{name}: the fixes are not checked: {result.check_error}", err=True)
        return result
