"""Every golden case: whole output file, whole explanation, and a second run that changes nothing."""

import pytest

import cfnfix

from golden import UPDATE, cases, read, run, write

CASES = cases()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_golden(case):
    error_file = case.dir / "error.txt"
    if error_file.exists() or (UPDATE and not case.expected.exists()):
        with pytest.raises(cfnfix.TemplateError) as e:
            run(case)
        if UPDATE:
            write(error_file, str(e.value) + "\n")
        assert str(e.value) + "\n" == read(error_file)
        return
    text, result, explanation = run(case)
    if UPDATE:
        write(case.expected, result.text)
        write(case.dir / "explanation.txt", explanation)
    assert result.text == read(case.expected)
    assert explanation == read(case.dir / "explanation.txt")
    cfg = case.config
    again = cfnfix.fix_text(result.text, filename=case.input.name, select=case.select,
                            safe_only=cfg.get("safe_only", False), options=cfg.get("options"))
    assert again.text == result.text and not again.changes, "not idempotent"


def test_every_fixer_has_golden_cases():
    from cfnfix.fixing.registry import all_fixers

    have = {c.code for c in CASES}
    missing = [f.code for f in all_fixers() if f.code not in have]
    assert not missing, f"fixers without golden cases: {missing}"


def test_each_golden_code_has_yaml_and_json():
    from cfnfix.fixing.registry import get_fixer

    by_code = {}
    for c in CASES:
        by_code.setdefault(c.code, set()).add(c.input.suffix)
    lacking = {}
    for code, have in by_code.items():
        formats = getattr(get_fixer(code), "formats", ("yaml", "json"))
        if not {"." + f for f in formats} <= have:
            lacking[code] = have
    assert not lacking, f"golden cases need both YAML and JSON inputs: {lacking}"
