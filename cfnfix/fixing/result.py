"""What fixing a template produced: the fixes applied (``Change``), the ones left available, the
findings reported, and the data before and after each batch (for explanations)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..text.edits import Edit
from .fixer import Safety


@dataclass
class Change:
    """One applied (or, with safe-only, available) fix."""

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
    steps: list[Step] = field(default_factory=list, repr=False)

    @property
    def changed(self) -> bool:
        return self.text != self.original
