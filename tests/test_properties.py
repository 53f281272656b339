"""Property-based: around each fixer's trigger (its golden inputs), random unrelated resources,
outputs and parameters are added; the fixer must touch only the paths it declared, leave the
additions alone, produce text that parses, and change nothing on a second run."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cfnfix
from cfnfix.text.document import Document
from cfnfix.text.edits import Insert, touched_paths
from cfnfix.text.splice import resolve, splice

from golden import cases, read

def _parses(case) -> bool:
    try:
        Document(read(case.input), case.input.name)
        return True
    except cfnfix.TemplateError:
        return False  # JSON001's inputs: broken on purpose


SEEDS = [c for c in cases() if c.expected.exists() and read(c.expected) != read(c.input) and _parses(c)]
NAME = st.from_regex(r"Zz[A-Z][a-zA-Z0-9]{0,10}", fullmatch=True)
SCALAR = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=20),
    st.integers(-10**6, 10**6),
    st.booleans(),
    st.sampled_from(["yes", "On", "n", "0123", "~", "a: b", "- x", "#c", "'q'", '"d"', "${AWS::Region}"]),
)
VALUE = st.recursive(SCALAR, lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(NAME, inner, max_size=3)), max_leaves=6)
RESOURCE = st.fixed_dictionaries(
    {"Type": st.sampled_from(["Custom::Noise", "Custom::Other"])},  # inert for every fixer
    optional={"Properties": st.dictionaries(NAME, VALUE, max_size=3)},
)


def _noise_edits(doc, resources, outputs):
    edits = [Insert(("Resources",), name, body) for name, body in resources.items()]
    if outputs and isinstance(doc.data.get("Outputs"), dict):
        edits += [Insert(("Outputs",), name, {"Value": value}) for name, value in outputs.items()]
    return edits


def _within(path, declared):
    """A data path lies within a declared edit path (compared up to the first list index,
    since deletions shift later indices)."""
    def cut(p):
        out = []
        for s in p:
            if isinstance(s, int):
                break
            out.append(s)
        return tuple(out)

    p = cut(path)
    return any(p[: len(cut(d))] == cut(d) or cut(d)[: len(p)] == p for d in declared)


@pytest.mark.parametrize("case", SEEDS, ids=[c.id for c in SEEDS])
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(resources=st.dictionaries(NAME, RESOURCE, max_size=3), outputs=st.dictionaries(NAME, SCALAR.filter(lambda v: v != ""), max_size=2))
def test_fix_touches_only_declared_paths(case, resources, outputs):
    from deepdiff import DeepDiff

    cfg = case.config
    text = read(case.input)
    doc = Document(text, case.input.name)
    text = splice(text, resolve(doc, _noise_edits(doc, resources, outputs)))
    before = Document(text, case.input.name).data
    kwargs = dict(filename=case.input.name, select=case.select, safe_only=cfg.get("safe_only", False), options=cfg.get("options"))
    result = cfnfix.fix_text(text, **kwargs)
    after = Document(result.text, case.input.name).data  # parses
    for name in resources:
        assert after["Resources"][name] == before["Resources"][name]
    declared = [p for c in result.changes for e in c.edits for p in touched_paths(e)]
    diff = DeepDiff(before, after, view="tree")
    for levels in diff.values():
        for level in levels:
            path = tuple(level.path(output_format="list"))
            assert _within(path, declared), f"{case.id}: {path} changed but no fix declared it"
    again = cfnfix.fix_text(result.text, **kwargs)
    assert again.text == result.text and not again.changes
