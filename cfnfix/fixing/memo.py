"""What fixers found, kept per entry, so that a new version of a document runs a fixer again only
over the entries that changed.

An editor analyses a template again after every pause in typing, and a batch of fixes changes a
few entries of it; the rest of a large template is what the fixers already looked at. The
partial re-read (``text/reparse.py``) shares the data of every entry it did not read again, so
an entry whose data is the very object of the last run is known unchanged without comparing it.

This holds only for fixers that say so. ``scope = "entry"`` on a fixer promises that what it
finds about a resource or an output (every finding's path lies under that entry) depends on
that entry alone, on the other entries' names and resource types, and on everything outside
Resources and Outputs (parameters, mappings, conditions, Transform…); and that it looks at the
entries it reports on through ``template.resources``/``template.outputs`` (or
``resources_of_type``), and at any other entry only through ``template.whole``. Such a fixer
then runs on a view of the template (``Template(doc, view, whole)``) whose Resources and Outputs
hold only the changed entries, and the findings of the last run are used for the others.

The memo checks what it can: a finding outside every entry, or findings not in the order of
their entries, turn it off for that fixer (it then always runs whole), and a change of the
context (anything but the entries' bodies) runs it whole. With the environment variable
``CFNFIX_CHECK_MEMO`` set (the test suite and the fuzzer set it), every result is also compared
with a run over the whole template, and a difference raises.
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
_MISSING = object()


class _Entries:
    """A fixer's findings per entry, for the versions of a document with one context."""

    def __init__(self, context: tuple, kept: dict):
        self.context = context
        self.kept = kept  # the entries (key -> data) of the version the findings are of
        self.found: dict[Key, list] = {}  # key -> findings about it, for the entries with some
        self.usable = True


class FindingsMemo:
    """Per fixer with ``scope = "entry"``: the findings of its last run, per entry. One memo per
    document (one editor buffer)."""

    def __init__(self) -> None:
        self._fixers: dict[int, tuple[Fixer, _Entries]] = {}
        self._lock = threading.Lock()
        self._views: tuple[Any, frozenset, dict] | None = None  # (data, changed keys, view) of the last view made
        self._read: tuple[Any, dict, tuple, dict] | None = None  # (data, its entries, context, entry -> place) last read
        self._changes: tuple[dict, dict, frozenset] | None = None  # (old entries, new entries, keys changed) last compared
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

    def _reading(self, data: dict) -> tuple[dict, tuple, dict]:
        if self._read is None or self._read[0] is not data:
            entries = _entries(data)
            self._read = (data, entries, _context(data), {k: i for i, k in enumerate(entries)})
        return self._read[1], self._read[2], self._read[3]

    def _changed(self, old: dict, new: dict) -> frozenset:
        """The keys of ``new`` whose entry is not the very object it was in ``old``; worked out
        once for the fixers that last ran on the same version."""
        if self._changes is None or self._changes[0] is not old or self._changes[1] is not new:
            self._changes = (old, new, frozenset(k for k, v in new.items() if old.get(k, _MISSING) is not v))
        return self._changes[2]

    def _run(self, fixer: Fixer, template: Template, run) -> list:
        data = template.data
        entries, context, order = self._reading(data)
        held = self._fixers.get(id(fixer))
        memo = held[1] if held is not None and held[0] is fixer else None
        if memo is None or not memo.usable or memo.context != context:
            return self._whole(fixer, template, run, entries, context, order)
        changed = self._changed(memo.kept, entries) if memo.kept is not entries else frozenset()
        if changed:
            view = self._view(data, changed)
            fresh: dict[Key, list] = {}
            for f in run(fixer, Template(template.doc, view, whole=template)):
                key = _key(f)
                if key is None or key not in changed:
                    return self._whole(fixer, template, run, entries, context, order)
                fresh.setdefault(key, []).append(f)
            for k in changed:
                memo.found.pop(k, None)
            memo.found.update(fresh)
        if len(memo.kept) != len(entries) or changed:
            for k in [k for k in memo.found if k not in order]:
                del memo.found[k]  # the entry is gone
        memo.kept = entries
        self.reused += len(entries) - len(changed)
        self.rerun += len(changed)
        return [f for k in sorted(memo.found, key=order.__getitem__) for f in memo.found[k]]

    def _whole(self, fixer: Fixer, template: Template, run, entries: dict, context: tuple, order: dict) -> list:
        self.whole += 1
        found = run(fixer, template)
        memo = _Entries(context, entries)
        last = -1
        for f in found:
            key = _key(f)
            if key is None or key not in order or order[key] < last:
                memo.usable = False  # a finding outside the entries, or out of their order
                break
            last = order[key]
            memo.found.setdefault(key, []).append(f)
        self._fixers[id(fixer)] = (fixer, memo)
        return found

    def _view(self, data: dict, changed: frozenset) -> dict:
        """``data`` with only the ``changed`` entries in Resources and Outputs."""
        if self._views is not None and self._views[0] is data and self._views[1] == changed:
            return self._views[2]
        view = dict(data)
        for section in SECTIONS:
            body = data.get(section)
            if isinstance(body, dict):
                view[section] = {name: entry for name, entry in body.items() if (section, name) in changed}
        self._views = (data, changed, view)
        return view


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
