from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from cfnfix.cloudformation import Template
from cfnfix.fixing import Fix, Fixer, Report, Safety
from cfnfix.text.edits import Edit, SetValue

DATA = Path(__file__).resolve().parent / "data" / "engine_versions.json"
# Which table a resource's versions are looked up in. Aurora DB instances take their version from
# their cluster, so Aurora engines always use the cluster table (the two agree on one target).
KINDS = {"AWS::RDS::DBInstance": "DBInstance", "AWS::RDS::DBCluster": "DBCluster", "AWS::RDS::GlobalCluster": "DBCluster"}
GROUP_PROPERTY = {"AWS::RDS::DBInstance": ("DBParameterGroupName", "AWS::RDS::DBParameterGroup"),
                  "AWS::RDS::DBCluster": ("DBClusterParameterGroupName", "AWS::RDS::DBClusterParameterGroup")}
# Properties that make a database a copy of another one: its version must suit the source.
RESTORED_FROM = ("SourceDBInstanceIdentifier", "DBSnapshotIdentifier", "SnapshotIdentifier",
                 "SourceDBClusterIdentifier", "SourceDBInstanceAutomatedBackupsArn", "RestoreTime",
                 "SourceDbiResourceId", "UseLatestRestorableTime")
_LEADING_NUMBER = re.compile(r"\d+(?:\.\d+)*")
_PART = re.compile(r"\d+|[a-z_]+")


@lru_cache(maxsize=1)
def table() -> dict:
    return json.loads(DATA.read_text())


def version_key(version: str) -> tuple:
    """Order of versions: numerically part by part ("8.0.9" < "8.0.10"); a suffix makes a
    version newer than its plain base ("8.0.46" < "8.0.46-rds.20260908")."""
    # Numbers compare by their digits (length first), so that no version is too long to compare.
    return tuple((0, len(p.lstrip("0")), p.lstrip("0")) if p.isdigit() else (1, 0, p) for p in _PART.findall(version.lower()))


def major_line(engine: str, version: str) -> str | None:
    """The major line a version belongs to, as RDS names parameter group families: "8.0" for MySQL,
    MariaDB and Aurora MySQL, "16" for PostgreSQL 10 and later ("9.6" before), "19" for Oracle,
    "16.00" for SQL Server, "11.5" for Db2. None for custom engines (their versions are names)."""
    m = _LEADING_NUMBER.match(version)
    if not m or engine.startswith("custom-"):
        return None
    parts = m.group().split(".")
    if engine in ("postgres", "aurora-postgresql"):
        return parts[0] if len(parts[0].lstrip("0")) > 1 else ".".join(parts[:2])  # 10 and later
    if engine.startswith("oracle-"):
        return parts[0]
    return ".".join(parts[:2])


@dataclass
class Verdict:
    """What the table says about one engine version."""

    ok: bool
    target: str | None = None  # the version to use instead
    why: str = ""  # "deprecated" / "not offered"
    report: str | None = None  # a finding to report instead of a fix


def judge(kind: str, engine: str, version: str) -> Verdict:
    engines = table()[kind]
    if engine not in engines:
        return Verdict(True)
    offered, deprecated = engines[engine]["offered"], set(engines[engine]["deprecated"])
    if version in offered:
        return Verdict(True)
    line = major_line(engine, version)
    if line is None:
        return Verdict(True)
    in_line = [v for v in offered if major_line(engine, v) == line]
    if version == line and in_line:
        return Verdict(True)  # a major version alone: RDS picks that line's default minor version
    if version not in deprecated:
        known = in_line + [v for v in deprecated if major_line(engine, v) == line]
        if not known or version_key(version) > max(map(version_key, known)):
            return Verdict(True)  # newer than the table (or an unknown line): not ours to judge
    why = "is deprecated" if version in deprecated else "is not a version RDS offers"
    if not in_line:
        lines = sorted({major_line(engine, v) for v in offered} - {None}, key=version_key)
        newer = [ln for ln in lines if version_key(ln) > version_key(line)]
        choice = ", ".join(newer or lines)
        return Verdict(False, why=why, report=(
            f"no {engine} {line} version can be created any more; choose a version of a newer major line "
            f"({choice}), and check the application and the parameter group family against it"))
    candidates = [v for v in in_line if ("limitless" in v) == ("limitless" in version) and v != line] or in_line
    plain = [v for v in candidates if "-" not in v]
    return Verdict(False, max(plain or candidates, key=version_key), why)


@dataclass
class Database:
    """One RDS resource with its engine and version as the template gives them."""

    name: str
    type: str
    props: dict
    engine: str | None
    version: str | None = None
    version_path: tuple | None = None  # where the literal version is written (property or parameter Default)
    parameter: str | None = None  # the parameter that holds the version, if any
    final: str | None = None  # the version after the fix (or the current one when it is fine)
    edits: list[Edit] = field(default_factory=list)


class EngineVersion(Fixer):
    code = "RDS001"
    name = "rds-engine-version"
    summary = "RDS or Aurora `EngineVersion` that RDS no longer creates (deprecated or not offered)"
    safety = Safety.UNSAFE
    default = True
    docs = """
## What it does
Checks the `EngineVersion` of `AWS::RDS::DBInstance`, `AWS::RDS::DBCluster` and
`AWS::RDS::GlobalCluster` against the versions RDS offers for the engine (a table generated from
cfn-lint's copy of `DescribeDBEngineVersions`). A version that is deprecated, or that RDS does not
offer, becomes the newest offered version of the same major line (`8.0.35` → the newest `8.0.x`
for `mysql`). A version given by a parameter has its `Default` changed (and the entry of
`AllowedValues` that held it).

With the version it checks the parameter group: the `Family` of the
`AWS::RDS::DBParameterGroup` / `AWS::RDS::DBClusterParameterGroup` that the database names must
be the family of its version (`aurora-mysql8.0` for `8.0.mysql_aurora.3.x`, `postgres16` for
`16.x`); a family that does not match is set to the version's.

Reported, not changed: a version whose whole major line RDS no longer creates (moving to another
major version is an upgrade a person must decide); Aurora Serverless v1 (`EngineMode:
serverless`, retired); an Aurora Serverless v2 cluster on a line that v2 does not support; a
database restored from a snapshot or another database (its version must suit the source); a
parameter group shared by databases of different families.

A major version alone (`EngineVersion: '8.0'`) is left alone: RDS uses that line's default minor
version. So is a version newer than the table's newest for its line (the table may be older than
the release).

## Why it breaks deploys
RDS creates databases only with an engine version it currently offers, and with a parameter group
of that version's family. A deprecated or unknown version fails with "Cannot find version 8.0.35
for mysql" (InvalidParameterCombination), and a parameter group of another family fails with "The
parameter group … with DBParameterGroupFamily … can't be used for this instance".

## Example
```yaml
Database:
  Type: AWS::RDS::DBInstance
  Properties:
    Engine: mysql
    EngineVersion: 8.0.35
    DBInstanceClass: db.t3.micro
    AllocatedStorage: '20'
    DBParameterGroupName: !Ref DatabaseParameters
DatabaseParameters:
  Type: AWS::RDS::DBParameterGroup
  Properties:
    Family: mysql5.7
    Description: Database settings
```
Use instead:
```yaml
Database:
  Type: AWS::RDS::DBInstance
  Properties:
    Engine: mysql
    EngineVersion: 8.0.46
    DBInstanceClass: db.t3.micro
    AllocatedStorage: '20'
    DBParameterGroupName: !Ref DatabaseParameters
DatabaseParameters:
  Type: AWS::RDS::DBParameterGroup
  Properties:
    Family: mysql8.0
    Description: Database settings
```

## Fix safety
Unsafe: the database is created with a newer minor version than the template names (same major
version, so the same SQL dialect and features; minor versions fix bugs and security issues). A
changed parameter group family keeps the group's parameters: check that they exist in the new
family. The version table ages: refresh it (`python scripts/gen_rds_engine_versions.py` after
upgrading cfn-lint) so that the newest offered version is current.

## References
- [Amazon RDS: `DescribeDBEngineVersions`](https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBEngineVersions.html)
- [Amazon RDS: Upgrading a DB instance engine version](https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_UpgradeDBInstance.Upgrading.html)
- [Amazon RDS: Working with parameter groups](https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_WorkingWithParamGroups.html)
- [Aurora Serverless v2 requirements](https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/aurora-serverless-v2.requirements.html)
- [`AWS::RDS::DBCluster` EngineVersion](https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-rds-dbcluster.html#cfn-rds-dbcluster-engineversion)
- cfn-lint rules E3690, E3691 (version not offered) and W3691 (deprecated version)
"""

    def run(self, template: Template):
        dbs = [self._database(template, name, res, props)
               for name, res, props in template.resources_of_type(*KINDS)]
        dbs = [db for db in dbs if db.engine]
        by_name = {db.name: db for db in dbs}
        clusters = {db.name for db in dbs if db.type == "AWS::RDS::DBCluster"}
        serverless_v2 = {n for n in clusters if "ServerlessV2ScalingConfiguration" in by_name[n].props}
        for db in dbs:
            cluster = _ref(db.props.get("DBClusterIdentifier"))
            if db.type == "AWS::RDS::DBInstance" and cluster in clusters and db.props.get("DBInstanceClass") == "db.serverless":
                serverless_v2.add(cluster)
        fixes: list[tuple[Database, str, str]] = []  # (database, old version, why)
        by_parameter: dict[str, list[Database]] = {}
        for db in dbs:
            if db.version is None:
                continue
            path = ("Resources", db.name, "Properties", "EngineVersion")
            if db.type == "AWS::RDS::DBCluster" and str(db.props.get("EngineMode", "")).lower() == "serverless":
                yield Report(f"DB cluster {db.name}: Aurora Serverless v1 (EngineMode: serverless) was retired on "
                             f"{table()['serverless_v1_end_of_life']} and cannot be created; move to Aurora Serverless v2 "
                             "(a provisioned cluster with ServerlessV2ScalingConfiguration and db.serverless instances)", path)
                continue
            verdict = judge("DBCluster" if db.engine.startswith("aurora") else KINDS[db.type], db.engine, db.version)
            if verdict.ok:
                db.final = db.version
                continue
            if verdict.report:
                yield Report(f"{_label(db)}: engine version {db.version} {verdict.why}, and {verdict.report}", path)
                continue
            if any(p in db.props for p in RESTORED_FROM):
                yield Report(f"{_label(db)}: engine version {db.version} {verdict.why}; the database is restored from another "
                             f"one, so choose an offered version that its source can be restored to (such as {verdict.target})", path)
                continue
            if db.name in serverless_v2 and major_line(db.engine, verdict.target) not in table()["serverless_v2"].get(db.engine, []):
                continue  # reported below, with the line
            db.final = verdict.target
            if db.parameter:
                by_parameter.setdefault(db.parameter, []).append(db)
            else:
                db.edits.append(SetValue(db.version_path, verdict.target))
            fixes.append((db, db.version, verdict.why))
        for db in dbs:  # Aurora instances follow their cluster
            cluster = by_name.get(_ref(db.props.get("DBClusterIdentifier")) or "")
            if db.final is None and db.version is None and cluster is not None and cluster.engine == db.engine:
                db.final = cluster.final
        for name in sorted(serverless_v2):
            db = by_name[name]
            line = major_line(db.engine, db.final or db.version or "") if (db.final or db.version) else None
            lines = table()["serverless_v2"].get(db.engine)
            if line and lines is not None and line not in lines:
                yield Report(f"DB cluster {name}: Aurora Serverless v2 does not support {db.engine} {line} "
                             f"(engine version {db.version}); use a version of {', '.join(lines)}",
                             ("Resources", name, "Properties", "EngineVersion"))
        yield from self._parameter_fixes(template, by_parameter, fixes)
        group_edits, group_notes, reports = self._family_edits(template, dbs)
        yield from reports
        done_groups: set[str] = set()
        for db, old, why in fixes:
            if db.parameter:
                continue
            edits = list(db.edits)
            notes = []
            for group in group_edits:
                if db.name in group_notes[group][2] and group not in done_groups:
                    edits.append(group_edits[group])
                    notes.append(group_notes[group][0])
                    done_groups.add(group)
            yield Fix(f"{_label(db)}: set EngineVersion to {db.final}, the newest {db.engine} {major_line(db.engine, db.final)} "
                      f"version RDS offers ({old} {why}){''.join('; ' + n for n in notes)}",
                      edits, ("Resources", db.name, "Properties", "EngineVersion"))
        for group, edit in group_edits.items():
            if group not in done_groups:
                yield Fix(group_notes[group][1], [edit], ("Resources", group, "Properties", "Family"))

    # ----- reading the template --------------------------------------------------------------
    def _database(self, template: Template, name: str, res: dict, props: dict) -> Database:
        engine = props.get("Engine")
        db = Database(name, res["Type"], props, engine.strip().lower() if isinstance(engine, str) else None)
        value = props.get("EngineVersion")
        path = ("Resources", name, "Properties", "EngineVersion")
        param = _ref(value)
        if param and param in template.parameters:
            body = template.parameters[param]
            if not isinstance(body, dict) or "Default" not in body:
                return db
            value, path = body["Default"], ("Parameters", param, "Default")
            db.parameter = param
        db.version = _text(template, path, value)
        db.version_path = path if db.version is not None else None
        return db

    # ----- versions held by parameters ---------------------------------------------------------
    def _parameter_fixes(self, template: Template, by_parameter: dict, fixes: list):
        for param, users in by_parameter.items():
            targets = {u.final for u in users}
            others = [r.owner for r in template.references_to(param, ("Ref", "Sub"))
                      if r.section == "Resources" and r.path[-1:] != ("EngineVersion",) and r.path[-2:-1] != ("EngineVersion",)]
            path = ("Parameters", param, "Default")
            if len(targets) > 1:
                yield Report(f"Parameter {param}: default engine version {users[0].version} is not offered, and the "
                             f"databases that use it need different versions ({', '.join(sorted(targets))})", path)
                continue
            target = targets.pop()
            body = template.parameters[param]
            edits: list[Edit] = [SetValue(path, target)]
            allowed = body.get("AllowedValues")
            extra = ""
            if isinstance(allowed, list):
                texts = [_text(template, ("Parameters", param, "AllowedValues", i), v) for i, v in enumerate(allowed)]
                if target not in texts and users[0].version in texts:
                    edits.append(SetValue(("Parameters", param, "AllowedValues", texts.index(users[0].version)), target))
                    extra = f" (and the AllowedValues entry {users[0].version})"
            names = ", ".join(u.name for u in users)
            note = f" (also used by {', '.join(sorted(set(others)))})" if others else ""
            old, why = next((o, w) for d, o, w in fixes if d is users[0])
            yield Fix(f"Parameter {param}: set the default engine version to {target}{extra}, the newest {users[0].engine} "
                      f"{major_line(users[0].engine, target)} version RDS offers ({old} {why}; used by {names}){note}",
                      edits, path)

    # ----- parameter group families ------------------------------------------------------------
    def _family_edits(self, template: Template, dbs: list[Database]):
        """SetValue edits of the Family of parameter groups that do not match their databases'
        versions, with a note and the databases each concerns; reports for shared groups."""
        wanted: dict[str, dict[str, list[str]]] = {}  # group -> family -> databases
        families = table()["families"]
        for db in dbs:
            spec = GROUP_PROPERTY.get(db.type)
            if spec is None or db.final is None:
                continue
            group = _ref(db.props.get(spec[0]))
            if group is None or template.resource_type(group) != spec[1]:
                continue
            line = major_line(db.engine, db.final)
            family = families.get(db.engine, {}).get(line) if line else None
            if family is None:
                wanted.setdefault(group, {}).setdefault("", []).append(db.name)
            else:
                wanted.setdefault(group, {}).setdefault(family, []).append(db.name)
        edits, notes, reports = {}, {}, []
        for group, by_family in wanted.items():
            props = template.resources[group].get("Properties")
            current = props.get("Family") if isinstance(props, dict) else None
            if not isinstance(current, str) or "" in by_family:
                continue
            if len(by_family) > 1:
                if current.lower() not in by_family:
                    desc = "; ".join(f"{f} for {', '.join(n)}" for f, n in sorted(by_family.items()))
                    reports.append(Report(f"Parameter group {group}: family {current} does not match the databases that "
                                          f"use it, which need different families ({desc}); give each family its own group",
                                          ("Resources", group, "Properties", "Family")))
                continue
            (family, names), = by_family.items()
            if current.lower() == family.lower():
                continue
            check = " (check that its Parameters exist in that family)" if props.get("Parameters") else ""
            users = ", ".join(names)
            edits[group] = SetValue(("Resources", group, "Properties", "Family"), family)
            notes[group] = (f"set the Family of parameter group {group} to {family} to match{check}",
                            f"Parameter group {group}: set Family to {family}, the family of the engine version of "
                            f"{users}{check}", set(names))
        return edits, notes, reports


def _label(db: Database) -> str:
    return {"AWS::RDS::DBInstance": "DB instance", "AWS::RDS::DBCluster": "DB cluster",
            "AWS::RDS::GlobalCluster": "Global cluster"}[db.type] + f" {db.name}"


def _ref(value) -> str | None:
    """The logical id a ``Ref`` names (not GetAtt: RDS names are passed by Ref)."""
    if isinstance(value, dict) and list(value) == ["Ref"] and isinstance(value["Ref"], str):
        return value["Ref"]
    return None


def _text(template: Template, path: tuple, value) -> str | None:
    """A version as written: strings as they are, numbers as their source text (YAML reads
    `8.0` as a float; RDS gets the characters)."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        written = template.doc.source_of(path)
        if written is not None:
            return written or None
        return str(value)
    return None
