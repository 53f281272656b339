"""``cfnfix server`` over a real stdio pipe, driven by pygls's own language client the way an editor
drives it: diagnostics, quick fixes and fix-all whose edits equal what the command line writes,
the ignore comment, hover, settings from the editor and from the project, documents that are not
templates or do not parse, a fixer that crashes, a fix the validator refuses, shutdown.

No test measures time: every wait is for a notification, with a generous timeout."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("pygls", reason="the server tests need pygls: pip install 'cfnfix[server]'")

from click.testing import CliRunner  # noqa: E402
from lsprotocol import types as lsp  # noqa: E402
from pygls.lsp.client import LanguageClient  # noqa: E402

from cfnfix.cli import main  # noqa: E402
from cfnfix.server.analysis import FIXERS_URL, SUPPRESSIONS_URL  # noqa: E402

ANY = object()
TIMEOUT = 120  # seconds for any one notification or answer: generous, never a measurement
ROOT = Path(__file__).resolve().parent.parent

STACK = """\
AWSTemplateFormatVersion: "2010-09-09"
Description: A stack with a safe fix, an unsafe fix and a second safe fix
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      DisplayNmae: alerts
  Trail:
    Type: AWS::CloudTrail::Trail
    Properties:
      S3BucketName: audit-logs-of-another-stack
      IsLogging: true
      EventSelectors:
        - ReadWriteType: All
          DataResources:
            - Type: AWS::SQS::Queue
              Values: ['arn:aws:sqs']
Outputs:
  TopicArn:
    Value: !Ref Topic
    Export: {}
"""


# ----- an editor: pygls's client, a server process, and the text as the editor holds it ---------
class Editor:
    def __init__(self, client: LanguageClient):
        self.client = client
        self.published: dict[str, list[lsp.PublishDiagnosticsParams]] = {}
        self.messages: list[str] = []
        self.stderr: list[str] = []
        self.texts: dict[str, str] = {}
        self.versions: dict[str, int] = {}
        self._news = asyncio.Event()

    @classmethod
    async def start(cls, cwd: Path, resolve: bool = True, settings: dict | None = None, env: dict | None = None) -> "Editor":
        client = LanguageClient("cfnfix-tests", "1")
        editor = cls(client)

        @client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def diagnostics(ls, params: lsp.PublishDiagnosticsParams):
            editor.published.setdefault(params.uri, []).append(params)
            editor._news.set()

        @client.feature(lsp.WINDOW_SHOW_MESSAGE)
        def message(ls, params: lsp.ShowMessageParams):
            editor.messages.append(params.message)

        await client.start_io(sys.executable, "-m", "cfnfix", "server", cwd=str(cwd), env={**os.environ, **(env or {})})
        asyncio.ensure_future(editor._drain())
        code_action = lsp.CodeActionClientCapabilities(
            code_action_literal_support=lsp.ClientCodeActionLiteralOptions(lsp.ClientCodeActionKindOptions(value_set=["quickfix", "source"])),
            data_support=True,
            resolve_support=lsp.ClientCodeActionResolveOptions(properties=["edit"]) if resolve else None,
        )
        capabilities = lsp.ClientCapabilities(
            text_document=lsp.TextDocumentClientCapabilities(
                code_action=code_action,
                hover=lsp.HoverClientCapabilities(content_format=[lsp.MarkupKind.Markdown] if resolve else [lsp.MarkupKind.PlainText]),
            ),
            workspace=lsp.WorkspaceClientCapabilities(workspace_edit=lsp.WorkspaceEditClientCapabilities(document_changes=resolve)),
        )
        editor.init = await asyncio.wait_for(client.initialize_async(lsp.InitializeParams(
            capabilities=capabilities, root_uri=cwd.as_uri(), initialization_options=settings)), TIMEOUT)
        client.initialized(lsp.InitializedParams())
        return editor

    async def _drain(self):
        stream = self.client._server.stderr
        while True:
            line = await stream.readline()
            if not line:
                return
            self.stderr.append(line.decode(errors="replace"))

    async def stop(self) -> int:
        await asyncio.wait_for(self.client.shutdown_async(None), TIMEOUT)
        self.client.exit(None)
        return await asyncio.wait_for(self.client._server.wait(), TIMEOUT)

    # -- documents
    def open(self, path: Path, language: str = "yaml") -> str:
        uri = path.as_uri()
        self.texts[uri], self.versions[uri] = path.read_text(), 1
        self.client.text_document_did_open(lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(uri, language, 1, self.texts[uri])))
        return uri

    def change(self, uri: str, edits: list[lsp.TextEdit]) -> None:
        """Apply edits the way an editor does, and send them as incremental changes, last first,
        so that each change's range holds in the text the one before it left."""
        self.versions[uri] += 1
        changes = [lsp.TextDocumentContentChangePartial(range=e.range, text=e.new_text)
                   for e in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True)]
        self.texts[uri] = apply(self.texts[uri], edits)
        self.client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            lsp.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri]), changes))

    def count(self, uri: str) -> int:
        return len(self.published.get(uri, []))

    async def diagnostics(self, uri: str, check=lambda ds: True, version=None, since: int = 0) -> list[lsp.Diagnostic]:
        """The first diagnostics published for ``uri`` (at ``version``: default the latest sent,
        ANY for any; the ``since``-th publication or a later one) that ``check`` accepts; waits
        for them."""
        version = self.versions[uri] if version is None else version

        async def wait():
            seen = since
            while True:
                pubs = self.published.get(uri, [])
                for p in pubs[seen:]:
                    if (version is ANY or p.version == version) and check(p.diagnostics):
                        return list(p.diagnostics)
                seen = len(pubs)
                self._news.clear()
                await self._news.wait()

        try:
            return await asyncio.wait_for(wait(), TIMEOUT)
        except asyncio.TimeoutError:
            raise AssertionError(f"no such diagnostics for {uri} v{version}; published: "
                                 f"{[(p.version, [d.code for d in p.diagnostics]) for p in self.published.get(uri, [])]}\n"
                                 f"server stderr:\n{''.join(self.stderr)}") from None

    async def actions(self, uri: str, line: int, only: list[str] | None = None) -> list[lsp.CodeAction]:
        params = lsp.CodeActionParams(lsp.TextDocumentIdentifier(uri), lsp.Range(lsp.Position(line, 0), lsp.Position(line, 0)),
                                      lsp.CodeActionContext(diagnostics=[], only=only))
        return list(await asyncio.wait_for(self.client.text_document_code_action_async(params), TIMEOUT) or [])

    async def edits_of(self, action: lsp.CodeAction, uri: str) -> list[lsp.TextEdit]:
        if action.edit is None:
            action = await asyncio.wait_for(self.client.code_action_resolve_async(action), TIMEOUT)
        edit = action.edit
        if edit.document_changes:
            (change,) = edit.document_changes
            assert change.text_document.uri == uri and change.text_document.version == self.versions[uri]
            return list(change.edits)
        return list(edit.changes[uri])


def apply(text: str, edits: list[lsp.TextEdit]) -> str:
    """Text edits applied to ASCII text with LF line ends (all these tests use), independently
    of the server's own position code."""
    starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]

    def offset(p: lsp.Position) -> int:
        return starts[p.line] + p.character if p.line < len(starts) else len(text)

    for e in sorted(edits, key=lambda e: offset(e.range.start), reverse=True):
        text = text[: offset(e.range.start)] + e.new_text + text[offset(e.range.end):]
    return text


def run(coro):
    return asyncio.run(coro)


def cli_output(path: Path, *args: str, text: str | None = None) -> str:
    """What ``cfnfix --write ARGS`` writes for a copy of ``path`` (holding ``text``), run from its folder."""
    copy = path.with_name(f"{path.stem}-cli{path.suffix}")  # the same folder, the same patterns match
    copy.write_text(text if text is not None else path.read_text())
    old = os.getcwd()
    os.chdir(path.parent)
    try:
        result = CliRunner().invoke(main, ["--write", *args, str(copy)], catch_exceptions=False)
    finally:
        os.chdir(old)
    assert result.exit_code in (0, 1, 4), result.output  # 1: --safe-only left unsafe fixes
    out = copy.read_text()
    copy.unlink()
    return out


def by_code(diagnostics) -> dict[str, lsp.Diagnostic]:
    return {d.code: d for d in diagnostics}


def text_at(text: str, r: lsp.Range) -> str:
    lines = text.splitlines(keepends=True)
    assert r.start.line == r.end.line, r
    return lines[r.start.line][r.start.character:r.end.character]


# ----- the tests ----------------------------------------------------------------------------------
def test_diagnostics_quick_fix_ignore_hover_save_shutdown(tmp_path):
    path = tmp_path / "stack.yaml"
    path.write_text(STACK)

    async def session():
        editor = await Editor.start(tmp_path)
        caps = editor.init.capabilities
        assert caps.text_document_sync.change == lsp.TextDocumentSyncKind.Incremental
        assert set(caps.code_action_provider.code_action_kinds) == {"quickfix", "source.fixAll.cfnfix"}
        assert caps.code_action_provider.resolve_provider and caps.hover_provider

        uri = editor.open(path)
        found = by_code(await editor.diagnostics(uri, lambda ds: len(ds) == 3))
        assert set(found) == {"PROP001", "CT001", "OUT001"}
        assert all(d.source == "cfnfix" and d.severity == lsp.DiagnosticSeverity.Error for d in found.values())
        assert all(d.code_description.href == FIXERS_URL for d in found.values())
        # ranges: start and end of what each fix is about
        assert text_at(STACK, found["PROP001"].range) == "DisplayNmae: alerts"
        assert text_at(STACK, found["OUT001"].range) == "Export: {}"
        assert text_at(STACK, found["CT001"].range) == "DataResources"
        # the unsafe fix is marked, the safe ones are not
        assert found["CT001"].message.endswith("(unsafe fix)") and found["CT001"].data["unsafe"] is True
        assert "unsafe" not in found["PROP001"].message and found["PROP001"].data["unsafe"] is False

        hover = await editor.client.text_document_hover_async(lsp.HoverParams(lsp.TextDocumentIdentifier(uri), lsp.Position(6, 9)))
        assert hover.contents.kind == lsp.MarkupKind.Markdown
        assert "`PROP001`" in hover.contents.value and "~ Resources.Topic.Properties" in hover.contents.value
        assert "Why: CloudFormation rejects a property name" in hover.contents.value

        # the quick fix of PROP001: the same text as cfnfix --write --select PROP001
        actions = await editor.actions(uri, 6, only=["quickfix"])
        titles = [a.title for a in actions]
        assert titles == ["cfnfix: Topic: rename property `DisplayNmae` to `DisplayName` (PROP001)", "cfnfix: ignore PROP001 for Topic"]
        assert actions[0].kind == lsp.CodeActionKind.QuickFix and actions[0].edit is None  # resolved on demand
        assert [d.code for d in actions[0].diagnostics] == ["PROP001"]
        edits = await editor.edits_of(actions[0], uri)
        expected = cli_output(path, "--select", "PROP001")
        assert apply(editor.texts[uri], edits) == expected != STACK
        editor.change(uri, edits)
        assert editor.texts[uri] == expected
        after = by_code(await editor.diagnostics(uri))
        assert set(after) == {"CT001", "OUT001"}

        # ignore OUT001 for this output: a comment above it, and the diagnostic goes
        actions = await editor.actions(uri, found["OUT001"].range.start.line)
        ignore = next(a for a in actions if a.title == "cfnfix: ignore OUT001 for TopicArn")
        editor.change(uri, await editor.edits_of(ignore, uri))
        assert "Outputs:\n  # cfnfix: ignore[OUT001]\n  TopicArn:\n" in editor.texts[uri]
        assert set(by_code(await editor.diagnostics(uri))) == {"CT001"}

        # the unsafe fix's quick fix is offered (like ruff, a fix asked for by hand may be unsafe)
        actions = await editor.actions(uri, found["CT001"].range.start.line, only=["quickfix"])
        assert actions[0].title.startswith("cfnfix: Trail Trail: drop EventSelectors") and actions[0].title.endswith("(unsafe fix) (CT001)")
        assert not actions[0].is_preferred

        # saving analyses again
        before = editor.count(uri)
        editor.client.text_document_did_save(lsp.DidSaveTextDocumentParams(lsp.TextDocumentIdentifier(uri)))
        assert set(by_code(await editor.diagnostics(uri, since=before))) == {"CT001"}

        # closing clears the document's diagnostics
        before = editor.count(uri)
        editor.client.text_document_did_close(lsp.DidCloseTextDocumentParams(lsp.TextDocumentIdentifier(uri)))
        assert await editor.diagnostics(uri, version=ANY, since=before) == []
        return await editor.stop()

    assert run(session()) == 0


def test_typing_gives_the_diagnostics_of_the_text_from_nothing(tmp_path):
    """Each edit is analysed from the analysis before it (the changed entries re-read and
    re-checked); after every keystroke the diagnostics equal those of the same text opened
    fresh, and fix-all after typing writes what the command line writes."""
    path = tmp_path / "stack.yaml"
    path.write_text(STACK)

    def said(ds):
        return sorted((d.code, d.message, d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character) for d in ds)

    async def session():
        editor = await Editor.start(tmp_path, settings={"validator": "none"})
        uri = editor.open(path)
        await editor.diagnostics(uri, lambda ds: len(ds) == 3)
        line = STACK.splitlines().index("      IsLogging: true")
        typed = [
            (6, 20, "s"),  # DisplayNmae: alerts -> alertss (a value)
            (6, 8, "x"),  # DxisplayNmae: a name further from any property
            (6, 8, ""),  # and back (a deletion; the range below says how much)
            (line + 1, 0, "      Tags:\n        - Key: team\n          Vaule: a\n"),  # a new property, misspelt inside
            (3, 2, "My"),  # Topic -> MyTopic: the output's Ref no longer names it
        ]
        fresh = tmp_path / "fresh"
        fresh.mkdir()
        for n, (ln, col, text) in enumerate(typed):
            start = lsp.Position(ln, col)
            end = lsp.Position(ln, col + 1) if text == "" else start
            editor.change(uri, [lsp.TextEdit(lsp.Range(start, end), text)])
            now = said(await editor.diagnostics(uri))
            copy = fresh / f"copy{n}.yaml"
            copy.write_text(editor.texts[uri])
            assert now == said(await editor.diagnostics(editor.open(copy))), editor.texts[uri]
        assert any(c == "REF001" for c, *_ in now)  # the renamed Topic is now a dangling Ref
        (action,) = await editor.actions(uri, 0, only=["source.fixAll"])
        edits = await editor.edits_of(action, uri)
        assert apply(editor.texts[uri], edits) == cli_output(path, "--safe-only", "--validator", "none", text=editor.texts[uri])
        return await editor.stop()

    assert run(session()) == 0


def test_fix_all_is_safe_by_default_and_takes_settings_from_editor_and_project(tmp_path):
    project = tmp_path / "project"
    (project / "infra").mkdir(parents=True)
    (project / ".cfnfix.toml").write_text('[per-file-ignores]\n"infra/legacy-*.yaml" = ["OUT001"]\n')
    path = project / "infra" / "stack.yaml"
    path.write_text(STACK)
    legacy = project / "infra" / "legacy-stack.yaml"
    legacy.write_text(STACK)
    elsewhere = tmp_path / "elsewhere"  # the server's working directory: settings come from the document's folder
    elsewhere.mkdir()

    async def session():
        editor = await Editor.start(elsewhere, resolve=False, settings={"validator": "none"})
        uri = editor.open(path)
        assert set(by_code(await editor.diagnostics(uri, lambda ds: len(ds) == 3))) == {"PROP001", "CT001", "OUT001"}
        legacy_uri = editor.open(legacy)
        assert set(by_code(await editor.diagnostics(legacy_uri, lambda ds: len(ds) == 2))) == {"PROP001", "CT001"}

        # fix-all: safe fixes only, computed at once for a client that cannot resolve
        (fix_all,) = await editor.actions(uri, 0, only=["source.fixAll"])
        assert fix_all.kind == "source.fixAll.cfnfix" and fix_all.title == "cfnfix: fix all safe problems"
        assert fix_all.edit is not None and fix_all.edit.document_changes is None
        safe = apply(editor.texts[uri], await editor.edits_of(fix_all, uri))
        assert safe == cli_output(path, "--safe-only")
        assert safe != cli_output(path)  # the unsafe CT001 fix is not in it

        # the editor turns unsafe fixes on: fix-all is then what cfnfix --write writes
        before = editor.count(uri)
        editor.client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams(settings={"cfnfix": {"unsafeFixes": True}}))
        await editor.diagnostics(uri, since=before)
        (fix_all,) = await editor.actions(uri, 0, only=["source"])
        assert fix_all.title == "cfnfix: fix all problems (unsafe fixes too)"
        edits = await editor.edits_of(fix_all, uri)
        assert apply(editor.texts[uri], edits) == cli_output(path)
        editor.change(uri, edits)
        assert await editor.diagnostics(uri) == []
        assert await editor.actions(uri, 0) == []

        # the project's per-file-ignores hold for the legacy file's fix-all too
        (fix_all,) = await editor.actions(legacy_uri, 0, only=["source.fixAll.cfnfix"])
        assert apply(editor.texts[legacy_uri], await editor.edits_of(fix_all, legacy_uri)) == cli_output(legacy)
        return await editor.stop()

    assert run(session()) == 0


NOT_A_TEMPLATE = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
"""
DOES_NOT_PARSE = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Topic:
    Type: AWS::SNS::Topic
   Properties: {}
"""
REPORTED = """\
Resources:
  # cfnfix: ignore[NOPE999]
  Group:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: app
      SecurityGroupIgress: []
"""
TRAILING_COMMA = """\
{
  "Resources": {
    "Topic": {"Type": "AWS::SNS::Topic"},
  }
}
"""


def test_not_a_template_parse_error_json_repair_and_bad_configuration(tmp_path):
    (tmp_path / "k8s.yaml").write_text(NOT_A_TEMPLATE)
    (tmp_path / "broken.yaml").write_text(DOES_NOT_PARSE)
    (tmp_path / "comma.json").write_text(TRAILING_COMMA)
    (tmp_path / "reported.yaml").write_text(REPORTED)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / ".cfnfix.toml").write_text('select = ["NOPE"]\n')
    (bad / "stack.yaml").write_text(STACK)

    async def session():
        editor = await Editor.start(tmp_path, settings={"validator": "none"})
        k8s = editor.open(tmp_path / "k8s.yaml")
        assert await editor.diagnostics(k8s) == []

        broken = editor.open(tmp_path / "broken.yaml")
        (d,) = await editor.diagnostics(broken)
        assert d.severity == lsp.DiagnosticSeverity.Error and d.code is None and d.source == "cfnfix"
        cli = CliRunner().invoke(main, [str(tmp_path / "broken.yaml")])
        assert cli.exit_code == 2
        where = cli.output.split(": ", 1)[0].rsplit(":", 2)  # path:line:col: message
        assert (d.range.start.line + 1, d.range.start.character + 1) == (int(where[1]), int(where[2]))
        assert d.message in cli.output

        # a report (a finding without a fix) and a suppression that names no fixer: warnings
        reported = editor.open(tmp_path / "reported.yaml")
        found = by_code(await editor.diagnostics(reported))
        assert set(found) == {"PROP001", "unknown-ignore"}
        assert all(d.severity == lsp.DiagnosticSeverity.Warning for d in found.values())
        assert "did you mean `SecurityGroupEgress` or `SecurityGroupIngress`?" in found["PROP001"].message
        assert text_at(REPORTED, found["PROP001"].range) == "SecurityGroupIgress: []"
        assert found["unknown-ignore"].code_description.href == SUPPRESSIONS_URL
        assert found["unknown-ignore"].range.start == lsp.Position(1, 2)
        assert [a.title for a in await editor.actions(reported, 6)] == ["cfnfix: ignore PROP001 for Group"]

        comma = editor.open(tmp_path / "comma.json", "json")
        (d,) = await editor.diagnostics(comma)
        assert d.code == "JSON001" and (d.range.start.line, d.range.start.character) == (2, 40)
        (fix, *_) = await editor.actions(comma, 2, only=["quickfix"])
        fixed = apply(editor.texts[comma], await editor.edits_of(fix, comma))
        assert fixed == cli_output(tmp_path / "comma.json", "--select", "JSON001")
        assert not [a for a in await editor.actions(comma, 2) if "ignore" in a.title]  # no comments in JSON

        wrong = editor.open(bad / "stack.yaml")
        (d,) = await editor.diagnostics(wrong)
        assert d.severity == lsp.DiagnosticSeverity.Error and "'NOPE' matches no fixer" in d.message and str(bad / ".cfnfix.toml") in d.message
        return await editor.stop()

    assert run(session()) == 0


TEST_FIXERS = '''
"""Fixers for the server tests: one that crashes, one that makes a template worse."""
from cfnfix.fixing import Fix, Fixer, Safety
from cfnfix.text.edits import SetValue


class Crash(Fixer):
    code = "CRASHTEST001"
    name = "crash"
    summary = "a fixer with a bug"
    default = False
    docs = "## What it does\\nCrashes.\\n"

    def run(self, template):
        return [1 / 0]


class Worse(Fixer):
    code = "WORSETEST001"
    name = "worse"
    summary = "a fixer that breaks what it touches"
    safety = Safety.UNSAFE
    default = False
    docs = "## What it does\\nSets a queue's VisibilityTimeout to a word.\\n"

    def run(self, template):
        for name, _res, props in template.resources_of_type("AWS::SQS::Queue"):
            if props.get("VisibilityTimeout") != "lots":
                yield Fix(f"Queue {name}: set VisibilityTimeout to lots",
                          [SetValue(("Resources", name, "Properties", "VisibilityTimeout"), "lots")], path=("Resources", name))
'''
QUEUE_STACK = """\
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 60
Outputs:
  QueueUrl:
    Value: !Ref Queue
    Export: {}
"""


def test_a_crashing_fixer_and_a_refused_fix(tmp_path):
    pytest.importorskip("cloudformation_validate", reason="the refused fix needs cloudformation-validate")
    site = tmp_path / "site"
    site.mkdir()
    (site / "server_test_fixers.py").write_text(TEST_FIXERS)
    info = site / "server_test_fixers-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: server-test-fixers\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[cfnfix.fixers]\ncrash = server_test_fixers:Crash\nworse = server_test_fixers:Worse\n")
    work = tmp_path / "work"
    work.mkdir()
    (work / ".cfnfix.toml").write_text('extend-select = ["CRASHTEST001", "WORSETEST001"]\n')
    path = work / "queue.yaml"
    path.write_text(QUEUE_STACK)
    env = {"PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}

    async def session():
        editor = await Editor.start(work, settings={"validator": "cloudformation-validate"}, env=env)
        uri = editor.open(path)
        found = by_code(await editor.diagnostics(uri, lambda ds: any(d.severity == lsp.DiagnosticSeverity.Information for d in ds)))
        assert set(found) == {"CRASHTEST001", "WORSETEST001", "OUT001"}
        crash = found["CRASHTEST001"]
        assert "fixer CRASHTEST001 crashed" in crash.message and "ZeroDivisionError" in crash.message
        assert crash.range.start.line == 0
        refused = found["WORSETEST001"]
        assert refused.severity == lsp.DiagnosticSeverity.Information
        assert "not offered: refused by cloudformation-validate, it would add F3012 at Resources/Queue" in refused.message
        assert found["OUT001"].severity == lsp.DiagnosticSeverity.Error  # the other fixers still work

        # no quick fix for the refused fix (only its ignore comment), and fix-all leaves it out
        actions = await editor.actions(uri, refused.range.start.line, only=["quickfix"])
        assert [a.title for a in actions] == ["cfnfix: ignore WORSETEST001 for Queue"]
        before = editor.count(uri)
        editor.client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams(settings={"unsafeFixes": True}))
        await editor.diagnostics(uri, since=before)
        (fix_all,) = await editor.actions(uri, 0, only=["source.fixAll"])
        fixed = apply(editor.texts[uri], await editor.edits_of(fix_all, uri))
        cli = subprocess.run([sys.executable, "-m", "cfnfix", "--write", "--ignore", "CRASHTEST001", "-"], input=QUEUE_STACK,
                             capture_output=True, text=True, cwd=work, env={**os.environ, **env})
        assert cli.returncode == 4, cli.stderr  # the validator refused WORSETEST001 there too
        assert fixed == cli.stdout and "VisibilityTimeout: 60" in fixed and "Name: !Sub" in fixed

        # the server is alive and well: a hover still answers
        hover = await editor.client.text_document_hover_async(
            lsp.HoverParams(lsp.TextDocumentIdentifier(uri), found["OUT001"].range.start))
        assert "OUT001" in hover.contents.value
        return await editor.stop()

    assert run(session()) == 0


# ----- the command line's part ------------------------------------------------------------------
def test_help_mentions_the_server_and_server_arguments_are_checked():
    r = CliRunner().invoke(main, ["--help"])
    assert r.exit_code == 0 and "cfnfix server" in r.output and "Editor integration" in r.output
    r = subprocess.run([sys.executable, "-m", "cfnfix", "server", "--bogus"], capture_output=True, text=True)
    assert r.returncode == 2 and "unrecognized arguments: --bogus" in r.stderr


def test_without_pygls_the_server_says_what_to_install():
    code = "import sys; sys.modules['pygls'] = None; from cfnfix.cli import main; main(['server'])"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert r.returncode == 2 and "pip install 'cfnfix[server]'" in r.stderr


def test_the_command_line_imports_no_pygls():
    code = "import sys; from cfnfix.cli import main; import cfnfix.cli.run; print(any(m.startswith('pygls') for m in sys.modules))"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.stdout.strip() == "False", r.stderr
