"""Never worse: no golden output gains a cfn-lint error or warning its input did not have
(compared by rule and by resource, since line numbers move)."""

from __future__ import annotations

import pytest

from golden import cases, read

cfnlint = pytest.importorskip("cfnlint")

from cfnfix.fixing.verify import new_findings  # noqa: E402

CHANGED = [c for c in cases() if c.expected.exists() and read(c.expected) != read(c.input)]


@pytest.mark.parametrize("case", CHANGED, ids=[c.id for c in CHANGED])
def test_golden_output_gains_no_lint_finding(case):
    assert new_findings(read(case.input), read(case.expected)) == []
