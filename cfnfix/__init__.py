"""cfnfix: repair CloudFormation templates that fail to deploy, for known mechanical reasons.

The public API is small and imports the engine only when called, so that ``cfnfix --version``
starts fast::

    result = cfnfix.fix_text(text, filename="template.yaml")
    result.text, result.changes
"""

from __future__ import annotations

from .errors import InternalError, TemplateError
from .version import __version__

__all__ = ["fix_text", "TemplateError", "InternalError", "__version__"]


def fix_text(
    text: str,
    filename: str = "template.yaml",
    select=None,
    ignore=None,
    *,
    extend_select=None,
    safe_only: bool = False,
    options: dict | None = None,
    validator: str | None = None,
):
    """Fix a template given as text; return a Result with ``.text`` and ``.changes``.

    ``select`` lists fixer codes or prefixes (``None``: the default fixers; ``[]``: none, a pure
    round trip). ``validator`` ("auto", "cloudformation-validate", "cfn-lint"; default None: no
    check) refuses the fixes that would add a finding (``.refused``), as the command line does.
    Raises TemplateError (with ``line`` and ``column``) for input that is not a parseable
    template, InternalError when a fix would produce something it did not intend.
    """
    from .fixing.engine import build_fixers, fix_document
    from .fixing.verify import make_checker

    if select is not None and not select:
        fixers = []
    else:
        fixers = build_fixers(select, ignore, extend_select, options)
    checker = make_checker(validator) if validator else None
    return fix_document(text, filename, fixers, safe_only=safe_only, checker=checker)
