"""Generate fixers/lambda_/data/runtimes.json, the Lambda runtime lifecycle table that LAMBDA002 and
LAMBDA004 (fixers/lambda_/runtime.py) read.

The dates come from the runtime lifecycle that cfn-lint bundles for its rules E2531/E2533/W2531
(``cfnlint/data/AdditionalSpecs/LmbdRuntimeLifecycle.json``, from the Lambda developer guide's
"Lambda runtimes" page): per runtime identifier the date it is deprecated, the date Lambda blocks
creating functions with it (``create-block``) and the date it blocks updating them
(``update-block``). The script adds, per runtime, its language and version (so that the fixers can
find the nearest newer version of the same language), and per language the facts the fixers check
inline code against:

- Node.js: the AWS SDK for JavaScript v2 (``aws-sdk``) is included up to Node.js 16; Node.js 18
  and later include only v3 (Lambda developer guide, "Building Lambda functions with Node.js",
  runtime-included SDK versions). Node.js 24 and later no longer run callback-based handlers
  ("Define Lambda function handler in Node.js": callback-based handlers are supported by Node.js
  22 and earlier only).
- Python: the standard library modules each Python release removed (the "Removed" sections of
  the Python "What's New" documents: 3.8 macpath; 3.9 _dummy_thread, dummy_threading; 3.10
  formatter, parser, symbol; 3.11 binhex; 3.12 asynchat, asyncore, distutils, imp, smtpd
  (PEP 594, PEP 632); 3.13 the rest of PEP 594 and lib2to3).

To refresh the table after upgrading cfn-lint (a development dependency only)::

    .venv/bin/python scripts/gen_lambda_runtimes.py

Table format (JSON)::

    {"source": "...", "generated": "YYYY-MM-DD",
     "runtimes": {"python3.9": {"language": "python3", "version": [3, 9], "deprecated": "2025-12-15",
                                "create_block": "2027-02-01", "update_block": "2027-03-03",
                                "successor": "python3.14"}, ...},
     "nodejs": {"sdk_v2_until": 16, "callback_handlers_until": 22},
     "python_removed": {"3.12": ["asynchat", ...], ...}}

A date is null when Lambda has not announced it.
"""

from __future__ import annotations

import datetime
import json
import re
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "fixers" / "lambda_" / "data" / "runtimes.json"

PYTHON_REMOVED = {
    "3.8": ["macpath"],
    "3.9": ["_dummy_thread", "dummy_threading"],
    "3.10": ["formatter", "parser", "symbol"],
    "3.11": ["binhex"],
    "3.12": ["asynchat", "asyncore", "distutils", "imp", "smtpd"],
    "3.13": ["aifc", "audioop", "cgi", "cgitb", "chunk", "crypt", "imghdr", "lib2to3", "mailcap", "msilib", "nis",
             "nntplib", "ossaudiodev", "pipes", "sndhdr", "spwd", "sunau", "telnetlib", "uu", "xdrlib"],
}
NODEJS = {"sdk_v2_until": 16, "callback_handlers_until": 22}


def language(runtime: str) -> tuple[str, list] | None:
    """(language, version) of a runtime identifier: python3.9 -> ("python3", [3, 9]),
    nodejs4.3-edge -> ("nodejs", [4, 3]), java8.al2 -> ("java", [8, 1]), provided.al2 -> ("provided", [2])."""
    if runtime == "nodejs":
        return "nodejs", [0, 10]
    if m := re.fullmatch(r"nodejs(\d+)(?:\.(\d+|x))?(?:-edge)?", runtime):
        return "nodejs", [int(m[1]), int(m[2]) if m[2] and m[2].isdigit() else 0]
    if m := re.fullmatch(r"python(\d)\.(\d+)", runtime):
        return f"python{m[1]}", [int(m[1]), int(m[2])]
    if m := re.fullmatch(r"java(\d+)(\.al2)?", runtime):
        return "java", [int(m[1]), 1 if m[2] else 0]
    if m := re.fullmatch(r"ruby(\d+)\.(\d+)", runtime):
        return "ruby", [int(m[1]), int(m[2])]
    if m := re.fullmatch(r"dotnet(?:core)?(\d+)(?:\.(\d+))?", runtime):
        return "dotnet", [int(m[1]), int(m[2] or 0)]
    if m := re.fullmatch(r"provided(?:\.al(\d+))?", runtime):
        return "provided", [int(m[1] or 1)]
    if runtime == "go1.x":
        return "go", [1]
    return None


def main() -> int:
    import cfnlint
    import cfnlint.version

    source = Path(cfnlint.__file__).parent / "data" / "AdditionalSpecs" / "LmbdRuntimeLifecycle.json"
    lifecycle = json.loads(source.read_text())
    runtimes = {}
    for runtime, dates in sorted(lifecycle.items()):
        lang = language(runtime)
        if lang is None:
            print(f"unknown runtime {runtime}: add it to language()", file=sys.stderr)
            return 1
        runtimes[runtime] = {
            "language": lang[0],
            "version": lang[1],
            "deprecated": dates.get("deprecated"),
            "create_block": dates.get("create-block"),
            "update_block": dates.get("update-block"),
            "successor": dates.get("successor"),
        }
    table = {
        "source": f"cfn-lint {cfnlint.version.__version__}: data/AdditionalSpecs/LmbdRuntimeLifecycle.json (the Lambda "
                  "developer guide's runtime deprecation dates); Node.js SDK and handler facts from the Lambda developer "
                  "guide; removed Python modules from the Python \"What's New\" documents",
        "generated": datetime.date.today().isoformat(),
        "runtimes": runtimes,
        "nodejs": NODEJS,
        "python_removed": PYTHON_REMOVED,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(table, indent=1) + "\n")
    print(f"{OUT}: {len(runtimes)} runtimes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
