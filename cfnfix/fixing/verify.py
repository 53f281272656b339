"""Never worse: a validator lints the template before and after fixing, and a fix whose result
gains a finding the template did not have is refused (the engine drops it and keeps the others).

Findings are compared by rule and by the entry they concern ("Resources/Bucket"), since line
numbers move. Two validators are supported:

- ``cloudformation-validate``, AWS's offline validator (a native core: about half a second to
  load its rules once per process, then a few milliseconds per template) — the default where it
  is installed (``pip install 'cfnfix[validate]'``; wheels for Linux with glibc 2.34 or newer on
  x86-64 and arm64, macOS, Windows x86-64);
- ``cfn-lint`` (pure Python, seconds per template) — used by default when the first is missing,
  or chosen with ``--validator cfn-lint`` (``--verify``).

Both are optional: with neither installed, fixes are written unchecked and the command line says so.
"""

from __future__ import annotations

from functools import lru_cache

CHOICES = ("auto", "cloudformation-validate", "cfn-lint", "none")
_SEVERITIES = ("FATAL", "ERROR", "WARN")  # cloudformation-validate: INFO is advice, not a finding
_SECTIONS = {"RESOURCE": "Resources", "PARAMETER": "Parameters", "OUTPUT": "Outputs", "CONDITION": "Conditions",
             "MAPPING": "Mappings", "RULE": "Rules"}


class LintUnavailable(Exception):
    pass


class CheckFailed(Exception):
    """The validator itself failed on a template (not a finding: it could not say)."""


class Checker:
    """Lints a template; ``findings`` maps (rule id, "Section/Name") to a message."""

    name = ""

    def findings(self, text: str, filename: str = "template.yaml") -> dict[tuple[str, str], str]:
        try:
            return self._findings(text, filename)
        except Exception as e:  # a validator's own failure must not pass for a verdict
            raise CheckFailed(f"{self.name} failed: {type(e).__name__}: {e}") from None

    def _findings(self, text: str, filename: str) -> dict[tuple[str, str], str]:  # pragma: no cover
        raise NotImplementedError

    def gained(self, before: str, after: str, filename: str = "template.yaml") -> dict[tuple[str, str], str]:
        """Findings of ``after`` that ``before`` did not have."""
        if before == after:
            return {}
        old = self.findings(before, filename)
        return {k: v for k, v in self.findings(after, filename).items() if k not in old}


class ValidateChecker(Checker):
    name = "cloudformation-validate"

    def _findings(self, text: str, filename: str) -> dict[tuple[str, str], str]:
        from cloudformation_validate import DetailLevel, Severity, TemplateContent, ValidateConfig

        config = ValidateConfig(detail_level=DetailLevel.STANDARD, severity_level=Severity.WARN)
        report = _validate_engine().validate_template(TemplateContent(text, filename), config)
        out = {}
        for d in report.diagnostics:
            if d.severity.name not in _SEVERITIES:
                continue
            entity = d.entity
            where = f"{_SECTIONS.get(entity.entity_type.name, entity.entity_type.name.title())}/{entity.logical_id}" if entity and entity.logical_id else ""
            out.setdefault((d.rule_id, where), d.message)
        return out


@lru_cache(maxsize=1)
def _validate_engine():
    import atexit

    from cloudformation_validate import CelEngine  # CEL: the same rules as Rego, compiled faster

    atexit.register(_validate_engine.cache_clear)  # free it while its bindings are still loaded
    return CelEngine()


class LintChecker(Checker):
    name = "cfn-lint"

    def __init__(self, regions: list[str] | None = None):
        self.regions = regions or ["us-east-1"]

    def _findings(self, text: str, filename: str) -> dict[tuple[str, str], str]:
        from cfnlint.api import ManualArgs, lint

        out = {}
        for m in lint(text, config=ManualArgs(regions=self.regions)):
            rid = m.rule.id
            if rid[:1] not in ("E", "W"):
                continue
            path = list(getattr(m, "path", None) or [])[:2]
            out.setdefault((rid, "/".join(map(str, path))), m.message)
        return out


def _installed(module: str) -> bool:
    from importlib.util import find_spec

    try:
        return find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def make_checker(choice: str = "auto") -> Checker | None:
    """The validator for ``choice`` (see CHOICES); None for "none", or for "auto" with neither
    installed. Raises LintUnavailable when the one asked for is not installed."""
    if choice == "none":
        return None
    if choice in ("auto", "cloudformation-validate") and _installed("cloudformation_validate"):
        return ValidateChecker()
    if choice in ("auto", "cfn-lint") and _installed("cfnlint"):
        return LintChecker()
    if choice == "auto":
        return None
    package = "cloudformation-validate" if choice == "cloudformation-validate" else "cfn-lint"
    raise LintUnavailable(f"--validator {choice} needs {package}: pip install {package}")


# ----- the cfn-lint comparison the tests and ``--verify`` have always used ---------------------
def lint_keys(text: str, regions: list[str] | None = None) -> set[tuple[str, str]]:
    """(rule id, "Section/Name") for each cfn-lint error or warning."""
    if not _installed("cfnlint"):
        raise LintUnavailable("--verify needs cfn-lint: pip install cfn-lint")
    return set(LintChecker(regions).findings(text))


def new_findings(before: str, after: str) -> list[str]:
    """cfn-lint findings of ``after`` that ``before`` did not have, as "RULE at Section/Name"."""
    if before == after:
        return []
    gained = lint_keys(after) - lint_keys(before)
    return sorted(f"{rule} at {where or 'template'}" for rule, where in gained)
