"""The language server: pygls and lsprotocol carry the protocol; this module keeps the open
documents, runs ``analysis`` off the event loop and turns its items into diagnostics, code
actions and hovers.

- Text sync is incremental. The server keeps its own copy of each document and applies the
  changes with ``positions.LineIndex`` (protocol lines and UTF-16/8/32 columns exactly), whose
  line starts each change moves rather than finds again.
- Diagnostics are computed on open, on save and, ``DEBOUNCE`` seconds after the last change, on
  change; in a thread of their own, so the event loop keeps answering. Each analysis starts from
  the one before (``analysis.analyse``'s ``earlier``): a keystroke in a 1 MB template costs
  about a tenth of an analysis from nothing. First without the
  validator (the quick answer), then, when there are fixes, with it in another thread: refused
  fixes turn into information. An analysis stops as soon as its text is out of date (between two
  fixers, or before the validator), and a result for a text the editor has moved past is dropped.
- Code actions: a quick fix per fixer (``cfnfix --write --select CODE``), "ignore CODE for this
  entry" (YAML), and ``source.fixAll.cfnfix`` (``cfnfix --write``, safe fixes only unless the
  setting ``unsafeFixes`` is true). Their edits are computed when the client resolves the action,
  or at once for a client that cannot resolve, and always with the validator.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer

from ..fixing.verify import Checker, LintUnavailable, make_checker
from ..version import __version__
from .analysis import FIX, REFUSED, REPORT, Analysis, Item, Superseded, analyse, fix_all, fix_code, hover_text, ignore_edit
from .positions import UTF8, UTF16, UTF32, LineIndex, text_edits
from .project import EditorSettings, Projects

log = logging.getLogger("cfnfix.server")

# Seconds after the last change before a document is analysed again. Short, since an analysis of
# an edit is incremental and one whose text changes again stops between two fixers.
DEBOUNCE = 0.05
# After a change, the validator's pass waits until the user has stopped typing this long; above
# VALIDATE_WHILE_TYPING characters it runs on open and save only (on a large template it takes
# seconds, and would hold the CPU that the next analysis needs).
VALIDATE_DELAY = 1.0
VALIDATE_WHILE_TYPING = 200_000
FIX_ALL = "source.fixAll.cfnfix"
QUICKFIX = lsp.CodeActionKind.QuickFix.value
_ENCODINGS = {lsp.PositionEncodingKind.Utf8: UTF8, lsp.PositionEncodingKind.Utf16: UTF16, lsp.PositionEncodingKind.Utf32: UTF32}


def _path(uri: str) -> Path | None:
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    path = url2pathname(parsed.path) if not parsed.netloc else f"//{parsed.netloc}{unquote(parsed.path)}"
    return Path(path)


@dataclass(eq=False)
class OpenDocument:
    uri: str
    text: str
    version: int | None
    language: str = ""
    path: Path | None = None
    generation: int = 0  # one more on every change: what analyses check to know they are stale
    analysis: Analysis | None = None
    analysed: int = -1  # the generation the analysis is of
    timer: asyncio.TimerHandle | None = None
    check_timer: asyncio.TimerHandle | None = None  # the validator's pass, waiting for a pause
    running: bool = False
    again: bool = False  # asked to analyse while an analysis was running
    validate: bool = False  # the next analysis is followed by the validator's pass whatever the size
    waiters: list = field(default_factory=list)  # futures waiting for an analysis of this generation
    edits: dict = field(default_factory=dict)  # (action, code, entry) -> edits, for this generation
    index: LineIndex | None = field(default=None, repr=False)  # of ``text``, kept up to date by the changes

    @property
    def filename(self) -> str:
        if self.path is not None:
            return str(self.path)
        name = self.uri.rstrip("/").rsplit("/", 1)[-1] or "untitled"
        if not name.lower().endswith((".yaml", ".yml", ".json", ".template")):
            name += ".json" if self.language == "json" else ".yaml"
        return name

    def current(self) -> Analysis | None:
        """The analysis of the text as it is now, if there is one."""
        return self.analysis if self.analysed == self.generation else None

    def stale_after(self, generation: int):
        return lambda: self.generation != generation


class CfnfixServer(LanguageServer):
    def __init__(self):
        super().__init__("cfnfix", __version__, text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental)
        self.documents: dict[str, OpenDocument] = {}
        self.settings = EditorSettings()
        self.projects = Projects()
        # Three threads, so that nothing waits behind what it does not need: the analyses (each
        # stops as soon as its text is out of date), the validator's work (the second pass of the
        # diagnostics, the fixes of code actions), and the answers to hovers and ignore comments.
        self.analyser = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cfnfix-analysis")
        self.validator = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cfnfix-validator")
        self.answers = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cfnfix-answers")
        self.loop: asyncio.AbstractEventLoop | None = None
        self.encoding = UTF16
        self._checkers: dict[str, Checker | None] = {}
        self._said: set[str] = set()

    # ----- helpers -----------------------------------------------------------------------------
    def checker(self) -> Checker | None:
        """The validator the settings choose (made once per choice, used in the validator thread)."""
        choice = self.settings.validator
        if choice not in self._checkers:
            try:
                self._checkers[choice] = make_checker(choice)
            except LintUnavailable as e:
                self._checkers[choice] = None
                self.say(f"cfnfix: {e}; fixes are offered unchecked", lsp.MessageType.Warning)
        return self._checkers[choice]

    def say(self, message: str, kind: lsp.MessageType = lsp.MessageType.Info) -> None:
        """Show a message once per server run."""
        if message in self._said:
            return
        self._said.add(message)
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self.window_show_message, lsp.ShowMessageParams(kind, message))

    def _capability(self, *names: str):
        value = self.client_capabilities
        for name in names:
            value = getattr(value, name, None)
            if value is None:
                return None
        return value

    def can_resolve(self) -> bool:
        props = self._capability("text_document", "code_action", "resolve_support", "properties") or []
        return "edit" in props

    def _range(self, index: LineIndex, start: int, end: int) -> lsp.Range:
        return lsp.Range(lsp.Position(*index.position(start)), lsp.Position(*index.position(end)))

    def diagnostic(self, item: Item, index: LineIndex) -> lsp.Diagnostic:
        return lsp.Diagnostic(
            range=self._range(index, item.start, item.end),
            message=item.message,
            severity=lsp.DiagnosticSeverity(item.severity),
            code=item.code,
            code_description=lsp.CodeDescription(href=item.docs_url) if item.docs_url else None,
            source="cfnfix",
            data={"kind": item.kind, "unsafe": item.unsafe} if item.code else {"kind": item.kind},
        )

    # ----- analysis ----------------------------------------------------------------------------
    def changed(self, doc: OpenDocument) -> None:
        doc.generation += 1
        doc.edits.clear()
        if doc.check_timer is not None:
            doc.check_timer.cancel()
            doc.check_timer = None

    def schedule(self, doc: OpenDocument, delay: float = 0.0, validate: bool = True) -> None:
        doc.validate = doc.validate or validate
        if doc.timer is not None:
            doc.timer.cancel()
        doc.timer = self.loop.call_later(delay, self._start, doc)

    def _start(self, doc: OpenDocument) -> None:
        if doc.timer is not None:
            doc.timer.cancel()
            doc.timer = None
        if self.documents.get(doc.uri) is not doc:
            return
        if doc.running:
            doc.again = True
            return
        doc.running, doc.again = True, False
        generation, text, earlier = doc.generation, doc.text, doc.analysis
        validate = 0.0 if doc.validate else VALIDATE_DELAY if len(text) <= VALIDATE_WHILE_TYPING else None
        stale = doc.stale_after(generation)

        def job() -> Analysis:
            started, cpu = time.perf_counter(), time.thread_time()
            analysis = analyse(text, doc.filename, self.projects.for_path(doc.path), stale=stale, earlier=earlier)
            memo = analysis.memo
            log.debug("analysed %s (generation %d) in %.0f ms (%.0f ms CPU; %s; entries run again %d, fixers run whole %d)",
                      doc.uri, generation, 1000 * (time.perf_counter() - started), 1000 * (time.thread_time() - cpu),
                      "from the earlier analysis" if earlier is not None and memo is earlier.memo else "from nothing",
                      memo.rerun if memo else 0, memo.whole if memo else 0)
            for item in analysis.items:
                if item.kind not in (FIX, REPORT, REFUSED):
                    log.debug("  %s: %s", item.kind, item.message)
            return analysis

        future = self.loop.run_in_executor(self.analyser, job)
        future.add_done_callback(lambda f: self._analysed(doc, generation, validate, f))

    def _analysed(self, doc: OpenDocument, generation: int, validate: float | None, future: asyncio.Future) -> None:
        doc.running = False
        error = future.exception() if not future.cancelled() else None
        if isinstance(error, Superseded):
            log.debug("analysis of %s (generation %d) superseded", doc.uri, generation)
        elif error is not None:
            log.error("analysis failed", exc_info=error)
        elif error is None and not future.cancelled():
            if validate == 0.0 and doc.generation == generation:
                doc.validate = False
            self._publish(doc, generation, future.result(), validate=validate)
        if self.documents.get(doc.uri) is doc and (doc.again or doc.waiters and doc.analysed != doc.generation):
            self._start(doc)
        elif error is not None and not isinstance(error, Superseded):
            self._wake(doc, None)

    def _wake(self, doc: OpenDocument, analysis: Analysis | None) -> None:
        waiters, doc.waiters = doc.waiters, []
        for w in waiters:
            if not w.done():
                w.set_result(analysis)

    def _publish(self, doc: OpenDocument, generation: int, analysis: Analysis, send: bool = True,
                 validate: float | None = 0.0) -> None:
        """Keep and send an analysis of the text as it is; then, when it has fixes, check them with
        the validator in its thread ``validate`` seconds later (None: not now), and publish again
        when that refuses some."""
        if self.documents.get(doc.uri) is not doc or doc.generation != generation:
            return  # the document moved on: its own analysis follows
        doc.analysis, doc.analysed = analysis, generation
        self._wake(doc, analysis)
        if send:
            index = analysis.line_index(self.encoding)
            diagnostics = [self.diagnostic(i, index) for i in analysis.items]
            self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(doc.uri, diagnostics, doc.version))
        if validate is None or analysis.checked or not any(i.kind == FIX for i in analysis.items):
            return
        if doc.check_timer is not None:
            doc.check_timer.cancel()
        doc.check_timer = self.loop.call_later(validate, self._check, doc, generation, analysis)

    def _check(self, doc: OpenDocument, generation: int, analysis: Analysis) -> None:
        doc.check_timer = None
        checker = self.checker()
        if checker is None or doc.generation != generation or self.documents.get(doc.uri) is not doc:
            return
        text, project = analysis.text, analysis.project
        future = self.loop.run_in_executor(
            self.validator, lambda: analyse(text, doc.filename, project, checker, stale=doc.stale_after(generation), earlier=analysis))

        def checked(f: asyncio.Future) -> None:
            error = f.exception() if not f.cancelled() else None
            if f.cancelled() or isinstance(error, Superseded):
                return
            if error is not None:
                log.error("validation failed", exc_info=error)
                return
            result = f.result()
            result.checked = True
            self._publish(doc, generation, result, send=_said(result) != _said(analysis))

        future.add_done_callback(checked)

    async def current(self, doc: OpenDocument) -> Analysis | None:
        """The analysis of the document as it is now; waits for it (and starts it at once)."""
        analysis = doc.current()
        if analysis is not None:
            return analysis
        waiter = self.loop.create_future()
        doc.waiters.append(waiter)
        if not doc.running:
            self._start(doc)
        return await waiter

    async def edits(self, doc: OpenDocument, action: str, code: str | None = None, entry: list | None = None):
        """The edits of a code action on the document as it is now, or None when it has none."""
        analysis = await self.current(doc)
        if analysis is None:
            return None
        key = (action, code, tuple(entry) if entry else None)
        generation = doc.generation
        if analysis is not doc.current():
            return None
        if key in doc.edits:
            return doc.edits[key]
        text, unsafe, stale = analysis.text, self.settings.unsafe_fixes, doc.stale_after(generation)

        def ignore():
            item = next((i for i in analysis.items if i.code == code and i.entry == key[2]), None)
            edit = ignore_edit(analysis, item) if item is not None else None
            return [edit] if edit else None

        def fix():
            checker = self.checker()
            if action == "fixAll":
                safe_only = (analysis.project.safe_only if analysis.project else False) or not unsafe
                result = fix_all(analysis, safe_only, checker, stale)
            else:
                result = fix_code(analysis, code, checker, stale)
            if result is None or result.text == text:
                return None
            return text_edits(text, result.text)

        try:
            if action == "ignore":
                found = await self.loop.run_in_executor(self.answers, ignore)
            else:
                found = await self.loop.run_in_executor(self.validator, fix)
        except Superseded:
            return None
        if doc.generation != generation:
            return None
        doc.edits[key] = found
        return found

    def workspace_edit(self, doc: OpenDocument, edits) -> lsp.WorkspaceEdit:
        index = LineIndex(doc.text, self.encoding)
        changes = [lsp.TextEdit(self._range(index, s, e), new) for s, e, new in edits]
        if self._capability("workspace", "workspace_edit", "document_changes"):
            ident = lsp.OptionalVersionedTextDocumentIdentifier(uri=doc.uri, version=doc.version)
            return lsp.WorkspaceEdit(document_changes=[lsp.TextDocumentEdit(ident, changes)])
        return lsp.WorkspaceEdit(changes={doc.uri: changes})


def _said(analysis: Analysis) -> list[tuple]:
    return [(i.kind, i.code, i.start, i.end, i.severity, i.message) for i in analysis.items]


def _wanted(kind: str, only: list[str] | None) -> bool:
    return not only or any(kind == o or kind.startswith(o + ".") for o in only)


_collecting: list[float] = []


def _log_collections(phase: str, info: dict) -> None:
    """Debug log of the cyclic collector's full passes that take long (they stop every thread)."""
    if phase == "start":
        _collecting[:] = [time.perf_counter()]
    elif _collecting and info.get("generation") == 2:
        took = time.perf_counter() - _collecting[0]
        if took > 0.05:
            log.debug("full garbage collection took %.0f ms", 1000 * took)


def build() -> CfnfixServer:
    server = CfnfixServer()
    if log.isEnabledFor(logging.DEBUG):
        gc.callbacks.append(_log_collections)

    @server.feature(lsp.INITIALIZE)
    def initialize(ls: CfnfixServer, params: lsp.InitializeParams):
        ls.loop = asyncio.get_running_loop()
        ls.encoding = _ENCODINGS.get(ls.workspace.position_encoding, UTF16)
        ls.settings = ls.settings.updated(params.initialization_options)

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: CfnfixServer, params: lsp.DidOpenTextDocumentParams):
        item = params.text_document
        doc = OpenDocument(item.uri, item.text, item.version, item.language_id, _path(item.uri))
        ls.documents[item.uri] = doc
        ls.schedule(doc)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: CfnfixServer, params: lsp.DidChangeTextDocumentParams):
        doc = ls.documents.get(params.text_document.uri)
        if doc is None:
            return
        index = doc.index if doc.index is not None and doc.index.text is doc.text else LineIndex(doc.text, ls.encoding)
        for change in params.content_changes:
            if isinstance(change, lsp.TextDocumentContentChangePartial):
                r = change.range
                index = index.changed((r.start.line, r.start.character), (r.end.line, r.end.character), change.text)
            else:
                index = LineIndex(change.text, ls.encoding)
        doc.text, doc.index, doc.version = index.text, index, params.text_document.version
        ls.changed(doc)
        ls.schedule(doc, DEBOUNCE, validate=False)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: CfnfixServer, params: lsp.DidSaveTextDocumentParams):
        doc = ls.documents.get(params.text_document.uri)
        if doc is not None:
            ls.changed(doc)  # the configuration may have changed with it
            ls.schedule(doc)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: CfnfixServer, params: lsp.DidCloseTextDocumentParams):
        doc = ls.documents.pop(params.text_document.uri, None)
        if doc is not None:
            ls.changed(doc)
            if doc.timer is not None:
                doc.timer.cancel()
            ls._wake(doc, None)
        ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(params.text_document.uri, []))

    @server.feature(lsp.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(ls: CfnfixServer, params: lsp.DidChangeConfigurationParams):
        ls.settings = ls.settings.updated(params.settings)
        for doc in ls.documents.values():
            ls.changed(doc)
            ls.schedule(doc)

    @server.feature(lsp.TEXT_DOCUMENT_CODE_ACTION,
                    lsp.CodeActionOptions(code_action_kinds=[lsp.CodeActionKind.QuickFix, FIX_ALL], resolve_provider=True))
    async def code_action(ls: CfnfixServer, params: lsp.CodeActionParams):
        doc = ls.documents.get(params.text_document.uri)
        if doc is None:
            return None
        analysis = await ls.current(doc)
        if analysis is None:
            return None
        index = analysis.line_index(ls.encoding)
        first, last = params.range.start.line, params.range.end.line
        only = params.context.only
        eager = not ls.can_resolve()
        actions: list[lsp.CodeAction] = []

        async def offer(title: str, kind: str, action: str, diagnostics, code=None, entry=None, preferred=None):
            data = {"uri": doc.uri, "version": doc.version, "action": action, "code": code, "entry": list(entry) if entry else None}
            ca = lsp.CodeAction(title=title, kind=kind, diagnostics=diagnostics or None, is_preferred=preferred, data=data)
            if eager or action == "ignore":
                found = await ls.edits(doc, action, code, entry)
                if not found:
                    return
                ca.edit = ls.workspace_edit(doc, found)
            actions.append(ca)

        if _wanted(QUICKFIX, only):
            counts = analysis.fix_counts()
            hits = [i for i in analysis.items
                    if i.code and index.position(i.start)[0] <= last and index.position(i.end)[0] >= first]
            codes_done, ignores_done = set(), set()
            for item in hits:
                if item.kind == FIX and item.code not in codes_done:
                    codes_done.add(item.code)
                    same = [ls.diagnostic(i, index) for i in hits if i.kind == FIX and i.code == item.code]
                    n = counts[item.code]
                    title = f"cfnfix: {item.message} ({item.code})" if n == 1 else f"cfnfix: fix all {n} {item.code} problems"
                    if n > 1 and any(i.unsafe for i in analysis.items if i.kind == FIX and i.code == item.code):
                        title += " (unsafe fixes)"
                    await offer(title, QUICKFIX, "fix", same, item.code, preferred=not item.unsafe)
            for item in hits:
                if item.kind in (FIX, REPORT, REFUSED) and item.entry and (item.code, item.entry) not in ignores_done:
                    ignores_done.add((item.code, item.entry))
                    await offer(f"cfnfix: ignore {item.code} for {item.entry[1]}", QUICKFIX, "ignore",
                                [ls.diagnostic(item, index)], item.code, item.entry)
        if _wanted(FIX_ALL, only) and any(i.kind == FIX for i in analysis.items):
            safe_only = (analysis.project.safe_only if analysis.project else False) or not ls.settings.unsafe_fixes
            if not safe_only or any(i.kind == FIX and not i.unsafe for i in analysis.items):
                title = "cfnfix: fix all safe problems" if safe_only else "cfnfix: fix all problems (unsafe fixes too)"
                await offer(title, FIX_ALL, "fixAll", None)
        return actions

    @server.feature(lsp.CODE_ACTION_RESOLVE)
    async def code_action_resolve(ls: CfnfixServer, action: lsp.CodeAction):
        data = action.data if isinstance(action.data, dict) else {}
        doc = ls.documents.get(data.get("uri", ""))
        if doc is None or action.edit is not None:
            return action
        found = await ls.edits(doc, data.get("action", ""), data.get("code"), data.get("entry"))
        action.edit = ls.workspace_edit(doc, found or [])
        return action

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    async def hover(ls: CfnfixServer, params: lsp.HoverParams):
        doc = ls.documents.get(params.text_document.uri)
        analysis = doc.current() if doc is not None else None
        if analysis is None:
            return None
        index = analysis.line_index(ls.encoding)
        offset = index.offset(params.position.line, params.position.character)
        hits = [i for i in analysis.items if i.code and i.start <= offset <= i.end]
        if not hits:
            return None
        formats = ls._capability("text_document", "hover", "content_format") or []
        markdown = lsp.MarkupKind.Markdown in formats
        texts = await ls.loop.run_in_executor(ls.answers, lambda: [hover_text(analysis, i, markdown) for i in hits])
        kind = lsp.MarkupKind.Markdown if markdown else lsp.MarkupKind.PlainText
        return lsp.Hover(lsp.MarkupContent(kind, ("\n\n---\n\n" if markdown else "\n\n").join(texts)),
                         range=ls._range(index, hits[0].start, hits[0].end))

    @server.feature(lsp.SHUTDOWN)
    def shutdown(ls: CfnfixServer, *args):
        for doc in ls.documents.values():
            if doc.timer is not None:
                doc.timer.cancel()
        for pool in (ls.analyser, ls.validator, ls.answers):
            pool.shutdown(wait=False, cancel_futures=True)

    return server
