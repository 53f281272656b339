"""The settings that apply to one document: the nearest ``.cfnfix.toml`` or ``[tool.cfnfix]`` upwards
from the document's folder, read and checked the way the command line reads them (select,
extend-select, ignore, unattended, options, safe-only), then per-file-ignores and exclude for the
document's own path; plus what the editor itself sends (``unsafeFixes``, ``validator``)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..fixing.engine import build_fixers
from ..fixing.fixer import Fixer
from ..fixing.registry import matches
from ..fixing.verify import CHOICES
from ..workspace import config as config_mod
from ..workspace.discovery import FileRules

CONFIG_NAMES = (".cfnfix.toml", "pyproject.toml")


@dataclass
class EditorSettings:
    """What the editor sends (initializationOptions, workspace/didChangeConfiguration)."""

    unsafe_fixes: bool = False  # fix-all applies unsafe fixes too (quick fixes always may)
    validator: str = "auto"  # the never-worse check, as --validator

    def updated(self, value: Any) -> "EditorSettings":
        """These settings with the keys of ``value`` applied: ``{"cfnfix": {...}}``,
        ``{"settings": {...}}`` or the keys themselves; unknown keys and wrong types are ignored."""
        if not isinstance(value, dict):
            return self
        for wrapper in ("cfnfix", "settings"):
            if isinstance(value.get(wrapper), dict):
                value = value[wrapper]
        out = EditorSettings(self.unsafe_fixes, self.validator)
        for key in ("unsafeFixes", "unsafe-fixes", "unsafe_fixes"):
            if isinstance(value.get(key), bool):
                out.unsafe_fixes = value[key]
        if value.get("validator") in CHOICES:
            out.validator = value["validator"]
        return out


@dataclass
class Project:
    """The fixers for one document, from its project's configuration."""

    fixers: list[Fixer] = field(default_factory=list)
    safe_only: bool = False  # the configuration's safe-only
    excluded: bool = False  # exclude / extend-exclude match the document: it gets no diagnostics
    error: str | None = None  # the configuration is wrong: this message, and no fixing
    source: Path | None = None


def _signature(folder: Path) -> tuple:
    """The configuration files upwards from ``folder`` and their modification times: when this
    changes, the configuration is read again."""
    out = []
    for d in [folder, *folder.parents]:
        for name in CONFIG_NAMES:
            try:
                st = os.stat(d / name)
            except OSError:
                continue
            out.append((str(d / name), st.st_mtime_ns, st.st_size))
    return tuple(out)


class Projects:
    """Reads each folder's configuration once, and again when a configuration file changes."""

    def __init__(self):
        self._configs: dict[tuple, tuple[config_mod.Config | None, str | None]] = {}
        # path -> (the configuration it was built from, the project): the same Project (and
        # fixer objects) for a document while its configuration stays, which is what lets an
        # analysis reuse the one before it (server/analysis.py, fixing/memo.py).
        self._projects: dict[str | None, tuple[Any, Project]] = {}

    def config(self, folder: Path) -> tuple[config_mod.Config | None, str | None]:
        key = (str(folder), _signature(folder))
        if key not in self._configs:
            if len(self._configs) > 256:
                self._configs.clear()
            self._configs[key] = _load(folder)
        return self._configs[key]

    def for_path(self, path: Path | None) -> Project:
        """The project of a document at ``path`` (None: a document without a file, such as an
        unsaved buffer, gets the default fixers)."""
        read = None if path is None else self.config(path.parent)
        held = self._projects.get(None if path is None else str(path))
        if held is not None and held[0] is read:
            return held[1]
        project = self._build(path, read)
        if len(self._projects) > 256:
            self._projects.clear()
        self._projects[None if path is None else str(path)] = (read, project)
        return project

    def _build(self, path: Path | None, read) -> Project:
        cfg, error = (config_mod.Config(), None) if read is None else read
        if error is not None or cfg is None:
            return Project(error=error)
        sel = cfg.select
        extend = list(cfg.extend_select)
        if cfg.unattended:
            extend.append(config_mod.UNATTENDED_PREFIX)
        try:
            fixers = build_fixers(sel, cfg.ignore, extend, cfg.options)
        except ValueError as e:
            return Project(error=f"{cfg.source}: {e}", source=cfg.source)
        excluded = False
        if path is not None:
            rules = FileRules.build([(p, cfg.root) for p in cfg.exclude + cfg.extend_exclude],
                                    [(p, cfg.root, codes) for p, codes in cfg.per_file_ignores.items()],
                                    force_exclude=True)
            excluded = rules.excluded_explicit(path)
            ignored = rules.ignores(path)
            if ignored:
                fixers = [f for f in fixers if not matches(f.code, ignored)]
        return Project(fixers=fixers, safe_only=cfg.safe_only, excluded=excluded, source=cfg.source)


def _load(folder: Path) -> tuple[config_mod.Config | None, str | None]:
    """The configuration for ``folder``, checked as the command line checks it; or its error."""
    try:
        cfg = config_mod.find(folder)
        checks = [(cfg.select or [], cfg.where("select")), (cfg.extend_select, cfg.where("extend-select")),
                  (cfg.ignore, cfg.where("ignore"))]
        checks += [(codes, cfg.where(f"per-file-ignores {pattern!r}")) for pattern, codes in cfg.per_file_ignores.items()]
        for codes, where in checks:
            config_mod.check_codes(codes, where)
        config_mod.check_options(cfg)
    except config_mod.ConfigError as e:
        return None, str(e)
    return cfg, None
