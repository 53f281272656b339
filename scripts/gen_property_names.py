"""Generate fixers/resources/data/property_names.json.gz, the table of valid property names that PROP001
(fixers/resources/property_names.py) checks templates against.

The source is the CloudFormation resource provider schemas that cfn-lint bundles
(cfnlint/data/schemas: providers/<region>.json maps each resource type to a schema file in
resources/). Every region's types are included (a type's schemas are merged when regions
differ); SAM types are not. For each type the script follows the schema from ``properties``
through ``$ref``, ``items`` and ``allOf``/``anyOf``/``oneOf``, and records,
for each object level, the property names allowed there and the level each one leads to.

To refresh the table after upgrading cfn-lint (a development dependency only: cfnfix does not
need it at run time)::

    .venv/bin/python scripts/gen_property_names.py

Table format (JSON, gzip-compressed)::

    {"source": "...", "types": {"AWS::S3::Bucket": 12, ...}, "shapes": ["", "Name:0,Tags:25,...", ...]}

``shapes[i]`` is one object level, ``name:child`` pairs (property names are alphanumeric), each
name saying what its value is, with letters for the kinds of value it takes (o: a mapping, a: a
list, s: a scalar; none: the schema does not say). child 0: nothing to check
below it (a scalar, a free-form object such as a policy document); -1: a read-only property
(known, but never a rename target); n > 0: ``shapes[n]``, for a mapping or for each mapping
item of a list. The key ``"*"`` marks a level that also accepts other names (a map, an object
with ``additionalProperties``); its value is the level those names lead to. Identical levels are
stored once (the levels form a graph: recursive definitions point back at themselves).
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "fixers" / "resources" / "data" / "property_names.json.gz"
COMBINATORS = ("allOf", "anyOf", "oneOf")


def schema_dir() -> Path:
    import cfnlint

    return Path(cfnlint.__file__).parent / "data" / "schemas"


class Builder:
    def __init__(self):
        self.shapes: list[dict] = [{}]  # 0 is "nothing to check"

    def resource(self, schemas: list[dict]) -> int:
        self.memo: dict[frozenset, int] = {}
        readonly = {p.split("/")[2] for s in schemas for p in s.get("readOnlyProperties", ())
                    if p.count("/") == 2 and p.startswith("/properties/")}
        writable = {n for s in schemas for n in s.get("properties", {}) if n not in readonly}
        nodes = [(s, s) for s in schemas]
        sid = self.shape(nodes)
        if sid > 0:
            shape = self.shapes[sid]
            for name in readonly - writable:
                if name in shape:
                    shape[name] = (-1, "")
        return sid

    def expand(self, root: dict, node, out: list, seen: set, primary: bool = True, items: bool = True) -> None:
        """The schema nodes that ``node`` stands for, $ref, items and combinators followed.

        Nodes reached through allOf/anyOf/oneOf are not primary: cfn-lint's schemas use such
        branches mostly for constraints (``required``, a narrower ``properties``), so they add
        names but only make a level open when they say so (patternProperties or
        additionalProperties)."""
        while isinstance(node, dict) and "$ref" in node and id(node) not in seen:
            seen.add(id(node))
            ref = node["$ref"]
            extra = {k: v for k, v in node.items() if k not in ("$ref", "description")}
            if extra:
                self.expand(root, extra, out, seen, False, items)  # constraints beside a $ref
            if not ref.startswith("#/"):
                return
            target = root
            for step in ref[2:].split("/"):
                target = target.get(step) if isinstance(target, dict) else None
            node = target
        if not isinstance(node, dict) or id(node) in seen:
            return
        seen.add(id(node))
        out.append((root, node, primary))
        for key in COMBINATORS:
            for branch in node.get(key, ()) if isinstance(node.get(key), list) else ():
                self.expand(root, branch, out, seen, False, items)
        if items and isinstance(node.get("items"), dict):
            self.expand(root, node["items"], out, seen, primary)

    def shape(self, pairs: list[tuple[dict, dict]]) -> int:
        nodes: list = []
        seen: set = set()
        for root, node in pairs:
            self.expand(root, node, nodes, seen)
        props: dict[str, list] = {}
        others: list = []  # schemas of the values of names the level accepts beyond props
        is_open = False
        for root, node, primary in nodes:
            for name, sub in (node.get("properties") or {}).items():
                props.setdefault(name, []).append((root, sub))
            pattern = node.get("patternProperties")
            if isinstance(pattern, dict):
                is_open = True
                others += [(root, sub) for sub in pattern.values()]
            additional = node.get("additionalProperties", None)
            if isinstance(additional, dict):
                is_open = True
                others.append((root, additional))
            elif additional is True:
                is_open = True
            elif primary and additional is None and ("properties" in node or _is_free_object(node)):
                is_open = True
        if not props and not others:
            return 0
        key = frozenset((id(n), primary) for _, n, primary in nodes)
        if key in self.memo:
            return self.memo[key]
        sid = len(self.shapes)
        self.memo[key] = sid
        shape: dict = {}
        self.shapes.append(shape)
        for name in sorted(props):
            shape[name] = (self.shape(props[name]), self.kinds(props[name]))
        if is_open:
            shape["*"] = (self.shape(others) if others else 0, "")
        return sid

    def kinds(self, pairs: list[tuple[dict, dict]]) -> str:
        """What a value may be: o (mapping), a (list), s (scalar); "" when the schema does not say."""
        nodes: list = []
        for root, node in pairs:
            self.expand(root, node, nodes, set(), items=False)
        types: set[str] = set()
        for _, node, _ in nodes:
            t = node.get("type")
            types.update(t if isinstance(t, list) else [t] if isinstance(t, str) else [])
        if not types:
            return ""
        letters = {"object": "o", "array": "a", "string": "s", "integer": "s", "number": "s", "boolean": "s"}
        return "".join(sorted({letters[t] for t in types if t in letters}))

    def minimise(self, types: dict[str, int]) -> tuple[list[dict], dict[str, int]]:
        """Store identical levels once (Moore's partition refinement over the level graph)."""
        n = len(self.shapes)
        block = [0] * n
        while True:
            def ref(c):
                return c if c <= 0 else block[c] + 1

            sigs = [(block[i], i == 0) + tuple(sorted((k, ref(c), t) for k, (c, t) in s.items()))
                    for i, s in enumerate(self.shapes)]
            ids: dict = {}
            new = [ids.setdefault(sig, len(ids)) for sig in sigs]
            if len(ids) == len(set(block)):
                break
            block = new
        # Number the blocks in first-use order, so that shape 0 stays 0.
        number: dict[int, int] = {}
        final = [number.setdefault(b, len(number)) for b in block]
        out: list[dict] = [{} for _ in number]
        for i in range(n - 1, 0, -1):
            out[final[i]] = {k: (c if c <= 0 else final[c], t) for k, (c, t) in self.shapes[i].items()}
        return out, {rtype: (s if s <= 0 else final[s]) for rtype, s in types.items()}


def _is_free_object(node: dict) -> bool:
    t = node.get("type")
    is_object = t == "object" or (isinstance(t, list) and "object" in t)
    return is_object and not any(k in node for k in COMBINATORS + ("$ref",))


def main() -> int:
    base = schema_dir()
    by_type: dict[str, set[str]] = {}
    for provider in sorted((base / "providers").glob("*.json")):
        if provider.name == "sam.json":
            continue
        for rtype, digest in json.loads(provider.read_text()).items():
            by_type.setdefault(rtype, set()).add(digest)
    builder = Builder()
    types: dict[str, int] = {}
    for rtype in sorted(by_type):
        schemas = [json.loads((base / "resources" / f"{d}.json").read_text()) for d in sorted(by_type[rtype])]
        types[rtype] = builder.resource(schemas)
    shapes, types = builder.minimise(types)
    import cfnlint.version

    version = base / "version.json"
    date = json.loads(version.read_text()).get("schema_date", "") if version.exists() else ""
    encoded = [",".join(f"{name}:{child}{kinds}" for name, (child, kinds) in shape.items()) for shape in shapes]
    table = {"source": f"cfn-lint {cfnlint.version.__version__} schemas {date}".strip(), "types": types, "shapes": encoded}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    raw = json.dumps(table, separators=(",", ":"), sort_keys=False).encode()
    OUT.write_bytes(gzip.compress(raw, compresslevel=9, mtime=0))
    print(f"{OUT}: {len(types)} types, {len(shapes)} levels, {len(raw)} bytes ({OUT.stat().st_size} gzipped)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
