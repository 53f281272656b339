"""The CloudFormation view of a document: sections, resources by type, the reference graph,
and helpers that produce edits for common surgery (remove a resource with every reference to
it, add a parameter, …). Fixers read the template through this class and return edits; they
never touch text.

Both intrinsic forms read the same here (the readers normalise ``!Ref X`` and ``Ref: X`` to
``{"Ref": "X"}``); new values are written in the form the file already uses by the renderer.
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import Any, Callable, Iterator

from ..errors import NotATemplate
from ..text.document import Document
from ..text.edits import Append, Delete, Edit, EditError, Insert, SetValue, edit_paths
from .references import Reference, collect


def is_template(data: Any) -> bool:
    return isinstance(data, dict) and ("Resources" in data or "AWSTemplateFormatVersion" in data)


def parse_template(text: str, filename: str = "template.yaml") -> Document:
    """Parse ``text``; raise NotATemplate for YAML/JSON that is not a CloudFormation template."""
    doc = Document(text, filename)
    if not isinstance(doc.data, dict):
        kind = "a list" if isinstance(doc.data, list) else "a scalar"
        raise NotATemplate(f"not a CloudFormation template: the document is {kind}, not a mapping", doc.root.line, doc.root.column)
    if not is_template(doc.data):
        raise NotATemplate("not a CloudFormation template: no Resources or AWSTemplateFormatVersion", 1, 1)
    return doc


def _entry_references(section: str, name: str, entry: Any) -> list[Reference]:
    out: list[Reference] = []
    collect((section, name), entry, out)
    if section in ("Resources", "Outputs") and isinstance(entry, dict):
        dep = entry.get("DependsOn")
        if section == "Resources" and isinstance(dep, str):
            out.append(Reference((section, name, "DependsOn"), dep, "DependsOn"))
        elif section == "Resources" and isinstance(dep, list):
            for i, d in enumerate(dep):
                if isinstance(d, str):
                    out.append(Reference((section, name, "DependsOn", i), d, "DependsOn"))
        cond = entry.get("Condition")
        if isinstance(cond, str):
            out.append(Reference((section, name, "Condition"), cond, "Condition"))
    return out


class Template:
    """``data`` other than the document's is a view of it (``fixing.memo``): only some of its
    resources and outputs; ``whole`` is then the template of the document's own data, where a
    fixer looks up the others."""

    def __init__(self, doc: Document, data: dict | None = None, whole: Template | None = None):
        self.doc = doc
        self.data = data if data is not None else doc.data if isinstance(doc.data, dict) else {}
        self._whole = whole

    @property
    def whole(self) -> Template:
        # A property, not an attribute set to ``self``: a template must not refer to itself (a
        # cycle would outlive its fix, the cyclic collector being off while templates are fixed).
        return self._whole if self._whole is not None else self

    # ----- sections --------------------------------------------------------------------------
    def section(self, name: str) -> dict:
        value = self.data.get(name)
        return value if isinstance(value, dict) else {}

    @property
    def resources(self) -> dict:
        return self.section("Resources")

    @property
    def parameters(self) -> dict:
        return self.section("Parameters")

    @property
    def conditions(self) -> dict:
        return self.section("Conditions")

    @property
    def outputs(self) -> dict:
        return self.section("Outputs")

    def resources_of_type(self, *types: str) -> Iterator[tuple[str, dict, dict]]:
        """(logical id, resource, properties) for each resource of one of ``types``, in the
        template's order."""
        index = self._by_type
        names = index.get(types[0], []) if len(types) == 1 else sorted(n for t in set(types) for n in index.get(t, []))
        resources = self.resources
        for _, name in names:
            res = resources[name]
            props = res.get("Properties")
            yield name, res, props if isinstance(props, dict) else {}

    @cached_property
    def _by_type(self) -> dict[str, list[tuple[int, str]]]:
        """Resource type -> (place in Resources, logical id) of its resources: fixers ask for a
        few types each, and a large template has thousands of resources."""
        return self.section_fact("resource types", "Resources", self._index_types)

    def _index_types(self) -> dict[str, list[tuple[int, str]]]:
        index: dict[str, list[tuple[int, str]]] = {}
        for i, (name, res) in enumerate(self.resources.items()):
            rtype = res.get("Type") if isinstance(res, dict) else None
            if isinstance(rtype, str):
                index.setdefault(rtype, []).append((i, name))
        return index

    def resource_types(self) -> dict[str, int]:
        """Each resource type (a string) of the template, with how many resources have it."""
        return {rtype: len(names) for rtype, names in self._by_type.items()}

    def section_fact(self, kind: str, section: str, compute: Callable[[], Any]) -> Any:
        """``compute()``, a fact that depends on one section's data alone: kept for the later
        versions of the document that share that section (``Document.per_section``)."""
        if self.whole is self:
            return self.doc.per_section(kind, section, compute)
        return compute()

    def computed(self, key: Any, compute: Callable[[], Any]) -> Any:
        """``compute()``, once per template: a fact several fixers ask for."""
        cache = self.__dict__.setdefault("_computed", {})
        if key not in cache:
            cache[key] = compute()
        return cache[key]

    def resource_type(self, name: str) -> str | None:
        res = self.resources.get(name)
        return res.get("Type") if isinstance(res, dict) else None

    # ----- references ------------------------------------------------------------------------
    @cached_property
    def references(self) -> list[Reference]:
        out: list[Reference] = []
        kept = self.whole is self  # a view's entries are not the document's sections
        for section in ("Resources", "Outputs", "Conditions", "Rules", "Metadata", "Parameters"):
            if kept:
                out += self.doc.per_section("references", section, lambda: self._section_references(section, True))
            else:
                out += self._section_references(section, False)
        return out

    def _section_references(self, section: str, kept: bool) -> list[Reference]:
        out: list[Reference] = []
        for name, entry in self.section(section).items():
            if kept:
                out += self.doc.per_entry("references", section, name, lambda: _entry_references(section, name, entry))
            else:
                out += _entry_references(section, name, entry)
        return out

    def references_to(self, target: str, kinds: tuple[str, ...] | None = None) -> list[Reference]:
        return [r for r in self.references if r.target == target and (kinds is None or r.kind in kinds)]

    @cached_property
    def dependency_graph(self) -> dict[str, set[str]]:
        """Resource -> the resources it waits for directly (Ref, GetAtt, Sub, DependsOn)."""
        graph: dict[str, set[str]] = {}
        for r in self.references:
            if r.section == "Resources" and r.kind != "Condition" and r.target in self.resources and r.target != r.owner:
                graph.setdefault(r.owner, set()).add(r.target)
        return graph

    def waits_for(self, start: str, target: str, extra: dict[str, set[str]] | None = None) -> bool:
        """True when resource ``start`` is created after ``target`` (directly or through other
        resources), counting the ``extra`` edges (resource -> targets) about to be added."""
        graph = self.dependency_graph
        seen, todo = set(), [start]
        while todo:
            rid = todo.pop()
            for nxt in graph.get(rid, set()) | (extra or {}).get(rid, set()):
                if nxt == target:
                    return True
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return False

    def add_dependencies(self, resource: str, targets: list[str]) -> list[Edit]:
        """Edits adding ``targets`` to the resource's DependsOn (created after its Type, or its
        Condition, when missing; a single entry stays a string)."""
        res = self.resources[resource]
        path = ("Resources", resource)
        dep = res.get("DependsOn")
        targets = [t for t in dict.fromkeys(targets)
                   if not (dep == t or (isinstance(dep, list) and t in dep))]
        if not targets:
            return []
        if dep is None:
            value = targets[0] if len(targets) == 1 else targets
            after = "Condition" if "Condition" in res else "Type" if "Type" in res else None
            return [Insert(path, "DependsOn", value, after=after)]
        if isinstance(dep, str):
            return [SetValue(path + ("DependsOn",), [dep, *targets])]
        if isinstance(dep, list):
            return [Append(path + ("DependsOn",), t) for t in targets]
        raise EditError(f"{resource}: DependsOn is neither a name nor a list")

    def refers_to(self, value: Any, target: str) -> bool:
        """True when ``value`` (any data) mentions ``target`` through Ref, GetAtt or Sub."""
        found: list[Reference] = []
        collect((), value, found)
        return any(r.target == target for r in found)

    # ----- naming ----------------------------------------------------------------------------
    def logical_ids(self) -> set[str]:
        ids: set[str] = set()
        for section in ("Resources", "Parameters", "Conditions", "Outputs", "Mappings"):
            ids.update(self.section(section))
        return ids

    def unique_id(self, base: str, taken: set[str] | None = None) -> str:
        used = self.logical_ids() | (taken or set())
        base = re.sub(r"[^A-Za-z0-9]", "", base) or "Resource"
        if base not in used:
            return base
        n = 2
        while f"{base}{n}" in used:
            n += 1
        return f"{base}{n}"

    # ----- edit helpers ----------------------------------------------------------------------
    SECTION_ORDER = ("AWSTemplateFormatVersion", "Description", "Transform", "Metadata", "Parameters",
                     "Rules", "Mappings", "Conditions", "Resources", "Outputs")

    def add_top_level(self, key: str, value: Any) -> Edit:
        """Add a top-level key (a section, ``Transform``…) where CloudFormation's usual section
        order puts it: after the sections that come before it, else before the first that
        comes after it."""
        if key in self.data:  # present but empty (null): fill it in
            return SetValue((key,), value)
        order = self.SECTION_ORDER
        rank = order.index(key) if key in order else len(order)
        earlier = [k for k in self.data if k in order and order.index(k) < rank]
        if earlier:
            return Insert((), key, value, after=earlier[-1])
        later = [k for k in self.data if k in order and order.index(k) > rank]
        return Insert((), key, value, before=later[0] if later else None)

    def add_entry(self, section: str, name: str, body: Any, after: str | None = None) -> Edit:
        """Add ``name: body`` to a top-level section, creating the section when it is missing."""
        if section in self.data and isinstance(self.data[section], dict):
            return Insert((section,), name, body, after=after)
        if section in self.data:  # present but null
            return SetValue((section,), {name: body})
        return self.add_top_level(section, {name: body})

    def add_entries(self, section: str, entries: dict) -> list[Edit]:
        """Edits that add several ``name: body`` entries to a top-level section in one fix: one
        Insert each when the section exists, else one edit that creates the section with all of
        them (an ``add_entry`` per entry would create the section twice)."""
        if not entries:
            return []
        if len(entries) == 1 or isinstance(self.data.get(section), dict):
            return [self.add_entry(section, name, body) for name, body in entries.items()]
        if section in self.data:  # present but null
            return [SetValue((section,), dict(entries))]
        return [self.add_top_level(section, dict(entries))]

    def add_resource(self, name: str, body: dict, after: str | None = None) -> Edit:
        return self.add_entry("Resources", name, body, after)

    def add_parameter(self, name: str, body: dict) -> Edit:
        return self.add_entry("Parameters", name, body)

    def add_output(self, name: str, body: dict) -> Edit:
        return self.add_entry("Outputs", name, body)

    def remove(self, *names: str, handled: list[Edit] = ()) -> list[Edit]:
        """Edits that remove the given resources/parameters with every reference to them.

        DependsOn entries are dropped, Outputs that use a removed id are removed, Conditions and
        Rules that test a removed parameter are removed (and, in turn, what uses those
        conditions), and parameters leave the ``AWS::CloudFormation::Interface`` metadata.
        A reference that cannot be removed without a decision (a property of a resource that
        stays) raises EditError, unless the caller's own ``handled`` edits (made in the same fix)
        replace that place.
        """
        covered = [edit_paths(e) for e in handled]
        gone = set(names)
        edits: list[Edit] = []
        dead_conditions = self._conditions_using(gone)
        gone_all = gone | dead_conditions
        for name in names:
            section = "Resources" if name in self.resources else "Parameters" if name in self.parameters else None
            if section is None:
                raise EditError(f"{name} is neither a resource nor a parameter")
            edits.append(Delete((section, name)))
        for cond in sorted(dead_conditions):
            edits.append(Delete(("Conditions", cond)))
        dropped_outputs = set()
        for name, out in self.outputs.items():
            if any(r.target in gone_all for r in self.references if r.section == "Outputs" and r.owner == name):
                edits.append(Delete(("Outputs", name)))
                dropped_outputs.add(name)
        for rule, body in self.section("Rules").items():
            if any(r.target in gone_all for r in self.references if r.section == "Rules" and r.owner == rule):
                edits.append(Delete(("Rules", rule)))
        for rname in self.resources:  # DependsOn lists of resources that stay
            if rname not in gone:
                edits.extend(self.drop_dependencies(rname, gone))
        edits.extend(self._interface_edits(gone))
        for r in self.references:
            if r.target not in gone_all or r.kind == "DependsOn":
                continue
            if r.owner in gone or r.owner in dead_conditions or r.owner in dropped_outputs:
                continue
            if r.section in ("Rules", "Metadata"):
                continue
            if any(r.path[: len(c)] == c or c[: len(r.path)] == r.path for c in covered):
                continue
            raise EditError(f"{r.target} is still used at {'/'.join(map(str, r.path))}")
        return self._collapse(edits)

    def _collapse(self, edits: list[Edit]) -> list[Edit]:
        """Deletes that together empty a list or mapping delete it instead, upwards (so no
        ``Rules: {}`` or ``ParameterLabels: {}`` is left behind) — never ``Resources``."""
        while True:
            deleted = {tuple(e.path) for e in edits if isinstance(e, Delete)}
            parents = {p[:-1] for p in deleted if len(p) > 1}
            full = None
            for parent in sorted(parents, key=len, reverse=True):
                if parent == ("Resources",):
                    continue
                node = self.data
                for step in parent:
                    node = node[step] if isinstance(node, (dict, list)) else None
                keys = list(node) if isinstance(node, dict) else range(len(node)) if isinstance(node, list) else []
                if keys and {parent + (k,) for k in keys} <= deleted:
                    full = parent
                    break
            if full is None:
                return edits
            edits = [e for e in edits if not (isinstance(e, Delete) and tuple(e.path)[: len(full)] == full)]
            edits.append(Delete(full))

    def drop_dependencies(self, resource: str, targets: set[str]) -> list[Edit]:
        """Edits removing ``targets`` from the resource's DependsOn (the key goes when emptied)."""
        res = self.resources.get(resource)
        dep = res.get("DependsOn") if isinstance(res, dict) else None
        path = ("Resources", resource, "DependsOn")
        if isinstance(dep, str) and dep in targets:
            return [Delete(path)]
        if isinstance(dep, list):
            idx = [i for i, d in enumerate(dep) if isinstance(d, str) and d in targets]
            if idx and len(idx) == len(dep):
                return [Delete(path)]
            return [Delete(path + (i,)) for i in idx]
        return []

    def parameters_orphaned_by(self, removed: list[tuple]) -> list[str]:
        """Parameters whose every use lies under one of the ``removed`` paths: left alone, they
        would be declared but unused (cfn-lint W2001)."""
        out = []
        for name in self.parameters:
            uses = [r for r in self.references_to(name) if r.section not in ("Metadata", "Rules")]
            if uses and all(any(tuple(r.path[: len(p)]) == tuple(p) for p in removed) for r in uses):
                out.append(name)
        return out

    def conditions_orphaned_by(self, removed: list[tuple]) -> list[str]:
        """Conditions used under one of the ``removed`` paths and nowhere else (but in other such
        conditions): left alone, they would be declared but unused (cfn-lint W8001)."""
        def under(path: tuple) -> bool:
            return any(tuple(path[: len(p)]) == tuple(p) for p in removed)

        uses = {c: [r for r in self.references if r.kind == "Condition" and r.target == c] for c in self.conditions}
        orphan: set[str] = set()
        changed = True
        while changed:
            changed = False
            for c, refs in uses.items():
                gone = [r for r in refs if under(r.path) or (r.section == "Conditions" and r.owner in orphan)]
                if c not in orphan and gone and len(gone) == len(refs):
                    orphan.add(c)
                    changed = True
        return sorted(orphan)

    def _conditions_using(self, gone: set[str]) -> set[str]:
        dead: set[str] = set()
        changed = True
        while changed:
            changed = False
            for r in self.references:
                if r.section == "Conditions" and r.owner not in dead and r.target in gone | dead:
                    dead.add(r.owner)
                    changed = True
        return dead

    def _interface_edits(self, gone: set[str]) -> list[Edit]:
        """Parameters leave ``AWS::CloudFormation::Interface`` (emptied containers go in _collapse)."""
        iface = self.section("Metadata").get("AWS::CloudFormation::Interface")
        if not isinstance(iface, dict):
            return []
        base = ("Metadata", "AWS::CloudFormation::Interface")
        edits: list[Edit] = []
        groups = iface.get("ParameterGroups")
        for gi, group in enumerate(groups if isinstance(groups, list) else []):
            params = group.get("Parameters") if isinstance(group, dict) else None
            if isinstance(params, list):
                idx = [i for i, p in enumerate(params) if isinstance(p, str) and p in gone]
                if idx and len(idx) == len(params):
                    edits.append(Delete(base + ("ParameterGroups", gi)))  # a group of only those
                else:
                    edits.extend(Delete(base + ("ParameterGroups", gi, "Parameters", i)) for i in idx)
        labels = iface.get("ParameterLabels")
        if isinstance(labels, dict):
            edits.extend(Delete(base + ("ParameterLabels", p)) for p in labels if isinstance(p, str) and p in gone)
        return edits

    def replace_references(self, target: str, value_for: Any) -> list[Edit]:
        """SetValue edits replacing each Ref/GetAtt of ``target`` in resources and outputs.

        ``value_for`` is the replacement value, or a callable taking the Reference.
        References inside Fn::Sub strings are left to the caller.
        """
        edits: list[Edit] = []
        for r in self.references_to(target, ("Ref", "GetAtt")):
            if r.section not in ("Resources", "Outputs"):
                continue
            new = value_for(r) if callable(value_for) else value_for
            edits.append(SetValue(r.path, new))
        return edits


__all__ = ["Template", "is_template", "parse_template"]
