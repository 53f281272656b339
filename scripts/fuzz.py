#!/usr/bin/env python3
"""Mutation fuzzing of the cfnfix command line.

Takes real templates (the golden inputs, plus ../shared/corpus when it is there), mutates them —
byte flips, line deletions and duplications, tag swaps, indentation shifts, stray punctuation,
truncation — and runs the CLI on each mutant (in-process, on stdin, with every default fixer).
Every exit must be 0, 1, 2 or 4 with no traceback; an internal error (exit 3), any other exception
or a run using more CPU time than the per-input limit is reported and its input saved.

    python scripts/fuzz.py --inputs 100000            # the long run (see README, Development)
    python scripts/fuzz.py --seconds 60               # the short run CI does
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sys
import time
import traceback
from multiprocessing import Pool
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "tasks"
TAGS = ["!Ref", "!GetAtt", "!Sub", "!Join", "!If", "!Select", "!Base64", "!Equals", "!Condition", "!FindInMap", "!Frob", "!!python/object"]
PUNCT = list(':[]{},"\'&*!|>-#%@`\t\x00\x7f\ufeff\u2028')


def seeds(max_corpus: int | None) -> list[tuple[str, str]]:
    out = []
    for p in sorted((ROOT / "golden").glob("*/*/input.*")):
        out.append((p.name, p.read_text(encoding="utf-8")))
    if CORPUS.is_dir():
        corpus = sorted(p for p in CORPUS.glob("*/*") if p.stem in ("model", "ideal") and p.suffix in (".yaml", ".json"))
        for p in corpus[:max_corpus]:
            out.append((p.name, p.read_text(encoding="utf-8", errors="replace")))
    return out


def mutate(text: str, rng: random.Random) -> str:
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        text = rng.choice(MUTATIONS)(text, rng)
    return text


def _flip(t, rng):
    if not t:
        return t
    i = rng.randrange(len(t))
    return t[:i] + chr(rng.randrange(0, 0x300)) + t[i + 1 :]


def _punct(t, rng):
    i = rng.randrange(len(t) + 1)
    return t[:i] + rng.choice(PUNCT) + t[i:]


def _delete_line(t, rng):
    lines = t.splitlines(keepends=True)
    if lines:
        del lines[rng.randrange(len(lines))]
    return "".join(lines)


def _dup_line(t, rng):
    lines = t.splitlines(keepends=True)
    if lines:
        i = rng.randrange(len(lines))
        lines.insert(i, lines[i])
    return "".join(lines)


def _indent(t, rng):
    lines = t.splitlines(keepends=True)
    if lines:
        i = rng.randrange(len(lines))
        lines[i] = (" " * rng.choice((1, 2, 4)) + lines[i]) if rng.random() < 0.5 else lines[i].lstrip(" ")
    return "".join(lines)


def _tag_swap(t, rng):
    present = [tag for tag in TAGS if tag in t]
    if not present:
        return _punct(t, rng)
    return t.replace(rng.choice(present), rng.choice(TAGS), 1)


def _truncate(t, rng):
    return t[: rng.randrange(len(t) + 1)]


def _swap_lines(t, rng):
    lines = t.splitlines(keepends=True)
    if len(lines) > 1:
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    return "".join(lines)


MUTATIONS = [_flip, _punct, _delete_line, _dup_line, _indent, _tag_swap, _truncate, _swap_lines]


class _Hang(Exception):
    pass


def _alarm(signum, frame):
    raise _Hang()


def run_one(job):
    """Run the CLI on one mutant; return None or a problem record."""
    from click.testing import CliRunner

    from cfnfix.cli import main

    name, text, timeout, validator = job
    # CPU time, not wall time: a loaded machine must not turn a slow input into a "hang"
    signal.signal(signal.SIGPROF, _alarm)
    signal.setitimer(signal.ITIMER_PROF, timeout)
    try:
        result = CliRunner().invoke(main, ["--validator", validator, "-"], input=text.encode("utf-8", "surrogatepass"), catch_exceptions=True)
        signal.setitimer(signal.ITIMER_PROF, 0)
    except _Hang:
        return {"kind": "hang", "name": name, "text": text}
    exc = result.exception
    if isinstance(exc, _Hang):
        return {"kind": "hang", "name": name, "text": text}
    if exc is not None and not isinstance(exc, SystemExit):
        return {"kind": "crash", "name": name, "text": text,
                "error": "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))[-2000:]}
    if result.exit_code not in (0, 1, 2, 4):
        return {"kind": "internal" if result.exit_code == 3 else "crash", "name": name, "text": text, "error": result.output[-2000:]}
    if "Traceback" in result.output:
        return {"kind": "crash", "name": name, "text": text, "error": result.output[-2000:]}
    return None


def jobs(seed_list, seed: int, timeout: int, validator: str):
    rng = random.Random(seed)
    while True:
        name, text = rng.choice(seed_list)
        yield name, mutate(text, rng), timeout, validator


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--inputs", type=int, default=0, help="stop after this many mutants")
    ap.add_argument("--seconds", type=float, default=0, help="stop after this long")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--timeout", type=int, default=10, help="CPU seconds per input before it counts as a hang")
    ap.add_argument("--max-corpus", type=int, default=None, help="use only the first N corpus templates")
    ap.add_argument("--validator", default="auto", help="the never-worse check, as cfnfix --validator (none: faster)")
    ap.add_argument("--save", type=Path, default=Path("fuzz-failures"), help="where failing inputs go")
    args = ap.parse_args()
    if not args.inputs and not args.seconds:
        args.inputs = 1000

    seed_list = seeds(args.max_corpus)
    t0 = time.time()
    counts = {"inputs": 0, "crash": 0, "hang": 0, "internal": 0}
    with Pool(args.jobs, maxtasksperchild=2000) as pool:
        for problem in pool.imap_unordered(run_one, jobs(seed_list, args.seed, args.timeout, args.validator), chunksize=16):
            counts["inputs"] += 1
            if problem:
                counts[problem["kind"]] += 1
                args.save.mkdir(exist_ok=True)
                n = sum(counts[k] for k in ("crash", "hang", "internal"))
                (args.save / f"{problem['kind']}-{n}-{problem['name']}").write_text(problem["text"], encoding="utf-8", errors="surrogatepass")
                if problem.get("error"):
                    print(f"{problem['kind']}: {problem['error'][-600:]}", file=sys.stderr)
            if (args.inputs and counts["inputs"] >= args.inputs) or (args.seconds and time.time() - t0 >= args.seconds):
                pool.terminate()
                break
    wall = time.time() - t0
    print(f"fuzz: {counts['inputs']} inputs from {len(seed_list)} seeds, {counts['crash']} crashes, "
          f"{counts['hang']} hangs, {counts['internal']} internal errors, {wall:.0f} s wall")
    return 1 if counts["crash"] or counts["hang"] or counts["internal"] else 0


if __name__ == "__main__":
    sys.exit(main())
