"""The short mutation-fuzzing run CI does (the long one is documented in the README)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_short_fuzz_run_has_no_crash_or_hang(tmp_path):
    r = subprocess.run(
        # A fixed number of inputs, not a time budget: the same mutants on every machine (about a
        # minute with ../shared/corpus beside the checkout, seconds without it). Without the
        # validator, whose refusals tests/test_never_worse.py covers: it would double the time. One
        # process: pytest-xdist already keeps every core busy.
        [sys.executable, str(ROOT / "scripts" / "fuzz.py"), "--inputs", "4000", "--seed", "1", "--validator", "none", "--jobs", "1",
         "--save", str(tmp_path / "failures")],
        capture_output=True, text=True, timeout=3600,  # a guard against a wedged run, not a speed test
    )
    summary = r.stdout.strip().splitlines()[-1]
    assert r.returncode == 0, r.stdout + r.stderr
    assert " 0 crashes, 0 hangs, 0 internal errors" in summary
    assert int(summary.split()[1]) >= 4000, summary  # it really ran
