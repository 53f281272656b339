"""Edits: what a fixer asks to change, as operations at data paths — set a value, delete a key or
item, insert a key, append to a list, rename a key — and what the data becomes when they apply.

How an edit becomes a change of the text is the job of ``splice``; the engine checks that the
re-parsed text equals ``apply_to_data``'s result.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Union

from .nodes import normalize

Path = tuple


class EditError(Exception):
    """An edit that cannot be applied to this document (missing path, overlapping edits…)."""


@dataclass(frozen=True)
class SetValue:
    path: Path
    value: Any


@dataclass(frozen=True)
class Delete:
    path: Path


@dataclass(frozen=True)
class Insert:
    """Add ``key: value`` to the mapping at ``path``: after the key ``after``, or before the key
    ``before``, or at the end."""

    path: Path
    key: str
    value: Any
    after: str | None = None
    before: str | None = None


@dataclass(frozen=True)
class Append:
    path: Path
    value: Any


@dataclass(frozen=True)
class RenameKey:
    path: Path
    new_key: str


Edit = Union[SetValue, Delete, Insert, Append, RenameKey]


def edit_paths(edit: Edit) -> Path:
    """The data path an edit changes (for an insert, the new key's path)."""
    if isinstance(edit, Insert):
        return tuple(edit.path) + (edit.key,)
    if isinstance(edit, Append):
        return tuple(edit.path)
    return tuple(edit.path)


def touched_paths(edit: Edit) -> list[Path]:
    """Every data path an edit changes: a rename changes the old key and the new one."""
    if isinstance(edit, RenameKey):
        return [tuple(edit.path), tuple(edit.path[:-1]) + (edit.new_key,)]
    return [edit_paths(edit)]


def apply_to_data(data: Any, edits: list[Edit]) -> Any:
    """What the data should be after ``edits``: the engine compares the re-parsed output to it.
    ``data`` is left as it is; the result shares with it everything the edits do not change."""
    out = _copy_spine(data, [tuple(e.path) for e in edits])

    def parent(path):
        node = out
        for step in path[:-1]:
            node = node[step]
        return node

    def at(path):
        node = out
        for step in path:
            node = node[step]
        return node

    rank = {SetValue: 0, Insert: 1, Append: 1, Delete: 2, RenameKey: 3}
    ordered = sorted(enumerate(edits), key=lambda ie: (rank[type(ie[1])], ie[0]))
    deletes = [e for _, e in ordered if isinstance(e, Delete)]
    for _, e in ordered:
        if isinstance(e, SetValue):
            if not e.path:
                out = normalize(e.value)
            else:
                parent(e.path)[e.path[-1]] = normalize(e.value)
        elif isinstance(e, Insert):
            target = at(e.path)
            if target is None:
                target = {}
                if e.path:
                    parent(e.path)[e.path[-1]] = target
            if e.key in target:  # present with a null value: filled in where it stands
                target[e.key] = normalize(e.value)
                continue
            items = list(target.items())
            pos = len(items)
            if e.after is not None:
                pos = next((i + 1 for i, (k, _) in enumerate(items) if k == e.after), len(items))
            elif e.before is not None:
                pos = next((i for i, (k, _) in enumerate(items) if k == e.before), len(items))
            items.insert(pos, (e.key, normalize(e.value)))
            target.clear()
            target.update(items)
        elif isinstance(e, Append):
            target = at(e.path)
            if target is None:
                parent(e.path)[e.path[-1]] = [normalize(e.value)]
            else:
                target.append(normalize(e.value))
        elif isinstance(e, RenameKey):
            target = parent(e.path)
            items = [(e.new_key if k == e.path[-1] else k, v) for k, v in target.items()]
            target.clear()
            target.update(items)
    # Deletes last, later list indices first, so that earlier indices stay valid.
    for e in sorted(deletes, key=lambda e: _del_key(e.path), reverse=True):
        del parent(e.path)[e.path[-1]]
    return out


def _copy_spine(data: Any, paths: list[Path]) -> Any:
    """``data`` with fresh (shallow) copies of the containers along ``paths``, from the root to
    the node at the end of each path, and everything else shared: what the edits at those paths
    mutate is then theirs alone. (A deep copy of a 1 MB template's data costs more than fixing
    it; the parts the edits do not reach are compared as they are.)"""
    if not isinstance(data, (dict, list)):
        return copy.deepcopy(data)
    out = copy.copy(data)
    ours = {id(out)}
    for path in paths:
        node = out
        for step in path:
            try:
                child = node[step]
            except (KeyError, IndexError, TypeError):
                break
            if not isinstance(child, (dict, list)):
                break
            if id(child) not in ours:
                child = copy.copy(child)
                ours.add(id(child))
                node[step] = child
            node = child
    return out


def _del_key(path):
    return tuple((1, s, "") if isinstance(s, int) else (0, 0, s) for s in path)
