"""Generate fixers/resources/data/resource_facts.json.gz: what TYPE001, REF002, SHAPE001 and
CYCLE001 need to know about each resource type beyond its property names (those are in
property_names.json.gz, made by gen_property_names.py).

The source is the CloudFormation resource provider schemas that cfn-lint bundles, read through
cfn-lint's own schema manager (``cfnlint.schema.PROVIDER_SCHEMA_MANAGER``) so that the attributes
``Fn::GetAtt`` accepts are exactly the ones cfn-lint's E1010 accepts. Every region's types are
included (a type whose schema differs between regions gets the union of its attributes); SAM
types (``AWS::Serverless::*``) are listed apart: they are valid only under the SAM transform.

To refresh after upgrading cfn-lint (a development dependency only)::

    .venv/bin/python scripts/gen_resource_facts.py

Table format (JSON, gzip-compressed)::

    {"source": "cfn-lint 1.58.0 schemas <date>",
     "types": {"AWS::S3::Bucket": {"getatt": ["Arn", "DomainName", ...],
                                   "ref": "Name",            # what Ref returns, when the schema says
                                   "primary": "BucketName",  # the primary identifier, when it is one property
                                   "required": ["..."],
                                   "scalars": {"Port": "i"},  # top-level scalar properties: i integer, n number, b boolean, s string
                                   "lists": {"SubnetIds": "s"}},  # top-level list properties: the kind of their items (o an object)
               ...},
     "sam": ["AWS::Serverless::Function", ...]}

``ref`` is the last part of the ``format`` of the schema's Ref (``AWS::S3::Bucket.Name`` ->
``Name``, ``AWS::IAM::Role.Arn``…) and is absent when the schema does not say. ``primary`` is the
schema's ``primaryIdentifier`` when it is a single top-level property: what ``Ref`` returns for
types managed through the resource registry.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "fixers" / "resources" / "data" / "resource_facts.json.gz"
LETTERS = {"integer": "i", "number": "n", "boolean": "b", "string": "s"}


def schema_dir() -> Path:
    import cfnlint

    return Path(cfnlint.__file__).parent / "data" / "schemas"


def _deref(schema: dict, prop):
    seen = set()
    while isinstance(prop, dict) and "$ref" in prop and prop["$ref"].startswith("#/") and id(prop) not in seen:
        seen.add(id(prop))
        target = schema
        for step in prop["$ref"][2:].split("/"):
            target = target.get(step, {}) if isinstance(target, dict) else {}
        prop = target
    return prop


def _scalar_kind(schema: dict, prop: dict) -> str:
    """i/n/b/s when the property takes one scalar type only, else ""."""
    prop = _deref(schema, prop)
    t = prop.get("type") if isinstance(prop, dict) else None
    return LETTERS.get(t, "") if isinstance(t, str) else ""


def _items_kind(schema: dict, prop: dict) -> str:
    """For a property that takes only a list: its items' kind (i/n/b/s, o for an object), else ""."""
    prop = _deref(schema, prop)
    if not isinstance(prop, dict) or prop.get("type") != "array" or not isinstance(prop.get("items"), dict):
        return ""
    items = _deref(schema, prop["items"])
    t = items.get("type") if isinstance(items, dict) else None
    return "o" if t == "object" else LETTERS.get(t, "") if isinstance(t, str) else ""


def main() -> int:
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER as manager
    import cfnlint.version

    base = schema_dir()
    regions: dict[tuple[str, str], str] = {}  # (type, schema digest) -> a region that has it
    sam: list[str] = []
    for provider in sorted((base / "providers").glob("*.json")):
        if provider.name == "sam.json":
            sam = sorted(json.loads(provider.read_text()))
            continue
        for rtype, digest in json.loads(provider.read_text()).items():
            regions.setdefault((rtype, digest), provider.stem)
    types: dict[str, dict] = {}
    for (rtype, digest), region in sorted(regions.items()):
        entry = types.setdefault(rtype, {"getatt": [], "required": [], "scalars": {}})
        schema = json.loads((base / "resources" / f"{digest}.json").read_text())
        try:
            attrs = list(manager.get_type_getatts(rtype, region))
        except Exception:  # a type cfn-lint cannot resolve in that region: its attributes stay unknown
            attrs = []
        entry["getatt"] = sorted(set(entry["getatt"]) | set(attrs))
        entry["required"] = sorted(set(entry["required"]) | set(schema.get("required", [])))
        for name, prop in (schema.get("properties") or {}).items():
            items = _items_kind(schema, prop)
            if items and entry.setdefault("lists", {}).get(name, items) == items:
                entry["lists"][name] = items
            elif "lists" in entry:
                entry["lists"].pop(name, None)
            kind = _scalar_kind(schema, prop)
            if kind and entry["scalars"].get(name, kind) == kind:
                entry["scalars"][name] = kind
            else:
                entry["scalars"].pop(name, None)
        try:
            fmt = manager.get_type_ref(rtype, region).get("format", "")
        except Exception:
            fmt = ""
        if isinstance(fmt, str) and fmt.startswith(rtype + "."):
            entry["ref"] = fmt[len(rtype) + 1:]
        primary = schema.get("primaryIdentifier")
        if isinstance(primary, list) and len(primary) == 1 and str(primary[0]).count("/") == 2:
            entry["primary"] = str(primary[0]).rsplit("/", 1)[1]
    for entry in types.values():
        if not entry.get("lists", True):
            del entry["lists"]
        if not entry["required"]:
            del entry["required"]
        if not entry["scalars"]:
            del entry["scalars"]
    version = base / "version.json"
    date = json.loads(version.read_text()).get("schema_date", "") if version.exists() else ""
    table = {"source": f"cfn-lint {cfnlint.version.__version__} schemas {date}".strip(), "types": types, "sam": sam}
    raw = json.dumps(table, separators=(",", ":"), sort_keys=True).encode()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(gzip.compress(raw, compresslevel=9, mtime=0))
    print(f"{OUT}: {len(types)} types, {len(raw)} bytes ({OUT.stat().st_size} gzipped)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
