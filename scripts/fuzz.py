#!/usr/bin/env python3
"""Mutation fuzzing of the cfnfix command line.

Takes real templates (the golden inputs, plus ../shared/corpus when it is there), mutates them —
byte flips, line deletions and duplications, tag swaps, indentation shifts, stray punctuation,
truncation, long runs of blank lines and whitespace, long digit runs (numbers past Python's
int-conversion limit), padding to just under or over the size limit — and runs the CLI on each
mutant (in-process, on stdin, with every default fixer). One input in FS_EVERY is a folder
instead, run with ``--write``: mutants as files beside symlinks (inside and out of the folder,
dangling, to themselves, in a loop, to a directory above), a FIFO and a device link.

Every exit must be 0, 1, 2 or 4 with no traceback; an internal error (exit 3), any other exception,
a run over the per-input CPU budget (or, for a folder, the wall-clock limit: a blocked read uses
no CPU) is reported and its input saved. For a folder, nothing outside it may change, links and
the FIFO stay what they were, every template is either as it was or parses, and no temporary
file is left. Every YAML document the engine re-reads in part after a batch of fixes is compared
with a reading of the whole text (``CFNFIX_CHECK_REPARSE``), and every finding or fact kept per
entry with a fresh one (``CFNFIX_CHECK_MEMO``): a difference is an internal error. One input in
EDITOR_EVERY is typed into as in the editor server, each edit analysed from the analysis before
it, and compared with an analysis from nothing.

    python scripts/fuzz.py --inputs 100000 --seed 11   # the long run (see README, Development)
    python scripts/fuzz.py --inputs 4000 --seed 1      # what CI runs
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import stat
import sys
import tempfile
import time
import traceback
from multiprocessing import Pool
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "tasks"
TAGS = ["!Ref", "!GetAtt", "!Sub", "!Join", "!If", "!Select", "!Base64", "!Equals", "!Condition", "!FindInMap", "!Frob", "!!python/object"]
PUNCT = list(':[]{},"\'&*!|>-#%@`\t\x00\x7f\ufeff\u2028')
FS_EVERY = 25  # one input in this many is a folder with links, a FIFO… run with --write
EDITOR_EVERY = 20  # one input in this many is typed into, as in an editor (see run_editor)
NEAR_LIMIT_EVERY = 400  # one input in this many is padded to just under or over the size limit


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


def _long_whitespace(t, rng):
    """A long run of blank lines, spaces, tabs or CRLFs (quadratic scanners choke on these)."""
    unit = rng.choice(("\n", " ", "\t", "\r\n", " \n", "\n\t "))
    run = unit * rng.choice((1_000, 10_000, 100_000))
    at = rng.choice((0, len(t), rng.randrange(len(t) + 1)))
    if rng.random() < 0.5:  # at a line start, where patterns anchored with ^ start
        at = t.rfind("\n", 0, at) + 1
    return t[:at] + run + t[at:]


def _long_digits(t, rng):
    """A long digit run, as a number or inside one (past Python's 4,300-digit int limit, or not)."""
    digits = "".join(rng.choice("0123456789") for _ in range(rng.choice((50, 4_300, 4_301, 5_000, 50_000))))
    digits = digits.lstrip("0") or "1"
    if rng.random() < 0.3:
        digits = rng.choice(("-", "+", "0x", "0o", "1_", "")) + digits + rng.choice(("", ".5", "e3", ":30"))
    values = [i for i in range(len(t)) if t.startswith((": ", ":\t"), i)]
    if values and rng.random() < 0.8:  # replace a value's first token with the number
        i = rng.choice(values) + 2
        j = i
        while j < len(t) and t[j] not in ",}]\r\n ":
            j += 1
        return t[:i] + digits + t[j:]
    i = rng.randrange(len(t) + 1)
    return t[:i] + digits + t[i:]


def near_limit(t: str, rng: random.Random) -> str:
    """``t`` padded to a few bytes under, at, or over the size limit, with a long comment, blank
    lines, a long string value or repeated content."""
    from cfnfix.text.document import MAX_BYTES

    target = MAX_BYTES + rng.choice((-4096, -1, 0, 1, 4096))
    size = len(t.encode("utf-8", "surrogatepass"))
    if size >= target:
        return t
    pad = target - size
    json_like = t.lstrip("\ufeff \t\r\n").startswith("{")
    how = rng.choice(("comment", "blank", "string", "repeat"))
    if how == "repeat" and t:
        reps = t * (pad // max(1, size) + 1)
        return (t + reps)[: len(t) + pad]
    if how == "comment" and not json_like:
        return t + "\n#" + "x" * max(0, pad - 2)
    if how == "string" and json_like and t.rstrip().endswith("}"):
        body = t.rstrip()[:-1]
        return body + ', "Pad": "' + "x" * max(0, pad - 12) + '"}'
    return t + "\n" * pad


MUTATIONS = [_flip, _punct, _delete_line, _dup_line, _indent, _tag_swap, _truncate, _swap_lines, _long_whitespace, _long_digits]


class _Hang(BaseException):  # not Exception: the engine turns a fixer's exceptions into internal errors
    pass


def _alarm(signum, frame):
    raise _Hang()


def _problem(result, name, text):
    """None, or the record of an exit that is not 0/1/2, an exception or a traceback."""
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


def run_one(job):
    """Run the CLI on one mutant; return None or a problem record."""
    if job[0] == "fs":
        return run_folder(job)
    if job[0] == "editor":
        return run_editor(job)
    from click.testing import CliRunner

    from cfnfix.cli import main

    _, name, text, timeout, validator = job
    # CPU time, not wall time: on a shared machine the neighbours must not make a hang
    signal.signal(signal.SIGPROF, _alarm)
    signal.setitimer(signal.ITIMER_PROF, timeout)
    try:
        result = CliRunner().invoke(main, ["--validator", validator, "-"], input=text.encode("utf-8", "surrogatepass"), catch_exceptions=True)
    except _Hang:
        return {"kind": "hang", "name": name, "text": text}
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
    return _problem(result, name, text)


def typed(text: str, rng: random.Random) -> str:
    """``text`` after a small edit inside a line's content, as typing makes them: a character or
    a word put in or taken out, a line added, joined or split."""
    lines = text.splitlines(keepends=True)
    candidates = [i for i, line in enumerate(lines) if line.strip() and line[:1] in " \t"]
    if not candidates:
        return text + "#\n"
    i = rng.choice(candidates)
    line = lines[i]
    body = line.rstrip("\r\n")
    start = len(body) - len(body.lstrip(" \t"))
    at = rng.randint(start, len(body))
    choice = rng.randrange(6)
    if choice == 0:
        body = body[:at] + rng.choice("xyz19-_") + body[at:]
    elif choice == 1 and at < len(body):
        body = body[:at] + body[at + 1:]
    elif choice == 2:
        body = body[:at] + rng.choice(["Name", "!Ref X", " ", ": ", "\"", "${AWS::Region}"]) + body[at:]
    elif choice == 3 and at > start:
        body = body[:start] + body[at:]
    elif choice == 4:
        lines.insert(i + 1, line[: len(line) - len(line.lstrip(" \t"))] + "Extra: 1\n")
    else:
        body = body[:at] + "\n" + " " * start + body[at:]
    lines[i] = body + line[len(line.rstrip("\r\n")):]
    return "".join(lines)


def run_editor(job):
    """The editor server's analysis of a few typed edits, each made from the analysis before it
    (the document re-read in part, fixers run again over the changed entries only): it must say
    what an analysis of the same text from nothing says."""
    from cfnfix.server.analysis import analyse
    from cfnfix.server.project import Projects

    _, name, text, timeout, seed = job
    rng = random.Random(seed)
    project = Projects().for_path(None)
    filename = "t.json" if text.lstrip().startswith("{") else "t.yaml"

    def said(a):
        return [(i.kind, i.code, i.message, i.start, i.end, i.severity, i.unsafe) for i in a.items]

    signal.signal(signal.SIGPROF, _alarm)
    signal.setitimer(signal.ITIMER_PROF, timeout * 4)
    try:
        earlier = analyse(text, filename, project)
        for _ in range(rng.randint(1, 4)):
            text = typed(text, rng)
            later = analyse(text, filename, project, earlier=earlier)
            fresh = analyse(text, filename, project)
            if said(later) != said(fresh):
                return {"kind": "crash", "name": name, "text": text,
                        "error": f"editor: the analysis from the earlier one differs from one from nothing\n{said(later)!r}\n{said(fresh)!r}"[:2000]}
            earlier = later
    except _Hang:
        return {"kind": "hang", "name": name, "text": text}
    except Exception as e:  # noqa: BLE001 - the server must not raise on any text
        return {"kind": "crash", "name": name, "text": text, "error": "editor: " + "".join(traceback.format_exception(e))[-1800:]}
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
    return None


def _snapshot(path: Path) -> dict:
    """What a folder holds: per entry, its kind and (regular files) content or (links) target."""
    out = {}
    for p in sorted(path.rglob("*")):
        st = os.lstat(p)
        key = p.relative_to(path).as_posix()
        if stat.S_ISLNK(st.st_mode):
            out[key] = ("link", os.readlink(p))
        elif stat.S_ISREG(st.st_mode):
            out[key] = ("file", p.read_bytes())
        else:
            out[key] = ("other", stat.S_IFMT(st.st_mode))
    return out


def run_folder(job):
    """``cfnfix --write`` on a folder of mutants among links, a FIFO and a device link."""
    from click.testing import CliRunner

    import cfnfix
    from cfnfix.cli import main

    _, name, texts, timeout, seed, validator = job
    rng = random.Random(seed)
    top = Path(tempfile.mkdtemp(prefix="cfnfix-fuzz-"))
    try:
        tree, outside = top / "tree", top / "outside"
        (tree / "sub").mkdir(parents=True)
        outside.mkdir()
        (outside / "shared.yaml").write_text(texts[0], encoding="utf-8", errors="surrogatepass")
        for i, text in enumerate(texts):
            where = tree if i % 2 == 0 else tree / "sub"
            (where / f"t{i}{'.json' if text.lstrip().startswith('{') else '.yaml'}").write_text(text, encoding="utf-8", errors="surrogatepass")
        links = {
            "self.yaml": "self.yaml", "a.yaml": "b.yaml", "b.yaml": "a.yaml", "gone.yaml": "nowhere.yaml",
            "out.yaml": "../outside/shared.yaml", "in.yaml": "sub/t1.yaml", "up": "..", "loopdir": "loopdir",
            "zero.yaml": "/dev/zero", "null.json": "/dev/null",
        }
        for link in rng.sample(sorted(links), rng.randint(2, len(links))):
            os.symlink(links[link], tree / link)
        if hasattr(os, "mkfifo") and rng.random() < 0.7:
            os.mkfifo(tree / rng.choice(("pipe.yaml", "sub/pipe.json")))
        before_tree, before_outside = _snapshot(tree), _snapshot(outside)
        signal.signal(signal.SIGALRM, _alarm)
        signal.alarm(timeout * 6)  # wall clock: a blocked read would use no CPU
        try:
            result = CliRunner().invoke(main, ["--write", "-q", "--validator", validator, str(tree)], catch_exceptions=True)
        except _Hang:
            return {"kind": "hang", "name": name, "text": texts[0]}
        finally:
            signal.alarm(0)
        problem = _problem(result, name, texts[0])
        if problem:
            return problem
        after_tree, after_outside = _snapshot(tree), _snapshot(outside)
        wrong = []
        if after_outside != before_outside:
            wrong.append("a file outside the folder changed")
        if set(after_tree) != set(before_tree):
            wrong.append(f"entries appeared or went: {sorted(set(after_tree) ^ set(before_tree))}")
        for key, (kind, value) in after_tree.items():
            old = before_tree.get(key)
            if old is None or old[0] != kind or (kind != "file" and old != (kind, value)):
                wrong.append(f"{key} changed kind or target")
            elif kind == "file" and value != old[1]:
                try:
                    cfnfix.fix_text(value.decode("utf-8"), filename=key, select=[])
                except Exception as e:  # noqa: BLE001 - anything: the written file must parse
                    wrong.append(f"{key} was written and does not parse: {e}")
        if wrong:
            return {"kind": "crash", "name": name, "text": texts[0], "error": "folder: " + "; ".join(wrong)[:1800]}
        return None
    finally:
        shutil.rmtree(top, ignore_errors=True)


def jobs(seed_list, seed: int, timeout: int, validator: str):
    rng = random.Random(seed)
    n = 0
    while True:
        n += 1
        name, text = rng.choice(seed_list)
        if n % FS_EVERY == 0:
            texts = [mutate(rng.choice(seed_list)[1], rng) for _ in range(rng.randint(1, 3))]
            yield "fs", name, texts, timeout, rng.randrange(1 << 30), validator
            continue
        if n % EDITOR_EVERY == 0:
            yield "editor", name, mutate(text, rng) if rng.random() < 0.5 else text, timeout, rng.randrange(1 << 30)
            continue
        text = mutate(text, rng)
        if n % NEAR_LIMIT_EVERY == 0:
            text = near_limit(text, rng)
        yield "stdin", name, text, timeout, validator


def main() -> int:
    os.environ.setdefault("CFNFIX_CHECK_REPARSE", "1")  # before the workers start: they inherit it
    os.environ.setdefault("CFNFIX_CHECK_MEMO", "1")
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--inputs", type=int, default=0, help="stop after this many inputs")
    ap.add_argument("--validator", default="auto", help="the never-worse check, as cfnfix --validator (none: faster)")
    ap.add_argument("--seconds", type=float, default=0, help="stop after this long")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--timeout", type=int, default=10, help="CPU seconds per input before it counts as a hang")
    ap.add_argument("--max-corpus", type=int, default=None, help="use only the first N corpus templates")
    ap.add_argument("--save", type=Path, default=Path("fuzz-failures"), help="where failing inputs go")
    args = ap.parse_args()
    if not args.inputs and not args.seconds:
        args.inputs = 1000

    seed_list = seeds(args.max_corpus)
    t0, cpu0 = time.time(), os.times()
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
    cpu1 = os.times()
    cpu = (cpu1.children_user - cpu0.children_user) + (cpu1.children_system - cpu0.children_system)
    print(f"fuzz: {counts['inputs']} inputs from {len(seed_list)} seeds, {counts['crash']} crashes, "
          f"{counts['hang']} hangs, {counts['internal']} internal errors, {wall:.0f} s wall"
          + (f", {cpu:.0f} s CPU in workers" if cpu else ""))
    return 1 if counts["crash"] or counts["hang"] or counts["internal"] else 0


if __name__ == "__main__":
    sys.exit(main())
