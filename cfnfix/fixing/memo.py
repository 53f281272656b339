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
    """A fixer's findings per entry, for the version of a document it last ran on."""

    def __init__(self, outside: tuple, bodies: dict):
        self.outside = outside  # the top-level keys but Resources and Outputs, with their values
        self.bodies = bodies  # section -> its entries (name -> data) in that version
        self.found: dict[Key, list] = {}  # key -> findings about it, for the entries with some
        self.usable = True


class _Diff:
    """Between two versions of a section: the entries that are not the very same objects, and
    whether the names, their order and the entries' types stayed the same."""

    def __init__(self, old: dict, new: dict):
        self.changed = [n for n, v in new.items() if old.get(n, _MISSING) is not v]
        self.same_skeleton = len(old) == len(new) and all(n in old and _type(old[n]) == _type(new[n]) for n in self.changed) \
            and (not self.changed or list(old) == list(new))


def _type(entry: Any) -> Any:
    return entry.get("Type") if isinstance(entry, dict) else type(entry).__name__


class FindingsMemo:
    """Per fixer with ``scope = "entry"``: the findings of its last run, per entry. One memo per
    document (one editor buffer)."""

    def __init__(self) -> None:
        self._fixers: dict[int, tuple[Fixer, _Entries]] = {}
        self._lock = threading.Lock()
        self._views: tuple[Any, frozenset, dict] | None = None  # (data, changed keys, view) of the last view made
        self._diffs: dict[tuple[int, int], tuple[dict, dict, _Diff]] = {}  # (id old, id new) -> (old, new, diff)
        self._places: tuple[dict, dict] | None = None  # (section entries, name -> place) last counted
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

    def _diff(self, old: dict, new: dict) -> _Diff:
        key = (id(old), id(new))
        held = self._diffs.get(key)
        if held is None or held[0] is not old or held[1] is not new:
            if len(self._diffs) > 8:
                self._diffs.clear()
            held = self._diffs[key] = (old, new, _Diff(old, new))
        return held[2]

    def _place(self, body: dict) -> dict:
        if self._places is None or self._places[0] is not body:
            self._places = (body, {n: i for i, n in enumerate(body)})
        return self._places[1]

    def _run(self, fixer: Fixer, template: Template, run) -> list:
        data = template.data
        outside = _outside(data)
        bodies = {s: data[s] for s in SECTIONS if isinstance(data.get(s), dict)}
        held = self._fixers.get(id(fixer))
        memo = held[1] if held is not None and held[0] is fixer else None
        if memo is None or not memo.usable or memo.outside != outside or list(memo.bodies) != list(bodies):
            return self._whole(fixer, template, run, outside, bodies)
        changed: set[Key] = set()
        for section, body in bodies.items():
            old = memo.bodies[section]
            if body is old:
                continue
            diff = self._diff(old, body)
            if not diff.same_skeleton:
                return self._whole(fixer, template, run, outside, bodies)
            changed.update((section, n) for n in diff.changed)
        if changed:
            view = self._view(data, frozenset(changed))
            fresh: dict[Key, list] = {}
            for f in run(fixer, Template(template.doc, view, whole=template)):
                key = _key(f)
                if key is None or key not in changed:
                    return self._whole(fixer, template, run, outside, bodies)
                fresh.setdefault(key, []).append(f)
            for k in changed:
                memo.found.pop(k, None)
            memo.found.update(fresh)
        memo.bodies = bodies
        self.reused += sum(len(b) for b in bodies.values()) - len(changed)
        self.rerun += len(changed)
        return self._in_order(memo.found, bodies)

    def _in_order(self, found: dict, bodies: dict) -> list:
        out = []
        for section, body in bodies.items():
            keys = [k for k in found if k[0] == section]
            if keys:
                place = self._place(body)
                for k in sorted(keys, key=lambda k: place[k[1]]):
                    out += found[k]
        return out

    def _whole(self, fixer: Fixer, template: Template, run, outside: tuple, bodies: dict) -> list:
        self.whole += 1
        found = run(fixer, template)
        memo = _Entries(outside, bodies)
        last = (-1, -1)
        sections = list(bodies)
        for f in found:
            key = _key(f)
            if key is None or key[0] not in bodies or key[1] not in bodies[key[0]]:
                memo.usable = False  # a finding outside the entries
                break
            at = (sections.index(key[0]), self._place(bodies[key[0]])[key[1]])
            if at < last:
                memo.usable = False  # findings out of their entries' order
                break
            last = at
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
                view[section] = {name: body[name] for name in body if (section, name) in changed}
        self._views = (data, changed, view)
        return view


def _outside(data: dict) -> tuple:
    """What the findings about one entry may depend on outside the entries: everything but
    Resources and Outputs. Compared with ``==``; what a partial re-read did not touch is the same
    objects, which compare at once."""
    return tuple((k, v) for k, v in data.items() if k not in SECTIONS or not isinstance(v, dict))


def _key(finding: Any) -> Key | None:
    path = tuple(getattr(finding, "path", ()) or ())
    if len(path) >= 2 and path[0] in SECTIONS:
        return path[0], path[1]
    return None
