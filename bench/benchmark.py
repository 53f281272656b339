#!/usr/bin/env python3
"""Speed figures for cfnfix (printed, not asserted).

    python bench/benchmark.py [--corpus ../shared/corpus] [--lint-sample 40]

Prints: no-op round-trip throughput over the corpus (MB/s), median/p95/max time per template
with the default fixers, ``cfnfix --version`` cold start, peak memory, and — when cfn-lint is
installed — cfn-lint's time on a sample of the same templates, with the ratio.
Targets (issue 2): no-op pass >= 30x faster than cfn-lint, p95 < 50 ms, cold start < 300 ms.

With pygls installed (``pip install 'cfnfix[server]'``) it also drives ``cfnfix server`` over stdio
with a generated 1 MB template and prints how long after the last keystroke of a burst of typing
the diagnostics of the typed text arrive (target, issue 14: 300 ms); ``--server-only`` prints just
that (no corpus needed), ``--server-mb 0`` skips it.
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import cfnfix

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = HERE.parent.parent / "shared" / "corpus"


def templates(corpus: Path) -> list[tuple[str, str]]:
    out = []
    for p in sorted((corpus / "tasks").glob("*/*")):
        if p.stem in ("model", "ideal") and p.suffix in (".yaml", ".yml", ".json"):
            text = p.read_text(encoding="utf-8", errors="surrogateescape")
            try:
                cfnfix.fix_text(text, filename=p.name, select=[])
            except cfnfix.TemplateError:
                continue
            out.append((p.name, text))
    return out


def pct(values, q):
    s = sorted(values)
    return s[int(q * (len(s) - 1))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--lint-sample", type=int, default=40, help="templates to time cfn-lint on (0: skip)")
    ap.add_argument("--server-mb", type=float, nargs="+", default=[1.0], metavar="MB",
                    help="sizes of the templates the editor server is timed on (0: skip)")
    ap.add_argument("--server-only", action="store_true", help="only the editor server's figures")
    args = ap.parse_args()
    if args.server_only:
        for size in args.server_mb:
            server_figures(size or 1.0)
        return

    tpls = templates(args.corpus)
    if not tpls:
        print(f"benchmark: no parseable template under {args.corpus}/tasks/*/ (model.* or ideal.*, .yaml/.yml/.json). "
              f"It needs the corpus: check out ../shared/corpus next to this repository, or pass --corpus DIR.", file=sys.stderr)
        sys.exit(2)
    total = sum(len(t.encode("utf-8", "surrogateescape")) for _, t in tpls)
    print(f"templates: {len(tpls)} parseable, {total / 1e6:.2f} MB")

    noop = []
    for name, text in tpls:
        t0 = time.perf_counter()
        cfnfix.fix_text(text, filename=name, select=[])
        noop.append(time.perf_counter() - t0)
    print(f"no-op round trip: {total / sum(noop) / 1e6:.2f} MB/s; per template median {1000 * statistics.median(noop):.1f} ms, "
          f"p95 {1000 * pct(noop, 0.95):.1f} ms, max {1000 * max(noop):.1f} ms")

    full = []
    for name, text in tpls:
        t0 = time.perf_counter()
        cfnfix.fix_text(text, filename=name)
        full.append(time.perf_counter() - t0)
    print(f"default fixers:   {total / sum(full) / 1e6:.2f} MB/s; per template median {1000 * statistics.median(full):.1f} ms, "
          f"p95 {1000 * pct(full, 0.95):.1f} ms (target < 50), max {1000 * max(full):.1f} ms")

    check_figures(tpls)

    exe = Path(sys.executable).with_name("cfnfix")
    starts = []
    for _ in range(7):
        t0 = time.perf_counter()
        subprocess.run([str(exe), "--version"], check=True, capture_output=True)
        starts.append(time.perf_counter() - t0)
    print(f"cold start `cfnfix --version`: median {1000 * statistics.median(starts):.0f} ms (target < 300)")
    print(f"peak memory (this process): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    for size in args.server_mb:
        if size:
            server_figures(size)

    if args.lint_sample:
        try:
            from cfnlint.api import ManualArgs, lint
        except ImportError:
            print("cfn-lint not installed: no comparison")
            return
        sample = random.Random(0).sample(tpls, min(args.lint_sample, len(tpls)))
        lint_s = ours = 0.0
        for name, text in sample:
            t0 = time.perf_counter()
            lint(text, config=ManualArgs(regions=["us-east-1"]))
            lint_s += time.perf_counter() - t0
            t0 = time.perf_counter()
            cfnfix.fix_text(text, filename=name, select=[])
            ours += time.perf_counter() - t0
        print(f"cfn-lint on {len(sample)} of the same templates: {lint_s:.1f} s vs cfnfix no-op {ours:.2f} s "
              f"-> cfnfix is {lint_s / ours:.0f}x faster (target >= 30x)")


def check_figures(tpls) -> None:
    """The cost of the default never-worse check: loading the validator once, then validating each
    template a fix changes (before and after), as CPU time."""
    from cfnfix.fixing.engine import build_fixers, fix_document
    from cfnfix.fixing.verify import make_checker

    checker = make_checker("auto")
    if checker is None:
        print("never-worse check: no validator installed (pip install 'cfnfix[validate]')")
        return
    t0 = time.process_time()
    checker.findings("Resources: {}\n")
    load = time.process_time() - t0
    fixers = build_fixers()
    extra, changed, refused = [], 0, 0
    for name, text in tpls:
        t0 = time.process_time()
        plain = fix_document(text, name, fixers)
        t1 = time.process_time()
        if not plain.changed:
            continue
        checked = fix_document(text, name, fixers, checker=checker)
        t2 = time.process_time()
        changed += 1
        refused += len(checked.refused)
        extra.append((t2 - t1) - (t1 - t0))
    print(f"never-worse check ({checker.name}): load {1000 * load:.0f} ms CPU once; on the {changed} templates a fix changes, "
          f"+{1000 * statistics.median(extra):.1f} ms median, +{1000 * pct(extra, 0.95):.1f} ms p95 CPU per template; "
          f"{refused} fixes refused")


def big_template(size: int) -> str:
    """A template of about ``size`` characters: buckets, roles, queues and functions, one output
    whose Export lacks its Name (one fix to show), block style throughout."""
    parts = ['AWSTemplateFormatVersion: "2010-09-09"\nDescription: generated for the editor server benchmark\nResources:\n']
    i = 0
    total = len(parts[0])
    while total < size:
        block = f"""  Bucket{i}:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "data-{i}-${{AWS::AccountId}}"
      VersioningConfiguration:
        Status: Enabled
      Tags:
        - Key: team
          Value: analytics-{i}
  Role{i}:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal:
              Service: lambda.amazonaws.com
            Action: sts:AssumeRole
      Policies:
        - PolicyName: read-{i}
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action:
                  - s3:GetObject
                Resource: !Sub "${{Bucket{i}.Arn}}/*"
  Queue{i}:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 60
      Tags:
        - Key: Description
          Value: queue number {i}
"""
        parts.append(block)
        total += len(block)
        i += 1
    parts.append("Outputs:\n  FirstBucket:\n    Value: !Ref Bucket0\n    Export: {}\n")
    return "".join(parts)


def server_figures(size_mb: float, bursts: int = 3, keys: int = 8, interval: float = 0.06, server_args: tuple = ()) -> None:
    """Drive ``cfnfix server`` over stdio with pygls's client, as an editor: open a template of
    ``size_mb`` MB, then type ``bursts`` bursts of ``keys`` characters ``interval`` s apart into a
    value in its middle; print the time from each burst's last keystroke to the diagnostics of that
    version (the server's first answer, before the validator's), and from open to diagnostics."""
    try:
        import asyncio

        from lsprotocol import types as lsp
        from pygls.lsp.client import LanguageClient
    except ImportError:
        print("editor server: pygls not installed (pip install 'cfnfix[server]'): no figure")
        return
    import tempfile

    text = big_template(int(size_mb * 1_000_000))
    where = text.index("Value: queue number ", len(text) // 2) + len("Value: queue")
    line = text.count("\n", 0, where)
    column = where - (text.rfind("\n", 0, where) + 1)

    async def session() -> tuple[float, list[float]]:
        client = LanguageClient("cfnfix-bench", "1")
        arrived: dict[int, float] = {}
        news = asyncio.Event()

        @client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def diagnostics(ls, params):
            arrived.setdefault(params.version, time.perf_counter())
            news.set()

        async def wait_for(version: int) -> float:
            while version not in arrived:
                news.clear()
                await asyncio.wait_for(news.wait(), 600)
            return arrived[version]

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "big.yaml"
            path.write_text(text)
            await client.start_io(sys.executable, "-m", "cfnfix", "server", *server_args, cwd=tmp)

            async def drain():  # the server's log, read so that its pipe never fills
                while line := await client._server.stderr.readline():
                    if server_args:
                        sys.stderr.write(f"{time.perf_counter():.3f} {line.decode(errors='replace')}")

            asyncio.ensure_future(drain())
            await client.initialize_async(lsp.InitializeParams(capabilities=lsp.ClientCapabilities(), root_uri=Path(tmp).as_uri()))
            client.initialized(lsp.InitializedParams())
            uri = path.as_uri()
            t0 = time.perf_counter()
            client.text_document_did_open(lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(uri, "yaml", 1, text)))
            opened = await wait_for(1) - t0
            version, col, latencies = 1, column, []
            for _ in range(bursts):
                await asyncio.sleep(1.0)
                for _ in range(keys):
                    version += 1
                    at = lsp.Position(line, col)
                    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
                        lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
                        [lsp.TextDocumentContentChangePartial(range=lsp.Range(at, at), text="x")]))
                    last = time.perf_counter()
                    if server_args:
                        print(f"{last:.3f} sent version {version}", file=sys.stderr)
                    col += 1
                    await asyncio.sleep(interval)
                latencies.append(await wait_for(version) - last)
                if server_args:
                    print(f"{arrived[version]:.3f} diagnostics of version {version}", file=sys.stderr)
            await client.shutdown_async(None)
            client.exit(None)
            await asyncio.wait_for(client._server.wait(), 60)
            return opened, latencies

    from cfnfix.server.analysis import analyse
    from cfnfix.server.project import Projects

    t0 = time.perf_counter()
    analyse(text, "big.yaml", Projects().for_path(None))
    alone = time.perf_counter() - t0
    opened, latencies = asyncio.run(session())
    print(f"editor server, {len(text) / 1e6:.2f} MB template: diagnostics {1000 * statistics.median(latencies):.0f} ms after the "
          f"last keystroke (median of {bursts} bursts of {keys} keys, max {1000 * max(latencies):.0f} ms; target < 300); "
          f"open -> diagnostics {1000 * opened:.0f} ms; one analysis in-process {1000 * alone:.0f} ms")


if __name__ == "__main__":
    main()
