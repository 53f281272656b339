"""Finding fixers: the built-in ones in ``cfnfix.fixers`` (the repository's ``fixers/``, one
sub-package per AWS service family) and third-party ones registered under the ``cfnfix.fixers``
entry-point group."""

from __future__ import annotations

import importlib
import os
import pkgutil
import sys
from functools import lru_cache

from .fixer import Fixer

# Found by name at run time, like entry-point fixers: the framework does not depend on its fixers.
BUILTIN_PACKAGE = "cfnfix.fixers"


def _fixers_in_module(module) -> list[type[Fixer]]:
    return [
        obj
        for obj in vars(module).values()
        if isinstance(obj, type) and issubclass(obj, Fixer) and obj is not Fixer and obj.code and obj.__module__ == module.__name__
    ]


@lru_cache(maxsize=1)
def all_fixers() -> tuple[type[Fixer], ...]:
    package = importlib.import_module(BUILTIN_PACKAGE)
    found: dict[str, type[Fixer]] = {}
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        if info.ispkg or info.name.rsplit(".", 1)[-1].startswith("_"):
            continue
        module = importlib.import_module(info.name)
        for cls in _fixers_in_module(module):
            found[cls.code] = cls
    for ep in entry_points(group=GROUP):
        cls = ep.load()
        if isinstance(cls, type) and issubclass(cls, Fixer) and cls.code:
            if cls.code in found and found[cls.code] is not cls:
                raise RuntimeError(f"fixer code {cls.code} from entry point {ep.name!r} is already taken")
            found[cls.code] = cls
    return tuple(sorted(found.values(), key=lambda c: (c.order, c.code)))


GROUP = "cfnfix.fixers"


def entry_points(group: str):
    """The entry points of ``group`` that installed distributions declare. Importing
    importlib.metadata costs more than a run's whole start-up should (about 40 ms), so the
    distributions' entry_points.txt files are looked through first, and importlib.metadata reads
    them only when one names the group (or a path entry is not a plain folder, such as a zip)."""
    if not _may_declare(group):
        return ()
    from importlib.metadata import entry_points as declared

    return declared(group=group)


def _may_declare(group: str) -> bool:
    """False when no distribution on sys.path declares entry points of ``group``."""
    for entry in sys.path:
        folder = entry or "."
        try:
            with os.scandir(folder) as found:
                metadata = [e.name for e in found if e.name.endswith((".dist-info", ".egg-info")) or e.name == "EGG-INFO"]
        except NotADirectoryError:
            return True  # a zip archive or an egg file: importlib.metadata knows how to look inside
        except OSError:
            continue  # a path entry that does not exist
        for name in metadata:
            try:
                with open(os.path.join(folder, name, "entry_points.txt"), encoding="utf-8", errors="replace") as f:
                    if group in f.read():
                        return True
            except OSError:
                continue
    return False


def matches(code: str, patterns) -> bool:
    """True when ``code`` equals or starts with one of ``patterns`` (ruff-style prefixes)."""
    return any(p == "ALL" or code.startswith(p) for p in patterns)


def select_fixers(select=None, ignore=None, safe_only: bool = False) -> list[type[Fixer]]:
    """Fixers to run: the default ones, or those matching ``select``; minus ``ignore``.

    ``select`` names codes or prefixes; selecting an opt-in fixer by its full code or by a
    prefix enables it, ``ALL`` enables everything.
    """
    chosen = []
    for cls in all_fixers():
        if select is None:
            if not cls.default:
                continue
        elif not matches(cls.code, select):
            continue
        if ignore and matches(cls.code, ignore):
            continue
        chosen.append(cls)
    return chosen


def get_fixer(code: str) -> type[Fixer] | None:
    for cls in all_fixers():
        if cls.code == code or cls.name == code:
            return cls
    return None
