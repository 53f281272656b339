"""Settings from ``[tool.cfnfix]`` in pyproject.toml or from ``.cfnfix.toml``.

    [tool.cfnfix]
    select = ["APIGW", "OUT001"]     # codes or prefixes; default: every on-by-default fixer
    extend-select = ["LOG001"]       # opt-in fixers on top of the selection
    ignore = ["EC2001"]
    safe-only = true                 # apply only safe fixes, report the unsafe ones
    [tool.cfnfix.options.EC2001]     # per-fixer options, by code
    strategy = "split"

``.cfnfix.toml`` holds the same keys at its top level. The nearest file upwards from the
current directory wins; ``--config`` names one explicitly.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

KNOWN_KEYS = {"select", "extend-select", "ignore", "safe-only", "options"}


class ConfigError(Exception):
    pass


@dataclass
class Config:
    select: list[str] | None = None
    extend_select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    safe_only: bool = False
    options: dict[str, dict] = field(default_factory=dict)
    source: Path | None = None


def _codes(value, key: str, source: Path) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{source}: '{key}' must be a list of fixer codes")
    return value


def parse(table: dict, source: Path) -> Config:
    unknown = set(table) - KNOWN_KEYS
    if unknown:
        raise ConfigError(f"{source}: unknown setting(s) {', '.join(sorted(unknown))}")
    cfg = Config(source=source)
    if "select" in table:
        cfg.select = _codes(table["select"], "select", source)
    cfg.extend_select = _codes(table.get("extend-select", []), "extend-select", source)
    cfg.ignore = _codes(table.get("ignore", []), "ignore", source)
    cfg.safe_only = bool(table.get("safe-only", False))
    options = table.get("options", {})
    if not isinstance(options, dict) or not all(isinstance(v, dict) for v in options.values()):
        raise ConfigError(f"{source}: 'options' must hold one table per fixer code")
    cfg.options = options
    return cfg


def load_file(path: Path) -> Config:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"{path}: {e}") from None
    if path.name == "pyproject.toml":
        return parse(data.get("tool", {}).get("cfnfix", {}), path)
    return parse(data, path)


def find(start: Path) -> Config:
    for d in [start, *start.parents]:
        dot = d / ".cfnfix.toml"
        if dot.is_file():
            return load_file(dot)
        py = d / "pyproject.toml"
        if py.is_file():
            try:
                data = tomllib.loads(py.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError):
                continue
            if "cfnfix" in data.get("tool", {}):
                return parse(data["tool"]["cfnfix"], py)
    return Config()
