from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterator

from cfnfix.text.edits import Delete, SetValue
from cfnfix.fixing import Fix, Fixer, Report, Safety
from cfnfix.cloudformation import Template, ref, sub
from cfnfix.cloudformation.display import fmt

BUCKET = "AWS::S3::Bucket"
MAX_LENGTH = 63
STACK_NAME = "AWS::StackName"
# The shortest value each pseudo parameter takes (us-east-1, aws, amazonaws.com); StackName: one letter.
PSEUDO_LENGTH = {"AWS::AccountId": 12, "AWS::Region": 9, "AWS::Partition": 3, "AWS::URLSuffix": 13,
                 STACK_NAME: 1, "AWS::StackId": 80}
LOWER_PSEUDO = ("AWS::AccountId", "AWS::Region", "AWS::Partition", "AWS::URLSuffix")
_TOKEN = re.compile(r"\$\{([^}]*)\}")
_BAD = re.compile(r"[A-Z_]")
_INVALID = re.compile(r"[^a-z0-9.-]")
_MAPPING_KEY = re.compile(r"[A-Za-z0-9.-]+")
_RANGE = re.compile(r"\[(\^?)((?:\\.|[^\]\\])*)\]")
# Words that mark a parameter as telling deployments apart (what a stack name did in a name).
_DEPLOYMENT_WORDS = ("suffix", "env", "stage")


def _fix_text(text: str) -> str:
    """A literal part of a bucket name as S3 accepts it: lower case, ``-`` for ``_``."""
    return text.lower().replace("_", "-")


@dataclass
class Name:
    """What a BucketName is built from."""

    literals: list[str] = field(default_factory=list)
    refs: list[str] = field(default_factory=list)
    unknown: bool = False  # a part whose value cannot be read (GetAtt, FindInMap, ImportValue, …)
    branches: bool = False  # Fn::If
    min_length: int = 0


def _read(value: Any, template: Template, out: Name, local: dict | None = None) -> int:
    """Collect the parts of a name value into ``out``; returns its shortest possible length."""
    if isinstance(value, str):
        out.literals.append(value)
        return len(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        out.literals.append(str(value))
        return len(str(value))
    if isinstance(value, dict) and len(value) == 1:
        (fn, arg), = value.items()
        if fn == "Ref" and isinstance(arg, str):
            out.refs.append(arg)
            return _ref_length(arg, template)
        if fn == "Fn::Sub":
            text, variables = (arg, {}) if isinstance(arg, str) else (
                (arg[0], arg[1] if len(arg) > 1 and isinstance(arg[1], dict) else {})
                if isinstance(arg, list) and arg and isinstance(arg[0], str) else (None, {}))
            if text is None:
                out.unknown = True
                return 0
            length, pos = 0, 0
            for m in _TOKEN.finditer(text):
                out.literals.append(text[pos:m.start()])
                length += m.start() - pos
                pos = m.end()
                name = m[1]
                if name.startswith("!"):
                    out.literals.append(m[0])
                    length += len(m[0]) - 1
                elif name in variables:
                    length += _read(variables[name], template, out)
                elif "." in name:
                    out.unknown = True
                else:
                    out.refs.append(name)
                    length += _ref_length(name, template)
            out.literals.append(text[pos:])
            return length + len(text) - pos
        if fn == "Fn::Join" and isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str) and isinstance(arg[1], list):
            out.literals.append(arg[0])
            return sum(_read(v, template, out) for v in arg[1]) + len(arg[0]) * max(len(arg[1]) - 1, 0)
        if fn == "Fn::If" and isinstance(arg, list) and len(arg) == 3:
            out.branches = True
            return min(_read(arg[1], template, out), _read(arg[2], template, out))
    out.unknown = True
    return 0


def _ref_length(name: str, template: Template) -> int:
    if name in PSEUDO_LENGTH:
        return PSEUDO_LENGTH[name]
    param = template.parameters.get(name)
    if isinstance(param, dict) and isinstance(param.get("Default"), (str, int)):
        return len(str(param["Default"]))
    return 0


def _sub_text(value: Any) -> str | None:
    """The name as one Fn::Sub template (``${X}`` for each reference), to find where else the
    template builds the same name; None when it cannot be written so."""
    if isinstance(value, str):
        return value if "${" not in value else None
    if isinstance(value, dict) and len(value) == 1:
        (fn, arg), = value.items()
        if fn == "Ref" and isinstance(arg, str):
            return f"${{{arg}}}"
        if fn == "Fn::Sub" and isinstance(arg, str):
            return arg
        if fn == "Fn::Join" and isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], list):
            parts = [_sub_text(v) for v in arg[1]]
            if isinstance(arg[0], str) and all(p is not None for p in parts):
                return arg[0].join(parts)
    return None


@dataclass
class Plan:
    """How the parameters and the stack name of one bucket's name are made lower case."""

    mapped: dict[str, tuple[str, str]] = field(default_factory=dict)  # parameter -> (mapping, variable)
    stack_name: Any = None  # replacement text for ${AWS::StackName} (a pseudo/parameter name), "" to drop it
    edits: list = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    mappings: dict[str, dict] = field(default_factory=dict)  # new mappings, added together


class BucketName(Fixer):
    code = "S3001"
    name = "invalid-bucket-name"
    summary = "S3 `BucketName` with upper-case letters, `_`, more than 63 characters, or `${AWS::StackName}`"
    safety = Safety.UNSAFE
    options = {"fix_stack_name": False}
    docs = """
## What it does
Checks the `BucketName` of each `AWS::S3::Bucket` — its literal parts, and the defaults and
allowed values of the parameters it is built from — against S3's naming rules, and makes it one
S3 accepts:

- When nothing else uses the name (no other property, policy, ARN, URL or output of the template
  builds the same name, and no parameter of the deployer is part of it), `BucketName` is removed
  and CloudFormation names the bucket (`<stack>-<logical id>-<random>`, lower case, unique).
- Otherwise the name is kept and lowered: literal parts become lower case with `-` for `_`,
  every place of the template that builds the same name follows, and a parameter with an
  upper-case default (`ProjectName: MyApp`) gets a lower-case default, and a lower-case
  `AllowedPattern` when it has one. A parameter with `AllowedValues` (`Production`, `Staging`)
  keeps its values: the name reads it through a new mapping
  (`!FindInMap [EnvironmentLowerCase, !Ref Environment, Lower]`), so conditions and other
  uses of the parameter see what they saw before.
- A name that cannot be shorter than 63 characters and cannot be dropped is reported.
- `${AWS::StackName}` is reported by default (see below); with `fix_stack_name` it is dropped
  with the name as above, or replaced with a part known to be lower case: a lower-case
  deployment parameter (`EnvironmentSuffix`…) not yet in the name, else `${AWS::AccountId}`,
  else `${AWS::Region}`.

A parameter compared in a condition or used as a mapping key, a pattern it cannot lower, and a
name it cannot read are reported, not changed.

## Why it breaks deploys
S3 accepts only bucket names of 3 to 63 lower-case letters, digits, `.` and `-`, so a bucket
with any other name fails to create and the stack rolls back. S3 says "Bucket name should not
contain uppercase characters" or "Bucket name should not contain '_'". A stack name may hold
capitals (`MyAppStack`), so `${AWS::StackName}` in a bucket name fails whenever it does.

## Example
```yaml
Parameters:
  ProjectName:
    Type: String
    Default: RetailApp
Resources:
  DataBucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub '${ProjectName}-Data-${AWS::AccountId}'
```
Use instead:
```yaml
Parameters:
  ProjectName:
    Type: String
    Default: retailapp
Resources:
  DataBucket:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub '${ProjectName}-data-${AWS::AccountId}'
```

## Fix safety
Unsafe: the bucket gets another name. Whatever reaches the bucket by its name from outside the
template (application settings, other stacks, scripts, bucket policies elsewhere) must follow the
new name, or read it from the stack (`!Ref` the bucket in an output). A lowered parameter
default also changes every other use of that parameter (tags, other names).

It is on by default because such a name cannot deploy in any account: a literal part is the same
everywhere, and a parameter default is what the template deploys with when nobody overrides it
(an unattended deploy, a pipeline, the console's defaults). A parameter with `AllowedValues`
keeps every value, and values that were already lower case give the same name as before.

A `${AWS::StackName}` name deploys whenever the stack's name is lower case and short enough, as
it is for many stacks (AWS's own sample templates use it), so it is not a name that "cannot
deploy": rewriting it would rename, and so replace, buckets of stacks that work today. It is
reported, and fixed only with `fix_stack_name`.

## Options
- `fix_stack_name` (default `false`): also fix names built on `${AWS::StackName}`.

## When to enable it
Turn on `fix_stack_name` when stacks of the template are, or may be, created with capitals in
their names (`MyAppStack`, names made by CDK or pipelines from project names), and the template
is not yet deployed with that bucket name (a new name replaces the bucket of a running stack).

## References
- https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
- https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-s3-bucket.html#cfn-s3-bucket-bucketname
- https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-name.html
- https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cfn-using-console-create-stack-parameters.html (stack names)
- cfn-lint E3031 and E1161 (a literal name S3 rejects), W1031 (a name S3 rejects once its
  parameters take their defaults)
"""

    def run(self, template: Template):
        buckets = list(template.resources_of_type(BUCKET))
        names = {b: props["BucketName"] for b, _, props in buckets if "BucketName" in props}
        for bucket, value in names.items():
            yield from self._bucket(template, bucket, value, names)

    def _bucket(self, template: Template, bucket: str, value: Any, names: dict) -> Iterator:
        path = ("Resources", bucket, "Properties", "BucketName")
        name = Name()
        name.min_length = _read(value, template, name)
        literal_bad = any(_BAD.search(_strip_tokens(t)) for t in name.literals)
        others = sorted({c for t in name.literals for c in _INVALID.findall(_fix_text(_strip_tokens(t)))})
        if others:
            yield Report(f"{bucket}: BucketName `{fmt(value)}` holds {', '.join(repr(c) for c in others)}, which S3 "
                         "rejects in bucket names; use lower-case letters, digits, `.` and `-`", path)
            return
        params = [r for r in dict.fromkeys(name.refs) if r in template.parameters]
        bad_params = [p for p in params if _bad_parameter(template.parameters[p])]
        stack = STACK_NAME in name.refs
        fix_stack = stack and self.config["fix_stack_name"]
        too_long = name.min_length > MAX_LENGTH
        text = _sub_text(value)
        problem = literal_bad or bad_params or fix_stack or too_long
        distinctive = problem and text is not None and (len(re.sub(r"[^a-z0-9]", "", _strip_tokens(text).lower())) >= 3
                                                        or len(_TOKEN.findall(text)) >= 2)
        uses = _uses(template, text, names) if distinctive else None
        foreign = [r for r in name.refs if not r.startswith("AWS::")]
        if problem and not foreign and not name.unknown and not name.branches and uses == []:
            yield Fix(f"{bucket}: remove BucketName `{fmt(value)}` ({_why(literal_bad, too_long, stack)}) and let "
                      "CloudFormation name the bucket; whatever uses the old name from outside the stack must use the "
                      f"generated one (`!Ref {bucket}`)", [_delete(template, bucket)], path)
            return
        if stack and not fix_stack:
            yield Report(f"{bucket}: BucketName `{fmt(value)}` is built on `${{AWS::StackName}}`: it fails to create "
                         "when the stack's name has capitals; build it from lower-case parts, or remove it "
                         "(option fix_stack_name)", path)
        if not problem:
            return
        if too_long:
            yield Report(f"{bucket}: BucketName `{fmt(value)}` is at least {name.min_length} characters long, more "
                         f"than the {MAX_LENGTH} S3 allows; shorten it", path)
            return
        plan = Plan()
        for p in bad_params:
            trouble = self._parameter(template, p, plan)
            if trouble:
                yield Report(f"{bucket}: BucketName `{fmt(value)}` takes parameter {p}, {trouble}", path)
                return
        if fix_stack:
            plan.stack_name = _stack_replacement(template, name)
            plan.notes.append(f"replace `${{AWS::StackName}}` with {f'`${{{plan.stack_name}}}`' if plan.stack_name else 'nothing'}")
        new = _rewrite(value, plan)
        if name.unknown and new == value and not plan.edits:
            return
        edits = list(plan.edits) + template.add_entries("Mappings", plan.mappings)
        if new != value:
            edits.insert(0, SetValue(path, new))
            after = Name()
            if _read(new, template, after) > MAX_LENGTH:
                yield Report(f"{bucket}: BucketName `{fmt(value)}` would be longer than {MAX_LENGTH} characters "
                             "once made lower case; shorten it", path)
                return
        followed = []
        new_text = _new_text(new, plan)
        for use_path, use_text, kind in (uses or ()) if new_text != text else ():
            if new_text is None:
                yield Report(f"{bucket}: BucketName `{fmt(value)}` is also built at {_dotted(use_path)}, which cannot follow "
                             "a new name; fix both by hand", path)
                return
            edit = _follow(template, use_path, use_text, kind, text, new_text, plan)
            if edit is None:
                yield Report(f"{bucket}: BucketName `{fmt(value)}` is also built at {_dotted(use_path)}, which cannot "
                             "follow a new name; fix both by hand", path)
                return
            edits.append(edit)
            followed.append(_place(use_path))
        if not edits:
            return
        if new != value:
            shown = f"!Sub {new_text}" if new_text is not None and "${" in new_text else new_text or fmt(new)
            message = f"{bucket}: change BucketName `{fmt(value)}` to `{shown}`"
        else:
            message = f"{bucket}: make BucketName `{fmt(value)}` lower case"
        if plan.notes:
            message += " (" + "; ".join(plan.notes) + ")"
        if followed:
            message += f", and the same name in {', '.join(dict.fromkeys(followed))}"
        message += "; whatever uses the old name from outside the stack must follow"
        yield Fix(message, edits, path)

    def _parameter(self, template: Template, name: str, plan: Plan) -> str | None:
        """Plan how parameter ``name`` reaches the bucket name in lower case; a problem otherwise."""
        param = template.parameters[name]
        allowed = param.get("AllowedValues")
        if isinstance(allowed, list):
            values = [str(v) for v in allowed]
            if not all(_MAPPING_KEY.fullmatch(v) for v in values) or len(values) > 200:
                return "whose allowed values cannot be mapping keys; lower-case them by hand"
            mapping = _mapping_name(template, name, values)
            variable = _variable_name(template, name)
            plan.mapped[name] = (mapping, variable)
            body = {v: {"Lower": _fix_text(v)} for v in values}
            if mapping not in template.section("Mappings"):
                plan.mappings[mapping] = body
            plan.notes.append(f"read parameter {name} in lower case through mapping {mapping}")
            return None
        uses = [r for r in template.references_to(name) if r.section in ("Conditions", "Rules")]
        if uses or _in_find_in_map(template, name):
            return "which a condition, rule or mapping compares by case; lower-case its default by hand"
        default = str(param["Default"])
        new_default = _fix_text(default)
        pattern = param.get("AllowedPattern")
        edits = [SetValue(("Parameters", name, "Default"), new_default)]
        if isinstance(pattern, str):
            new_pattern = _lower_pattern(pattern)
            try:
                ok = re.fullmatch(new_pattern, new_default) is not None
            except re.error:
                ok = False
            if not ok:
                return f"whose AllowedPattern `{pattern}` cannot be made lower case; change both by hand"
            if new_pattern != pattern:
                edits.append(SetValue(("Parameters", name, "AllowedPattern"), new_pattern))
        plan.edits.extend(edits)
        plan.notes.append(f"parameter {name} defaults to `{new_default}`" + (" with a lower-case AllowedPattern" if len(edits) > 1 else ""))
        return None


def _strip_tokens(text: str) -> str:
    return _TOKEN.sub("", text)


def _why(literal_bad: bool, too_long: bool, stack: bool) -> str:
    reasons = []
    if literal_bad:
        reasons.append("S3 rejects upper-case letters and `_`")
    if too_long:
        reasons.append(f"longer than {MAX_LENGTH} characters")
    if stack:
        reasons.append("`${AWS::StackName}` may hold capitals")
    return "; ".join(reasons)


def _bad_parameter(param: Any) -> bool:
    """A String parameter whose default or an allowed value S3 would reject in a name (not an
    ``AWS::SSM::Parameter::Value<String>``, whose default is the name of an SSM parameter)."""
    if not isinstance(param, dict) or param.get("Type", "String") != "String":
        return False
    values = [param.get("Default")] + list(param.get("AllowedValues") or [] if isinstance(param.get("AllowedValues"), list) else [])
    return any(isinstance(v, str) and _BAD.search(v) for v in values)


def _delete(template: Template, bucket: str):
    props = template.resources[bucket]["Properties"]
    if list(props) == ["BucketName"]:
        return Delete(("Resources", bucket, "Properties"))
    return Delete(("Resources", bucket, "Properties", "BucketName"))


def _uses(template: Template, text: str, names: dict) -> list[tuple[tuple, str, str]]:
    """(path, string, kind) of each string of Resources, Outputs, Mappings and parameter defaults
    that builds the name ``text`` — kind "sub" for Fn::Sub templates, "plain" for literal
    strings, "join" for Fn::Join — other than the BucketNames themselves."""
    literal = "${" not in text
    pattern = re.compile(r"(?<![A-Za-z0-9_.-])" + re.escape(text) + r"(?![A-Za-z0-9_-])", re.IGNORECASE)
    found = []
    sources = [(("Parameters", p, key), param[key]) for p, param in template.parameters.items()
               if isinstance(param, dict) for key in ("Default", "AllowedValues") if key in param]
    sources += [((section,), template.section(section)) for section in ("Mappings", "Resources", "Outputs")]
    for base, node in sources:
        for path, s, kind in _strings(base, node):
            if path[:1] == ("Resources",) and len(path) >= 4 and path[2:4] == ("Properties", "BucketName") and path[1] in names:
                continue
            if (kind != "plain" or literal) and pattern.search(s):
                found.append((path, s, kind))
    return found


def _strings(path: tuple, node: Any) -> Iterator[tuple[tuple, str, str]]:
    """(path, text, kind) of the strings under ``node``: "plain" strings, "sub" templates, and
    "join" for an Fn::Join read as one template (found, but never rewritten)."""
    if isinstance(node, dict):
        if len(node) == 1 and "Fn::Join" in node:
            text = _sub_text(node)
            if text is not None:
                yield path, text, "join"
        if len(node) == 1 and "Fn::Sub" in node:
            arg = node["Fn::Sub"]
            if isinstance(arg, str):
                yield path + ("Fn::Sub",), arg, "sub"
                return
            if isinstance(arg, list) and arg and isinstance(arg[0], str):
                yield path + ("Fn::Sub", 0), arg[0], "sub"
                for i, v in enumerate(arg[1:], 1):
                    yield from _strings(path + ("Fn::Sub", i), v)
                return
        for k, v in node.items():
            yield from _strings(path + (k,), v)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _strings(path + (i,), v)
    elif isinstance(node, str):
        yield path, node, "plain"


def _follow(template: Template, path: tuple, text: str, kind: str, old: str, new: str, plan: Plan):
    """The edit that makes the string at ``path`` build the new name, or None."""
    pattern = re.compile(r"(?<![A-Za-z0-9_.-])" + re.escape(old) + r"(?![A-Za-z0-9_-])", re.IGNORECASE)
    replaced = pattern.sub(lambda _: new, text)
    if kind == "join":
        return None
    if kind == "plain":
        return SetValue(path, replaced) if "${" not in new else SetValue(path, sub(replaced))
    needed = {v for p, (_, v) in plan.mapped.items() if f"${{{v}}}" in new}
    if not needed:
        return SetValue(path, replaced)
    bindings = {v: {"Fn::FindInMap": [m, ref(p), "Lower"]} for p, (m, v) in plan.mapped.items() if v in needed}
    if path[-1] == "Fn::Sub":  # string form: becomes the list form with the mapping variables
        return SetValue(path[:-1], {"Fn::Sub": [replaced, bindings]})
    node = template.data
    for step in path[:-1]:
        node = node[step]
    if len(node) > 1 and isinstance(node[1], dict):
        if any(v in node[1] for v in bindings):
            return None
        return SetValue(path[:-1], [replaced, {**node[1], **bindings}])
    return SetValue(path[:-1], [replaced, bindings])


def _new_text(value: Any, plan: Plan) -> str | None:
    """The new name as one Fn::Sub template, its mapping variables included."""
    arg = value.get("Fn::Sub") if isinstance(value, dict) and len(value) == 1 else None
    if isinstance(arg, list) and len(arg) == 2 and isinstance(arg[0], str) and isinstance(arg[1], dict):
        ours = {v for _, v in plan.mapped.values()}
        return arg[0] if set(arg[1]) <= ours else None
    return _sub_text(value)


def _rewrite(value: Any, plan: Plan) -> Any:
    """The name with lower-case literal parts, mapped parameters and the stack name replaced."""
    if isinstance(value, str):
        return _fix_text(value)
    if not isinstance(value, dict) or len(value) != 1:
        return value
    (fn, arg), = value.items()
    if fn == "Ref" and isinstance(arg, str):
        if arg in plan.mapped:
            mapping, _ = plan.mapped[arg]
            return {"Fn::FindInMap": [mapping, ref(arg), "Lower"]}
        if arg == STACK_NAME and plan.stack_name is not None:
            return ref(plan.stack_name) if plan.stack_name else ""
        return value
    if fn == "Fn::Sub":
        if isinstance(arg, str):
            text, variables = arg, None
        elif isinstance(arg, list) and arg and isinstance(arg[0], str):
            text = arg[0]
            variables = {k: _rewrite(v, plan) for k, v in arg[1].items()} if len(arg) > 1 and isinstance(arg[1], dict) else {}
        else:
            return value
        new_text, bindings = _rewrite_sub(text, plan, set(variables or ()))
        if bindings or variables:
            return {"Fn::Sub": [new_text, {**(variables or {}), **bindings}]}
        return sub(new_text)
    if fn == "Fn::Join" and isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], list):
        delimiter = _fix_text(arg[0]) if isinstance(arg[0], str) else arg[0]
        items = [_rewrite(v, plan) for v in arg[1]]
        return {"Fn::Join": [delimiter, [v for v in items if v != ""]]}
    if fn == "Fn::If" and isinstance(arg, list) and len(arg) == 3:
        return {"Fn::If": [arg[0], _rewrite(arg[1], plan), _rewrite(arg[2], plan)]}
    return value


def _rewrite_sub(text: str, plan: Plan, local: set[str]) -> tuple[str, dict]:
    out, bindings, pos = [], {}, 0
    for m in _TOKEN.finditer(text):
        out.append(_fix_text(text[pos:m.start()]))
        pos = m.end()
        name = m[1]
        if name in plan.mapped and name not in local:
            mapping, variable = plan.mapped[name]
            bindings[variable] = {"Fn::FindInMap": [mapping, ref(name), "Lower"]}
            out.append(f"${{{variable}}}")
        elif name == STACK_NAME and plan.stack_name is not None:
            if plan.stack_name:
                out.append(f"${{{plan.stack_name}}}")
            else:
                out.append("\0")  # dropped: with one separator next to it, below
        else:
            out.append(m[0])
    out.append(_fix_text(text[pos:]))
    joined = "".join(out)
    if "\0" in joined:
        joined = re.sub(r"\0[-.]|[-.]\0|\0", "", joined, count=1)
    return joined, bindings


def _stack_replacement(template: Template, name: Name) -> str:
    """A lower-case part to stand where ``${AWS::StackName}`` stood: a lower-case deployment
    parameter not yet in the name, else the account id, else the region; "" for none."""
    for pname, param in template.parameters.items():
        if pname in name.refs or not isinstance(param, dict) or not any(w in pname.lower() for w in _DEPLOYMENT_WORDS):
            continue
        if _always_lower(param):
            return pname
    for pseudo in ("AWS::AccountId", "AWS::Region"):
        if pseudo not in name.refs:
            return pseudo
    return ""


def _always_lower(param: dict) -> bool:
    """The parameter's values are lower case whatever the deployer gives: allowed values all
    lower case, or a pattern that admits no capital letter."""
    if param.get("Type", "String") != "String":
        return False
    allowed = param.get("AllowedValues")
    if isinstance(allowed, list):
        return bool(allowed) and all(isinstance(v, str) and not _BAD.search(v) for v in allowed)
    pattern, default = param.get("AllowedPattern"), param.get("Default")
    if not isinstance(pattern, str) or (isinstance(default, str) and _BAD.search(default)):
        return False
    if re.search(r"\\[wWSDp]|\.|\(\?i|[A-Z]", re.sub(r"\\.", lambda m: m[0] if m[0][1] in "wWSDp" else "", pattern)):
        return False
    return not any("A-Z" in m[2] or m[1] for m in _RANGE.finditer(pattern))


def _lower_pattern(pattern: str) -> str:
    """``pattern`` with the capital letters taken out of its character classes (``[a-zA-Z]`` ->
    ``[a-z]``, ``[A-Z]`` -> ``[a-z]``) and ``_`` turned into ``-``; other patterns as they are."""

    def fix(m: re.Match) -> str:
        negated, body = m[1], m[2]
        if negated:
            return m[0]
        if "A-Z" in body:
            body = body.replace("A-Z", "" if "a-z" in body else "a-z")
        if "_" in body:
            hyphen = body.startswith("-") or body.endswith("-") or "\\-" in body
            body = body.replace("_", "" if hyphen else "\\-")
        return f"[{body}]"

    return _RANGE.sub(fix, pattern)


def _mapping_name(template: Template, param: str, values: list[str]) -> str:
    base = f"{param}LowerCase"
    body = {v: {"Lower": _fix_text(v)} for v in values}
    if template.section("Mappings").get(base) == body:
        return base
    return template.unique_id(base)


def _variable_name(template: Template, param: str) -> str:
    base = f"{param}Lower"
    taken = template.logical_ids()
    if base not in taken:
        return base
    n = 2
    while f"{base}{n}" in taken:
        n += 1
    return f"{base}{n}"


def _in_find_in_map(template: Template, name: str) -> bool:
    """True when ``!Ref name`` is a key of an Fn::FindInMap anywhere in the template."""
    return any("Fn::FindInMap" in r.path for r in template.references_to(name, ("Ref",)))


def _place(path: tuple) -> str:
    """Where a use of the name is, for the message: ``Role.Policies``, ``output Url``…"""
    if path[0] == "Resources":
        return ".".join(str(p) for p in path[1:4:2])
    return {"Outputs": "output", "Parameters": "parameter", "Mappings": "mapping"}[path[0]] + f" {path[1]}"


def _dotted(path: tuple) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (("." if out else "") + str(p))
    return out
