"""``--verify``: never make a template worse in cfn-lint's eyes.

cfn-lint (optional, not a dependency) lints the template before and after fixing; a fix that
adds an error or warning that was not there before — compared by rule and by the resource or
output it concerns, since line numbers move — is refused and nothing is written.
"""

from __future__ import annotations


class LintUnavailable(Exception):
    pass


def lint_keys(text: str, regions: list[str] | None = None) -> set[tuple[str, str]]:
    """(rule id, "Section/Name") for each cfn-lint error or warning."""
    try:
        from cfnlint.api import ManualArgs, lint
    except ImportError:
        raise LintUnavailable("--verify needs cfn-lint: pip install cfn-lint") from None
    out = set()
    for m in lint(text, config=ManualArgs(regions=regions or ["us-east-1"])):
        rid = m.rule.id
        if rid[:1] not in ("E", "W"):
            continue
        path = list(getattr(m, "path", None) or [])[:2]
        out.add((rid, "/".join(map(str, path))))
    return out


def new_findings(before: str, after: str) -> list[str]:
    """cfn-lint findings of ``after`` that ``before`` did not have, as "RULE at Section/Name"."""
    if before == after:
        return []
    gained = lint_keys(after) - lint_keys(before)
    return sorted(f"{rule} at {where or 'template'}" for rule, where in gained)
