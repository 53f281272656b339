"""Finding fixers: the built-in ones in ``cfnfix.fixers`` (the repository's ``fixers/``, one
sub-package per AWS service family) and third-party ones registered under the ``cfnfix.fixers``
entry-point group."""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache
from importlib.metadata import entry_points

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
    for ep in entry_points(group="cfnfix.fixers"):
        cls = ep.load()
        if isinstance(cls, type) and issubclass(cls, Fixer) and cls.code:
            if cls.code in found and found[cls.code] is not cls:
                raise RuntimeError(f"fixer code {cls.code} from entry point {ep.name!r} is already taken")
            found[cls.code] = cls
    return tuple(sorted(found.values(), key=lambda c: (c.order, c.code)))


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
