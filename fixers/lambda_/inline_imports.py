from __future__ import annotations

import ast
import functools
import re
import sys
import warnings

from cfnfix.text.edits import SetValue
from cfnfix.text.splice import keeps_layout
from cfnfix.fixing import Fix, Fixer, Report, Safety
from cfnfix.cloudformation import Template, ref_target
from cfnfix.fixers.secretsmanager._rotation_stub import schedules_using, stub_steps

# What a Lambda Python 3 runtime can import without a deployment package or a layer: the
# standard library, the SDK for Python with its dependencies ("The Lambda Python runtimes include
# the AWS SDK for Python (Boto3) and its dependencies", Lambda developer guide, Python), the
# runtime interface client with its own dependency simplejson, and cfnresponse, which
# CloudFormation adds to code given in `ZipFile`. pip and setuptools sit in the runtime's
# site-packages on some versions: never flagged either.
RUNTIME_MODULES = frozenset({
    "boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six",
    "awslambdaric", "simplejson", "bootstrap", "cfnresponse",
    "pip", "setuptools", "pkg_resources", "_distutils_hack",
})
_SUB_PLACEHOLDER = re.compile(r"\$\{[^}]*\}")
# Module names after "import" / "from" anywhere in the code: a cheap first look, so that libcst
# (about 100x slower) parses only code that may import something the runtime lacks.
_IMPORTED = re.compile(r"(?m)^[ \t]*(?:from[ \t]+([\w.]+)[ \t]+import\b|import[ \t]+([\w. \t,]+))")


def available(module: str) -> bool:
    return module in RUNTIME_MODULES or module in sys.stdlib_module_names


def may_import_unavailable(code: str) -> bool:
    """False only when every import line names modules the runtime ships (or there is none)."""
    for m in _IMPORTED.finditer(code):
        names = [m.group(1)] if m.group(1) else [n.split()[0] for n in m.group(2).split(",") if n.split()]
        if any(not available(n.lstrip(".").split(".")[0]) for n in names if n.lstrip(".")):
            return True
    return False


class LambdaInlineImports(Fixer):
    code = "LAMBDA001"
    name = "lambda-unavailable-import"
    summary = "Inline Lambda code imports a module the runtime does not have"
    safety = Safety.SAFE
    default = True
    docs = """
## What it does
Looks at inline Python code (`Code.ZipFile` of `AWS::Lambda::Function`, `InlineCode` of
`AWS::Serverless::Function`, also inside `Fn::Sub`) of a `python3.x` runtime, and removes the
imports of modules that the runtime does not include (`pymysql`, `requests`, `psycopg2`,
`yaml`, …) when the code never uses the imported names. Everything else in the code stays as
it was. Imports that the code does use are reported, as is code that is not valid Python.

The runtime includes the standard library, `boto3` and its dependencies (`botocore`,
`s3transfer`, `jmespath`, `dateutil`, `urllib3`, `six`), `awslambdaric`, `simplejson`, and
`cfnresponse` for `ZipFile` code; nothing else is available to inline code. Functions that
AWS IoT Greengrass deploys to core devices (an `AWS::Greengrass::*` or `AWS::GreengrassV2::*`
resource names the function, its version or alias) are not checked: they run with the
device's Python, which provides `greengrasssdk` and whatever else is installed there.

When the function is a Secrets Manager rotation stub — a `RotationSchedule` of the template
runs it, and it creates and finishes a new secret version but its `setSecret` step does
nothing — removing the import is what lets it run: the rotation the schedule starts at deploy
then puts a new password in the secret without changing the database's. The fix says so (and
is marked unsafe), and the stub is reported; SM002's option `replace_rotation_stub` replaces it
with a hosted rotation function.

## Why it breaks deploys
Inline code cannot bring dependencies, so importing a module that the runtime lacks fails every
invocation with "Runtime.ImportModuleError: Unable to import module 'index'"; a custom resource
backed by the function never answers, and the stack waits, then rolls back.

## Example
```yaml
RotationFunction:
  Type: AWS::Lambda::Function
  Properties:
    Runtime: python3.12
    Handler: index.handler
    Code:
      ZipFile: |
        import json
        import pymysql

        def handler(event, context):
            return json.dumps(event)
```
Use instead:
```yaml
RotationFunction:
  Type: AWS::Lambda::Function
  Properties:
    Runtime: python3.12
    Handler: index.handler
    Code:
      ZipFile: |
        import json

        def handler(event, context):
            return json.dumps(event)
```

## Fix safety
Safe: only imports whose names the code never uses are removed, so the code does what it did,
minus the import that failed. Not changed: imports inside `try` (the code handles the failure),
functions with `Layers` (a layer may provide the module), a runtime given by a parameter
without a Python default, code built with `Fn::Join`, and YAML blocks that cfnfix cannot write
back in their own layout (`>` folded, `|+`, an explicit indentation indicator): those are
reported. Literal `|` and `|-` blocks, with or without `!Sub` and a comment after the indicator,
change only in the removed lines.

Unsafe for a rotation stub (see above): the rotation that could not run now runs.

## References
- Lambda developer guide, "Building Lambda functions with Python":
  https://docs.aws.amazon.com/lambda/latest/dg/lambda-python.html
- Secrets Manager user guide, "Lambda rotation functions" (the four steps):
  https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_lambda-functions.html
"""

    def run(self, template: Template):
        sam_globals = template.section("Globals").get("Function")
        sam_globals = sam_globals if isinstance(sam_globals, dict) else {}
        functions = [(name, props, ("Code", "ZipFile"), {}) for name, _, props in template.resources_of_type("AWS::Lambda::Function")]
        functions += [(name, props, ("InlineCode",), sam_globals)
                      for name, _, props in template.resources_of_type("AWS::Serverless::Function")]
        greengrass = _greengrass_functions(template)
        for name, props, keys, defaults in functions:
            runtime = _python_runtime(template, props.get("Runtime", defaults.get("Runtime")))
            if runtime is None or props.get("Layers", defaults.get("Layers")) or name in greengrass:
                continue
            value = props
            for key in keys:
                value = value.get(key) if isinstance(value, dict) else None
            if value is not None:
                yield from self._check(template, name, runtime, ("Resources", name, "Properties", *keys), value)

    def _check(self, template: Template, name: str, runtime: str, path: tuple, value):
        edit_path, code = path, value
        if isinstance(value, dict) and list(value) == ["Fn::Sub"]:  # code with ${...} placeholders
            code = value["Fn::Sub"]
            edit_path = path + ("Fn::Sub",)
            if isinstance(code, list) and code:
                code, edit_path = code[0], edit_path + (0,)
        if not isinstance(code, str):
            return  # Fn::Join and other computed code: not analysed
        if not may_import_unavailable(code):
            return
        masked, placeholders = _mask(code) if edit_path != path else (code, {})
        if placeholders is None:
            return
        found = _analyse(masked)
        if found is None:
            return
        if isinstance(found, str):
            yield Report(f"Function {name}: inline code is not valid Python ({found}); its imports were not checked", path)
            return
        unused, used, rewritten = found
        for mod in used:
            yield Report(f"Function {name}: inline code imports `{mod}`, which the {runtime} runtime does not include; "
                         "deploy the code as a package or give the function a layer with that module", path)
        if not unused:
            return
        new = _unmask(rewritten, placeholders)
        mods = ", ".join(f"`{m}`" for m in unused)
        edit = SetValue(edit_path, new)
        stub = _rotation_stub(template, name, masked)
        if stub:
            yield Report(f"Function {name}: {stub}; let it set the new password in the database, or use "
                         "`HostedRotationLambda` (SM002 option `replace_rotation_stub`)", path)
        if not keeps_layout(template.doc, edit.path, edit.value):
            yield Report(f"Function {name}: inline code imports {mods}, which the {runtime} runtime does not include, "
                         f"and never uses {'it' if len(unused) == 1 else 'them'}; remove the import by hand "
                         "(cfnfix cannot rewrite this block in its own layout)", path)
            return
        message = f"Function {name}: remove the unused import of {mods}, which the {runtime} runtime does not include"
        if stub:  # the import error was all that kept the stub from rotating
            yield Fix(f"{message}; the function can then run, and {stub}", [edit], path, safety=Safety.UNSAFE)
            return
        yield Fix(message, [edit], path)


def _type(template: Template, name) -> str | None:
    """The resource's type when it is a string (a hostile template may hold anything there)."""
    rtype = template.resource_type(name) if isinstance(name, str) else None
    return rtype if isinstance(rtype, str) else None


def _greengrass_functions(template: Template) -> set[str]:
    """Functions that AWS IoT Greengrass deploys to core devices (directly, or through a version or
    alias): they run with the device's Python and packages (``greengrasssdk`` among them), which
    cfnfix cannot know."""
    targets = set()
    if not any(t.startswith("AWS::Greengrass") for t in template.resource_types()):
        return targets
    for r in template.references:
        if r.section == "Resources" and (_type(template, r.owner) or "").startswith("AWS::Greengrass"):
            targets.add(r.target)
    for name, res in template.resources.items():
        if name in targets and isinstance(res, dict) and res.get("Type") in ("AWS::Lambda::Version", "AWS::Lambda::Alias"):
            props = res.get("Properties")
            targets.add(ref_target(props.get("FunctionName")) if isinstance(props, dict) else None)
    return targets


def _rotation_stub(template: Template, name: str, code: str) -> str | None:
    """What is wrong, when the function is a rotation stub that a schedule of the template runs."""
    schedules = schedules_using(template, name)
    steps = stub_steps(code) if schedules else None
    if not steps:
        return None
    schedule, secret = schedules[0]
    props = template.resources[schedule].get("Properties") or {}
    when = ("the first scheduled rotation" if str(props.get("RotateImmediatelyOnUpdate")).lower() == "false"
            else f"the rotation that {schedule} starts at deploy")
    what = " and ".join(f"`{s}`" for s in steps)
    return (f"it is the rotation function of {schedule}, a rotation stub whose {what} "
            f"{'step does' if len(steps) == 1 else 'steps do'} nothing: {when} "
            f"would put a new password in {secret or 'the secret'} without changing it in the database")


def _python_runtime(template: Template, runtime) -> str | None:
    """The runtime name if it is a Python 3 runtime; a parameter counts by its default."""
    if isinstance(runtime, dict) and list(runtime) == ["Ref"]:
        param = template.parameters.get(runtime["Ref"])
        runtime = param.get("Default") if isinstance(param, dict) else None
    return runtime if isinstance(runtime, str) and runtime.startswith("python3") else None


def _syntax_error(code: str, error) -> str:
    """Python's own words for the error (libcst's positions are hard to read)."""
    try:
        ast.parse(code)
    except (SyntaxError, ValueError) as e:
        return f"{e.msg}, line {e.lineno}" if isinstance(e, SyntaxError) else str(e)
    return f"line {error.editor_line}"


def _mask(text: str):
    """Replace each ``${...}`` of an Fn::Sub string with a Python name of the same length (when it
    fits), so that the code parses; returns (masked text, {name: placeholder}) or (text, None)
    when a name could be mistaken for code."""
    names = {}

    def name_for(m):
        token = f"_{len(names)}_".ljust(len(m.group()), "_")
        names[token] = m.group()
        return token

    masked = _SUB_PLACEHOLDER.sub(name_for, text)
    if any(masked.count(token) != 1 for token in names):
        return text, None
    return masked, names


def _unmask(text: str, names: dict) -> str:
    for token, original in names.items():
        text = text.replace(token, original, 1)
    return text


@functools.lru_cache(maxsize=256)
def _analyse(code: str):
    """What the imports of ``code`` need: None when nothing (no import outside ``try`` of a module
    the runtime lacks); the syntax error's description when the code is not valid Python; else
    (modules to remove, modules the code uses, the code without the removed imports). The same
    code is analysed once, however many rounds and templates show it. The standard library's
    parser (in C) looks first; libcst, which keeps the code's layout to rewrite it, parses only
    code with something to say about."""
    if not _imports_unavailable_outside_try(code):
        return None
    cst, remover = _libcst()
    try:
        module = cst.parse_module(code)
    except cst.ParserSyntaxError as e:
        return _syntax_error(code, e)
    unused, used = _unavailable_imports(cst, module)
    return unused, used, module.visit(remover(set(unused))).code if unused else None


_TRY = tuple(t for t in (getattr(ast, "Try", None), getattr(ast, "TryStar", None)) if t is not None)


def _imports_unavailable_outside_try(code: str) -> bool:
    """False when ``code`` parses and imports no module the runtime lacks outside ``try``; True
    otherwise (code ``ast`` cannot parse is left to libcst, whose verdict is the one reported)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escapes and the like: not this fixer's business
            tree = ast.parse(code)
    except Exception:  # SyntaxError, ValueError (a null byte), RecursionError, MemoryError
        return True
    stack = [(tree, False)]
    while stack:
        node, guarded = stack.pop()
        if isinstance(node, ast.Import):
            if not guarded and any(not available(a.name.split(".")[0]) for a in node.names):
                return True
        elif isinstance(node, ast.ImportFrom):
            if not guarded and not node.level and node.module and not available(node.module.split(".")[0]):
                return True
        else:
            inner = guarded or isinstance(node, _TRY)
            stack.extend((child, inner) for child in ast.iter_child_nodes(node))
    return False


def _unavailable_imports(cst, module):
    """(modules to remove, modules the code uses): top-level modules the runtime lacks,
    imported outside ``try``. A module counts as used when any name it binds appears in the
    code (an ``obj.attr`` attribute does not count) or it is star-imported."""
    imports: list[tuple[str, str | None, bool]] = []  # (module, bound name or None for *, in try)
    names: set[str] = set()
    stack = [(module, False)]
    while stack:
        node, guarded = stack.pop()
        if isinstance(node, cst.Import):
            for alias in node.names:
                top = _top(cst, alias.name)
                bound = alias.asname.name.value if alias.asname else top
                imports.append((top, bound, guarded))
        elif isinstance(node, cst.ImportFrom):
            if node.relative or node.module is None:
                continue
            top = _top(cst, node.module)
            if isinstance(node.names, cst.ImportStar):
                imports.append((top, None, guarded))
            else:
                for alias in node.names:
                    bound = alias.asname.name.value if alias.asname else _top(cst, alias.name)
                    imports.append((top, bound, guarded))
        elif isinstance(node, cst.Name):
            names.add(node.value)
        elif isinstance(node, cst.Attribute):
            stack.append((node.value, guarded))
        else:
            inner = guarded or isinstance(node, (cst.Try, cst.TryStar))
            stack.extend((child, inner) for child in node.children)
    missing = sorted({m for m, _, guarded in imports if not guarded and not available(m)})
    unused, used = [], []
    for m in missing:
        bound = {b for top, b, _ in imports if top == m}
        (used if None in bound or bound & names else unused).append(m)
    return unused, used


def _top(cst, dotted) -> str:
    while isinstance(dotted, cst.Attribute):
        dotted = dotted.value
    return dotted.value


@functools.cache
def _libcst():
    """libcst and the import remover, loaded on first use (libcst is slow to import)."""
    import libcst as cst

    class Remover(cst.CSTTransformer):
        """Removes the imports of ``modules`` outside ``try``. A statement line left empty goes,
        and the comments and blank lines above it move to the next statement, so that only the
        import's own line disappears; a block left empty gets ``pass``."""

        def __init__(self, modules: set[str]):
            super().__init__()
            self.modules = modules
            self.in_try = 0
            self.removed: dict[int, list] = {}  # id of an emptied statement line -> its leading lines

        def visit_Try(self, node):
            self.in_try += 1

        def leave_Try(self, original, updated):
            self.in_try -= 1
            return updated

        visit_TryStar = visit_Try
        leave_TryStar = leave_Try

        def leave_Import(self, original, updated):
            if self.in_try:
                return updated
            names = [a for a in updated.names if _top(cst, a.name) not in self.modules]
            if not names:
                return cst.RemoveFromParent()
            if len(names) < len(updated.names):
                names[-1] = names[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
                return updated.with_changes(names=names)
            return updated

        def leave_ImportFrom(self, original, updated):
            if self.in_try or updated.relative or updated.module is None or _top(cst, updated.module) not in self.modules:
                return updated
            return cst.RemoveFromParent()

        def _small_statements(self, original, updated):
            if not updated.body:
                return None
            if len(updated.body) < len(original.body):  # `x = 1; import pymysql` keeps no dangling `;`
                body = list(updated.body)
                body[-1] = body[-1].with_changes(semicolon=original.body[-1].semicolon)
                return updated.with_changes(body=body)
            return updated

        def leave_SimpleStatementLine(self, original, updated):
            new = self._small_statements(original, updated)
            if new is None:
                self.removed[id(original)] = list(original.leading_lines)
                return cst.RemoveFromParent()
            return new

        def leave_SimpleStatementSuite(self, original, updated):
            new = self._small_statements(original, updated)
            return updated.with_changes(body=[cst.Pass()]) if new is None else new

        def _carry(self, original, updated):
            """The new body, with the lines above each removed statement given to the next
            statement; what is left over goes first in the footer."""
            body, carry, kept = [], [], iter(updated.body)
            for stmt in original.body:
                if id(stmt) in self.removed:
                    carry += self.removed[id(stmt)]
                    continue
                new = next(kept)
                if carry:
                    new = new.with_changes(leading_lines=[*carry, *new.leading_lines])
                    carry = []
                body.append(new)
            return body, carry

        def leave_Module(self, original, updated):
            body, carry = self._carry(original, updated)
            return updated.with_changes(body=body, footer=[*carry, *updated.footer])

        def leave_IndentedBlock(self, original, updated):
            body, carry = self._carry(original, updated)
            if not body:
                return updated.with_changes(body=[cst.SimpleStatementLine([cst.Pass()], leading_lines=carry)])
            return updated.with_changes(body=body, footer=[*carry, *updated.footer])

    return cst, Remover
