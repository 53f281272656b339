"""cfn-lint findings on a corpus before and after ``cfnfix`` with the default fixers.

For each ``tasks/<id>/model.*`` template of the corpus (the generated templates, often broken)
it lints the template with cfn-lint (region us-east-1), fixes it with the default fixers as
``cfnfix --write`` would, lints the result, and prints, per cfn-lint rule, the number of error
(E) findings before and after, then every finding the fix introduced anywhere (E, W or I: a
finding is introduced when a rule reports more findings for a resource, output or section after
the fix than before, findings being compared by rule and by the entry they concern, since line
numbers move).

With ``--validate`` (needs ``pip install cloudformation-validate``) it also compares the ERROR
and WARN diagnostics of cloudformation-validate the same way.

It is slow (cfn-lint takes a second or more per template): run it once, not in a loop::

    .venv/bin/python scripts/lint_delta.py                     # ../shared/corpus
    .venv/bin/python scripts/lint_delta.py /path/to/corpus --validate --jobs 2
    .venv/bin/python scripts/lint_delta.py --only cfn-yaml-Pr1234 --show
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from multiprocessing import Pool
from pathlib import Path

DEFAULT_CORPUS = Path("../shared/corpus")
_VALIDATE_ENGINE = None


def lint(text: str) -> Counter:
    """(rule, level, "Section/Name") -> number of cfn-lint findings."""
    from cfnlint.api import ManualArgs, lint as cfn_lint

    out: Counter = Counter()
    for m in cfn_lint(text, config=ManualArgs(regions=["us-east-1"])):
        path = list(getattr(m, "path", None) or [])[:2]
        out[(m.rule.id, m.rule.id[:1], "/".join(map(str, path)))] += 1
    return out


def validate(text: str, name: str) -> Counter:
    """(rule, level, logical id) -> number of cloudformation-validate ERROR/WARN diagnostics."""
    global _VALIDATE_ENGINE
    from cloudformation_validate import CompositeEngine, TemplateContent

    if _VALIDATE_ENGINE is None:
        _VALIDATE_ENGINE = CompositeEngine()
    out: Counter = Counter()
    for d in _VALIDATE_ENGINE.validate_template(TemplateContent(text, name)).diagnostics:
        level = d.severity.name
        if level not in ("ERROR", "WARN", "FATAL"):
            continue
        entity = d.entity.logical_id if d.entity is not None else ""
        out[(d.rule_id, level[:1], entity)] += 1
    return out


def run_one(job: tuple) -> dict:
    import cfnfix

    task, path, use_validate = job
    text = Path(path).read_text(encoding="utf-8", errors="surrogateescape")
    rec: dict = {"id": task, "file": Path(path).name}
    try:
        fixed = cfnfix.fix_text(text, filename=Path(path).name).text
        rec["codes"] = []
    except cfnfix.TemplateError:
        fixed = text
        rec["rejected"] = True
    except Exception as e:  # a crash is a finding of this script too
        fixed = text
        rec["crash"] = f"{type(e).__name__}: {e}"[:300]
    rec["changed"] = fixed != text
    try:
        before = lint(text)
        after = lint(fixed) if rec["changed"] else before
    except Exception as e:
        rec["lint_error"] = f"{type(e).__name__}: {e}"[:300]
        return rec
    rec["before"] = [[*k, n] for k, n in before.items()]
    rec["after"] = [[*k, n] for k, n in after.items()]
    if use_validate:
        try:
            vb = validate(text, Path(path).name)
            va = validate(fixed, Path(path).name) if rec["changed"] else vb
            rec["v_before"] = [[*k, n] for k, n in vb.items()]
            rec["v_after"] = [[*k, n] for k, n in va.items()]
        except Exception as e:
            rec["validate_error"] = f"{type(e).__name__}: {e}"[:300]
    return rec


def _counter(rows) -> Counter:
    return Counter({tuple(r[:3]): r[3] for r in rows})


def introduced(before_rows, after_rows) -> list[str]:
    before, after = _counter(before_rows), _counter(after_rows)
    return sorted(f"{rule} at {where or 'template'}" + (f" (x{after[k] - before[k]})" if after[k] - before[k] > 1 else "")
                  for k in after if after[k] > before[k] for rule, _, where in [k])


def summarize(recs: list[dict], use_validate: bool) -> str:
    out: list[str] = []
    p = out.append
    linted = [r for r in recs if "before" in r]
    p(f"model templates: {len(recs)}; linted {len(linted)}; changed by cfnfix {sum(r['changed'] for r in recs)}; "
      f"rejected by cfnfix {sum(bool(r.get('rejected')) for r in recs)}; crashes {sum('crash' in r for r in recs)}")
    before: Counter = Counter()
    after: Counter = Counter()
    for r in linted:
        for rule, level, _, n in r["before"]:
            if level == "E":
                before[rule] += n
        for rule, level, _, n in r["after"]:
            if level == "E":
                after[rule] += n
    total_b, total_a = sum(before.values()), sum(after.values())
    p("")
    p("cfn-lint E findings per rule (before -> after):")
    for rule in sorted(set(before) | set(after), key=lambda k: (-before[k], k)):
        gone = before[rule] - after[rule]
        p(f"  {rule:7s} {before[rule]:5d} -> {after[rule]:5d}" + (f"   -{gone}" if gone > 0 else f"   +{-gone}" if gone < 0 else ""))
    share = f" ({100.0 * (total_b - total_a) / total_b:.1f}% removed)" if total_b else ""
    p(f"  {'total':7s} {total_b:5d} -> {total_a:5d}{share}")
    p("")
    new = [(r["id"], introduced(r["before"], r["after"])) for r in linted]
    new = [(i, n) for i, n in new if n]
    p(f"cfn-lint findings introduced (any level): {sum(len(n) for _, n in new)} in {len(new)} templates")
    for task, items in new:
        p(f"  {task}: {', '.join(items)}")
    if use_validate:
        checked = [r for r in recs if "v_before" in r]
        vb = sum(n for r in checked for *_, n in r["v_before"])
        va = sum(n for r in checked for *_, n in r["v_after"])
        vnew = [(r["id"], introduced(r["v_before"], r["v_after"])) for r in checked]
        vnew = [(i, n) for i, n in vnew if n]
        p("")
        p(f"cloudformation-validate ERROR/WARN diagnostics: {vb} -> {va} over {len(checked)} templates; "
          f"introduced: {sum(len(n) for _, n in vnew)} in {len(vnew)} templates")
        for task, items in vnew:
            p(f"  {task}: {', '.join(items)}")
        errors = [r for r in recs if "validate_error" in r]
        if errors:
            p(f"  cloudformation-validate failed on {len(errors)} templates")
    for r in recs:
        if "crash" in r or "lint_error" in r:
            p(f"! {r['id']}: {r.get('crash') or r.get('lint_error')}")
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", nargs="?", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--validate", action="store_true", help="also compare cloudformation-validate diagnostics")
    ap.add_argument("--only", nargs="*", help="task ids")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--json", type=Path, help="write every record here")
    ap.add_argument("--show", action="store_true", help="print the findings of each template")
    args = ap.parse_args()
    if args.validate:
        try:
            import cloudformation_validate  # noqa: F401
        except ImportError:
            print("--validate needs cloudformation-validate: pip install cloudformation-validate", file=sys.stderr)
            return 2
    tasks = sorted(p for p in (args.corpus / "tasks").iterdir() if p.is_dir())
    if args.only:
        tasks = [t for t in tasks if t.name in args.only]
    jobs = [(t.name, str(m), args.validate) for t in tasks for m in sorted(t.glob("model.*"))[:1]]
    t0 = time.time()
    with Pool(max(1, args.jobs), maxtasksperchild=None) as pool:
        recs = sorted(pool.imap_unordered(run_one, jobs, chunksize=1), key=lambda r: r["id"])
    if args.json:
        args.json.write_text(json.dumps(recs, indent=1))
    if args.show:
        for r in recs:
            print(json.dumps(r), file=sys.stderr)
    print(summarize(recs, args.validate))
    print(f"\n({time.time() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
