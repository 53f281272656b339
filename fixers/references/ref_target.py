from __future__ import annotations

import re
from typing import Any, Iterator

from cfnfix.text.edits import SetValue
from cfnfix.fixing import Fix, Fixer, Report, Safety
from cfnfix.cloudformation import Template
from cfnfix.cloudformation.references import SUB_VARIABLE, sub_parts
from cfnfix.fixers.resources._facts import close_names, expanded_later

PSEUDO = ("AWS::AccountId", "AWS::NotificationARNs", "AWS::NoValue", "AWS::Partition", "AWS::Region",
          "AWS::StackId", "AWS::StackName", "AWS::URLSuffix")
# Sections whose Ref and ${} name resources and parameters (Metadata and Rules are not checked).
SECTIONS = ("Resources", "Outputs", "Conditions")


class RefTarget(Fixer):
    code = "REF001"
    scope = "entry"
    name = "ref-target-typo"
    summary = "`Ref` or `${}` in `Fn::Sub` naming something that does not exist, a typo of one name"
    safety = Safety.SAFE
    docs = """
## What it does
Finds each `Ref` and each `${Name}` in an `Fn::Sub` string that names no parameter, resource or
pseudo parameter (and, for `${}`, no variable of the `Fn::Sub`'s own map), and renames it to the
one name it is a typo of:

- the same name in another case (`!Ref VPCId` when the template has `VpcId`,
  `${AWS::AccountID}` -> `${AWS::AccountId}`), or the same up to `_` and `-`;
- else one letter added, dropped, changed or two letters swapped (two such edits for names of
  ten letters or more), with the same digits, the name at least four letters long, and no other
  name as close.

An IAM policy variable written in an `Fn::Sub` string (`${aws:username}`,
`${aws:PrincipalTag/team}`), which `Fn::Sub` would try to resolve, is escaped as
`${!aws:username}` so that the policy receives it as written.

Names starting with `AWS::` are matched against the pseudo parameters only; `${Name}` in an
`Fn::Sub` with a variable map against the map's variables too. A name is never matched to a
sibling: names that differ in a one-letter word (`SubnetB` / `SubnetA`, `PublicSubnet` /
`PublicSubnetA`) or by a final `s` are different things, and the reference more likely names a
resource that was never written. In a multi-line `Fn::Sub` (a script) and for names in capitals
(`${REGION}`), a near name is only suggested: it may be a shell variable left unescaped. Those, names with two candidates and names with none are
reported. `${Name.Attribute}` is left to REF002. Templates that are expanded before
CloudFormation reads them (a `Transform`, a `Modules` section, Rain modules), whose expansion
may define the names, are left alone.

## Why it breaks deploys
CloudFormation rejects a template whose `Ref` or `Fn::Sub` names an unknown logical id
("Template format error: Unresolved resource dependencies [VPCId] in the Resources block of the
template") before creating anything.

## Example
```yaml
Parameters:
  VpcId:
    Type: AWS::EC2::VPC::Id
Resources:
  AppSecurityGroup:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: !Sub app in ${AWS::AccountID}
      VpcId: !Ref VPCId
```
Use instead:
```yaml
      GroupDescription: !Sub app in ${AWS::AccountId}
      VpcId: !Ref VpcId
```

## Fix safety
Safe: a template with an unresolved reference never deployed, and the name written is the only
one the reference can have meant; an escaped policy variable reaches IAM as it was written.

## References
- cfn-lint E1020 (Ref to a resource or parameter that does not exist) and E1019 (`Fn::Sub`
  variables).
- https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-ref.html
- https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/pseudo-parameter-reference.html
- https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-sub.html
  (`${!Literal}`) and https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
"""

    def run(self, template: Template):
        if expanded_later(template):
            return
        names = set(template.whole.resources) | set(template.parameters)
        others = template.whole.logical_ids()  # conditions, outputs, mappings: not Ref targets, but not typos either
        for section in SECTIONS:
            pool = set(template.parameters) if section == "Conditions" else names  # conditions see parameters only
            for owner, entry in template.section(section).items():
                yield from self._walk(section, (section, owner), entry, pool, others)

    def _walk(self, section: str, path: tuple, node: Any, names: set, others: set) -> Iterator:
        stack = [(path, node)]
        while stack:
            p, n = stack.pop()
            if isinstance(n, list):
                stack.extend((p + (i,), v) for i, v in reversed(list(enumerate(n))))
                continue
            if not isinstance(n, dict):
                continue
            if len(n) == 1 and isinstance(n.get("Ref"), str):
                yield from self._ref(section, p, n["Ref"], names, others)
                continue
            if len(n) == 1 and "Fn::Sub" in n:
                yield from self._sub(section, p, n["Fn::Sub"], names, others)
            stack.extend((p + (k,), v) for k, v in reversed(list(n.items())))

    def _ref(self, section: str, path: tuple, target: str, names: set, others: set) -> Iterator:
        if target in names or target in PSEUDO or target in others:
            return
        pool = _pool(target, section, names)
        found = close_names(target, pool)
        where = _where(path)
        if len(found) == 1:
            yield Fix(f"{where}: rename `Ref {target}` to `Ref {found[0]}`", [SetValue(path + ("Ref",), found[0])], path)
        else:
            yield Report(f"{where}: `Ref {target}` names nothing in the template{_options(found)}", path)

    def _sub(self, section: str, path: tuple, value: Any, names: set, others: set) -> Iterator:
        parts = sub_parts(path, value)
        if parts is None:
            return
        text, at, local = parts
        where = _where(path)
        renames: dict[str, str] = {}
        for m in SUB_VARIABLE.finditer(text):
            var = m.group(1)
            if "." in var or var in local or var in names or var in PSEUDO or var in others or var in renames:
                continue
            if var.strip() != var:
                continue
            if _policy_variable(var):
                renames[var] = "!" + var
                continue
            found = close_names(var, _pool(var, section, names | local))
            script = not var.startswith("AWS::") and ("\n" in text or var.isupper())
            if len(found) == 1 and not script:
                renames[var] = found[0]
            elif len(found) == 1:  # ${REGION} in a script may be a shell variable left unescaped
                yield Report(f"{where}: `${{{var}}}` in Fn::Sub names nothing in the template: `${{{found[0]}}}`, "
                             f"or a shell variable to escape as `${{!{var}}}`?", at)
            else:
                yield Report(f"{where}: `${{{var}}}` in Fn::Sub names nothing in the template{_options(found)}", at)
        if renames:
            new = SUB_VARIABLE.sub(lambda m: "${" + renames.get(m.group(1), m.group(1)) + "}", text)
            what = ", ".join(f"{'escape' if b.startswith('!') else 'rename'} `${{{a}}}` {'as' if b.startswith('!') else 'to'} `${{{b}}}`"
                             for a, b in renames.items())
            yield Fix(f"{where}: {what} in Fn::Sub", [SetValue(at, new)], at)


def _policy_variable(name: str) -> bool:
    """``aws:username``, ``aws:PrincipalTag/team``, ``s3:prefix``: an IAM policy variable, which a
    logical id (letters and digits) or a pseudo parameter (``AWS::…``) can never be."""
    return ":" in name and "::" not in name and bool(re.fullmatch(r"[A-Za-z0-9.-]+:[A-Za-z0-9_/.*-]+", name))


def _pool(name: str, section: str, names: set) -> list[str]:
    if name.startswith("AWS::"):
        return list(PSEUDO)
    return sorted(names)


def _options(found: list[str]) -> str:
    if not found:
        return ""
    return ": did you mean " + " or ".join(f"`{n}`" for n in found) + "?"


def _where(path: tuple) -> str:
    section, owner = path[0], path[1]
    kind = {"Resources": "", "Outputs": "Output ", "Conditions": "Condition "}[section]
    return f"{kind}{owner}"

