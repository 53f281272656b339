"""Where a template asks cfnfix to leave something alone: ``# cfnfix: ignore[CODE]`` comments and
``Metadata: {cfnfix: {ignore: [CODE]}}``, per top-level entry (a resource, an output, a parameter)."""

from __future__ import annotations

import re

from ..text.document import Document

IGNORE_COMMENT = re.compile(r"#\s*cfnfix:\s*ignore(?:\[([^\]]*)\])?")


class Suppressions:
    def __init__(self, doc: Document):
        self.doc = doc
        self.cache: dict[tuple, set[str] | None] = {}

    def codes(self, entry: tuple) -> set[str]:
        if entry in self.cache:
            return self.cache[entry]
        codes: set[str] = set()
        body = self.doc.data.get(entry[0], {}).get(entry[1]) if isinstance(self.doc.data.get(entry[0]), dict) else None
        meta = body.get("Metadata") if isinstance(body, dict) else None
        ign = meta.get("cfnfix", {}).get("ignore") if isinstance(meta, dict) and isinstance(meta.get("cfnfix"), dict) else None
        if isinstance(ign, str):
            ign = [ign]
        if isinstance(ign, list):
            codes.update(str(c) for c in ign)
        if self.doc.format == "yaml":
            key = self.doc.key_at(entry)
            node = self.doc.node_at(entry)
            if key is not None and node is not None:
                chunk = self.doc.text[self.doc.line_start(key.start) : self.doc.line_end(node.end)]
                for m in IGNORE_COMMENT.finditer(chunk):
                    codes.update(c.strip() for c in (m.group(1) or "ALL").split(",") if c.strip())
        self.cache[entry] = codes
        return codes

    def suppressed(self, code: str, path: tuple) -> bool:
        if len(path) < 2:
            return False
        codes = self.codes(tuple(path[:2]))
        return any(c == "ALL" or code.startswith(c) for c in codes)
