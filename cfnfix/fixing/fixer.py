"""What a fixer is: a class with a code, a summary, a safety and docs, that looks at a Template
and returns Fixes (edits plus a message) and Reports (findings it will not change)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, ClassVar, Iterable, Union

from ..cloudformation.template import Template
from ..text.edits import Edit


class Safety(str, Enum):
    SAFE = "safe"  # the deployed behaviour stays the same
    UNSAFE = "unsafe"  # what gets deployed changes (inputs, permissions, resources)

    def __str__(self) -> str:
        return self.value


@dataclass
class Fix:
    message: str
    edits: list[Edit]
    path: tuple = ()
    safety: Safety | None = None  # None: the fixer's own safety


@dataclass
class Report:
    """A finding the fixer does not change (ambiguous, or needs a person)."""

    message: str
    path: tuple = ()


Finding = Union[Fix, Report]


class Fixer:
    """Base class for fixers. Subclasses set the class attributes and implement ``run``.

    ``docs`` is markdown in ruff's shape: ``## What it does``, ``## Why it breaks deploys``,
    ``## Example``, ``## Fix safety`` (and optionally ``## Options``, ``## References``).
    """

    code: ClassVar[str] = ""
    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    safety: ClassVar[Safety] = Safety.SAFE
    default: ClassVar[bool] = True
    order: ClassVar[int] = 100  # lower runs earlier; ties broken by code
    docs: ClassVar[str] = ""
    options: ClassVar[dict[str, Any]] = {}
    # "entry": what the fixer finds about a resource or an output (every finding's path lies
    # under it) depends only on that entry, the other entries' names and resource types, and
    # everything outside Resources and Outputs, and it looks at other entries only through
    # ``template.whole``; an editor then runs it again only over the entries that changed
    # (``fixing.memo``). "template": anything else.
    scope: ClassVar[str] = "template"

    def __init__(self, options: dict[str, Any] | None = None):
        unknown = set(options or {}) - set(self.options)
        if unknown:
            raise ValueError(f"{self.code}: unknown option(s) {', '.join(sorted(unknown))}")
        self.config: dict[str, Any] = {**self.options, **(options or {})}

    def run(self, template: Template) -> Iterable[Finding]:  # pragma: no cover - abstract
        raise NotImplementedError


class TextFixer(Fixer):
    """A fixer for text that does not parse yet (e.g. JSON with a trailing comma).

    The engine calls ``repair`` only when the template fails to parse; it returns the repaired
    text and, per repair, (offset in the original text, message) — or None when it cannot
    repair with certainty. The repaired text then goes through the other fixers.
    """

    formats: ClassVar[tuple[str, ...]] = ("json",)

    def repair(self, text: str) -> tuple[str, list[tuple[int, str]]] | None:  # pragma: no cover
        raise NotImplementedError

    def run(self, template: Template) -> Iterable[Finding]:
        return ()


@dataclass
class FixerInfo:
    """What the CLI lists about a fixer."""

    code: str
    name: str
    summary: str
    safety: Safety
    default: bool
    docs: str = field(repr=False, default="")
