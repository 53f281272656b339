#!/usr/bin/env python3
"""Speed figures for cfnfix (printed, not asserted).

    python bench/benchmark.py [--corpus ../shared/corpus] [--lint-sample 40]

Prints: no-op round-trip throughput over the corpus (MB/s), median/p95/max time per template
with the default fixers, ``cfnfix --version`` cold start, peak memory, and — when cfn-lint is
installed — cfn-lint's time on a sample of the same templates, with the ratio.
Targets (issue 2): no-op pass >= 30x faster than cfn-lint, p95 < 50 ms, cold start < 300 ms.
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
    args = ap.parse_args()

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


if __name__ == "__main__":
    main()
