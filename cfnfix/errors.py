"""Errors cfnfix raises on purpose."""

from __future__ import annotations


class TemplateError(Exception):
    """Input that is not a parseable CloudFormation template.

    Carries the 1-based line and column of the problem so that the CLI can print
    ``path:line:col: message`` the way compilers do.
    """

    def __init__(self, message: str, line: int = 1, column: int = 1, filename: str | None = None,
                 kind: str | None = None, offset: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.filename = filename
        self.kind = kind  # machine-readable reason, where the reader knows one ("trailing-comma", …)
        self.offset = offset  # text offset of the problem, where known

    def __str__(self) -> str:
        where = f"{self.filename}:" if self.filename else ""
        return f"{where}{self.line}:{self.column}: {self.message}"


class InternalError(Exception):
    """A bug in cfnfix or one of its fixers, caught before anything was written."""


class NotATemplate(TemplateError):
    """Parseable YAML/JSON that is not a CloudFormation template."""


class Cancelled(BaseException):
    """A caller's request that a run stop now (an editor's analysis of a text that has changed
    since). Not an Exception: the engine's net for fixers' bugs must let it through."""
