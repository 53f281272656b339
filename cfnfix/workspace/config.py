"""Settings from ``[tool.cfnfix]`` in pyproject.toml or from ``.cfnfix.toml``.

    [tool.cfnfix]
    select = ["APIGW", "OUT001"]     # codes or prefixes; default: every on-by-default fixer
    extend-select = ["LOG001"]       # opt-in fixers on top of the selection
    ignore = ["EC2001"]
    safe-only = true                 # apply only safe fixes, report the unsafe ones
    unattended = true                # also the PARAM fixers, for stacks deployed without a person
    exclude = ["legacy/"]            # gitignore-style patterns, relative to this file's folder
    extend-exclude = ["*.rain.yaml"]
    force-exclude = true             # exclude named files too (pre-commit passes files by name)
    [tool.cfnfix.per-file-ignores]
    "sandbox/*.yaml" = ["SM001"]
    [tool.cfnfix.options.EC2001]     # per-fixer options, by code
    strategy = "split"

``.cfnfix.toml`` holds the same keys at its top level. The nearest file upwards from the
current directory wins (a pyproject.toml without ``[tool.cfnfix]`` is passed over); ``--config``
names one explicitly. Every setting is type-checked and every fixer code and option is checked
against the installed fixers before any template is read: a mistake is a ``ConfigError`` that
names the file and the key (and, for TOML that does not parse, its line and column).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

# key -> kind; the kinds are checked by ``_check``.
SETTINGS = {
    "select": "codes",
    "extend-select": "codes",
    "ignore": "codes",
    "safe-only": "bool",
    "unattended": "bool",
    "exclude": "patterns",
    "extend-exclude": "patterns",
    "force-exclude": "bool",
    "per-file-ignores": "per-file",
    "options": "options",
}
KNOWN_KEYS = set(SETTINGS)

# The opt-in fixers that ``unattended = true`` (``--unattended``) turns on: they make a template
# deploy without anyone typing a parameter value.
UNATTENDED_PREFIX = "PARAM"


class ConfigError(Exception):
    pass


@dataclass
class Config:
    select: list[str] | None = None
    extend_select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    safe_only: bool = False
    unattended: bool = False
    exclude: list[str] = field(default_factory=list)
    extend_exclude: list[str] = field(default_factory=list)
    force_exclude: bool = False
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    options: dict[str, dict] = field(default_factory=dict)
    source: Path | None = None

    @property
    def root(self) -> Path:
        """The folder that the file patterns of this configuration are relative to."""
        return self.source.resolve().parent if self.source else Path.cwd()

    def where(self, key: str) -> str:
        """How a message names a key of this configuration: ``pyproject.toml: [tool.cfnfix] ignore``."""
        if self.source is None:
            return key
        table = "[tool.cfnfix] " if self.source.name == "pyproject.toml" else ""
        if key.startswith("options."):
            table = "[tool.cfnfix." if self.source.name == "pyproject.toml" else "["
            return f"{self.source}: {table}{key}]"
        return f"{self.source}: {table}{key}"


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


def _strings(value: Any, what: str, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        got = "a list with " + _type_name(next(v for v in value if not isinstance(v, str))) if isinstance(value, list) else _type_name(value)
        raise ConfigError(f"{where}: expected a list of {what} (e.g. [\"{'OUT001' if what == 'fixer codes' else 'legacy/'}\"]), not {got}")
    return value


def _check(key: str, value: Any, where: str) -> Any:
    kind = SETTINGS[key]
    if kind == "bool":
        if not isinstance(value, bool):
            shown = f"{value!r}".replace("'", '"') if isinstance(value, str) else repr(value)
            raise ConfigError(f"{where}: expected true or false, not {_type_name(value)} ({shown})")
        return value
    if kind == "codes":
        return _strings(value, "fixer codes", where)
    if kind == "patterns":
        return _strings(value, "file patterns", where)
    if kind == "per-file":
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a table of file pattern = [fixer codes], not {_type_name(value)}")
        return {pattern: _strings(codes, "fixer codes", f"{where} {pattern!r}") for pattern, codes in value.items()}
    # options
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise ConfigError(f"{where}: expected one table per fixer code ([tool.cfnfix.options.EC2001])")
    return value


def parse(table: dict, source: Path | None) -> Config:
    cfg = Config(source=source)
    unknown = sorted(set(table) - KNOWN_KEYS)
    if unknown:
        raise ConfigError(f"{cfg.where('')}".rstrip(": ") + f": unknown setting(s) {', '.join(unknown)} (known: {', '.join(SETTINGS)})")
    values = {key: _check(key, value, cfg.where(key)) for key, value in table.items()}
    cfg.select = values.get("select")
    cfg.extend_select = values.get("extend-select", [])
    cfg.ignore = values.get("ignore", [])
    cfg.safe_only = values.get("safe-only", False)
    cfg.unattended = values.get("unattended", False)
    cfg.exclude = values.get("exclude", [])
    cfg.extend_exclude = values.get("extend-exclude", [])
    cfg.force_exclude = values.get("force-exclude", False)
    cfg.per_file_ignores = values.get("per-file-ignores", {})
    cfg.options = values.get("options", {})
    return cfg


_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


def _read_toml(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"{path}: cannot read the file: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        message = str(e)
        m = _TOML_POSITION.search(message)
        if m:
            raise ConfigError(f"{path}:{m.group(1)}:{m.group(2)}: {message[: m.start()]}") from None
        line = text.count("\n") + 1
        message = re.sub(r"\s*\(at end of document\)$", "", message)
        raise ConfigError(f"{path}:{line}:{len(text) - text.rfind(chr(10))}: {message}") from None


def load_file(path: Path) -> Config:
    data = _read_toml(path)
    if path.name == "pyproject.toml":
        tool = data.get("tool", {})
        table = tool.get("cfnfix", {}) if isinstance(tool, dict) else {}
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: tool.cfnfix must be a table ([tool.cfnfix])")
        return parse(table, path)
    return parse(data, path)


def find(start: Path) -> Config:
    """The configuration nearest to ``start`` (upwards); defaults when there is none. A
    pyproject.toml that does not parse is an error even when it may not hold ``[tool.cfnfix]``:
    cfnfix cannot tell, and silently running with other settings would be worse."""
    for d in [start, *start.parents]:
        dot = d / ".cfnfix.toml"
        if dot.is_file():
            return load_file(dot)
        py = d / "pyproject.toml"
        if py.is_file():
            data = _read_toml(py)
            tool = data.get("tool")
            if isinstance(tool, dict) and "cfnfix" in tool:
                return load_file(py)
    return Config()


# ----- checks against the installed fixers --------------------------------------------------------
def unknown_code(patterns: list[str]) -> str | None:
    """The first of ``patterns`` that names no installed fixer (a code or a prefix of one), else None."""
    from ..fixing.registry import all_fixers

    codes = [f.code for f in all_fixers()]
    for p in patterns:
        if p != "ALL" and not any(c.startswith(p) for c in codes):
            return p
    return None


def check_codes(patterns: list[str], where: str) -> None:
    bad = unknown_code(patterns)
    if bad is not None:
        hint = f" (codes are upper case: {bad.upper()})" if bad != bad.upper() and unknown_code([bad.upper()]) is None else ""
        raise ConfigError(f"{where}: {bad!r} matches no fixer{hint} (see --list-fixers)")


def split_codes(values) -> list[str]:
    """Codes from command-line values, each possibly comma-separated."""
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def per_file_option(entry: str) -> tuple[str, list[str]]:
    """``--per-file-ignores PATTERN:CODES`` as (pattern, codes); ConfigError when malformed."""
    pattern, sep, codes = entry.rpartition(":")
    listed = split_codes((codes,))
    if not sep or not pattern or not listed:
        raise ConfigError(f"cfnfix: --per-file-ignores {entry!r}: expected PATTERN:CODES (e.g. 'legacy/*.yaml:SM001')")
    return pattern, listed


def _same_kind(value: Any, default: Any) -> bool:
    if default is None:
        return True
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, type(default))


def check_options(cfg: Config) -> None:
    """Every ``[options.CODE]`` table names an installed fixer, only options it has, each of the
    type of its default, and values the fixer accepts (it is built and run once on an empty
    template, so checks a fixer makes when it runs are made now, before any file is read)."""
    if not cfg.options:
        return
    from ..cloudformation.template import Template, parse_template
    from ..fixing.registry import get_fixer

    for key, table in cfg.options.items():
        where = cfg.where(f"options.{key}")
        cls = get_fixer(key)
        if cls is None:
            raise ConfigError(f"{where}: no fixer {key!r} (see --list-fixers)")
        for name, value in table.items():
            if name not in cls.options:
                known = ", ".join(cls.options) or "none"
                raise ConfigError(f"{where}: unknown option {name!r} (options of {cls.code}: {known})")
            default = cls.options[name]
            if not _same_kind(value, default):
                raise ConfigError(f"{where}: {name} must be {_type_name(default)} like its default {default!r}, "
                                  f"not {_type_name(value)} ({value!r})")
        try:
            fixer = cls(table)
            for _ in fixer.run(Template(parse_template('{"Resources": {}}', "options.json"))):
                pass
        except ValueError as e:
            message = str(e).removeprefix(f"{cls.code}: ")
            raise ConfigError(f"{where}: {message}") from None
        except Exception:  # noqa: BLE001 - a fixer that cannot run on an empty template is not an option problem
            pass
