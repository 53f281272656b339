from __future__ import annotations

import re
from typing import Any, Iterator

from cfnfix.cloudformation import Template, ref_target, sub
from cfnfix.fixing import Fix, Fixer, Report, Safety
from cfnfix.text.edits import Delete, Edit, RenameKey, SetValue

PARAMETER = "AWS::SSM::Parameter"
SECRET = "AWS::SecretsManager::Secret"
# Words that name a credential in a parameter's name, logical id or description.
SECRET_WORDS = re.compile(r"password|passwd|pass(phrase)?\b|pwd\b|secret|token|api[-_/.]?key|credential|private[-_/.]?key",
                          re.IGNORECASE)
# SSM-only properties a secret has no equivalent for.
SSM_ONLY = ("Tier", "Policies", "AllowedPattern", "DataType")
_SSM_SECURE = re.compile(r"\{\{resolve:ssm-secure:((?:\$\{[^}]*\}|[^:}])+)(?::([^}]*))?\}\}")


class SecureStringParameter(Fixer):
    code = "SSM001"
    name = "ssm-secure-string"
    summary = "`AWS::SSM::Parameter` with `Type: SecureString`, which CloudFormation cannot create"
    safety = Safety.UNSAFE
    default = True
    docs = """
## What it does
Rewrites an `AWS::SSM::Parameter` declared with `Type: SecureString`:

- when it holds a secret (its value comes from a `NoEcho` parameter or a dynamic reference to a
  secret, or its name, logical id or description names a password, token, API key or credential)
  and nothing reads it by name, it becomes an `AWS::SecretsManager::Secret` with the same logical
  id: `Value` becomes `SecretString`, `Tags` a list of `Key`/`Value`, `KeyId` `KmsKeyId`, and the
  SSM-only `Tier`, `Policies`, `AllowedPattern` and `DataType` go. Dynamic references to it in the
  template (`{{resolve:ssm-secure:/name}}`) become `{{resolve:secretsmanager:${Secret}}}`;
- otherwise it becomes `Type: String` (a `KeyId` goes: it only applies to SecureString), and
  dynamic references to it become `{{resolve:ssm:/name}}`, with a `DependsOn` on the parameter
  where the resource that reads it did not wait for it;
- a secret that other resources read by name (a Lambda environment variable holding
  `!Ref Parameter`, a policy naming it) is reported, not changed: a Secret would break the code
  that reads Parameter Store, and a `String` would store the secret unencrypted.

## Why it breaks deploys
CloudFormation does not create SecureString parameters: `AWS::SSM::Parameter` accepts only
`String` and `StringList`, and the stack fails with "SecureString is not a valid enum value"
(cfn-lint E3030).

## Example
```yaml
DbPasswordParameter:
  Type: AWS::SSM::Parameter
  Properties:
    Name: /shop/db/password
    Type: SecureString
    Value: !Ref DbPassword   # a NoEcho parameter
AlarmThreshold:
  Type: AWS::SSM::Parameter
  Properties:
    Name: /shop/alarms/cpu
    Type: SecureString
    Value: "80"
```
Use instead:
```yaml
DbPasswordParameter:
  Type: AWS::SecretsManager::Secret
  Properties:
    Name: /shop/db/password
    SecretString: !Ref DbPassword
AlarmThreshold:
  Type: AWS::SSM::Parameter
  Properties:
    Name: /shop/alarms/cpu
    Type: String
    Value: "80"
```

## Fix safety
Unsafe. A secret moves from Parameter Store to Secrets Manager: code outside the template that
reads `/shop/db/password` from Parameter Store must read the secret instead, and Secrets Manager
bills per secret. A value that becomes a `String` parameter is stored without KMS encryption, so
only values that are not secrets become one; a secret that code of the stack reads by name from
Parameter Store is left to a person (see above), since a `String` would make it readable by
anyone allowed `ssm:GetParameter` on it.

## References
- [AWS::SSM::Parameter](https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-ssm-parameter.html)
  ("AWS CloudFormation doesn't support creating a SecureString parameter type")
- [AWS::SecretsManager::Secret](https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-secretsmanager-secret.html)
- [Dynamic references](https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/dynamic-references.html)
- cfn-lint E3030 (`SecureString` is not one of `String`, `StringList`)
"""

    def run(self, template: Template):
        for pid, _, props in template.resources_of_type(PARAMETER):
            if props.get("Type") != "SecureString":
                continue
            path = ("Resources", pid)
            readers = sorted({_where(r) for r in template.references_to(pid) if r.kind != "DependsOn"})
            uses = list(_dynamic_uses(template, _name_text(props.get("Name"))))
            secret = _is_secret(template, pid, props)
            if secret and not readers:
                yield Fix(*_to_secret(template, pid, props, uses), path)
            elif secret:
                # Neither rewrite is right: a Secret breaks the code that reads Parameter Store,
                # and a String stores the secret unencrypted, readable by whoever may read it.
                yield Report(f"Parameter {pid}: CloudFormation cannot create SecureString parameters, and it holds a secret "
                             f"that {', '.join(readers)} read{'s' if len(readers) == 1 else ''} by name from Parameter Store; "
                             "make it an AWS::SecretsManager::Secret and have the code read it there, or create the "
                             "SecureString outside CloudFormation and pass its name in", path)
            else:
                yield Fix(*_to_string(template, pid, props, uses, readers), path)


def _to_secret(template: Template, pid: str, props: dict, uses) -> tuple[str, list[Edit]]:
    base = ("Resources", pid)
    pbase = base + ("Properties",)
    edits: list[Edit] = [SetValue(base + ("Type",), SECRET), Delete(pbase + ("Type",))]
    if "Value" in props:
        edits.append(RenameKey(pbase + ("Value",), "SecretString"))
    tags = props.get("Tags")
    if isinstance(tags, dict):
        edits.append(SetValue(pbase + ("Tags",), [{"Key": k, "Value": v} for k, v in tags.items()]))
    if "KeyId" in props:
        edits.append(RenameKey(pbase + ("KeyId",), "KmsKeyId"))
    dropped = [k for k in SSM_ONLY if k in props]
    edits += [Delete(pbase + (k,)) for k in dropped]
    readers = []
    for path, new in _rewrite_uses(uses, _name_text(props.get("Name")), pid, secret=True):
        edits.append(SetValue(path, new))
        readers.append(path[1])
    msg = f"Parameter {pid}: make it an AWS::SecretsManager::Secret (CloudFormation cannot create SecureString parameters)"
    if "Value" in props:
        msg += "; its Value becomes the SecretString"
    if dropped:
        msg += f"; {', '.join(dropped)} {'has' if len(dropped) == 1 else 'have'} no equivalent and {'goes' if len(dropped) == 1 else 'go'}"
    if readers:
        msg += f"; {', '.join(dict.fromkeys(readers))} now resolve{'s' if len(set(readers)) == 1 else ''} it from Secrets Manager"
    return msg, edits


def _to_string(template: Template, pid: str, props: dict, uses, readers: list[str]) -> tuple[str, list[Edit]]:
    pbase = ("Resources", pid, "Properties")
    edits: list[Edit] = [SetValue(pbase + ("Type",), "String")]
    if "KeyId" in props:
        edits.append(Delete(pbase + ("KeyId",)))
    waiting = []
    for path, new in _rewrite_uses(uses, _name_text(props.get("Name")), pid, secret=False):
        edits.append(SetValue(path, new))
        owner = path[1]
        if path[0] == "Resources" and owner not in waiting and not template.waits_for(owner, pid):
            waiting.append(owner)
    for owner in waiting:
        edits += template.add_dependencies(owner, [pid])
    msg = f"Parameter {pid}: create it as a String parameter (CloudFormation cannot create SecureString parameters)"
    if "KeyId" in props:
        msg += "; KeyId, which only encrypts SecureString parameters, goes"
    if waiting:
        msg += f"; {', '.join(waiting)} now read{'s' if len(waiting) == 1 else ''} it with {{{{resolve:ssm:…}}}} and wait{'s' if len(waiting) == 1 else ''} for it"
    return msg, edits


def _is_secret(template: Template, pid: str, props: dict) -> bool:
    value = props.get("Value")
    target = ref_target(value) if isinstance(value, dict) and "Ref" in value else None
    param = template.parameters.get(target) if target else None
    if isinstance(param, dict):
        return str(param.get("NoEcho")).lower() == "true" or bool(SECRET_WORDS.search(target))
    if "{{resolve:secretsmanager:" in str(value) or "{{resolve:ssm-secure:" in str(value):
        return True
    if isinstance(value, dict) and any(template.resource_type(t) for t in _targets(value)):
        return False  # an attribute of a resource of the stack: an endpoint, an ARN, a name
    words = " ".join(str(x) for x in (pid, _name_text(props.get("Name")) or "", props.get("Description") or ""))
    return bool(SECRET_WORDS.search(_split_camel(words)))


def _split_camel(text: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", text)


def _targets(value) -> set[str]:
    from cfnfix.cloudformation.references import Reference, collect

    found: list[Reference] = []
    collect((), value, found)
    return {r.target for r in found}


def _where(r) -> str:
    return r.owner if r.section == "Resources" else f"output {r.owner}" if r.section == "Outputs" else f"{r.section} {r.owner}"


def _name_text(name) -> str | None:
    """The parameter's name as it appears inside a dynamic reference: literal text, or the text
    of an Fn::Sub (``!Ref P`` reads ``${P}``)."""
    if isinstance(name, str):
        return name
    if isinstance(name, dict) and len(name) == 1:
        if isinstance(name.get("Fn::Sub"), str):
            return name["Fn::Sub"]
        if isinstance(name.get("Ref"), str):
            return "${" + name["Ref"] + "}"
    return None


def _dynamic_uses(template: Template, name: str | None) -> Iterator[tuple[tuple, Any, bool]]:
    """(path, value, in Fn::Sub) for each string of Resources and Outputs that resolves the
    parameter with ``{{resolve:ssm-secure:NAME}}``."""
    if not name:
        return
    for section in ("Resources", "Outputs"):
        for entry, body in template.section(section).items():
            yield from _walk((section, entry), body, name, False)


def _walk(path: tuple, node, name: str, in_sub: bool):
    if isinstance(node, dict):
        if len(node) == 1 and "Fn::Sub" in node:
            value = node["Fn::Sub"]
            text = value[0] if isinstance(value, list) and value else value
            if isinstance(text, str) and _mentions(text, name, True):
                yield path, node, True
            if isinstance(value, list) and len(value) > 1:
                yield from _walk(path + ("Fn::Sub", 1), value[1], name, False)
            return
        for k, v in node.items():
            yield from _walk(path + (k,), v, name, in_sub)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk(path + (i,), v, name, in_sub)
    elif isinstance(node, str) and "${" not in name and _mentions(node, name, False):
        yield path, node, False


def _mentions(text: str, name: str, in_sub: bool) -> bool:
    """True when ``text`` resolves the parameter ``name`` through ssm-secure."""
    return any(m.group(1) == name for m in _SSM_SECURE.finditer(text))


def _rewrite_uses(uses, name: str, pid: str, secret: bool):
    """(path, new value) for each use: ``ssm-secure`` becomes ``secretsmanager`` (an Fn::Sub
    naming the secret) or ``ssm`` (same name and version)."""
    def repl(m):
        if m.group(1) != name:
            return m.group(0)
        if secret:
            return "{{resolve:secretsmanager:${%s}}}" % pid
        return "{{resolve:ssm:%s%s}}" % (m.group(1), f":{m.group(2)}" if m.group(2) else "")

    for path, value, in_sub in uses:
        if in_sub:
            v = value["Fn::Sub"]
            text = _SSM_SECURE.sub(repl, v[0] if isinstance(v, list) else v)
            yield path, sub([text, *v[1:]] if isinstance(v, list) else text)
        elif secret:
            yield path, sub(_SSM_SECURE.sub(repl, value.replace("${", "${!")))
        else:
            yield path, _SSM_SECURE.sub(repl, value)
