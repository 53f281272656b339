"""SARIF 2.1.0 output (``--format sarif``) for GitHub code scanning and other SARIF viewers.

One result per fix that would apply (level ``error``: the template does not deploy as it is),
per fix left unapplied by --safe-only and per finding cfnfix cannot fix (level ``warning``).
Each rule is a fixer: its summary is the short description, its docs the help. Files that are
not parseable templates become tool execution notifications.
"""

from __future__ import annotations

import json
import os
from pathlib import Path, PurePosixPath

from ..fixing.registry import get_fixer
from ..version import __version__

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"


def render_sarif(records: list[dict], errors: list[dict], written: bool = False) -> str:
    """The SARIF log of a run. With ``written`` the applied fixes are left out: they are fixed."""
    rules: list[dict] = []
    index: dict[str, int] = {}
    results = []

    def rule(code: str) -> int:
        if code not in index:
            index[code] = len(rules)
            rules.append(_rule(code))
        return index[code]

    for r in records:
        entries = [] if written and r["changed"] else [(c, "fix", "error", "") for c in r["changes"]]
        entries += [(c, "available", "warning", f" (not applied: {c['safety']} fix, --safe-only)") for c in r["available"]]
        entries += [(f, "finding", "warning", " (cfnfix cannot fix this: it needs a person)") for f in r["findings"]]
        entries += [(c, "refused", "warning", f" (not applied: {c['reason']})") for c in r.get("refused", ())]
        for c, kind, level, note in entries:
            message = c["message"] + note
            if c.get("why"):
                message += f". {c['why']}"
            result = {
                "ruleId": c["code"],
                "ruleIndex": rule(c["code"]),
                "level": level,
                "message": {"text": message},
                "locations": [_location(r["path"], c.get("line"), c.get("column"))],
            }
            result["properties"] = {"kind": kind, **({"safety": c["safety"]} if "safety" in c else {})}
            results.append(result)

    notifications = [
        {"level": "error", "message": {"text": e["message"]}, "locations": [_location(e["path"], e.get("line"), e.get("column"))]}
        for e in errors
    ]
    log = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "cfnfix", "version": __version__, "semanticVersion": __version__, "rules": rules}},
                "originalUriBaseIds": {SRCROOT: {"uri": Path.cwd().as_uri() + "/"}},
                "invocations": [{"executionSuccessful": not errors, "toolExecutionNotifications": notifications}],
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False)


def _rule(code: str) -> dict:
    cls = get_fixer(code)
    if cls is None:  # pragma: no cover - every change comes from a registered fixer
        return {"id": code, "shortDescription": {"text": code}}
    from .explanation import why

    docs = cls.docs.strip()
    return {
        "id": code,
        "name": cls.name or code,
        "shortDescription": {"text": cls.summary},
        "fullDescription": {"text": why(code) or cls.summary},
        "help": {"text": docs, "markdown": docs},
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["cloudformation", str(cls.safety)], "safety": str(cls.safety)},
    }


def _location(path: str, line: int | None, column: int | None) -> dict:
    artifact = {"uri": path}
    if path == "<stdin>":
        artifact = {"uri": "stdin"}
    elif os.path.isabs(path):
        try:
            artifact = {"uri": Path(path).resolve().relative_to(Path.cwd()).as_posix(), "uriBaseId": SRCROOT}
        except ValueError:
            artifact = {"uri": Path(path).as_uri()}
    else:
        artifact = {"uri": _posix(path), "uriBaseId": SRCROOT}
    return {"physicalLocation": {"artifactLocation": artifact, "region": {"startLine": line or 1, "startColumn": column or 1}}}


def _posix(path: str) -> str:
    """A relative path as a URI reference: forward slashes, no leading ./, special characters escaped."""
    from urllib.parse import quote

    p = PurePosixPath(path.replace(os.sep, "/"))
    return quote(p.as_posix().removeprefix("./"), safe="/")
