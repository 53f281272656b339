"""The layout is the architecture: imports point down the layers only, nothing imports in a
cycle, every package says what it owns, and a third-party fixer written against the README loads."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Lower rank = lower layer. A module may import its own package or a package of lower rank only;
# packages of equal rank are siblings and do not import each other.
RANKS = {
    "cfnfix.errors": 0,
    "cfnfix.version": 0,
    "cfnfix.text": 1,
    "cfnfix.cloudformation": 2,
    "cfnfix.fixing": 3,
    "cfnfix.fixers": 4,
    "cfnfix.reports": 4,
    "cfnfix.workspace": 4,
    "cfnfix.bot": 5,
    "cfnfix.server": 5,
    "cfnfix.cli": 6,
    "cfnfix": 7,  # the package itself: the public API
}


def _modules() -> dict[str, Path]:
    out = {}
    for base, prefix in ((ROOT / "cfnfix", "cfnfix"), (ROOT / "fixers", "cfnfix.fixers")):
        for path in base.rglob("*.py"):
            parts = list(path.relative_to(base).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join([prefix, *parts])] = path
    return out


MODULES = _modules()


def _layer(module: str) -> str:
    best = "cfnfix"
    for name in RANKS:
        if (module == name or module.startswith(name + ".")) and len(name) > len(best):
            best = name
    return best


def _in_type_checking(node: ast.AST, parents: dict) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return True
    return False


def _imports(module: str, path: Path) -> set[str]:
    """Every cfnfix module that ``module`` imports, at the top or inside a function."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    is_pkg = path.name == "__init__.py"
    found = set()
    for node in ast.walk(tree):
        if _in_type_checking(node, parents):
            continue
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_pkg else 0)]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            names = [stem] + [f"{stem}.{a.name}" for a in node.names]
        for name in names:
            while name and name not in MODULES:
                name = name.rpartition(".")[0]
            if name.startswith("cfnfix") and name != module:
                found.add(name)
    return found


GRAPH = {m: _imports(m, p) for m, p in MODULES.items()}


def test_imports_point_down_the_layers():
    upward = []
    for module, targets in GRAPH.items():
        here = _layer(module)
        for target in targets:
            there = _layer(target)
            if there == here:
                continue
            if RANKS[there] >= RANKS[here]:
                upward.append(f"{module} -> {target}")
    assert not upward, "imports that do not point down a layer:\n" + "\n".join(sorted(upward))


def test_no_import_cycles():
    state: dict[str, int] = {}
    cycles = []

    def visit(m, stack):
        state[m] = 1
        stack.append(m)
        for t in sorted(GRAPH.get(m, ())):
            if t == m or t not in GRAPH:
                continue
            # a package __init__ that re-exports its own modules is not a cycle with them
            if m.startswith(t + ".") or t.startswith(m + "."):
                continue
            if state.get(t) == 1:
                cycles.append(" -> ".join(stack[stack.index(t):] + [t]))
            elif not state.get(t):
                visit(t, stack)
        stack.pop()
        state[m] = 2

    for m in sorted(GRAPH):
        if not state.get(m):
            visit(m, [])
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_every_package_says_what_it_owns():
    lacking = [m for m, p in MODULES.items() if p.name == "__init__.py" and not ast.get_docstring(ast.parse(p.read_text()))]
    assert not lacking, f"packages without a docstring: {lacking}"


def test_each_fixer_lives_in_its_service_folder():
    from cfnfix.fixing.registry import all_fixers

    flat = [f"{c.code} ({c.__module__})" for c in all_fixers()
            if c.__module__.startswith("cfnfix.fixers.") and c.__module__.count(".") != 3]
    assert not flat, f"fixers outside a service folder (cfnfix.fixers.<service>.<module>): {flat}"


THIRD_PARTY = '''
"""A fixer as the README's "Writing a fixer" section shows it."""
from cfnfix.cloudformation import Template
from cfnfix.fixing import Fix, Fixer, Safety
from cfnfix.text.edits import SetValue


class TopicDisplayName(Fixer):
    code = "ACME001"
    name = "topic-display-name"
    summary = "SNS topic DisplayName longer than 100 characters"
    safety = Safety.UNSAFE
    default = False
    docs = "## What it does\\nCuts the DisplayName.\\n"

    def run(self, template: Template):
        for name, _res, props in template.resources_of_type("AWS::SNS::Topic"):
            value = props.get("DisplayName")
            if isinstance(value, str) and len(value) > 100:
                yield Fix(f"Topic {name}: shorten DisplayName", [SetValue(("Resources", name, "Properties", "DisplayName"), value[:100])],
                          path=("Resources", name))
'''


def test_a_third_party_fixer_written_against_the_readme_loads(tmp_path):
    (tmp_path / "acme_fixers.py").write_text(THIRD_PARTY)
    info = tmp_path / "acme_fixers-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-fixers\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[cfnfix.fixers]\ntopic-display-name = acme_fixers:TopicDisplayName\n")
    template = tmp_path / "t.yaml"
    template.write_text(textwrap.dedent(f"""\
        Resources:
          Alerts:
            Type: AWS::SNS::Topic
            Properties:
              DisplayName: {"x" * 120}
        """))
    env = {"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"}
    listed = subprocess.run([sys.executable, "-m", "cfnfix", "--list-fixers"], capture_output=True, text=True, env=env)
    assert listed.returncode == 0, listed.stderr
    assert "ACME001" in listed.stdout and "opt-in" in listed.stdout.split("ACME001", 1)[1].splitlines()[0]
    fixed = subprocess.run([sys.executable, "-m", "cfnfix", "--write", "--select", "ACME001", str(template)],
                           capture_output=True, text=True, env=env)
    assert fixed.returncode == 0, fixed.stderr
    assert template.read_text() == f"Resources:\n  Alerts:\n    Type: AWS::SNS::Topic\n    Properties:\n      DisplayName: {'x' * 100}\n"


def test_architecture_doc_names_every_layer():
    text = (ROOT / "ARCHITECTURE.md").read_text()
    folders = sorted(p.parent.name for p in (ROOT / "cfnfix").glob("*/__init__.py"))
    missing = [f for f in folders if f"`{f}/`" not in text]
    assert not missing, f"ARCHITECTURE.md does not describe {missing}"
