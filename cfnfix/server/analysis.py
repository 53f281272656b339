"""What the editor shows for one document, without any protocol: the fixes, reports and refused
fixes of a run of the engine, each with the text range it is about; the fixed text for fix-all
and for one fixer alone; the ``# cfnfix: ignore[CODE]`` comment for an entry; the explanation of
a fix for a hover. Offsets here are into the document's Python string (``positions`` turns them
into protocol positions).

The fixing is the command line's: the same engine, fixers, configuration and validator, so the
text of a fix-all equals what ``cfnfix --write`` writes, and the text of one fixer's quick fix what
``cfnfix --write --select CODE`` writes.

An edited buffer is analysed from its analysis before the edit (``earlier``): the document is
read again only in the section entries the edit touched (``text/reparse.py``), the fixers with
``scope = "entry"`` run again only over the changed entries (``fixing/memo.py``), and what is
kept per entry or section of the document (style counts, references, the type index) carries
over. The result is the same as an analysis from nothing — the test suite and the fuzzer check
that, with ``CFNFIX_CHECK_MEMO`` and ``CFNFIX_CHECK_REPARSE`` comparing every reused value.
"""

from __future__ import annotations

import difflib
import re
import traceback
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field

from ..cloudformation.template import is_template
from ..errors import Cancelled, InternalError, NotATemplate, TemplateError
from ..fixing.engine import fix_document, no_cyclic_gc
from ..fixing.fixer import Fixer, Safety
from ..fixing.memo import FindingsMemo
from ..fixing.registry import get_fixer
from ..fixing.result import Change, Result
from ..fixing.suppressions import AUDIT_CODES, SECTIONS, Suppressions, audit, file_ignored
from ..fixing.verify import Checker
from ..text.document import Document, detect_format
from ..text.edits import edit_paths
from ..text.reparse import reparse
from ..text.splice import Splice
from ..workspace.discovery import looks_like_template
from .positions import LineIndex, apply_edits, changed_span
from .project import Project

# The protocol's DiagnosticSeverity values (this module does not import the protocol).
ERROR, WARNING, INFORMATION = 1, 2, 3

# Kinds of items.
FIX, REPORT, REFUSED, SYNTAX, CRASH, CONFIG = "fix", "report", "refused", "syntax", "crash", "config"

# Where a diagnostic's code links to (``codeDescription``): the README's fixer table for the
# built-in fixers, its suppression section for the suppression findings. OWNER is the same
# placeholder the README's install instructions use until the repository is published.
PROJECT_URL = "https://github.com/OWNER/cfnfix"
FIXERS_URL = PROJECT_URL + "#fixers"
SUPPRESSIONS_URL = PROJECT_URL + "#suppressing-fixes"

_BREAKS = {"yaml": re.compile("\r\n|[\n\r\x85\u2028\u2029]"), "json": re.compile("\r\n|[\n\r]")}
_IGNORE_LINE = re.compile(r"([ \t]*)#[ \t]*cfnfix:[ \t]*ignore\[([^\]]*)\][ \t]*", re.I)
_LINE_END = "\r\n\x85\u2028\u2029"
_ODD_BREAKS = re.compile("[\x85\u2028\u2029]")  # YAML breaks lines there; the protocol does not


@dataclass
class Item:
    """One diagnostic: a fix, a report, a refused fix, a parse error, a crash or a bad configuration."""

    kind: str
    message: str
    start: int
    end: int
    severity: int
    code: str | None = None
    unsafe: bool = False
    path: tuple = ()
    change: Change | None = field(default=None, repr=False)
    docs_url: str | None = None

    @property
    def entry(self) -> tuple | None:
        """The top-level entry (section, name) the item is about, if any."""
        if len(self.path) >= 2 and self.path[0] in SECTIONS and isinstance(self.path[1], str):
            return tuple(self.path[:2])
        return None


@dataclass
class Analysis:
    text: str
    filename: str
    project: Project | None = None
    items: list[Item] = field(default_factory=list)
    result: Result | None = field(default=None, repr=False)
    doc: Document | None = field(default=None, repr=False)  # the parsed input (after text repairs)
    crashed: dict[str, str] = field(default_factory=dict)  # fixer code -> what went wrong
    template: bool = True  # False: not a template (or excluded, or ignore-file): nothing to show
    checked: bool = False  # the validator has checked the fixes (refused ones are REFUSED items)
    memo: FindingsMemo | None = field(default=None, repr=False)  # what the next analysis of this buffer may reuse
    _details: dict | None = field(default=None, repr=False)

    @property
    def fixers(self) -> list[Fixer]:
        """The project's fixers, less those that crashed on this text."""
        fixers = self.project.fixers if self.project else []
        return [f for f in fixers if f.code not in self.crashed]

    def line_index(self, encoding: str) -> LineIndex:
        """Protocol positions in ``text``, made once per encoding; from the document's line starts
        when it breaks lines where the protocol does (no NEL, LS or PS in the text)."""
        indexes = self.__dict__.setdefault("_line_indexes", {})
        if encoding not in indexes:
            doc = self.doc
            same = doc is not None and doc.text == self.text and not _ODD_BREAKS.search(self.text)
            indexes[encoding] = LineIndex(self.text, encoding, doc.line_starts if same else None)
        return indexes[encoding]

    def fix_counts(self) -> Counter:
        return Counter(i.code for i in self.items if i.kind == FIX)

    def details(self, change: Change) -> list[str]:
        """What a fix changes, one line per value (as the command line explains it)."""
        if self.result is None:
            return []
        if self._details is None:
            from ..reports.explanation import details

            self._details = details(self.result)
        from ..reports.explanation import detail_line

        return [detail_line(d) for d in self._details.get(id(change), [])]


class Superseded(Cancelled):
    """The text changed while it was being analysed: the analysis stops, a newer one follows.
    (Raised from between two fixers, it must pass the engine's net for fixers' errors: before
    it did not, each stale analysis was taken for a crash and run again up to four times.)"""


class _Checkpoint(Fixer):
    """Run between the fixers, changes nothing: stops an analysis whose text is out of date."""

    code = ""

    def __init__(self, stale):
        super().__init__()
        self.stale = stale

    def run(self, template):
        if self.stale():
            raise Superseded()
        return ()


class _StaleChecker(Checker):
    """The validator, asked only while the text is current (it is the slow part of a checked run)."""

    def __init__(self, checker: Checker, stale):
        self.checker, self.stale, self.name = checker, stale, checker.name

    def findings(self, text: str, filename: str = "template.yaml"):
        if self.stale():
            raise Superseded()
        return self.checker.findings(text, filename)


def _watched(fixers: list[Fixer], checker: Checker | None, stale) -> tuple[list[Fixer], Checker | None]:
    if stale is None:
        return fixers, checker
    out: list[Fixer] = []
    for f in fixers:
        out += [_Checkpoint(stale), f]
    return out, (_StaleChecker(checker, stale) if checker is not None else None)


class _Probe(Fixer):
    """Runs first and keeps the document the engine parsed, so that ranges are found in it
    without parsing the text a second time. Changes nothing."""

    code = ""

    def __init__(self):
        super().__init__()
        self.doc: Document | None = None

    def run(self, template):
        if self.doc is None:
            self.doc = template.doc
        return ()


class _Lines:
    """1-based (line, column) as the readers count them -> offsets."""

    def __init__(self, text: str, fmt: str, starts: list[int] | None = None):
        self.text = text
        self.starts = starts if starts is not None else [0] + [m.end() for m in _BREAKS[fmt].finditer(text)]

    @classmethod
    def of(cls, doc: Document) -> "_Lines":
        """The document's own line starts (its reader breaks lines where ``_BREAKS`` does)."""
        return cls(doc.text, doc.format, doc.line_starts)

    def offset(self, line: int | None, column: int | None) -> int:
        line, column = max(line or 1, 1), max(column or 1, 1)
        if line > len(self.starts):
            return len(self.text)
        start = self.starts[line - 1]
        return min(start + column - 1, _line_content_end(self.text, start))


def _offset(text: str, fmt: str, line: int | None, column: int | None) -> int:
    return _Lines(text, fmt).offset(line, column)


def _line_content_end(text: str, offset: int) -> int:
    i = offset
    n = len(text)
    while i < n and text[i] not in "\n" + _LINE_END:
        i += 1
    return i


class _OffsetMap:
    """Offsets of the repaired text (where the fixers began) back to the text as typed, line by line."""

    def __init__(self, repaired: str, original: str):
        self.a = repaired.splitlines(keepends=True)
        self.b = original.splitlines(keepends=True)
        self.a_starts = [0]
        for line in self.a:
            self.a_starts.append(self.a_starts[-1] + len(line))
        self.b_starts = [0]
        for line in self.b:
            self.b_starts.append(self.b_starts[-1] + len(line))
        self.ops = difflib.SequenceMatcher(None, self.a, self.b).get_opcodes()

    def __call__(self, offset: int) -> int:
        line = max(bisect_right(self.a_starts, offset) - 1, 0)
        for op, i1, i2, j1, _j2 in self.ops:
            if i1 <= line < i2:
                if op == "equal":
                    return self.b_starts[j1 + line - i1] + (offset - self.a_starts[line])
                return self.b_starts[j1]
        return self.b_starts[-1]


def _existing(doc: Document, path: tuple) -> tuple:
    p = tuple(path)
    while p and doc.node_at(p) is None:
        p = p[:-1]
    return p


def _span(doc: Document, path: tuple) -> tuple[int, int] | None:
    """The text a path stands for: key and value when they fit on one line, else the key (or the
    first line of the value)."""
    if not path:
        return None
    node = doc.node_at(path)
    if node is None:
        return None
    key = doc.key_at(path) if isinstance(path[-1], str) else None
    start = key.start if key is not None else node.start
    first_line_end = _line_content_end(doc.text, start)
    if node.end <= first_line_end and node.end > start:
        return start, node.end
    if key is not None:
        return start, key.end
    return start, max(first_line_end, start)


def _location(doc: Document, about: tuple, edits: list) -> tuple[int, int] | None:
    """Where a fix shows: the deepest existing node that one of its edits touches under the path the
    fix is about, else that path."""
    best = _existing(doc, about)
    for e in edits:
        q = _existing(doc, tuple(edit_paths(e)))
        if len(q) > len(best) and q[: len(best)] == best:
            best = q
            break
    return _span(doc, best)


def _culprit(error: BaseException, fixers: list[Fixer]) -> str | None:
    """The code of the fixer that raised ``error``: the deepest frame of one of its methods, else
    of the module it alone comes from."""
    by_id = {id(f): f.code for f in fixers}
    modules: dict[str, list[str]] = {}
    for f in fixers:
        modules.setdefault(type(f).__module__, []).append(f.code)
    method = module = None
    tb = error.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        owner = frame.f_locals.get("self")
        if owner is not None and id(owner) in by_id:
            method = by_id[id(owner)]
        codes = modules.get(frame.f_globals.get("__name__"), [])
        if len(codes) == 1:
            module = codes[0]
        tb = tb.tb_next
    return method or module


def _first_line(text: str) -> tuple[int, int]:
    return 0, _line_content_end(text, 0)


def _start(earlier: Analysis | None, text: str, filename: str, project: Project) -> Document | None:
    """The document of ``text`` read from the earlier analysis's document of the same buffer, in
    the entries the edits between the two texts touched; None when it cannot be."""
    if earlier is None or earlier.doc is None or earlier.project is not project or earlier.filename != filename:
        return None
    if earlier.result is None or earlier.result.repaired is not None or earlier.doc.text != earlier.text:
        return None
    if text == earlier.text:
        return earlier.doc  # documents are never changed: the same text shares its document
    start, end, replacement = changed_span(earlier.text, text)
    try:
        doc = reparse(earlier.doc, text, [Splice(start, end, replacement)])
    except TemplateError:
        return None  # the whole parse says where
    if doc is None or not isinstance(doc.data, dict) or not is_template(doc.data):
        return None
    return doc


def analyse(text: str, filename: str, project: Project, checker: Checker | None = None, stale=None,
            earlier: Analysis | None = None) -> Analysis:
    """Run the project's fixers over ``text`` (all of them, unsafe ones too, so that every fix
    shows) and place what they found. With a ``checker``, fixes that would make the template worse
    are refused, as on the command line. ``stale()`` true stops the analysis (Superseded) between
    two fixers or before the validator. ``earlier``, an analysis of an earlier text of the same
    buffer, lends its document (re-read only where the text changed) and its findings per entry."""
    with no_cyclic_gc():  # as the engine: the trees of a large template would make every collection slow
        return _analyse(text, filename, project, checker, stale, earlier)


def _analyse(text: str, filename: str, project: Project, checker: Checker | None, stale, earlier: Analysis | None) -> Analysis:
    out = Analysis(text, filename, project)
    if project.excluded or not looks_like_template(text) or file_ignored(text):
        out.template = False
        return out
    if project.error is not None:
        out.items.append(Item(CONFIG, f"cfnfix: the configuration is wrong, nothing is checked: {project.error}", *_first_line(text), ERROR))
        return out
    fmt = detect_format(text, filename)
    fixers = list(project.fixers)
    start = _start(earlier, text, filename, project)
    memo = earlier.memo if earlier is not None and earlier.memo is not None and start is not None else FindingsMemo()
    for _attempt in range(4):
        probe = _Probe()
        watched, check = _watched(fixers, checker, stale)
        try:
            result = fix_document(text, filename, [probe, *watched], safe_only=False, checker=check, start=start, memo=memo)
            break
        except Superseded:
            raise
        except NotATemplate:
            out.template = False
            return out
        except TemplateError as e:
            start = e.offset if e.offset is not None else _offset(text, fmt, e.line, e.column)
            start = max(0, min(start, len(text)))
            end = min(start + 1, _line_content_end(text, start))
            out.items.append(Item(SYNTAX, e.message, start, end, ERROR))
            return out
        except Exception as e:  # noqa: BLE001 - a fixer's bug must not take the editor down with it
            code = _culprit(e, fixers)
            if code is None and isinstance(e, InternalError):
                head = str(e).split(":", 1)[0]
                code = head if any(f.code == head for f in fixers) else None
            what = f"{type(e).__name__}: {e}".strip().splitlines()[0][:300]
            if code is None:
                out.items.append(Item(CRASH, f"cfnfix failed on this template ({what}); nothing is offered. "
                                      "Please report it with the template.", *_first_line(text), WARNING))
                out.crashed["*"] = "".join(traceback.format_exception(e))
                return out
            out.crashed[code] = what
            fixers = [f for f in fixers if f.code != code]
    else:
        out.items.append(Item(CRASH, "cfnfix failed on this template: several fixers crashed; nothing is offered", *_first_line(text), WARNING))
        return out
    for code, what in out.crashed.items():
        out.items.append(Item(CRASH, f"cfnfix: fixer {code} crashed on this template ({what}); its fixes are left out. "
                              f"Please report it; ignore = [\"{code}\"] in [tool.cfnfix] silences it.",
                              *_first_line(text), WARNING, code=code))
    out.result, out.doc, out.memo = result, probe.doc, memo
    _place(out, result, probe.doc, fmt)
    return out


def _place(out: Analysis, result: Result, doc: Document | None, fmt: str) -> None:
    text = out.text
    to_input = _OffsetMap(doc.text, text) if doc is not None and result.repaired is not None else (lambda o: o)
    defaults = {f.code: type(f).default for f in out.fixers}

    in_doc = _Lines.of(doc) if doc is not None else _Lines(text, fmt)
    in_text = in_doc if in_doc.text == text and (doc is None or doc.format == fmt) else _Lines(text, fmt)

    def where(path: tuple, edits: list, line: int | None, column: int | None) -> tuple[int, int]:
        """The range of a path in the input; else the engine's (line, column) to the end of its line."""
        span = _location(doc, tuple(path), edits) if doc is not None else None
        if span is not None:
            return to_input(span[0]), to_input(span[1])
        start = to_input(in_doc.offset(line, column))
        return start, max(_line_content_end(text, start), start)

    def url(code: str) -> str | None:
        if code in AUDIT_CODES:
            return SUPPRESSIONS_URL
        cls = get_fixer(code)
        return FIXERS_URL if cls is not None and cls.__module__.startswith("cfnfix.fixers.") else None

    for c in result.changes:
        if c.step < 0:  # a text repair (JSON001): placed where it was made, in the text as typed
            start = in_text.offset(c.line, c.column)
            span = (start, min(start + 1, _line_content_end(text, start)))
        else:
            span = where(c.path, c.edits, c.line, c.column)
        unsafe = c.safety is Safety.UNSAFE
        severity = ERROR if defaults.get(c.code, True) else WARNING
        message = c.message + (" (unsafe fix)" if unsafe else "")
        out.items.append(Item(FIX, message, *span, severity, c.code, unsafe, tuple(c.path), c, url(c.code)))
    for c in result.refused:
        span = where(c.path, c.edits, c.line, c.column)
        by = f" by {result.checked_by}" if result.checked_by else ""
        out.items.append(Item(REFUSED, f"{c.message} — not offered: refused{by}, {c.reason}", *span, INFORMATION,
                              c.code, c.safety is Safety.UNSAFE, tuple(c.path), c, url(c.code)))
    for f in result.findings:
        span = where(f.path, [], f.line, f.column)
        out.items.append(Item(REPORT, f.message, *span, WARNING, f.code, False, tuple(f.path), None, url(f.code)))
    for f in audit(text, out.filename, None, [x.code for x in out.fixers]):
        start = in_text.offset(f.line, f.column)
        out.items.append(Item(REPORT, f.message, start, max(_line_content_end(text, start), start), WARNING, f.code,
                              path=tuple(f.path), docs_url=url(f.code)))
    out.items.sort(key=lambda i: (i.start, i.end))


# ----- fixing for the code actions -------------------------------------------------------------
def fix_all(analysis: Analysis, safe_only: bool, checker: Checker | None = None, stale=None) -> Result | None:
    """Every fix of the project's fixers (only safe ones with ``safe_only``): ``cfnfix --write``."""
    return _fix(analysis, analysis.fixers, safe_only, checker, stale)


def fix_code(analysis: Analysis, code: str, checker: Checker | None = None, stale=None) -> Result | None:
    """The fixes of one fixer alone, unsafe ones too: ``cfnfix --write --select CODE``."""
    fixers = [f for f in analysis.fixers if f.code == code]
    return _fix(analysis, fixers, False, checker, stale) if fixers else None


def _fix(analysis: Analysis, fixers: list[Fixer], safe_only: bool, checker: Checker | None, stale) -> Result | None:
    if not analysis.template or analysis.project is None or analysis.project.error or "*" in analysis.crashed:
        return None
    fixers, checker = _watched(fixers, checker, stale)
    doc = analysis.doc  # the analysis's reading of the same text, when no text repair came first
    start = doc if doc is not None and doc.text == analysis.text else None
    try:
        return fix_document(analysis.text, analysis.filename, fixers, safe_only=safe_only, checker=checker,
                            start=start, memo=analysis.memo if start is not None else None)
    except Superseded:
        raise
    except Exception:  # noqa: BLE001 - no fix to offer; the diagnostics already say what went wrong
        return None


def ignore_edit(analysis: Analysis, item: Item) -> tuple[int, int, str] | None:
    """The edit that adds ``# cfnfix: ignore[CODE]`` above the entry ``item`` is about (YAML only),
    or adds CODE to such a comment already there; None when there is no safe place for it. The
    edit is checked: the template says the same afterwards and the comment suppresses the code."""
    doc, entry, code = analysis.doc, item.entry, item.code
    if doc is None or doc.format != "yaml" or entry is None or not code or code in AUDIT_CODES:
        return None
    if analysis.result is not None and analysis.result.repaired is not None:
        return None
    text = analysis.text
    key = doc.key_at(entry)
    if key is None:
        return None
    line_start = doc.line_start(key.start)
    indent = text[line_start:key.start]
    if indent.strip(" "):
        return None  # the key does not start its line (flow style, or tabs): no line of its own
    edit = None
    if line_start > 0:
        prev = doc.line_start(line_start - 1)
        prev_line = text[prev:line_start].rstrip(_LINE_END)
        m = _IGNORE_LINE.fullmatch(prev_line)
        if m:
            codes = [c.strip() for c in m.group(2).split(",") if c.strip()]
            if code.upper() in (c.upper() for c in codes):
                return None
            edit = (prev, prev + len(prev_line), f"{m.group(1)}# cfnfix: ignore[{', '.join(codes + [code])}]")
    if edit is None:
        line_end = doc.line_end(key.start)
        brk = text[_line_content_end(text, key.start):line_end]
        newline = "\r\n" if brk == "\r\n" else "\r" if brk == "\r" else "\n"
        edit = (line_start, line_start, f"{indent}# cfnfix: ignore[{code}]{newline}")
    try:
        new_doc = Document(apply_edits(text, [edit]), analysis.filename, fmt="yaml")
    except TemplateError:
        return None
    if new_doc.data != doc.data or Suppressions(new_doc).match(code, tuple(item.path)) is None:
        return None
    return edit


# ----- hover -----------------------------------------------------------------------------------
def _paragraph(docs: str, section: str) -> str:
    m = re.search(rf"## {re.escape(section)}\s*\n(.*?)(?:\n\s*\n|\Z)", docs, re.S)
    return " ".join(m.group(1).split()) if m else ""


def hover_text(analysis: Analysis, item: Item, markdown: bool = True) -> str:
    """What a fix (or report) does and why, for a hover on its range."""
    code = f"`{item.code}`" if markdown and item.code else (item.code or "")
    cls = get_fixer(item.code) if item.code else None
    lines = []
    if cls is not None:
        kind = {FIX: "unsafe fix" if item.unsafe else "safe fix", REFUSED: "refused fix", REPORT: "report"}.get(item.kind, item.kind)
        head = f"{code} ({cls.name}): {cls.summary} — {kind}, {'on by default' if cls.default else 'opt-in'}"
        lines.append(f"**{head}**" if markdown else head)
    elif code:
        lines.append(f"**{code}**" if markdown else code)
    lines += ["", item.message]
    if item.kind == FIX and item.change is not None:
        changed = analysis.details(item.change)
        if changed:
            lines += ["", "What changes:"]
            lines += (["```", *changed, "```"] if markdown else [f"  {d}" for d in changed])
    if cls is not None:
        why = _paragraph(cls.docs, "Why it breaks deploys") or cls.summary
        lines += ["", f"Why: {why}"]
        if item.kind == FIX and item.unsafe:
            safety = _paragraph(cls.docs, "Fix safety")
            if safety:
                lines += ["", f"Fix safety: {safety}"]
        lines += ["", f"More: `cfnfix --explain {item.code}`" if markdown else f"More: cfnfix --explain {item.code}"]
    return "\n".join(lines).strip()
