from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

from cfnfix.cloudformation import Template
from cfnfix.fixing import Fix, Fixer, Report, Safety
from cfnfix.text.edits import Edit, SetValue

from .inline_imports import available

DATA = Path(__file__).resolve().parent / "data" / "runtimes.json"
FUNCTION_TYPES = {"AWS::Lambda::Function": ("Code", "ZipFile"), "AWS::Serverless::Function": ("InlineCode",)}
# Node.js code that needs what newer runtimes dropped: the v2 SDK, and callback-style handlers
# (a handler with a third parameter, the context methods, or CloudFormation's cfn-response module,
# which ends the invocation with context.done()).
_AWS_SDK_V2 = re.compile(r"""(?:require\s*\(\s*|from\s+|import\s+)['"]aws-sdk(?:/[^'"]*)?['"]""")
_CALLBACKS = re.compile(
    r"""\bcontext\s*\.\s*(?:done|succeed|fail)\s*\(|require\s*\(\s*['"]cfn-response['"]\s*\)"""
    r"""|handler\s*[=:]\s*(?:async\s+)?(?:function\s*\w*\s*)?\(\s*\w+\s*,\s*\w+\s*,\s*\w+\s*\)"""
    r"""|function\s+handler\s*\(\s*\w+\s*,\s*\w+\s*,\s*\w+\s*\)""")
_PY_IMPORT = re.compile(r"(?m)^[ \t]*(?:from[ \t]+([\w.]+)[ \t]+import\b|import[ \t]+([\w. \t,]+))")
SIX_MONTHS = 6


@lru_cache(maxsize=1)
def table() -> dict:
    return json.loads(DATA.read_text())


def _date(text: str | None) -> datetime.date | None:
    return datetime.date.fromisoformat(text) if text else None


def add_months(day: datetime.date, months: int) -> datetime.date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return datetime.date(year, month, d)
        except ValueError:
            continue
    raise ValueError(day)  # pragma: no cover


def status(runtime: str, today: datetime.date) -> str | None:
    """"blocked" (Lambda no longer creates functions with it), "deprecated" (still creatable),
    or None (supported, or not a runtime the table knows)."""
    info = table()["runtimes"].get(runtime)
    if info is None:
        return None
    block, deprecated = _date(info["create_block"]), _date(info["deprecated"])
    if block is not None and block <= today:
        return "blocked"
    if deprecated is not None and deprecated <= today:
        return "deprecated"
    return None


def successor(runtime: str, today: datetime.date, margin: int = SIX_MONTHS) -> str | None:
    """The nearest newer runtime of the same language that Lambda creates functions with today and
    does not deprecate within ``margin`` months."""
    runtimes = table()["runtimes"]
    info = runtimes[runtime]
    horizon = add_months(today, margin)
    best = None
    for name, other in runtimes.items():
        if other["language"] != info["language"] or other["version"] <= info["version"] or name.endswith("-edge"):
            continue
        block, deprecated = _date(other["create_block"]), _date(other["deprecated"])
        if (block is not None and block <= today) or (deprecated is not None and deprecated <= horizon):
            continue
        if best is None or other["version"] < runtimes[best]["version"]:
            best = name
    return best


@dataclass
class Site:
    """One place a runtime is written, and the functions that run on it."""

    path: tuple  # the literal runtime value (a property, Globals, or a parameter's Default)
    runtime: str
    label: str  # "Function X", "Globals", "Parameter P"
    functions: list[tuple[str, Any, tuple]] = field(default_factory=list)  # (name, inline code or None, code path)
    also: list[tuple] = field(default_factory=list)  # more places holding the same value (AllowedValues entries)


class _RuntimeFixer(Fixer):
    """Shared by LAMBDA002 (blocked runtimes) and LAMBDA004 (deprecated ones)."""

    trigger: ClassVar[str] = ""
    options = {"today": None}

    def __init__(self, options=None):
        super().__init__(options)
        today = self.config["today"]
        if today is None:
            self.today = datetime.date.today()
        elif isinstance(today, datetime.datetime):
            self.today = today.date()
        elif isinstance(today, datetime.date):
            self.today = today
        elif isinstance(today, str):
            try:
                self.today = datetime.date.fromisoformat(today)
            except ValueError:
                raise ValueError(f"{self.code}: today must be a date (YYYY-MM-DD), not {today!r}") from None
        else:
            raise ValueError(f"{self.code}: today must be a date (YYYY-MM-DD), not {today!r}")

    def run(self, template: Template):
        for site in _sites(template):
            if status(site.runtime, self.today) != self.trigger:
                continue
            yield self._finding(template, site)

    def _finding(self, template: Template, site: Site):
        runtimes = table()["runtimes"]
        info = runtimes[site.runtime]
        when = self._when(site.runtime, info)
        target = successor(site.runtime, self.today)
        if info["language"] == "python2":
            py3 = successor("python3.6", self.today)
            return Report(f"{site.label}: port the code to Python 3 and use {py3 or 'a supported python3 runtime'} "
                          f"({when})", site.path)
        if info["language"] == "go":
            return Report(f"{site.label}: build the function as a `bootstrap` executable and use "
                          f"{info['successor'] or 'provided.al2023'}, whose handler is that executable ({when})", site.path)
        if target is None:
            return Report(f"{site.label}: choose a runtime by hand: no newer {info['language']} runtime is supported "
                          f"for more than six months ({when})", site.path)
        problems = self._problems(site, target)
        if problems == [UNCHECKED] or problems and all(p.endswith(UNCHECKED) for p in problems):
            return Report(f"{site.label}: {when}; {target} may not run the inline code, which "
                          f"{UNCHECKED.removeprefix('its inline code ')}: check it and set the runtime by hand", site.path)
        if problems:
            alternative = next((r for r in _creatable_newer(site.runtime, self.today) if not self._problems(site, r)), None)
            also = ""
            if alternative:
                deprecated = _date(runtimes[alternative]["deprecated"])
                also = f"; or use {alternative}, which runs it as it is" + (
                    f" (deprecated {'since' if deprecated <= self.today else 'from'} {deprecated})" if deprecated else "")
            return Report(f"{site.label}: {when}, and {target} would not run the inline code as written: "
                          f"{'; '.join(problems)}{also}", site.path)
        edits: list[Edit] = [SetValue(site.path, target)]
        if site.also and target not in (template.parameters[site.path[1]].get("AllowedValues") or []):
            edits += [SetValue(p, target) for p in site.also]
        notes = _notes(site, target)
        return Fix(f"{site.label}: set {'the default runtime' if site.path[0] == 'Parameters' else 'Runtime'} to {target} "
                   f"({when}){notes}", edits, site.path)

    @staticmethod
    def _problems(site: Site, target: str) -> list[str]:
        out = []
        for name, code, _ in site.functions:
            prefix = "" if site.label == f"Function {name}" else f"function {name}: "
            out += [prefix + p for p in _code_problems(site.runtime, target, code)]
        return out

    def _when(self, runtime: str, info: dict) -> str:  # pragma: no cover - overridden
        raise NotImplementedError


class LambdaBlockedRuntime(_RuntimeFixer):
    code = "LAMBDA002"
    name = "lambda-blocked-runtime"
    summary = "Lambda runtime that Lambda no longer creates functions with"
    safety = Safety.UNSAFE
    default = True
    trigger = "blocked"
    docs = """
## What it does
Finds the `Runtime` of `AWS::Lambda::Function` and `AWS::Serverless::Function` (and SAM's
`Globals`, and the `Default` of a parameter a `Runtime` refers to) that Lambda no longer creates
functions with, per the runtime deprecation dates, and sets it to the nearest newer runtime of the
same language that Lambda supports and does not deprecate within six months (`python3.7` →
`python3.11` at the end of 2026, `nodejs14.x` → `nodejs24.x`, `java8` → `java8.al2`).

Inline code (`Code.ZipFile`, `InlineCode`) is checked against the new runtime first; the runtime
is reported, not changed, when the code would break there:

- Node.js code that `require`s `aws-sdk` (the v2 SDK; Node.js 18 and later include only v3),
- Node.js code with a callback-style handler, `context.done/succeed/fail` or `cfn-response`
  (which calls `context.done`) when the new runtime is Node.js 24 or later, which run only async
  handlers,
- Python code that imports a standard library module the new Python removed (`imp`,
  `distutils`, `asyncore`, `cgi`, …).

Also reported: `python2.7` (Python 3 is another language for the code) and `go1.x` (replaced by
the OS-only `provided.al2023`, which needs a `bootstrap` executable).

## Why it breaks deploys
Lambda rejects `CreateFunction` with a runtime past its "block function create" date, so the
stack fails on the function: "The runtime parameter of python3.7 is no longer supported for
creating or updating AWS Lambda functions".

## Example
```yaml
Resizer:
  Type: AWS::Lambda::Function
  Properties:
    Runtime: python3.7
    Handler: app.handler
    Role: !GetAtt ResizerRole.Arn
    Code:
      S3Bucket: !Ref ArtifactBucket
      S3Key: resizer.zip
```
Use instead:
```yaml
Resizer:
  Type: AWS::Lambda::Function
  Properties:
    Runtime: python3.11
    Handler: app.handler
    Role: !GetAtt ResizerRole.Arn
    Code:
      S3Bucket: !Ref ArtifactBucket
      S3Key: resizer.zip
```

## Fix safety
Unsafe: the function runs on a newer language version. Inline code is checked for what the new
runtime lacks, but code in a package cannot be: the fix says what to check (Node.js 24 runs only
async handlers; Node.js 18 and later have only the v3 SDK; a .NET package must be rebuilt for the
new target framework).

## Options
`today`: the date to judge the runtimes by (default: the current date), as `YYYY-MM-DD`.
```toml
[options.LAMBDA002]
today = 2026-12-01
```
Refresh the runtime table (`python scripts/gen_lambda_runtimes.py` after upgrading cfn-lint) to
learn new runtimes and dates.

## References
- [Lambda runtimes and their deprecation dates](https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html)
- [Runtime deprecation policy](https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html#runtime-support-policy)
- [Node.js handlers (callback-based handlers end with Node.js 22)](https://docs.aws.amazon.com/lambda/latest/dg/nodejs-handler.html)
- [Runtime-included SDK versions (Node.js)](https://docs.aws.amazon.com/lambda/latest/dg/lambda-nodejs.html#nodejs-sdk-included)
- cfn-lint rules E2531 (create blocked) and E2533 (update blocked)
"""

    def _when(self, runtime: str, info: dict) -> str:
        return f"Lambda has blocked creating functions with {runtime} since {info['create_block']}"


class LambdaDeprecatedRuntime(_RuntimeFixer):
    code = "LAMBDA004"
    name = "lambda-deprecated-runtime"
    summary = "Deprecated Lambda runtime that Lambda still creates functions with"
    safety = Safety.UNSAFE
    default = False
    trigger = "deprecated"
    docs = """
## What it does
The same as LAMBDA002, one stage earlier: a runtime that Lambda has deprecated (no more security
patches) but still creates functions with becomes the nearest newer runtime of the same language
that is not deprecated within six months, with the same checks of inline code (reported instead
when the code would break there).

## Why it breaks deploys
A deprecated runtime is on its way out: the template deploys today, but from the runtime's
"block function create" date every deploy that creates the function fails, and from its "block
function update" date every update of it does. The function already runs without security
patches.

## Example
```yaml
Notifier:
  Type: AWS::Lambda::Function
  Properties:
    Runtime: python3.9
    Handler: index.handler
    Role: !GetAtt NotifierRole.Arn
    Code:
      ZipFile: |
        def handler(event, context):
            return event
```
Use instead:
```yaml
Notifier:
  Type: AWS::Lambda::Function
  Properties:
    Runtime: python3.11
    Handler: index.handler
    Role: !GetAtt NotifierRole.Arn
    Code:
      ZipFile: |
        def handler(event, context):
            return event
```

## Fix safety
Unsafe, as LAMBDA002: the function runs on a newer language version.

## When to enable it
Opt-in (`--extend-select LAMBDA004`): the template deploys as it is, until the runtime's block
date. Turn it on to move off a runtime before Lambda blocks it, for example in a scheduled job
that keeps templates current, or when a deploy must keep working past the block date.

## Options
`today`, as for LAMBDA002.

## References
- [Lambda runtimes and their deprecation dates](https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html)
- cfn-lint rule W2531 (deprecated runtime)
"""

    def _when(self, runtime: str, info: dict) -> str:
        block = f"; Lambda blocks creating functions with it from {info['create_block']}" if info["create_block"] else ""
        return f"{runtime} is deprecated since {info['deprecated']}{block}"


# ----- where runtimes are written ---------------------------------------------------------------
def _sites(template: Template) -> list[Site]:
    sites: dict[tuple, Site] = {}
    sam_globals = template.section("Globals").get("Function")
    sam_globals = sam_globals if isinstance(sam_globals, dict) else {}

    def site_for(value, path: tuple, label: str) -> Site | None:
        if isinstance(value, str):
            key = path
        elif isinstance(value, dict) and list(value) == ["Ref"] and value["Ref"] in template.parameters:
            param = value["Ref"]
            body = template.parameters[param]
            if not isinstance(body, dict) or not isinstance(body.get("Default"), str):
                return None
            key = ("Parameters", param, "Default")
            value, label = body["Default"], f"Parameter {param}"
            if key not in sites:
                site = sites[key] = Site(key, value.strip(), label)
                allowed = body.get("AllowedValues")
                if isinstance(allowed, list) and value in allowed:
                    site.also.append(("Parameters", param, "AllowedValues", allowed.index(value)))
                return site
        else:
            return None
        return sites.setdefault(key, Site(key, value.strip(), label))

    for name, res, props in template.resources_of_type(*FUNCTION_TYPES):
        code_keys = FUNCTION_TYPES[res["Type"]]
        code_path = ("Resources", name, "Properties", *code_keys)
        code = props
        for key in code_keys:
            code = code.get(key) if isinstance(code, dict) else None
        if res["Type"] == "AWS::Lambda::Function" and not isinstance(props.get("Code"), dict):
            code = None
        if "Runtime" in props:
            site = site_for(props["Runtime"], ("Resources", name, "Properties", "Runtime"), f"Function {name}")
        elif res["Type"] == "AWS::Serverless::Function" and "Runtime" in sam_globals:
            site = site_for(sam_globals["Runtime"], ("Globals", "Function", "Runtime"), "Globals.Function")
        else:
            site = None
        if site is not None:
            site.functions.append((name, code, code_path))
    return list(sites.values())


def _notes(site: Site, target: str) -> str:
    """What to check in code the fixer cannot see (packages)."""
    runtimes = table()["runtimes"]
    old, new = runtimes[site.runtime], runtimes[target]
    packaged = [name for name, code, _ in site.functions if code is None]
    if not packaged and site.functions:
        return ""
    notes = []
    node = table()["nodejs"]
    if old["language"] == "nodejs":
        if old["version"][0] <= node["callback_handlers_until"] < new["version"][0]:
            notes.append("runs only async handlers")
        if old["version"][0] <= node["sdk_v2_until"] < new["version"][0]:
            notes.append("includes only the AWS SDK for JavaScript v3")
        return f"; check the packaged code: {target} {' and '.join(notes)}" if notes else ""
    if old["language"] == "dotnet":
        return f"; rebuild the package for {target}"
    return ""


def _code_problems(old: str, target: str, code) -> list[str]:
    """Why inline code would not run on ``target`` (empty when it would, or when there is none)."""
    if code is None:
        return []
    code = _code_text(code)
    runtimes = table()["runtimes"]
    lang, old_v, new_v = runtimes[old]["language"], runtimes[old]["version"], runtimes[target]["version"]
    checks_apply = lang in ("nodejs", "python3")
    if not isinstance(code, str):
        return [UNCHECKED] if checks_apply else []
    problems = []
    if lang == "nodejs":
        node = table()["nodejs"]
        if old_v[0] <= node["sdk_v2_until"] < new_v[0] and _AWS_SDK_V2.search(code):
            problems.append(f"it requires `aws-sdk` (the AWS SDK for JavaScript v2), which {target} does not include; "
                            "move the code to the v3 clients (`@aws-sdk/client-*`)")
        if old_v[0] <= node["callback_handlers_until"] < new_v[0] and _CALLBACKS.search(code):
            problems.append(f"it ends invocations with a callback, `context.done/succeed/fail` or `cfn-response`, which "
                            f"{target} no longer supports; rewrite the handler as an async function")
    elif lang == "python3":
        removed = table()["python_removed"]
        gone = {m for version, mods in removed.items() if old_v < [int(p) for p in version.split(".")] <= new_v for m in mods}
        used = sorted({m for m in _python_imports(code) if m in gone and available(m)})
        if used:
            problems.append(f"it imports {', '.join(f'`{m}`' for m in used)}, which Python {'.'.join(map(str, new_v))} "
                            "no longer has")
    return problems


UNCHECKED = "its inline code is built by a function cfnfix cannot evaluate, so it could not be checked"


def _code_text(code):
    """The text of inline code: a string, an Fn::Sub string, or an Fn::Join whose parts are strings
    (other parts, such as references, stand in as ``_``); else None."""
    if isinstance(code, dict) and list(code) == ["Fn::Sub"]:
        code = code["Fn::Sub"][0] if isinstance(code["Fn::Sub"], list) and code["Fn::Sub"] else code["Fn::Sub"]
    if isinstance(code, dict) and list(code) == ["Fn::Join"]:
        args = code["Fn::Join"]
        if isinstance(args, list) and len(args) == 2 and isinstance(args[0], str) and isinstance(args[1], list):
            return args[0].join(p if isinstance(p, str) else "_" for p in args[1])
    return code if isinstance(code, str) else None


def _creatable_newer(old: str, today: datetime.date) -> list[str]:
    """Newer runtimes of the same language that Lambda still creates functions with, newest first."""
    runtimes = table()["runtimes"]
    info = runtimes[old]
    out = [name for name, other in runtimes.items()
           if other["language"] == info["language"] and other["version"] > info["version"] and not name.endswith("-edge")
           and not (_date(other["create_block"]) and _date(other["create_block"]) <= today)]
    return sorted(out, key=lambda n: runtimes[n]["version"], reverse=True)


def _python_imports(code: str) -> set[str]:
    names = set()
    for m in _PY_IMPORT.finditer(code):
        found = [m.group(1)] if m.group(1) else [n.split()[0] for n in m.group(2).split(",") if n.split()]
        names.update(n.lstrip(".").split(".")[0] for n in found if n.lstrip("."))
    return names
