"""Run fixers over a template until nothing changes, splice their edits into the text, and check
that the result says exactly what the edits meant.

Each fixer runs against the current document; the fixes it returns are accepted one by one
unless they touch a path an accepted fix already touches (those wait for the next round). The
accepted edits are spliced into the text, the new text is parsed again (for YAML, only the entries
the splices touched, when they read alone: text/reparse.py), and its data must equal
the old data with the edits applied — otherwise an InternalError is raised and nothing is
written. Rounds repeat until a whole round changes nothing, so the output is a fixed point: a
second run changes nothing.
"""

from __future__ import annotations

import gc
import traceback
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator

from ..cloudformation.template import Template, parse_template
from ..errors import InternalError, NotATemplate, TemplateError
from ..text.document import Document, detect_format
from ..text.edits import Append, Edit, EditError, RenameKey, apply_to_data, edit_paths, touched_paths
from ..text.reparse import reparse
from ..text.splice import resolve, splice
from .fixer import Fix, Fixer, Report, Safety, TextFixer
from .memo import FindingsMemo
from .registry import select_fixers
from .result import Change, Finding, Result, Step
from .suppressions import Suppressions
from .verify import CheckFailed, Checker

MAX_ROUNDS = 8


def _touches(a: tuple, b: tuple) -> bool:
    n = min(len(a), len(b))
    return a[:n] == b[:n]


def _conflicts(fix_edits: list[Edit], taken: list[Edit]) -> bool:
    for e in fix_edits:
        for t in taken:
            if isinstance(e, Append) and isinstance(t, Append) and tuple(e.path) == tuple(t.path):
                continue
            if any(_touches(a, b) for a in touched_paths(e) for b in touched_paths(t)):
                return True
    return False


def _before_renames(path: tuple, renames: list[tuple[tuple, tuple]]) -> tuple:
    """A path as it was in the input, undoing the key renames of earlier rounds."""
    for new, old in reversed(renames):
        if path[: len(new)] == new:
            path = old + path[len(new) :]
    return path


def _spans(doc: Document, edits: list[Edit]) -> list[tuple[int, int]]:
    """Line ranges of the input that each edit touches: the lines its splice replaces, or, for an
    insertion, the two lines it goes between. An edit that cannot be placed in the input (it
    belongs to a later round) falls back to its nearest existing ancestor."""
    out = []
    for e in edits:
        try:
            splices = resolve(doc, [e])
        except EditError:
            splices = None
        if splices:
            for s in splices:
                first = doc.position(s.start)[0]
                if s.end > s.start:
                    out.append((first, doc.position(s.end - 1)[0]))
                elif s.start == doc.line_start(s.start):  # new lines before line ``first``
                    out.append((max(first - 1, 1), first))
                else:
                    out.append((first, first))
            continue
        p = edit_paths(e)
        while p and doc.node_at(p) is None:
            p = p[:-1]
        node = doc.node_at(p) if p else None
        if node is not None:
            key = doc.key_at(p) if isinstance(p[-1], str) else None
            first = (key or node).line
            out.append((first, doc.position(node.end)[0]))
    return out


def _location(doc: Document, path: tuple) -> tuple[int, int]:
    p = tuple(path)
    while p:
        key = doc.key_at(p) if isinstance(p[-1], str) else None
        node = key or doc.node_at(p)
        if node is not None:
            return node.line, node.column
        p = p[:-1]
    return 1, 1


def fix_document(
    text: str,
    filename: str = "template.yaml",
    fixers: Iterable[Fixer] = (),
    safe_only: bool = False,
    checker: Checker | None = None,
    start: Document | None = None,
    memo: FindingsMemo | None = None,
) -> Result:
    """Fix ``text`` with ``fixers``. With a ``checker``, fixes whose result gains a validator finding
    that the template did not have are refused (``Result.refused``) and the others still apply.

    An editor passes what it already has of an earlier version of the text: ``start``, the
    document of ``text`` (re-read in part from the earlier one's), and ``memo``, the findings of
    the earlier analysis per entry (``fixing.memo``)."""
    fixers = list(fixers)
    with no_cyclic_gc():
        # With a checker, the trials that refuse fixes run the fixers again: they share the
        # parses of the texts they have in common (every trial repeats the batches before the
        # refused fix's), and the validator's verdict on a text it has seen.
        parsed: dict[str, Document] | None = {} if checker is not None or start is not None else None
        if start is not None:
            if start.text != text:
                raise ValueError("start is not the document of text")
            parsed[text] = start
        result = _fix_once(text, filename, fixers, safe_only, frozenset(), parsed, memo)
        if checker is None:
            return result
        try:
            return _never_worse(result, text, filename, fixers, safe_only, _Remembering(checker), parsed, memo)
        except CheckFailed as e:
            result.check_error = str(e)
            return result


@contextmanager
def no_cyclic_gc() -> Iterator[None]:
    """The cyclic garbage collector off while a template is fixed. A template's trees are
    hundreds of thousands of plain objects that live until the fix ends, and the collector's
    full collections would walk them all again and again: 1.4x the time of a 1 MB template's
    fix, 2.2x at 5 MB, for nothing (the peak memory is the same: what a fix drops is freed by
    reference counting). Nested uses and threads leave it as the outermost found it."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class _Remembering:
    """A checker that validates each text once."""

    def __init__(self, checker: Checker):
        self.checker, self.name, self.seen = checker, checker.name, {}

    def findings(self, text: str, filename: str) -> dict:
        if text not in self.seen:
            self.seen[text] = self.checker.findings(text, filename)
        return self.seen[text]


def _never_worse(result: Result, text: str, filename: str, fixers: list[Fixer], safe_only: bool, checker,
                 parsed: dict | None = None, memo: FindingsMemo | None = None) -> Result:
    """Refuse, one at a time, the fixes without which the result gains fewer findings, until it gains
    none. A refused fix is skipped in a fresh run, so fixes that depended on it follow it out; when
    no single fix explains a finding, every fix is refused and only text repairs remain."""
    base = result.repaired if result.repaired is not None else text
    if result.text == base:
        return result
    before = checker.findings(base, filename)
    start = result.steps[0].before if result.steps else {}
    entries = {f"{section}/{name}" for section, body in start.items() if isinstance(body, dict) for name in body}

    def gained(r: Result) -> dict:
        """Findings of ``r`` that the baseline did not have. A finding that only moved into an
        entry the fixes created (a rule EC2001 moves into a standalone resource takes its old
        finding along) is paired with the one of the same rule that went, and is not new."""
        if r.text == base:
            return {}
        after = checker.findings(r.text, filename)
        gone = Counter(rule for rule, where in before if (rule, where) not in after)
        out = {}
        for (rule, where), message in sorted(after.items()):
            if (rule, where) in before:
                continue
            if where and where not in entries and gone[rule]:
                gone[rule] -= 1
                continue
            out[(rule, where)] = message
        return out

    excluded: set[tuple] = set()
    refused: list[Change] = []
    found = gained(result)
    while found:
        candidates = sorted((c for c in result.changes if c.step >= 0), key=lambda c: -c.step)
        if not candidates:  # pragma: no cover - without fixes the text is the baseline
            break
        for c in candidates:
            trial = _fix_once(text, filename, fixers, safe_only, frozenset(excluded | {c.key}), parsed, memo)
            left = gained(trial)
            if set(left) < set(found):
                excluded.add(c.key)
                refused.append(_refusal(c, {k: v for k, v in found.items() if k not in left}))
                result, found = trial, left
                break
        else:
            keys = {c.key for c in candidates}
            trial = _fix_once(text, filename, fixers, safe_only, frozenset(excluded | keys), parsed, memo)
            refused.extend(_refusal(c, found) for c in candidates)
            excluded |= keys
            result, found = trial, gained(trial)
    result.refused = refused
    result.checked_by = checker.name
    return result


def _said(found: dict) -> list[str]:
    return [f"{rule}{' at ' + where if where else ''} ({message})" for (rule, where), message in sorted(found.items())]


def _refusal(c: Change, found: dict) -> Change:
    return Change(c.code, c.message, c.path, c.safety, c.summary, c.line, c.column, applied=False, edits=c.edits,
                  reason="it would add " + "; ".join(_said(found)))


def _findings(fixer: Fixer, template: Template) -> list:
    return list(fixer.run(template))


def _run_fixer(fixer: Fixer, template: Template, memo: FindingsMemo | None = None) -> list:
    """What ``fixer`` finds; a fixer that raises is an internal error of this file (nothing is
    written, the other files go on), never a traceback that stops the run."""
    try:
        return memo.run(fixer, template, _findings) if memo is not None else _findings(fixer, template)
    except Exception as e:  # noqa: BLE001 - any bug in a fixer, built-in or a plugin
        where = traceback.extract_tb(e.__traceback__)[-1]
        raise InternalError(f"{fixer.code}: {type(e).__name__}: {e} ({Path(where.filename).name}:{where.lineno})") from e


def _fix_once(text: str, filename: str, fixers: list[Fixer], safe_only: bool, excluded: frozenset,
              parsed: dict[str, Document] | None = None, memo: FindingsMemo | None = None) -> Result:
    """One run of the fixers. ``parsed`` (text -> its Document), when given, holds the parses of
    earlier runs over the same input: documents are never changed, so they can be shared."""
    repairs: list[Change] = []
    if parsed is not None and text in parsed:
        doc = parsed[text]
    else:
        try:
            doc = parse_template(text, filename)
            if parsed is not None:
                parsed[text] = doc
        except NotATemplate:
            raise
        except TemplateError as error:
            doc, repairs = _repair_text(text, filename, fixers, error, safe_only)
    if memo is not None:
        doc.keep_facts = True  # an editor's document: it and its re-read versions keep facts per entry
    original_doc = doc
    result = Result(original=text, text=doc.text, filename=filename, format=doc.format, repaired=doc.text if repairs else None)
    result.changes.extend(repairs)
    if not fixers:
        return result
    renames: list[tuple[tuple, tuple]] = []  # (new path, old path) of applied RenameKey edits
    seen_findings: set[tuple] = set()
    seen_available: set[tuple] = set()
    template, suppress = Template(doc), Suppressions(doc)  # one of each per version of the document
    clean: dict[int, int] = {}  # fixer index -> the version of the document it last ran on without changing it
    version = 0  # of ``doc`` (a number, not the document: old versions must be free to go)
    for _round in range(MAX_ROUNDS):
        round_changed = False
        for index, fixer in enumerate(fixers):
            if clean.get(index) == version:
                continue  # same input as when it last changed nothing: same outcome
            if template.doc is not doc:
                template, suppress = Template(doc), Suppressions(doc)
            accepted: list[tuple[Fix, list]] = []
            taken: list[Edit] = []
            for item in _run_fixer(fixer, template, memo):
                path = tuple(item.path)
                if suppress.suppressed(fixer.code, path) or (fixer.code, path, item.message) in excluded:
                    continue
                if isinstance(item, Report) or not item.edits:
                    key = (fixer.code, path, item.message)
                    if key not in seen_findings:
                        seen_findings.add(key)
                        line, col = _location(original_doc, _before_renames(path, renames))
                        result.findings.append(Finding(fixer.code, item.message, path, line, col))
                    continue
                safety = item.safety or fixer.safety
                if safe_only and safety is Safety.UNSAFE:
                    key = (fixer.code, path, item.message)
                    if key not in seen_available:
                        seen_available.add(key)
                        line, col = _location(original_doc, _before_renames(path, renames))
                        result.available.append(
                            Change(fixer.code, item.message, path, safety, fixer.summary, line, col, applied=False, edits=item.edits)
                        )
                    continue
                if _conflicts(item.edits, taken):
                    continue  # next round
                try:
                    resolve(doc, item.edits)
                except EditError as e:
                    # This template's layout or content does not allow the fix (a logical id used
                    # twice, a key spanning lines…): report it, and go on with the other fixes.
                    key = (fixer.code, path, item.message)
                    if key not in seen_findings:
                        seen_findings.add(key)
                        line, col = _location(original_doc, _before_renames(path, renames))
                        result.findings.append(Finding(fixer.code, f"{item.message} — not applied: {e}", path, line, col))
                    continue
                try:
                    resolve(doc, list(taken) + list(item.edits))
                except EditError:
                    continue  # clashes with a fix accepted in this batch: next round
                accepted.append((item, safety))
                taken.extend(item.edits)
            if not accepted:
                clean[index] = version
                continue
            try:
                splices = resolve(doc, taken)
                new_text = splice(doc.text, splices)
            except EditError as e:
                raise InternalError(f"{fixer.code}: {e}") from None
            intended = apply_to_data(doc.data, taken)
            try:
                new_doc = parsed.get(new_text) if parsed is not None else None
                if new_doc is None:
                    new_doc = reparse(doc, new_text, splices) or Document(new_text, filename, fmt=doc.format)
                    if parsed is not None:
                        parsed[new_text] = new_doc
            except TemplateError as e:
                raise InternalError(f"{fixer.code}: the fixed text does not parse ({e})") from None
            if new_doc.data != intended:
                raise InternalError(f"{fixer.code}: the fixed text does not say what the fix meant\n{_explain_mismatch(intended, new_doc.data)}")
            step = len(result.steps)
            changes = []
            for fix, safety in accepted:
                line, col = _location(original_doc, _before_renames(tuple(fix.path), renames))
                changes.append(
                    Change(fixer.code, fix.message, tuple(fix.path), safety, fixer.summary, line, col,
                           edits=fix.edits, spans=_spans(original_doc, fix.edits), step=step)
                )
            result.steps.append(Step(doc.data, new_doc.data, changes))
            renames.extend((tuple(e.path[:-1]) + (e.new_key,), tuple(e.path)) for e in taken if isinstance(e, RenameKey))
            result.changes.extend(changes)
            doc, version = new_doc, version + 1
            round_changed = True
        if not round_changed:
            break
    else:
        raise InternalError(f"fixers did not settle after {MAX_ROUNDS} rounds")
    result.text = doc.text
    result.changes.sort(key=lambda c: c.safety is not Safety.UNSAFE)
    result.available.sort(key=lambda c: c.safety is not Safety.UNSAFE)
    return result


def _repair_text(text: str, filename: str, fixers: list[Fixer], error: TemplateError, safe_only: bool):
    """Let text-level fixers repair a template that does not parse; re-raise ``error`` if none can."""
    fmt = detect_format(text, filename)
    for fixer in fixers:
        if not isinstance(fixer, TextFixer) or fmt not in fixer.formats:
            continue
        if safe_only and fixer.safety is Safety.UNSAFE:
            continue
        repaired = fixer.repair(text)
        if repaired is None:
            continue
        new_text, spots = repaired
        try:
            doc = parse_template(new_text, filename)
        except TemplateError:
            continue
        changes = []
        for offset, message in spots:
            line = text.count("\n", 0, offset) + 1
            col = offset - (text.rfind("\n", 0, offset) + 1) + 1
            changes.append(Change(fixer.code, message, (), fixer.safety, fixer.summary, line, col, spans=[(line, line)]))
        return doc, changes
    raise error


def _explain_mismatch(intended: Any, actual: Any) -> str:
    try:
        from deepdiff import DeepDiff

        return str(DeepDiff(intended, actual))[:2000]
    except Exception:  # pragma: no cover - diagnostics only
        return ""


def build_fixers(select=None, ignore=None, extend_select=None, options: dict | None = None) -> list[Fixer]:
    classes = select_fixers(select, ignore)
    if extend_select:
        extra = [c for c in select_fixers(extend_select, ignore) if c not in classes]
        classes = sorted(classes + extra, key=lambda c: (c.order, c.code))
    options = options or {}
    return [cls(options.get(cls.code) or options.get(cls.name)) for cls in classes]
