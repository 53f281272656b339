"""Where a template asks cfnfix to leave something alone.

For one top-level entry (a resource, an output, a parameter, a condition):

- ``# cfnfix: ignore[CODE, ...]`` on the entry's key line, on the full-line comments directly
  above it, or on any line of the entry; ``# cfnfix: ignore`` alone ignores every fixer;
- ``Metadata: {cfnfix: {ignore: [CODE, ...]}}`` in a resource or an output (YAML and JSON);
- from the template's top-level ``Metadata``, by name — the way for JSON parameters, which
  cannot carry ``Metadata`` (cfn-lint E2001): ``Metadata: {cfnfix: {ignore: {SM001: [DBPassword]}}}``.

For the whole file: ``# cfnfix: ignore-file[CODE, ...]`` on a line of its own, or the top-level
``Metadata: {cfnfix: {ignore: [CODE, ...]}}``. A bare ``# cfnfix: ignore-file`` makes the command
line leave the file alone altogether (``file_ignored``).

Codes are case-insensitive and may be prefixes (``EC2``). In a reference cycle (security groups
that reference each other…), an ignore on any member of the cycle also stops a fix of a reference
that closes the cycle: such a fix is about every member.

``recording()`` collects which directives suppressed something, and ``audit`` lists the ones
that name no fixer or (on request) suppressed nothing, like ruff's RUF100.
"""

from __future__ import annotations

import re
import weakref
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Iterator

from ..cloudformation.references import collect
from ..errors import TemplateError
from ..text.document import Document
from .result import Finding

IGNORE_COMMENT = re.compile(r"#\s*cfnfix:\s*ignore(?![-\w])(?:\[([^\]]*)\])?", re.I)
IGNORE_FILE = re.compile(r"^[ \t]*#\s*cfnfix:\s*ignore-file(?![-\w])(?:\[([^\]]*)\])?", re.I | re.M)
_MENTION = re.compile(r"cfnfix", re.I)


def says_cfnfix(text: str) -> bool:
    """Whether ``text`` says "cfnfix" in any case (a case-blind regex search is slow on a large
    text; for ASCII text, lowering it first is the same question)."""
    if text.isascii():
        return "cfnfix" in text.lower()
    return _MENTION.search(text) is not None
SECTIONS = ("Resources", "Outputs", "Parameters", "Conditions", "Mappings", "Rules")

# Codes of the findings ``audit`` makes (they are not fixers: they cannot be selected).
UNKNOWN_IGNORE = "unknown-ignore"
UNUSED_IGNORE = "unused-ignore"
AUDIT_CODES = (UNKNOWN_IGNORE, UNUSED_IGNORE)

_USED: ContextVar[set | None] = ContextVar("cfnfix_suppressions_used", default=None)


@dataclass(frozen=True)
class Directive:
    """One code (or ``ALL``) of one suppression."""

    scope: tuple  # ("file",), ("entry", section, name) or ("named", name)
    source: str  # "comment" or "metadata"
    pattern: str  # upper case; "ALL" for every fixer
    line: int = 1
    column: int = 1

    @property
    def key(self) -> tuple:
        return (self.scope, self.source, self.pattern)

    @property
    def path(self) -> tuple:
        if self.scope[0] == "entry":
            return self.scope[1:]
        if self.scope[0] == "named":
            return ("Metadata", "cfnfix", "ignore")
        return ()

    def covers(self, code: str) -> bool:
        return self.pattern == "ALL" or code.upper().startswith(self.pattern)


def _patterns(inside: str | None) -> list[str]:
    if inside is None:
        return ["ALL"]
    codes = [c.strip().upper() for c in inside.split(",") if c.strip()]
    return codes or ["ALL"]


_MENTIONS: "weakref.WeakKeyDictionary[Document, bool]" = weakref.WeakKeyDictionary()


def _mentions(doc: Document) -> bool:
    """Whether the text says "cfnfix" at all (asked once per document, not once per fixer)."""
    try:
        return _MENTIONS[doc]
    except KeyError:
        found = _MENTIONS[doc] = says_cfnfix(doc.text)
        return found
    except TypeError:  # pragma: no cover - a document that cannot be weakly referenced
        return says_cfnfix(doc.text)


def file_ignored(text: str) -> bool:
    """True when a line of its own says ``# cfnfix: ignore-file`` (no codes): leave the file alone."""
    if not says_cfnfix(text):
        return False
    return any(_patterns(m.group(1)) == ["ALL"] for m in IGNORE_FILE.finditer(text))


@contextmanager
def recording() -> Iterator[set]:
    """Collect the keys of the directives that suppress something while the block runs."""
    used: set = set()
    token = _USED.set(used)
    try:
        yield used
    finally:
        _USED.reset(token)


class Suppressions:
    def __init__(self, doc: Document):
        self.doc = doc
        self.active = _mentions(doc)  # no "cfnfix" in the text: nothing to look for
        self._entries: dict[tuple, list[Directive]] = {}
        self._file: list[Directive] | None = None
        self._named: dict[str, list[Directive]] | None = None
        self._graph: dict[str, set[str]] | None = None

    # ----- what the template says ------------------------------------------------------------------
    def _position(self, path: tuple) -> tuple[int, int]:
        node = self.doc.node_at(path)
        return (node.line, node.column) if node is not None else (1, 1)

    def _metadata_codes(self, path: tuple) -> Any:
        body = self.doc.data
        for step in path:
            body = body.get(step) if isinstance(body, dict) else None
        meta = body.get("Metadata") if isinstance(body, dict) else None
        own = meta.get("cfnfix") if isinstance(meta, dict) else None
        return own.get("ignore") if isinstance(own, dict) else None

    def _listed(self, value: Any, path: tuple, scope: tuple) -> list[Directive]:
        items = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        out = []
        for i, code in enumerate(items):
            if isinstance(code, str) and code.strip():
                line, col = self._position(path + ((i,) if isinstance(value, list) else ()))
                out.append(Directive(scope, "metadata", code.strip().upper(), line, col))
        return out

    def file_directives(self) -> list[Directive]:
        if self._file is None:
            self._file, self._named = [], {}
            if self.active:
                for m in IGNORE_FILE.finditer(self.doc.text):
                    line, col = self.doc.position(m.start() + m.group(0).index("#"))
                    self._file += [Directive(("file",), "comment", p, line, col) for p in _patterns(m.group(1))]
                ign = self._metadata_codes(())
                where = ("Metadata", "cfnfix", "ignore")
                if isinstance(ign, dict):
                    for code, names in ign.items():
                        if not isinstance(code, str):
                            continue
                        line, col = self._position(where + (code,))
                        for name in [names] if isinstance(names, str) else names if isinstance(names, list) else []:
                            if isinstance(name, str):
                                self._named.setdefault(name, []).append(Directive(("named", name), "metadata", code.strip().upper(), line, col))
                else:
                    self._file += self._listed(ign, where, ("file",))
        return self._file

    def named_directives(self, name: str) -> list[Directive]:
        self.file_directives()
        return self._named.get(name, []) if self._named else []

    def entry_directives(self, section: str, name: str) -> list[Directive]:
        entry = (section, name)
        if entry in self._entries:
            return self._entries[entry]
        out: list[Directive] = []
        if self.active and isinstance(self.doc.data.get(section), dict) and name in self.doc.data[section]:
            scope = ("entry", section, name)
            out += self._listed(self._metadata_codes(entry), entry + ("Metadata", "cfnfix", "ignore"), scope)
            if self.doc.format == "yaml":
                key, node = self.doc.key_at(entry), self.doc.node_at(entry)
                if key is not None and node is not None:
                    start = self._leading_comments(self.doc.line_start(key.start), key.column - 1)
                    end = self.doc.line_end(node.end)
                    for m in IGNORE_COMMENT.finditer(self.doc.text, start, end):
                        line, col = self.doc.position(m.start())
                        out += [Directive(scope, "comment", p, line, col) for p in _patterns(m.group(1))]
        self._entries[entry] = out
        return out

    def _leading_comments(self, first: int, column: int) -> int:
        """Start of the full-line comments directly above the line at ``first`` that are indented
        no deeper than ``column`` (the key's): they speak about the entry below them."""
        text = self.doc.text
        while first > 0:
            prev = self.doc.line_start(first - 1)
            line = text[prev:first].rstrip("\r\n")
            stripped = line.lstrip(" \t")
            if not stripped.startswith("#") or len(line) - len(stripped) > column:
                break
            first = prev
        return first

    def codes(self, entry: tuple) -> set[str]:
        """The patterns that apply to a top-level entry (its own, by name and the file's)."""
        return {d.pattern for d in self.entry_directives(*entry) + self.named_directives(entry[1]) + self.file_directives()}

    # ----- reference cycles ------------------------------------------------------------------------
    def _edges(self) -> dict[str, set[str]]:
        if self._graph is None:
            resources = self.doc.data.get("Resources")
            resources = resources if isinstance(resources, dict) else {}
            self._graph = {}
            for name, body in resources.items():
                refs: list = []
                collect(("Resources", name), body, refs)
                targets = {r.target for r in refs}
                deps = body.get("DependsOn") if isinstance(body, dict) else None
                targets.update([deps] if isinstance(deps, str) else [d for d in deps if isinstance(d, str)] if isinstance(deps, list) else [])
                self._graph[name] = {t for t in targets if t in resources and t != name}
        return self._graph

    def _cycle_members(self, name: str) -> set[str]:
        """The other resources on a reference cycle through ``name`` (its strongly connected component)."""
        graph = self._edges()
        forward, todo = set(), [name]
        while todo:
            for t in graph.get(todo.pop(), ()):
                if t not in forward:
                    forward.add(t)
                    todo.append(t)
        if name not in forward:
            return set()
        backward, todo = set(), [name]
        reverse: dict[str, set[str]] = {}
        for src, targets in graph.items():
            for t in targets:
                reverse.setdefault(t, set()).add(src)
        while todo:
            for s in reverse.get(todo.pop(), ()):
                if s not in backward:
                    backward.add(s)
                    todo.append(s)
        return (forward & backward) - {name}

    def _cycle_directives(self, path: tuple) -> list[Directive]:
        others = [n for n in self.doc.data.get("Resources", {}) if n != path[1] and self.entry_directives("Resources", n) + self.named_directives(n)]
        if not others:
            return []
        members = self._cycle_members(path[1])
        if not members.intersection(others):
            return []
        value: Any = self.doc.data
        for step in path:
            if isinstance(value, dict):
                value = value.get(step)
            elif isinstance(value, list) and isinstance(step, int) and 0 <= step < len(value):
                value = value[step]
            else:
                value = None
        refs: list = []
        collect(path, value, refs)
        if not members.intersection(r.target for r in refs):
            return []
        return [d for n in sorted(members) for d in self.entry_directives("Resources", n) + self.named_directives(n)]

    # ----- the question the engine asks ------------------------------------------------------------
    def match(self, code: str, path: tuple) -> Directive | None:
        if not self.active:
            return None
        for d in self.file_directives():
            if d.covers(code):
                return d
        if len(path) < 2 or not isinstance(path[1], str):
            return None
        for d in self.entry_directives(path[0], path[1]) + self.named_directives(path[1]):
            if d.covers(code):
                return d
        if path[0] == "Resources":
            for d in self._cycle_directives(path):
                if d.covers(code):
                    return d
        return None

    def suppressed(self, code: str, path: tuple) -> bool:
        d = self.match(code, tuple(path))
        if d is None:
            return False
        used = _USED.get()
        if used is not None:
            used.add(d.key)
        return True

    def all_directives(self) -> list[Directive]:
        out = list(self.file_directives())
        for names in (self._named or {}).values():
            out += names
        for section in SECTIONS:
            entries = self.doc.data.get(section)
            if isinstance(entries, dict):
                for name in entries:
                    if isinstance(name, str):
                        out += self.entry_directives(section, name)
        seen, unique = set(), []
        for d in sorted(out, key=lambda d: (d.line, d.column)):
            if d.key not in seen:
                seen.add(d.key)
                unique.append(d)
        return unique


def audit(text: str, filename: str, used: set | None = None, enabled: list[str] | None = None) -> list[Finding]:
    """Findings for suppressions that name no installed fixer (always) and, when ``used`` is given
    (the keys ``recording`` collected while the template was fixed), for those that suppressed
    nothing; ``enabled`` (the codes of the fixers that ran) says which of those could not have."""
    if not says_cfnfix(text):
        return []
    try:
        doc = Document(text, filename)
    except TemplateError:
        return []
    from .registry import all_fixers

    known = [f.code.upper() for f in all_fixers()]
    out = []
    for d in Suppressions(doc).all_directives():
        shown = "ignore" if d.pattern == "ALL" else f"ignore[{d.pattern}]"
        if d.pattern != "ALL" and not any(c.startswith(d.pattern) for c in known):
            out.append(Finding(UNKNOWN_IGNORE, f"{shown}: {d.pattern} matches no fixer (see --list-fixers)", d.path, d.line, d.column))
        elif used is not None and d.key not in used:
            idle = enabled is not None and not any(d.covers(c) for c in enabled)
            note = f": {d.pattern} is not enabled" if idle and d.pattern != "ALL" else ": nothing to suppress here"
            out.append(Finding(UNUSED_IGNORE, f"unused suppression {shown}{note}; remove it", d.path, d.line, d.column))
    return out
