#!/usr/bin/env python3
"""Speed figures for cfnfix (printed, not asserted), against the targets of issue 16.

    python bench/benchmark.py [--corpus ../shared/corpus] [--lint-sample 40] [--sizes 0.1 1 5]

Every figure gives CPU time (user + system of this process or of the child it times) beside wall
time: the project's machine is shared, and wall time depends on the neighbours. cfn-lint is
warmed (one template linted first) before it is timed, so its one-off schema load does not count.

Sections (``--skip`` any of them):

- ``fix``: no-op round trip and the default fixers through ``fix_text`` (median, p95, max);
- ``check``: the cost of the never-worse check on the templates a fix changes;
- ``cli``: the command line's per-file path (read, fix with the default validator, diff,
  explanation, as ``cfnfix FILE`` prints them) on every template, against cfn-lint on a sample of
  the same templates in the same process [>= 100x cheaper, p95 < 50 ms];
- ``dir``: ``cfnfix DIR`` and ``cfn-lint FILES`` as whole processes over the same sample of corpus
  files [>= 50x], and ``-j`` against ``-j1`` [>= 1.6x on 2 cores];
- ``size``: generated templates (``big_template``: one fix) at each ``--sizes`` MB, each in a child
  process: YAML no-op against ruamel's C compose [<= 2x], full fix against no-op [<= 3x, < 1 s at
  1 MB], time per MB [within 1.5x from 0.1 MB up], peak memory per template byte of the full fix
  [<= 30], JSON no-op against ``json.loads`` [<= 5x];
- ``start``: ``cfnfix --version`` [< 100 ms] and ``cfnfix FILE`` on a typical template [<= 0.25 s
  CPU, whole process];
- ``server``: with pygls installed (``pip install 'cfnfix[server]'``) it drives ``cfnfix server``
  over stdio with a generated template of ``--server-mb`` MB and prints how long after the last
  keystroke of a burst of typing the diagnostics of the typed text arrive (target, issue 14:
  300 ms); ``--server-only`` prints just that (no corpus needed), ``--server-json`` also for the
  same template written as JSON.
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


def templates(corpus: Path) -> list[tuple[str, str, Path]]:
    out = []
    for p in sorted((corpus / "tasks").glob("*/*")):
        if p.stem in ("model", "ideal") and p.suffix in (".yaml", ".yml", ".json"):
            text = p.read_text(encoding="utf-8", errors="surrogateescape")
            try:
                cfnfix.fix_text(text, filename=p.name, select=[])
            except cfnfix.TemplateError:
                continue
            out.append((p.name, text, p))
    return out


def pct(values, q):
    s = sorted(values)
    return s[int(q * (len(s) - 1))]


def cpu() -> float:
    return time.process_time()


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


SECTIONS = ("fix", "check", "cli", "dir", "size", "start", "server")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--lint-sample", type=int, default=40, help="templates to time cfn-lint on (0: no cfn-lint)")
    ap.add_argument("--dir-sample", type=int, default=60, help="corpus files the whole-process figures run over (0: all)")
    ap.add_argument("--sizes", type=float, nargs="+", default=[0.1, 1.0, 5.0], metavar="MB",
                    help="sizes of the generated templates of the size figures")
    ap.add_argument("--skip", nargs="+", default=[], choices=SECTIONS, help="sections to leave out")
    ap.add_argument("--server-mb", type=float, nargs="+", default=[1.0], metavar="MB",
                    help="sizes of the templates the editor server is timed on (0: skip)")
    ap.add_argument("--server-only", action="store_true", help="only the editor server's figures")
    ap.add_argument("--server-json", action="store_true", help="time the editor server on JSON templates too")
    args = ap.parse_args()
    formats = ["yaml", "json"] if args.server_json else ["yaml"]
    if args.server_only:
        for size in args.server_mb:
            for fmt in formats:
                server_figures(size or 1.0, fmt=fmt)
        return
    skip = set(args.skip)

    tpls = templates(args.corpus)
    if not tpls:
        print(f"benchmark: no parseable template under {args.corpus}/tasks/*/ (model.* or ideal.*, .yaml/.yml/.json). "
              f"It needs the corpus: check out ../shared/corpus next to this repository, or pass --corpus DIR.", file=sys.stderr)
        sys.exit(2)
    total = sum(len(t.encode("utf-8", "surrogateescape")) for _, t, _ in tpls)
    print(f"templates: {len(tpls)} parseable, {total / 1e6:.2f} MB")

    if "fix" not in skip:
        fix_figures(tpls, total)
    if "check" not in skip:
        check_figures(tpls)
    lint = warm_lint() if args.lint_sample else None
    if "cli" not in skip:
        cli_figures(tpls, lint, args.lint_sample)
    if "dir" not in skip:
        dir_figures(tpls, args.dir_sample, lint is not None)
    if "size" not in skip:
        for mb in args.sizes:
            size_figures(mb)
        linearity()
    if "start" not in skip:
        start_figures(tpls)
    print(f"peak memory (this process): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    if "server" not in skip:
        for size in args.server_mb:
            for fmt in formats:
                if size:
                    server_figures(size, fmt=fmt)


def fix_figures(tpls, total: int) -> None:
    """``fix_text`` alone: the no-op round trip and the default fixers, wall and CPU per template."""
    for label, select in (("no-op round trip", []), ("default fixers  ", None)):
        wall, cpus = [], []
        for name, text, _ in tpls:
            t0, c0 = time.perf_counter(), cpu()
            cfnfix.fix_text(text, filename=name, select=select)
            wall.append(time.perf_counter() - t0)
            cpus.append(cpu() - c0)
        print(f"{label}: {total / sum(cpus) / 1e6:.2f} MB/s CPU; per template CPU median {1000 * statistics.median(cpus):.1f} ms, "
              f"p95 {1000 * pct(cpus, 0.95):.1f} ms, max {1000 * max(cpus):.1f} ms "
              f"(wall median {1000 * statistics.median(wall):.1f}, p95 {1000 * pct(wall, 0.95):.1f} ms)")


def warm_lint():
    """cfn-lint's lint function, after one template has loaded its schemas (not cfnfix's merit)."""
    try:
        from cfnlint.api import ManualArgs, lint
    except ImportError:
        print("cfn-lint not installed: no comparison")
        return None

    def run(text: str):
        return lint(text, config=ManualArgs(regions=["us-east-1"]))

    run("Resources:\n  B:\n    Type: AWS::S3::Bucket\n")
    return run


def cli_figures(tpls, lint, sample_size: int) -> None:
    """The command line's per-file path, in process: ``Run.one_file`` as ``cfnfix FILE`` calls it
    (read, fix with the default validator, diff, explanation), its printing sent to a buffer; then
    warmed cfn-lint on a sample of the same files, and cfnfix on that sample again for the ratio."""
    import contextlib
    import io

    from cfnfix.cli.run import Output, Run
    from cfnfix.fixing.engine import build_fixers
    from cfnfix.fixing.verify import make_checker

    checker = make_checker("auto")
    if checker is not None:
        checker.findings("Resources: {}\n")  # its one-off load is the check figure's, not this one's
    run = Run(build_fixers(), safe_only=False, out=Output(), checker=checker)
    sink = io.StringIO()
    times: dict[Path, tuple[float, float]] = {}
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        for _, _, path in tpls:
            t0, c0 = time.perf_counter(), cpu()
            run.one_file(path, True)
            times[path] = (cpu() - c0, time.perf_counter() - t0)
            sink.seek(0)
            sink.truncate()
    cpus = [c for c, _ in times.values()]
    wall = [w for _, w in times.values()]
    checked = f"never-worse check by {checker.name}" if checker else "no validator installed: unchecked"
    print(f"CLI per file (fix + diff + explanation, {checked}): CPU median {1000 * statistics.median(cpus):.1f} ms, "
          f"p95 {1000 * pct(cpus, 0.95):.1f} ms (target < 50), max {1000 * max(cpus):.1f} ms; "
          f"wall median {1000 * statistics.median(wall):.1f}, p95 {1000 * pct(wall, 0.95):.1f} ms")
    if lint is None or not sample_size:
        return
    sample = random.Random(0).sample(tpls, min(sample_size, len(tpls)))
    lint_cpu = lint_wall = ours = ours_wall = 0.0
    for _, text, path in sample:
        t0, c0 = time.perf_counter(), cpu()
        lint(text)
        lint_cpu += cpu() - c0
        lint_wall += time.perf_counter() - t0
        ours += times[path][0]
        ours_wall += times[path][1]
    print(f"  against cfn-lint (warmed) on {len(sample)} of the same templates: cfn-lint {lint_cpu:.1f} s CPU ({lint_wall:.1f} s wall), "
          f"cfnfix's CLI path {ours:.2f} s CPU ({ours_wall:.2f} s wall) -> {lint_cpu / ours:.0f}x cheaper (target >= 100x)")


def dir_figures(tpls, sample_size: int, lint: bool) -> None:
    """Whole processes over the same corpus files, copied into a folder: ``cfnfix DIR`` (one core,
    then ``-j``) and ``cfn-lint FILES``; CPU time of the child beside its wall time."""
    import os
    import shutil
    import tempfile

    files = [path for _, _, path in tpls]
    if sample_size and sample_size < len(files):
        files = sorted(random.Random(1).sample(files, sample_size))
    exe = str(Path(sys.executable).with_name("cfnfix"))
    with tempfile.TemporaryDirectory() as tmp:
        for path in files:
            target = Path(tmp) / path.parent.name / path.name
            target.parent.mkdir(exist_ok=True)
            shutil.copyfile(path, target)

        def timed(cmd: list[str]) -> tuple[float, float, str]:
            c0, t0 = children_cpu(), time.perf_counter()
            p = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp)
            return children_cpu() - c0, time.perf_counter() - t0, p.stdout

        jobs = "-j1" if _has_jobs(exe) else None
        ours_cpu, ours_wall, one = timed([exe, *([jobs] if jobs else []), "."])
        print(f"`cfnfix DIR` over {len(files)} corpus files ({'one core' if jobs else 'no -j option'}): "
              f"{ours_cpu:.1f} s CPU, {ours_wall:.1f} s wall")
        if jobs:
            n = os.cpu_count() or 1
            par_cpu, par_wall, many = timed([exe, f"-j{n}", "."])
            same = "identical output" if many == one else "OUTPUT DIFFERS FROM -j1"
            print(f"  -j{n}: {par_cpu:.1f} s CPU, {par_wall:.1f} s wall -> {ours_wall / par_wall:.2f}x faster in wall time "
                  f"(target >= 1.6x on 2 cores; meaningful only on an idle machine); {same}")
        if lint:
            lint_exe = str(Path(sys.executable).with_name("cfn-lint"))
            names = [str(Path(p.parent.name) / p.name) for p in files]
            lint_cpu, lint_wall, _ = timed([lint_exe, "--regions", "us-east-1", "--", *names])
            print(f"  `cfn-lint` over the same files: {lint_cpu:.1f} s CPU, {lint_wall:.1f} s wall -> "
                  f"cfnfix is {lint_cpu / ours_cpu:.0f}x cheaper in CPU (target >= 50x)")


def _has_jobs(exe: str) -> bool:
    p = subprocess.run([exe, "--help"], capture_output=True, text=True)
    return "--jobs" in p.stdout


SIZE_CHILD = r"""
import gc, json, resource, sys, time
sys.path.insert(0, {bench!r})
from benchmark import big_template
import cfnfix
from ruamel.yaml.cyaml import CBaseLoader
from cfnfix.text.document import Document

fmt, size = sys.argv[1], float(sys.argv[2])
text = big_template(int(size * 1_000_000))
if fmt == "json":
    text = json.dumps(Document(text, "t.yaml").data, indent=2) + "\n"
name = "t." + fmt
cfnfix.fix_text("Resources:\n  B:\n    Type: AWS::S3::Bucket\n", filename="w.yaml")  # imports, fixer data

def peak_kb():
    # VmHWM: this process's peak since it started (ru_maxrss keeps the parent's across exec)
    try:
        with open("/proc/self/status") as f:
            return next(int(l.split()[1]) for l in f if l.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

def timed(f):
    best = None
    for _ in range(2 if size <= 1 else 1):
        gc.collect()
        c0, t0 = time.process_time(), time.perf_counter()
        f()
        c, w = time.process_time() - c0, time.perf_counter() - t0
        best = (c, w) if best is None or c < best[0] else best
    return best

def compose():
    loader = CBaseLoader(text)
    loader.get_single_node()
    loader.dispose()

rss0 = peak_kb()
full = timed(lambda: cfnfix.fix_text(text, filename=name))  # first: the peak is its own
rss1 = peak_kb()
noop = timed(lambda: cfnfix.fix_text(text, filename=name, select=[]))
base = {{"yaml": lambda: timed(compose), "json": lambda: timed(lambda: json.loads(text))}}[fmt]()
print(json.dumps({{"bytes": len(text.encode()), "base": base, "noop": noop, "full": full, "rss0": rss0, "rss1": rss1}}))
"""


def _size_child(fmt: str, mb: float) -> dict:
    import json

    code = SIZE_CHILD.format(bench=str(HERE))
    p = subprocess.run([sys.executable, "-c", code, fmt, str(mb)], capture_output=True, text=True)
    if p.returncode:
        raise RuntimeError(p.stderr[-2000:])
    return json.loads(p.stdout.strip().splitlines()[-1])


_PER_MB: list[tuple[float, float]] = []


def size_figures(mb: float) -> None:
    """One generated template of ``mb`` MB in YAML and in JSON, each in a fresh child process."""
    for fmt in ("yaml", "json"):
        r = _size_child(fmt, mb)
        size = r["bytes"] / 1e6
        base, noop, full = r["base"][0], r["noop"][0], r["full"][0]
        # ru_maxrss is the peak of the whole child: the full fix's own peak is what it adds over
        # what the process held before it (the interpreter, the imports, the text)
        grown = max(r["rss1"] - r["rss0"], 0) * 1024
        what = "ruamel C compose" if fmt == "yaml" else "json.loads"
        target = "<= 2x" if fmt == "yaml" else "<= 5x"
        print(f"{fmt} {size:.2f} MB: no-op {noop:.2f} s CPU ({r['noop'][1]:.2f} wall) = {noop / base:.1f}x {what} "
              f"({base:.3f} s; target {target}); full fix {full:.2f} s CPU ({r['full'][1]:.2f} wall) = {full / noop:.1f}x the no-op "
              f"(target <= 3x{', < 1 s' if 0.9 <= mb <= 1.1 else ''}); the full fix's peak memory {grown / 1e6:.0f} MB = "
              f"{grown / r['bytes']:.0f} bytes per template byte (target <= 30)")
        if fmt == "yaml":
            _PER_MB.append((size, noop / size))


def linearity() -> None:
    if len(_PER_MB) < 2:
        return
    per = [f"{s:.1f} MB: {t:.2f} s/MB" for s, t in _PER_MB]
    spread = max(t for _, t in _PER_MB) / min(t for _, t in _PER_MB)
    print(f"yaml no-op CPU per MB: {', '.join(per)} -> spread {spread:.2f}x (target within 1.5x)")


def start_figures(tpls) -> None:
    """Whole processes: ``cfnfix --version`` (wall, best of seven runs is the cold start of a warm
    disk cache) and ``cfnfix FILE`` on the templates of median size among those with nothing to fix
    and among those with fixes, with and without the never-worse check (CPU of the child)."""
    exe = Path(sys.executable).with_name("cfnfix")
    starts, start_cpu = [], []
    for _ in range(7):
        c0, t0 = children_cpu(), time.perf_counter()
        subprocess.run([str(exe), "--version"], check=True, capture_output=True)
        starts.append(time.perf_counter() - t0)
        start_cpu.append(children_cpu() - c0)
    print(f"`cfnfix --version`: median {1000 * statistics.median(starts):.0f} ms wall, "
          f"{1000 * statistics.median(start_cpu):.0f} ms CPU (target < 100 ms)")
    changed = {p for _, t, p in tpls if cfnfix.fix_text(t, filename=p.name).changed}
    for label, group in (("with nothing to fix", [t for t in tpls if t[2] not in changed]), ("with fixes", [t for t in tpls if t[2] in changed])):
        if not group:
            continue
        by_size = sorted(group, key=lambda t: len(t[1]))
        _, text, path = by_size[len(by_size) // 2]
        figures = []
        for extra in ([], ["--validator", "none"]):
            runs = []
            for _ in range(3):
                c0, t0 = children_cpu(), time.perf_counter()
                subprocess.run([str(exe), *extra, str(path)], capture_output=True)
                runs.append((children_cpu() - c0, time.perf_counter() - t0))
            c, w = sorted(runs)[len(runs) // 2]
            figures.append(f"{c:.2f} s CPU ({w:.2f} wall){' without the never-worse check' if extra else ''}")
        print(f"`cfnfix FILE`, a typical template {label} ({path.parent.name}/{path.name}, {len(text) / 1000:.0f} KB): "
              f"{', '.join(figures)} (target <= 0.25 s CPU)")


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
    for name, text, _ in tpls:
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


def server_figures(size_mb: float, bursts: int = 3, keys: int = 8, interval: float = 0.06, server_args: tuple = (),
                   fmt: str = "yaml") -> None:
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
    if fmt == "json":  # the same kind of template as JSON, of about the same size
        import json

        from cfnfix.text.document import Document

        text = big_template(int(size_mb * 1_000_000 * len(text) / len(json.dumps(Document(text, "t.yaml").data, indent=2))))
        text = json.dumps(Document(text, "t.yaml").data, indent=2) + "\n"
        where = text.index('"queue number ', len(text) // 2) + len('"queue')
    else:
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
            path = Path(tmp) / f"big.{fmt}"
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
            client.text_document_did_open(lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(uri, fmt, 1, text)))
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
    analyse(text, f"big.{fmt}", Projects().for_path(None))
    alone = time.perf_counter() - t0
    opened, latencies = asyncio.run(session())
    print(f"editor server, {len(text) / 1e6:.2f} MB {fmt.upper()} template: diagnostics {1000 * statistics.median(latencies):.0f} ms after the "
          f"last keystroke (median of {bursts} bursts of {keys} keys, max {1000 * max(latencies):.0f} ms; target < 300); "
          f"open -> diagnostics {1000 * opened:.0f} ms; one analysis in-process {1000 * alone:.0f} ms")


if __name__ == "__main__":
    main()
