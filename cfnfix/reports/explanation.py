"""Explanations: per fix, what changed in the template's data and why.

deepdiff compares the data before and after each fix (the readers already normalise ``!Ref X``
and ``{"Ref": "X"}`` to the same data, so only real changes show). The records built here are
what every output format renders: terminal text, markdown, JSON, SARIF.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..cloudformation.display import dotted, fmt
from ..fixing.registry import get_fixer
from ..fixing.result import Change, Result
from ..text.edits import apply_to_data

@dataclass
class Detail:
    kind: str  # "added", "removed", "changed"
    path: tuple
    old: Any = None
    new: Any = None

    def to_dict(self) -> dict:
        d = {"kind": self.kind, "path": list(self.path)}
        if self.kind != "added":
            d["old"] = self.old
        if self.kind != "removed":
            d["new"] = self.new
        return d


_KINDS = {
    "dictionary_item_added": "added",
    "iterable_item_added": "added",
    "dictionary_item_removed": "removed",
    "iterable_item_removed": "removed",
    "values_changed": "changed",
    "type_changes": "changed",
}


def details(result: Result) -> dict[int, list[Detail]]:
    """Details per change (keyed by ``id(change)``).

    Each fix's own edits are applied to the data of the batch it belonged to and deepdiff
    compares the two, so every detail belongs to exactly the fix that made it — even when two
    fixes append to the same list.
    """
    from deepdiff import DeepDiff

    out: dict[int, list[Detail]] = {}
    for c in result.changes:
        found: list[Detail] = []
        if 0 <= c.step < len(result.steps):
            before = result.steps[c.step].before
            # ignore_order pairs list items by likeness: removing one entry reads as one removal, not
            # as every later entry shifting (fixers never reorder lists).
            diff = DeepDiff(before, apply_to_data(before, c.edits), view="tree", verbose_level=2, ignore_order=True)
            for kind, levels in diff.items():
                if kind not in _KINDS:
                    continue
                for level in levels:
                    old = None if _KINDS[kind] == "added" else level.t1
                    new = None if _KINDS[kind] == "removed" else level.t2
                    found.append(Detail(_KINDS[kind], tuple(level.path(output_format="list")), old, new))
        found.sort(key=lambda d: [str(p) for p in d.path])
        out[id(c)] = found
    return out


def why(code: str) -> str:
    """First sentence of a fixer's "Why it breaks deploys" section."""
    cls = get_fixer(code)
    if cls is None:
        return ""
    m = re.search(r"## Why it breaks deploys\s*\n(.*?)(?:\n\s*\n|\Z)", cls.docs, re.S)
    if not m:
        return cls.summary
    text = " ".join(m.group(1).split())
    # The first sentence: a full stop followed by a capital, not one inside "e.g." or "i.e.".
    m = re.search(r"(?<!\be\.g)(?<!\bi\.e)(?<!\betc)\.\s+(?=[A-Z`(\"])", text)
    return text[: m.start() + 1] if m else text


def detail_line(d: Detail) -> str:
    if d.kind == "added":
        return f"+ {dotted(d.path)}: {fmt(d.new)}"
    if d.kind == "removed":
        return f"- {dotted(d.path)}: {fmt(d.old)}"
    return f"~ {dotted(d.path)}: {fmt(d.old)} → {fmt(d.new)}"


def change_record(c: Change, det: dict[int, list[Detail]]) -> dict:
    d = c.to_dict()
    d["summary"] = c.summary
    d["why"] = why(c.code)
    d["details"] = [x.to_dict() for x in det.get(id(c), [])]
    return d


def file_record(result: Result, name: str | None = None, diff: str | None = None) -> dict:
    det = details(result) if result.changes else {}
    rec = {
        "path": name or result.filename,
        "changed": result.changed,
        "changes": [change_record(c, det) for c in result.changes],
        "available": [change_record(c, {}) for c in result.available],
        "findings": [f.to_dict() for f in result.findings],
        "refused": [change_record(c, {}) for c in result.refused],
        "checked_by": result.checked_by,
    }
    if result.check_error:
        rec["check_error"] = result.check_error
    if diff is not None:
        rec["diff"] = diff
    return rec
