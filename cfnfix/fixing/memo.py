"""What fixers found, kept per entry, so that a new version of a document runs a fixer again only
over the entries that changed.

An editor analyses a template again after every pause in typing, and a batch of fixes changes a
few entries of it; the rest of a large template is what the fixers already looked at. The
partial re-read (``text/reparse.py``) shares the data of every entry it did not read again, so
an entry whose data is the very object of the last run is known unchanged without comparing it.

This holds only for fixers that say so: ``scope = "entry"`` on a fixer promises that what it
finds about a resource or an output (every finding's path lies under that entry) depends on
that entry alone, on the other entries' names and resource types, and on everything outside
Resources and Outputs (parameters, mappings, conditions, Transform…). Such a fixer then runs on
a view of the template (``Template(doc, view, whole)``) in which the changed entries are whole and
the others are cut down to their ``Type``; the findings about the cut-down entries are dropped
and those of the last run are used instead. The memo checks what it can: a finding outside
every entry, or findings not in the order of their entries, turn the memo off for that fixer
(it then always runs whole). With the environment variable ``CFNFIX_CHECK_MEMO`` set (the test
suite sets it), every result is also compared with a run over the whole template, and a
difference raises.
"""

from __future__ import annotations

import os
import threading
from typing import Any, Callable

from ..cloudformation.template import Template
from ..errors import InternalError
from .fixer import Fixer

SECTIONS = ("Resources", "Outputs")

Key = tuple  # (section, name)


class _Entries:
    """A fixer's findings per entry, for the versions of a document with one context."""

    def __init__(self, context: tuple):
        self.context = context
        self.entries: dict[Key, tuple[Any, list]] = {}  # key -> (the entry's data, findings about it)
        self.usable = True


class FindingsMemo:
    """Per fixer with ``scope = "entry"``: the findings of its last run, per entry. One memo per
    document (one editor buffer); it is used by one analysis at a time."""

    def __init__(self) -> None:
        self._fixers: dict[int, tuple[Fixer, _Entries]] = {}
        self._lock = threading.Lock()
        self._views: tuple[Any, frozenset, dict] | None = None  # (data, changed keys, view) of the last view made
        self._read: tuple[Any, dict, tuple] | None = None  # (data, its entries, its context) last read
        self.reused = self.rerun = self.whole = 0  # how many entries were taken from the memo / run again; whole runs

    def run(self, fixer: Fixer, template: Template, run: Callable[[Fixer, Template], list]) -> list:
        """What ``run(fixer, template)`` returns, running the fixer only over the changed entries
        when it can."""
        if getattr(fixer, "scope", "template") != "entry" or template.whole is not template:
            return run(fixer, template)
        with self._lock:
            found = self._run(fixer, template, run)
        if os.environ.get("CFNFIX_CHECK_MEMO"):
            full = run(fixer, template)
            if full != found:
                raise InternalError(f"{fixer.code}: the findings kept per entry differ from a run over the whole template\n"
                                    f"kept: {found!r}\nwhole: {full!r}")
        return found

    def _run(self, fixer: Fixer, template: Template, run) -> list:
        data = template.data
        if self._read is None or self._read[0] is not data:
            self._read = (data, _entries(data), _context(data))
        entries, context = self._read[1], self._read[2]
        held = self._fixers.get(id(fixer))
        memo = held[1] if held is not None and held[0] is fixer else None
        if memo is None or not memo.usable or memo.context != context:
            return self._whole(fixer, template, run, entries, context)
        changed = frozenset(k for k, v in entries.items() if k not in memo.entries or memo.entries[k][0] is not v)
        if not changed:
            self.reused += len(entries)
            return [f for k in entries for f in memo.entries[k][1]]
        view = self._view(data, changed)
        fresh: dict[Key, list] = {k: [] for k in changed}
        for f in run(fixer, Template(template.doc, view, whole=template)):
            key = _key(f)
            if key is None:
                return self._whole(fixer, template, run, entries, context)
            if key in fresh:
                fresh[key].append(f)
        for k in changed:
            memo.entries[k] = (entries[k], fresh[k])
        for k in [k for k in memo.entries if k not in entries]:
            del memo.entries[k]
        self.reused += len(entries) - len(changed)
        self.rerun += len(changed)
        return [f for k in entries for f in memo.entries[k][1]]

    def _whole(self, fixer: Fixer, template: Template, run, entries: dict, context: tuple) -> list:
        self.whole += 1
        found = run(fixer, template)
        memo = _Entries(context)
        grouped: dict[Key, list] = {k: [] for k in entries}
        order = {k: i for i, k in enumerate(entries)}
        last = -1
        for f in found:
            key = _key(f)
            if key is None or key not in order or order[key] < last:
                memo.usable = False  # a finding outside the entries, or out of their order
                break
            last = order[key]
            grouped[key].append(f)
        if memo.usable:
            memo.entries = {k: (entries[k], grouped[k]) for k in entries}
        self._fixers[id(fixer)] = (fixer, memo)
        return found

    def _view(self, data: dict, changed: frozenset) -> dict:
        """``data`` with the entries not in ``changed`` cut down to their Type."""
        if self._views is not None and self._views[0] is data and self._views[1] == changed:
            return self._views[2]
        view = dict(data)
        for section in SECTIONS:
            body = data.get(section)
            if isinstance(body, dict):
                view[section] = {name: entry if (section, name) in changed else _stub(entry) for name, entry in body.items()}
        self._views = (data, changed, view)
        return view


def _stub(entry: Any) -> Any:
    if not isinstance(entry, dict):
        return entry
    return {"Type": entry["Type"]} if "Type" in entry else {}


def _entries(data: dict) -> dict[Key, Any]:
    out: dict[Key, Any] = {}
    for section in SECTIONS:
        body = data.get(section)
        if isinstance(body, dict):
            for name, entry in body.items():
                out[(section, name)] = entry
    return out


def _context(data: dict) -> tuple:
    """What the findings about one entry may depend on besides the entry: everything outside
    Resources and Outputs, and the names and types of their entries. Compared with ``==``; the
    parts a partial re-read did not touch are the same objects, which compare at once."""
    outside = tuple((k, v) for k, v in data.items() if k not in SECTIONS or not isinstance(v, dict))
    names = tuple((section, name, entry.get("Type") if isinstance(entry, dict) else type(entry).__name__)
                  for section in SECTIONS if isinstance(data.get(section), dict)
                  for name, entry in data[section].items())
    return outside, names


def _key(finding: Any) -> Key | None:
    path = tuple(getattr(finding, "path", ()) or ())
    if len(path) >= 2 and path[0] in SECTIONS:
        return path[0], path[1]
    return None
