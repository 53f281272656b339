"""The editor's analysis of an edited text from the analysis before it (cfnfix.server.analysis's
``earlier``): the document re-read where the text changed, the fixers with ``scope = "entry"``
run again only over the entries that changed (cfnfix.fixing.memo), the facts kept per entry
(Document.per_entry: style, references). Whatever it reuses, it must say exactly what an
analysis of the text from nothing says. ``tests/conftest.py`` also sets CFNFIX_CHECK_MEMO, so
every kept finding, style count and reference list is compared with a fresh one as it is used."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

from cfnfix.cloudformation.template import Template, parse_template
from cfnfix.errors import InternalError
from cfnfix.fixing.engine import fix_document
from cfnfix.fixing.fixer import Fix, Fixer, Report
from cfnfix.fixing.memo import FindingsMemo
from cfnfix.server.analysis import analyse
from cfnfix.server.positions import apply_edits, changed_span
from cfnfix.server.project import Projects
from cfnfix.text.edits import SetValue
from cfnfix.text.reparse import reparse
from cfnfix.text.splice import Splice

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "bench"))

from benchmark import big_template  # noqa: E402
from fuzz import typed  # noqa: E402


def said(analysis) -> list[tuple]:
    return [(i.kind, i.code, i.message, i.start, i.end, i.severity, i.unsafe) for i in analysis.items]


@pytest.mark.parametrize("kind, least", [("yaml", (150, 1000)), ("json", (40, 100))])
def test_typing_in_the_golden_inputs_is_analysed_as_from_nothing(kind, least):
    project = Projects().for_path(None)
    rng = random.Random(20261130)
    inputs = sorted((ROOT / "golden").glob(f"*/*/input.{kind}"))
    assert len(inputs) > 100
    reused = partial = 0
    for path in inputs:
        text = path.read_text(encoding="utf-8")
        earlier = analyse(text, path.name, project)
        for _ in range(3):
            text = typed(text, rng)
            later = analyse(text, path.name, project, earlier=earlier)
            assert said(later) == said(analyse(text, path.name, project)), path
            if later.memo is not None and later.memo is (earlier.memo if earlier else None):
                partial += 1
                reused += later.memo.reused
            earlier = later
    # The edits exercise what they are meant to: most re-use the earlier document, and the
    # fixers skip most entries.
    assert partial > least[0] and reused > least[1], (partial, reused)


def test_a_large_template_is_analysed_again_from_the_changed_entry():
    project = Projects().for_path(None)
    text = big_template(60_000)
    earlier = analyse(text, "big.yaml", project)
    where = text.index("Value: queue number ", len(text) // 2) + len("Value: queue")
    for n in range(3):
        text = text[:where + n] + "x" + text[where + n:]
        later = analyse(text, "big.yaml", project, earlier=earlier)
        assert said(later) == said(analyse(text, "big.yaml", project))
        earlier = later
    memo = later.memo
    per_entry = sum(1 for f in project.fixers if f.scope == "entry")
    # Per keystroke and fixer, the typed-in entry and the output the fix changes run again (three
    # at most: a fixer may run before and after the fix); the rest is kept.
    assert per_entry >= 5
    assert memo.rerun <= 3 * 3 * per_entry and memo.reused > 50 * memo.rerun


def test_the_changed_span_is_the_one_edit_between_two_texts():
    rng = random.Random(7)
    for _ in range(3000):
        old = "".join(rng.choice("ab\n") for _ in range(rng.randint(0, 14)))
        new = "".join(rng.choice("ab\n") for _ in range(rng.randint(0, 14)))
        start, end, replacement = changed_span(old, new)
        assert apply_edits(old, [(start, end, replacement)]) == new
        assert old[:start] == new[:start]
        assert old[end:] == new[len(new) - (len(old) - end):]
        # nothing shorter does it: the head and the tail are as long as they can be
        assert not (start < end and replacement and old[start] == replacement[0])
        assert not (start < end and replacement and old[end - 1] == replacement[-1])


TEMPLATE = """\
Parameters:
  Env:
    Type: String
Resources:
  A:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: a
  B:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: b
  C:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: c
"""


class _Names(Fixer):
    """Reports each queue's name (entry scope, as promised)."""

    code = "TEST1"
    scope = "entry"

    def __init__(self):
        super().__init__()
        self.seen: list[list[str]] = []

    def run(self, template: Template):
        self.seen.append(list(n for n, r in template.resources.items() if "Properties" in r))
        for name, _, props in template.resources_of_type("AWS::SQS::Queue"):
            yield Report(f"{name} is {props.get('QueueName')}", ("Resources", name))


class _Peeks(_Names):
    """Claims entry scope but reports another entry's property: the contract broken."""

    code = "TEST2"

    def run(self, template: Template):
        b = template.resources.get("B", {}).get("Properties", {}).get("QueueName")
        for name, _, _ in template.resources_of_type("AWS::SQS::Queue"):
            yield Report(f"{name} sees B as {b}", ("Resources", name))


class _Outside(_Names):
    """Entry scope, but one finding is about a parameter: the memo must not keep its findings."""

    code = "TEST3"

    def run(self, template: Template):
        self.seen.append(list(n for n, r in template.resources.items() if "Properties" in r))
        yield Report("Env is a parameter", ("Parameters", "Env"))
        for name, _, props in template.resources_of_type("AWS::SQS::Queue"):
            yield Report(f"{name} is {props.get('QueueName')}", ("Resources", name))


def _edited(doc, path, value):
    from cfnfix.text.splice import resolve, splice

    splices = resolve(doc, [SetValue(path, value)])
    text = splice(doc.text, splices)
    return reparse(doc, text, splices)


def test_an_entry_scope_fixer_runs_again_over_the_changed_entries_only(monkeypatch):
    monkeypatch.delenv("CFNFIX_CHECK_MEMO", raising=False)
    fixer, memo = _Names(), FindingsMemo()
    doc = parse_template(TEMPLATE)
    first = fix_document(doc.text, "t.yaml", [fixer], start=doc, memo=memo)
    new = _edited(doc, ("Resources", "B", "Properties", "QueueName"), "bee")
    second = fix_document(new.text, "t.yaml", [fixer], start=new, memo=memo)
    assert [f.message for f in first.findings] == ["A is a", "B is b", "C is c"]
    assert [f.message for f in second.findings] == ["A is a", "B is bee", "C is c"]
    assert fixer.seen == [["A", "B", "C"], ["B"]]  # the second run saw B alone


def test_a_finding_outside_the_entries_turns_the_memo_off_for_that_fixer(monkeypatch):
    monkeypatch.delenv("CFNFIX_CHECK_MEMO", raising=False)
    fixer, memo = _Outside(), FindingsMemo()
    doc = parse_template(TEMPLATE)
    fix_document(doc.text, "t.yaml", [fixer], start=doc, memo=memo)
    new = _edited(doc, ("Resources", "B", "Properties", "QueueName"), "bee")
    second = fix_document(new.text, "t.yaml", [fixer], start=new, memo=memo)
    assert fixer.seen == [["A", "B", "C"], ["A", "B", "C"]]
    assert [f.message for f in second.findings] == ["Env is a parameter", "A is a", "B is bee", "C is c"]


def test_the_check_mode_catches_a_fixer_that_breaks_the_entry_scope(monkeypatch):
    monkeypatch.setenv("CFNFIX_CHECK_MEMO", "1")
    fixer, memo = _Peeks(), FindingsMemo()
    doc = parse_template(TEMPLATE)
    fix_document(doc.text, "t.yaml", [fixer], start=doc, memo=memo)
    new = _edited(doc, ("Resources", "B", "Properties", "QueueName"), "bee")
    with pytest.raises(InternalError, match="kept per entry differ"):
        fix_document(new.text, "t.yaml", [fixer], start=new, memo=memo)


def test_a_changed_context_runs_the_fixer_whole(monkeypatch):
    monkeypatch.delenv("CFNFIX_CHECK_MEMO", raising=False)
    fixer, memo = _Names(), FindingsMemo()
    doc = parse_template(TEMPLATE)
    fix_document(doc.text, "t.yaml", [fixer], start=doc, memo=memo)
    new = _edited(doc, ("Resources", "B", "Type"), "AWS::SNS::Topic")  # a type is context
    second = fix_document(new.text, "t.yaml", [fixer], start=new, memo=memo)
    assert fixer.seen == [["A", "B", "C"], ["A", "B", "C"]]
    assert [f.message for f in second.findings] == ["A is a", "C is c"]


def test_the_start_document_must_be_the_texts():
    doc = parse_template(TEMPLATE)
    with pytest.raises(ValueError):
        fix_document(TEMPLATE + "\n", "t.yaml", [], start=doc)


def test_facts_kept_per_entry_follow_the_entry_not_its_place():
    """A style count kept for an entry that moved (lines added above it) is still its own; an
    entry written anew is counted anew."""
    doc = parse_template(TEMPLATE.replace("QueueName: c", "QueueName: 'c'"))
    doc.keep_facts = True  # as the engine marks an editor's documents
    assert doc.style.quote == "'"
    splices = [Splice(doc.text.index("  B:"), doc.text.index("  B:"), '  Z:\n    Type: AWS::SQS::Queue\n    Properties:\n      QueueName: "z"\n      DelaySeconds: "1"\n')]
    from cfnfix.text.splice import splice

    new = reparse(doc, splice(doc.text, splices), splices)
    assert new is not None and new.entry_values is doc.entry_values
    assert new.style.quote == '"'  # two double quotes in the new entry against one single quote kept


def test_a_stale_analysis_stops_and_says_so():
    """``stale()`` true stops an analysis between two fixers with Superseded, which the engine's
    net for fixers' errors lets through (it used to turn it into a crash, and the analysis was
    run again up to four times)."""
    from cfnfix.server.analysis import Superseded

    project = Projects().for_path(None)
    calls = []

    def stale():
        calls.append(1)
        return len(calls) > 2

    with pytest.raises(Superseded):
        analyse(TEMPLATE, "t.yaml", project, stale=stale)
    assert len(calls) == 3


def test_facts_of_entries_that_are_gone_are_dropped_now_and_then():
    """Typing a new resource's name renames it at every keystroke; what was kept for each name
    it had must not pile up over a long session."""
    from cfnfix.text.edits import RenameKey
    from cfnfix.text.splice import resolve, splice

    doc = parse_template(TEMPLATE)
    doc.keep_facts = True
    name = "C"
    sizes = []
    for i in range(400):
        doc.style  # keeps a count per entry
        Template(doc).references  # and references per entry
        splices = resolve(doc, [RenameKey(("Resources", name), name + "x")])
        name += "x"
        new = reparse(doc, splice(doc.text, splices), splices)
        assert new is not None
        doc = new
        sizes.append(len(doc.entry_values))
    assert max(sizes) < 64 + 8 * 4 + 10 and max(sizes[-50:]) < 64 + 8 * 4 + 10


def test_a_command_line_run_keeps_nothing_per_entry(monkeypatch):
    """Facts are kept per entry only for the editor's documents; the command line fixes a file
    once, and keeping would only cost it memory."""
    import cfnfix
    from cfnfix.text.document import Document

    made = []
    real = Document.built

    def built(*args, **kwargs):
        made.append(real(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(Document, "built", staticmethod(built))
    result = cfnfix.fix_text(TEMPLATE + "Outputs:\n  Q:\n    Value: !Ref A\n    Export: {}\n", filename="t.yaml", validator="none")
    assert [c.code for c in result.changes] == ["OUT001"] and made  # re-read in part, once
    assert all(not d.keep_facts and not d.entry_values for d in made)
