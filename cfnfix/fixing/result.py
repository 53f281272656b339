"""What fixing a template produced: the fixes applied (``Change``), the ones left available (safe-only)
or refused (the validator found them making the template worse), the findings reported, and the
data before and after each batch (for explanations)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..text.edits import Edit
from .fixer import Safety


@dataclass
class Change:
    """One applied fix — or one not applied: available (safe-only) or refused (``reason``)."""

    code: str
    message: str
    path: tuple
    safety: Safety
    summary: str = ""
    line: int | None = None  # where in the input the fix applies (1-based)
    column: int | None = None
    applied: bool = True
    edits: list[Edit] = field(default_factory=list, repr=False)
    spans: list[tuple[int, int]] = field(default_factory=list, repr=False)  # input lines its edits touch
    step: int = -1  # index into Result.steps
    reason: str = ""  # why a refused fix was refused

    @property
    def key(self) -> tuple:
        """What identifies this fix across runs of the same fixers over the same text."""
        return (self.code, tuple(self.path), self.message)

    @property
    def resource(self) -> str | None:
        return self.path[1] if len(self.path) > 1 and self.path[0] in ("Resources", "Outputs", "Parameters") else None

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "message": self.message,
            "path": list(self.path),
            "resource": self.resource,
            "safety": str(self.safety),
            "applied": self.applied,
            "line": self.line,
            "column": self.column,
            **({"reason": self.reason} if self.reason else {}),
        }


@dataclass
class Finding:
    """Something a fixer reported but did not change."""

    code: str
    message: str
    path: tuple
    line: int | None = None
    column: int | None = None

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "path": list(self.path), "line": self.line, "column": self.column}


@dataclass
class Step:
    """The data before and after one batch of fixes, kept for explanations."""

    before: Any
    after: Any
    changes: list[Change]


@dataclass
class Result:
    original: str
    text: str
    filename: str
    format: str
    changes: list[Change] = field(default_factory=list)  # applied, unsafe first
    available: list[Change] = field(default_factory=list)  # not applied (safe-only)
    findings: list[Finding] = field(default_factory=list)
    refused: list[Change] = field(default_factory=list)  # not applied: the validator found them worse
    steps: list[Step] = field(default_factory=list, repr=False)
    repaired: str | None = None  # the text after text-level repairs (JSON001), where the fixers began
    checked_by: str | None = None  # the validator that checked the result, if any
    check_error: str | None = None  # the validator failed on this template: the result is unchecked

    @property
    def changed(self) -> bool:
        return self.text != self.original
