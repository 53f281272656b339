"""Every golden case: whole output file, whole explanation, and a second run that changes nothing."""

import pytest

import cfnfix

from golden import UPDATE, cases, read, run, write

CASES = cases()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_golden(case):
    text, result, explanation = run(case)
    if UPDATE:
        write(case.expected, result.text)
        write(case.dir / "explanation.txt", explanation)
    assert result.text == read(case.expected)
    assert explanation == read(case.dir / "explanation.txt")
    cfg = case.config
    again = cfnfix.fix_text(result.text, filename=case.input.name, select=cfg.get("select", [case.code]),
                            safe_only=cfg.get("safe_only", False), options=cfg.get("options"))
    assert again.text == result.text and not again.changes, "not idempotent"


def test_every_fixer_has_golden_cases():
    from cfnfix.registry import all_fixers

    have = {c.code for c in CASES}
    missing = [f.code for f in all_fixers() if f.code not in have]
    assert not missing, f"fixers without golden cases: {missing}"


def test_each_golden_code_has_yaml_and_json():
    by_code = {}
    for c in CASES:
        by_code.setdefault(c.code, set()).add(c.input.suffix)
    lacking = {code: s for code, s in by_code.items() if not {".yaml", ".json"} <= s}
    assert not lacking, f"golden cases need both YAML and JSON inputs: {lacking}"
