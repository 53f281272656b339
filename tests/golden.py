"""Discovery and running of golden cases: ``golden/<CODE>/<case>/``.

A case holds ``input.yaml`` (or ``.json``), ``expected.yaml`` (the whole expected output; the
same bytes as the input when the fixer must leave it alone), ``explanation.txt`` (the expected
text explanation) and optionally ``case.toml`` with ``select``, ``safe_only`` and ``options``
(a table per fixer code). A case whose input must be rejected holds ``error.txt``
(``line:col: message``) instead of expected output and explanation. Set ``CFNFIX_UPDATE_GOLDEN=1`` to rewrite expected files from the
current output — then read every changed file before committing it.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

import cfnfix
from cfnfix.reports.terminal import render_text

ROOT = Path(__file__).resolve().parent.parent / "golden"
UPDATE = os.environ.get("CFNFIX_UPDATE_GOLDEN") == "1"


@dataclass
class Case:
    code: str
    name: str
    dir: Path

    @property
    def id(self) -> str:
        return f"{self.code}/{self.name}"

    @property
    def input(self) -> Path:
        return next(p for p in sorted(self.dir.iterdir()) if p.stem == "input")

    @property
    def expected(self) -> Path:
        return self.dir / ("expected" + self.input.suffix)

    @property
    def config(self) -> dict:
        p = self.dir / "case.toml"
        return tomllib.loads(p.read_text()) if p.exists() else {}

    @property
    def select(self) -> list[str] | None:
        """The fixers the case runs: ``select`` of case.toml (``"default"``: the default set, as
        with no ``--select``), else the case's own code."""
        select = self.config.get("select", [self.code])
        return None if select == "default" else select


def cases() -> list[Case]:
    out = []
    for code_dir in sorted(p for p in ROOT.iterdir() if p.is_dir()):
        for case_dir in sorted(p for p in code_dir.iterdir() if p.is_dir()):
            out.append(Case(code_dir.name, case_dir.name, case_dir))
    return out


def read(path: Path) -> str:
    with open(path, encoding="utf-8", newline="") as f:
        return f.read()


def write(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)


def run(case: Case):
    cfg = case.config
    text = read(case.input)
    result = cfnfix.fix_text(
        text,
        filename=case.input.name,
        select=case.select,
        safe_only=cfg.get("safe_only", False),
        options=cfg.get("options"),
    )
    return text, result, render_text(result) + "\n"
