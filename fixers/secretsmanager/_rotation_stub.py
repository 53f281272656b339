"""Rotation stubs: inline Python rotation functions whose ``setSecret`` step does nothing.

Secrets Manager rotates a secret in four steps: ``createSecret`` stores a new password as the
pending version, ``setSecret`` sets it in the database, ``testSecret`` logs in with it and
``finishSecret`` makes it current. A function that creates and finishes but leaves
``setSecret`` empty puts a password in the secret that the database never received — and a
``RotationSchedule`` rotates once right at deploy. Shared by SM002 (which can replace such a
function with a hosted rotation) and LAMBDA001 (whose import fix can be what lets it run).
"""

from __future__ import annotations

import ast
import re

from cfnfix.cloudformation import Template, ref_target

SCHEDULE = "AWS::SecretsManager::RotationSchedule"
STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")
# Calls that touch neither the database nor the secret's versions: reading the secret, logging,
# (de)serialising. A step whose code makes no other call does nothing.
_INERT_CALLS = frozenset({
    "print", "len", "str", "int", "dict", "list", "repr", "format", "isinstance",
    "get_secret_value", "describe_secret", "loads", "dumps", "get", "keys", "items", "values",
    "debug", "info", "warning", "warn", "error", "exception", "critical", "log", "getLogger", "setLevel",
})
_SUB_VARIABLE = re.compile(r"\$\{[^}]*\}")


def schedules_using(template: Template, function: str) -> list[tuple[str, str | None]]:
    """(schedule, the logical id its SecretId names) for each RotationSchedule whose
    RotationLambdaARN is the function (directly, or through one of its versions or aliases)."""
    names = {function}
    for name, res in template.resources.items():
        if isinstance(res, dict) and res.get("Type") in ("AWS::Lambda::Version", "AWS::Lambda::Alias"):
            props = res.get("Properties")
            if isinstance(props, dict) and ref_target(props.get("FunctionName")) == function:
                names.add(name)
    out = []
    for name, _, props in template.resources_of_type(SCHEDULE):
        arn = props.get("RotationLambdaARN")
        target = ref_target(arn)
        if target is None and isinstance(arn, dict) and isinstance(arn.get("Fn::Sub"), str):
            m = re.fullmatch(r"\s*\$\{([^}.!]+)(?:\.Arn)?\}\s*", arn["Fn::Sub"])
            target = m.group(1) if m else None
        if target in names:
            out.append((name, ref_target(props.get("SecretId"))))
    return out


def inline_code(props: dict, keys: tuple) -> str | None:
    """The inline code at ``keys`` of a function's properties (an Fn::Sub string with its
    ``${...}`` replaced by names of the same length), or None."""
    value = props
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    if isinstance(value, dict) and list(value) == ["Fn::Sub"]:
        value = value["Fn::Sub"]
        value = value[0] if isinstance(value, list) and value else value
        if isinstance(value, str):
            value = _SUB_VARIABLE.sub(lambda m: "_" * len(m.group()), value)
    return value if isinstance(value, str) else None


def stub_steps(code: str) -> list[str] | None:
    """The steps that do nothing (``setSecret`` first) when the code is a rotation function
    that creates and finishes a new version but does nothing in ``setSecret``; else None."""
    if "setSecret" not in code:
        return None
    try:
        module = ast.parse(code)
    except (SyntaxError, ValueError):
        return None
    functions = {n.name: n for n in module.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    handlers = _step_handlers(module, functions)
    if any(step not in handlers for step in STEPS):
        return None
    inert = {step: _inert(body, functions, set()) for step, body in handlers.items()}
    if not inert["setSecret"] or inert["createSecret"] or inert["finishSecret"]:
        return None
    return [step for step in ("setSecret", "testSecret") if inert[step]]


def _step_handlers(module, functions: dict) -> dict[str, list]:
    """The statements that handle each step: the branch of ``if step == "setSecret":``, the
    function a ``{"setSecret": set_secret}`` table names, or a function named for the step."""
    handlers: dict[str, list] = {}
    for node in ast.walk(module):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Compare) and len(node.test.ops) == 1 \
                and isinstance(node.test.ops[0], ast.Eq):
            for side in (node.test.left, node.test.comparators[0]):
                if isinstance(side, ast.Constant) and side.value in STEPS:
                    handlers.setdefault(side.value, node.body)
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if isinstance(key, ast.Constant) and key.value in STEPS and isinstance(value, ast.Name) \
                        and value.id in functions:
                    handlers.setdefault(key.value, functions[value.id].body)
    for step in STEPS:
        snake = re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), step)
        if step not in handlers:
            found = functions.get(snake) or functions.get(step)
            if found is not None:
                handlers[step] = found.body
    return handlers


def _inert(body: list, functions: dict, seen: set) -> bool:
    """True when the statements raise nothing and call nothing but _INERT_CALLS and functions of
    the module that are inert themselves."""
    for node in (n for stmt in body for n in ast.walk(stmt)):
        if isinstance(node, ast.Raise):
            return False
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
            if isinstance(func, ast.Name) and name in functions:
                if name in seen:
                    continue
                if not _inert(functions[name].body, functions, seen | {name}):
                    return False
            elif name not in _INERT_CALLS:
                return False
    return True
