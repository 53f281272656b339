"""Explanations: per fix, what changed in the template's data and why.

deepdiff compares the data before and after each fix (the readers already normalise ``!Ref X``
and ``{"Ref": "X"}`` to the same data, so only real changes show). The records built here are
what every output format renders: terminal text, markdown, JSON, SARIF.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from ..cloudformation.display import dotted, fmt
from ..fixing.registry import get_fixer
from ..fixing.result import Change, Result
from ..text.edits import Append, Insert, RenameKey, apply_to_data

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
            prefix, before, after, _ = _scope(result.steps[c.step].before, c.edits)
            # ignore_order pairs list items by likeness: removing one entry reads as one removal, not
            # as every later entry shifting (fixers never reorder lists).
            diff = DeepDiff(before, after, view="tree", verbose_level=2, ignore_order=True, threshold_to_diff_deeper=_DEEPER)
            for kind, levels in diff.items():
                if kind not in _KINDS:
                    continue
                for level in levels:
                    old = None if _KINDS[kind] == "added" else level.t1
                    new = None if _KINDS[kind] == "removed" else level.t2
                    found.append(Detail(_KINDS[kind], prefix + tuple(level.path(output_format="list")), old, new))
        found.sort(key=lambda d: [str(p) for p in d.path])
        out[id(c)] = found
    return out


def _scope(data: Any, edits: list) -> tuple[tuple, Any, Any, list]:
    """The part of ``data`` that ``edits`` can change, before and after them, so that each fix's
    diff costs the size of what it touches, not of the whole template (a template with a fix in
    each of thousands of resources would otherwise take hours): (prefix, before, after, edits
    relative to the prefix).

    The prefix is the deepest container holding every edit. When it is a mapping, only the
    entries the edits name are compared (an edit never changes a sibling entry), plus as many
    identical filler entries as keep deepdiff's choice at that level — report the mapping as
    replaced when less than a third of its keys survive, else diff deeper — what it would be
    with all the siblings there."""
    containers = []
    for e in edits:
        path = tuple(e.path)
        if isinstance(e, (Insert, Append)) and isinstance(_at(data, path), (dict, list)):
            containers.append(path)
        else:
            containers.append(path[:-1])
    prefix = containers[0] if containers else ()
    for c in containers[1:]:
        n = 0
        while n < min(len(prefix), len(c)) and prefix[n] == c[n]:
            n += 1
        prefix = prefix[:n]
    part = _at(data, prefix)
    rebased = [replace(e, path=tuple(e.path)[len(prefix) :]) for e in edits]
    if not isinstance(part, dict):
        return prefix, part, apply_to_data(part, rebased), rebased
    named = set()
    for e in rebased:
        if e.path:
            named.add(e.path[0])
        if isinstance(e, Insert) and not e.path:
            named.add(e.key)
        if isinstance(e, RenameKey) and len(e.path) == 1:
            named.add(e.new_key)
    before = {k: v for k, v in part.items() if k in named}
    after = apply_to_data(before, rebased)
    siblings = len(part) - len(before)  # entries no edit names: the same before and after
    kept = len(before.keys() & after.keys())
    union = len(before.keys() | after.keys())
    if siblings and union > 1:
        if (kept + siblings) / (union + siblings) < _DEEPER:
            return prefix, part, apply_to_data(part, rebased), rebased  # reported as replaced
        pad = 0
        while pad < siblings and (kept + pad) / (union + pad) < _DEEPER:
            pad += 1
        for i in range(pad):
            before[f"\x00cfnfix-sibling-{i}"] = after[f"\x00cfnfix-sibling-{i}"] = i
    return prefix, before, after, rebased


# deepdiff's threshold_to_diff_deeper (its default): below this share of surviving keys, a
# mapping is reported as replaced rather than key by key.
_DEEPER = 0.33


def _at(data: Any, path: tuple) -> Any:
    for step in path:
        try:
            data = data[step]
        except (KeyError, IndexError, TypeError):
            return None
    return data


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


def file_record(result: Result, name: str | None = None, diff: str | None = None, explain: bool = True) -> dict:
    """The record of one file that the report formats render. Without ``explain`` the changes
    carry no details (SARIF shows messages only), and nothing is diffed."""
    det = details(result) if result.changes and explain else {}
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
