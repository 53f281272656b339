"""Generate fixers/rds/data/engine_versions.json, the table of RDS and Aurora engine versions that
RDS001 (fixers/rds/engine_version.py) checks templates against.

The source is the engine versions that cfn-lint bundles for its rules E3690/E3691/W3691 (cfn-lint
builds them from the RDS ``DescribeDBEngineVersions`` API):
``cfnlint/data/schemas/extensions/aws_rds_dbinstance/engine_version.json`` and
``engine_version_deprecated.json``, and the same two files under ``aws_rds_dbcluster/``. The first
lists every version RDS knows for an engine; the second, those that are deprecated, which RDS no
longer uses to create a database. A version is *offered* when it is in the first list and not in
the second.

To each engine and major line the table adds the parameter group family RDS names for it
(``mysql8.0``, ``aurora-postgresql16``, ``sqlserver-ee-16.0``…, following the naming that
``describe-db-engine-versions --query "DBEngineVersions[].DBParameterGroupFamily"`` shows), and the
Aurora lines that Aurora Serverless v2 supports (Aurora MySQL version 3 and later, Aurora
PostgreSQL 13 and later: "Supported features in Amazon Aurora by AWS Region and Aurora DB engine",
Aurora User Guide).

To refresh the table after upgrading cfn-lint (a development dependency only: cfnfix does not need
it at run time)::

    .venv/bin/python scripts/gen_rds_engine_versions.py

Table format (JSON)::

    {"source": "...", "generated": "YYYY-MM-DD",
     "DBInstance": {"mysql": {"offered": ["8.0.42", ...], "deprecated": ["8.0.35", ...]}, ...},
     "DBCluster": {...},
     "families": {"mysql": {"8.0": "mysql8.0", ...}, ...},
     "serverless_v2": {"aurora-mysql": ["8.0", "8.4"], "aurora-postgresql": ["13", ...]},
     "serverless_v1_end_of_life": "2025-03-31"}

Versions are sorted oldest first (numerically, part by part).
"""

from __future__ import annotations

import datetime
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "fixers" / "rds" / "data" / "engine_versions.json"
KINDS = {"DBInstance": "aws_rds_dbinstance", "DBCluster": "aws_rds_dbcluster"}


def extensions_dir() -> Path:
    import cfnlint

    return Path(cfnlint.__file__).parent / "data" / "schemas" / "extensions"


def _by_engine(schema: dict, where: str) -> dict[str, list[str]]:
    """{engine: versions} from cfn-lint's if/then blocks: the versions sit in ``then`` (all known
    versions) or in ``if`` (the deprecated ones)."""
    out: dict[str, list[str]] = {}
    for block in schema.get("allOf", []):
        cond = block.get("if", {}).get("properties", {})
        engine = cond.get("Engine", {}).get("const")
        if not isinstance(engine, str):
            continue
        holder = cond if where == "if" else block.get("then", {}).get("properties", {})
        versions = holder.get("EngineVersion", {}).get("enum")
        if isinstance(versions, list):
            out[engine] = [str(v) for v in versions]
    return out


def family(engine: str, line: str) -> str | None:
    """The parameter group family RDS names for an engine's major line."""
    if engine in ("mysql", "mariadb", "postgres", "aurora-mysql", "aurora-postgresql"):
        return f"{engine}{line}"
    if engine.startswith("oracle-"):
        return f"{engine}-{line}"
    if engine.startswith("sqlserver-"):  # line "16.00" -> family sqlserver-ee-16.0
        major, _, minor = line.partition(".")
        return f"{engine}-{major}.{int(minor or 0)}"
    if engine.startswith("db2-"):
        return f"{engine}-{line}"
    return None


def main() -> int:
    from cfnfix.fixers.rds.engine_version import major_line, version_key

    import cfnlint.version

    base = extensions_dir()
    table: dict = {
        "source": f"cfn-lint {cfnlint.version.__version__}: data/schemas/extensions/aws_rds_dbinstance and "
                  "aws_rds_dbcluster, engine_version.json and engine_version_deprecated.json (from the RDS "
                  "DescribeDBEngineVersions API); parameter group families and Serverless v2 lines from the "
                  "RDS and Aurora user guides",
        "generated": datetime.date.today().isoformat(),
    }
    families: dict[str, dict[str, str]] = {}
    for kind, folder in KINDS.items():
        known = _by_engine(json.loads((base / folder / "engine_version.json").read_text()), "then")
        deprecated = _by_engine(json.loads((base / folder / "engine_version_deprecated.json").read_text()), "if")
        engines = {}
        for engine in sorted(known):
            dep = set(deprecated.get(engine, ()))
            engines[engine] = {
                "offered": sorted((v for v in set(known[engine]) if v not in dep), key=version_key),
                "deprecated": sorted(dep, key=version_key),
            }
            for v in known[engine]:
                line = major_line(engine, v)
                name = family(engine, line) if line and line != v else None  # not from an alias ("9")
                if name:
                    families.setdefault(engine, {})[line] = name
        table[kind] = engines
    table["families"] = {e: dict(sorted(f.items(), key=lambda kv: version_key(kv[0]))) for e, f in sorted(families.items())}
    table["serverless_v2"] = {
        engine: [line for line in table["families"].get(engine, {}) if version_key(line) >= version_key(first)]
        for engine, first in (("aurora-mysql", "8.0"), ("aurora-postgresql", "13"))
    }
    # "Aurora Serverless v1 end of life" (Aurora User Guide): no v1 cluster can be created after it.
    table["serverless_v1_end_of_life"] = "2025-03-31"
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(table, indent=1) + "\n")
    counts = ", ".join(f"{kind}: {sum(len(e['offered']) for e in table[kind].values())} offered" for kind in KINDS)
    print(f"{OUT}: {counts}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
