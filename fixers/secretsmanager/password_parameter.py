from __future__ import annotations

import json
import re

from cfnfix.text.edits import EditError, RenameKey, SetValue
from cfnfix.fixing import Fix, Fixer, Report, Safety
from cfnfix.cloudformation import Template, ref, sub

# Characters each service rejects in a password (GenerateSecretString never includes a space
# unless IncludeSpace is set). (type, property) -> (username property, excluded characters).
_RDS = '"@/\\'
_REDSHIFT = "\"'@/\\"
_DMS = _RDS + ",;+%{}"
_ELASTICACHE = "\"%'()*+,./:;=?@[\\]_`{|}~"  # only ! & # $ ^ < > - are allowed
_GENERIC = _RDS + " "
KNOWN_TARGETS = {
    ("AWS::RDS::DBInstance", "MasterUserPassword"): ("MasterUsername", _RDS),
    ("AWS::RDS::DBCluster", "MasterUserPassword"): ("MasterUsername", _RDS),
    ("AWS::DocDB::DBCluster", "MasterUserPassword"): ("MasterUsername", _RDS),
    ("AWS::Redshift::Cluster", "MasterUserPassword"): ("MasterUsername", _REDSHIFT),
    ("AWS::RedshiftServerless::Namespace", "AdminUserPassword"): ("AdminUsername", _REDSHIFT),
    ("AWS::KinesisFirehose::DeliveryStream", "Password"): ("Username", _REDSHIFT),
    ("AWS::DMS::Endpoint", "Password"): ("Username", _DMS),
    ("AWS::ElastiCache::ReplicationGroup", "AuthToken"): (None, _ELASTICACHE),
    ("AWS::AmazonMQ::Broker", "Password"): ("Username", _RDS + ",:="),
}
# The resources that own the password (rather than merely use it) give the username.
_OWNERS = ("AWS::RDS::DBCluster", "AWS::RDS::DBInstance", "AWS::DocDB::DBCluster", "AWS::Redshift::Cluster",
           "AWS::RedshiftServerless::Namespace", "AWS::ElastiCache::ReplicationGroup")
_ATTACHABLE = ("AWS::RDS::DBInstance", "AWS::RDS::DBCluster")
PASSWORD_LENGTH = 32
ORACLE_LENGTH = 30  # RDS for Oracle: 8 to 30 characters, no & or '
_TOKEN = re.compile(r"__cfnfix_(?:bare_)?(\d+)__")


class PasswordParameter(Fixer):
    code = "SM001"
    name = "password-parameter"
    summary = "`NoEcho` password parameter without a `Default`"
    safety = Safety.UNSAFE
    default = True
    docs = """
## What it does
Replaces a `NoEcho` parameter without a `Default` that feeds a password (a property whose name
contains `Password`, or ElastiCache `AuthToken`) with an `AWS::SecretsManager::Secret` that
generates the password: `GenerateSecretString` with the username of the database in
`SecretStringTemplate`, 32 characters (30 for RDS for Oracle) and none of the characters the
service rejects. Every use of the parameter becomes
`!Sub '{{resolve:secretsmanager:${Secret}:SecretString:password}}'`; the parameter leaves
`Parameters`, the Interface metadata and `Rules`, and outputs that show it are removed. When an
RDS instance or cluster owns the password, an `AWS::SecretsManager::SecretTargetAttachment`
links the secret to it.

A secret whose `SecretString` builds JSON from the parameter (dynamic references are not
allowed there) becomes the generated secret itself: its other keys go into
`SecretStringTemplate`, except those that read the database's own attributes (they would make
a circular dependency; for RDS the attachment adds the connection details).

Parameters used by a condition, by resource metadata or by a custom resource are reported, not
changed.

## Why it breaks deploys
A parameter without a default must be given a value on every create, so an unattended deploy
stops with "Parameters: [DBPassword] must have values".

## Example
```yaml
Parameters:
  DBPassword:
    Type: String
    NoEcho: true
Resources:
  Database:
    Type: AWS::RDS::DBInstance
    Properties:
      MasterUsername: admin
      MasterUserPassword: !Ref DBPassword
```
Use instead:
```yaml
Resources:
  Database:
    Type: AWS::RDS::DBInstance
    Properties:
      MasterUsername: admin
      MasterUserPassword: !Sub '{{resolve:secretsmanager:${DBSecret}:SecretString:password}}'
  DBSecret:
    Type: AWS::SecretsManager::Secret
    Properties:
      GenerateSecretString:
        SecretStringTemplate: '{"username": "admin"}'
        GenerateStringKey: password
        PasswordLength: 32
        ExcludeCharacters: '"@/\\'
  DBSecretAttachment:
    Type: AWS::SecretsManager::SecretTargetAttachment
    Properties:
      SecretId: !Ref DBSecret
      TargetId: !Ref Database
      TargetType: AWS::RDS::DBInstance
```

## Fix safety
Unsafe: the stack no longer takes the password as an input; it is generated and kept in
Secrets Manager. A password that must match something outside the stack (an on-premises
database behind a DMS source endpoint, an existing user) has to be set to the generated value
there, and an update of an existing stack changes the password.
"""

    def run(self, template: Template):
        taken: set[str] = set()
        for name, param in template.parameters.items():
            if not isinstance(param, dict) or "Default" in param or str(param.get("NoEcho")).lower() != "true":
                continue
            refs = template.references_to(name)
            targets = [t for t in (_password_target(template, r) for r in refs) if t]
            if not targets:
                continue
            try:
                yield self._fix(template, name, refs, targets, taken)
            except _Skip as e:
                yield Report(f"Parameter {name} feeds a password but {e}; give it a value or move it to a secret by hand",
                             ("Parameters", name))

    def _fix(self, template: Template, name: str, refs, targets, taken: set[str]) -> Fix:
        owner = next((t for t in targets if t.type in _OWNERS), targets[0])
        secrets = _json_secrets(template, refs)
        if len(secrets) > 1:
            raise _Skip(f"several secrets ({', '.join(secrets)}) store it")
        exclude = "".join(sorted(set("".join(t.exclude for t in targets)), key=_char_order))
        length = min(t.length for t in targets)
        edits = []
        if secrets:
            secret, = secrets
            resolve_key, secret_edits = _rewrite_secret(template, secret, name, targets, owner, exclude, length)
            edits += secret_edits
            new_secret = None
        else:
            secret = template.unique_id(_secret_name(name), taken)
            resolve_key = "password"
            new_secret = secret
        taken.add(secret)
        resolve = f"{{{{resolve:secretsmanager:${{{secret}}}:SecretString:{resolve_key}}}}}"
        sub_paths = set()
        for r in refs:
            if r.section == "Conditions":
                raise _Skip(f"condition {r.owner} tests it")
            if r.section != "Resources" or r.owner == secret and r.path[2:4] == ("Properties", "SecretString"):
                continue  # Outputs and Rules go with the parameter; the secret is rewritten above
            rtype = template.resource_type(r.owner) or ""
            if r.path[2:3] != ("Properties",):
                raise _Skip(f"{r.owner} uses it outside its Properties (no dynamic references there)")
            if rtype.startswith("Custom::") or rtype == "AWS::CloudFormation::CustomResource":
                raise _Skip(f"custom resource {r.owner} uses it (no dynamic references there)")
            if r.kind == "Ref":
                edits.append(SetValue(r.path, sub(resolve)))
            elif r.kind == "Sub" and r.path not in sub_paths:
                sub_paths.add(r.path)
                value = _get(template.data, r.path)["Fn::Sub"]
                text = value[0] if isinstance(value, list) else value
                text = re.sub(r"\$\{\s*" + re.escape(name) + r"\s*\}", lambda m: resolve, text)
                edits.append(SetValue(r.path, sub([text, *value[1:]] if isinstance(value, list) else text)))
        try:
            edits += template.remove(name, handled=edits)
        except EditError as e:
            raise _Skip(str(e)) from None
        used_by = list(dict.fromkeys(r.owner for r in refs if r.section == "Resources" and r.owner != secret))
        if new_secret:
            generate = _generate(_username_template(owner), "password", exclude, length)
            body = {"Type": "AWS::SecretsManager::Secret", "Properties": {"GenerateSecretString": generate}}
            conditions = {_condition(template, u) for u in used_by}
            edits.append(template.add_resource(secret, _conditional(body, conditions), after=owner.resource))
        if owner.type in _ATTACHABLE and owner.key == "MasterUserPassword" and not _attached(template, secret):
            attachment = template.unique_id(f"{secret}Attachment", taken)
            taken.add(attachment)
            body = {"Type": "AWS::SecretsManager::SecretTargetAttachment",
                    "Properties": {"SecretId": ref(secret), "TargetId": ref(owner.resource), "TargetType": owner.type}}
            condition = {_condition(template, owner.resource)}
            after = owner.resource if new_secret else secret
            edits.append(template.add_resource(attachment, _conditional(body, condition), after=after))
        how = f"a new secret {secret}" if new_secret else f"the existing secret {secret}"
        message = f"Parameter {name}: generate it in {how} and resolve it in {', '.join(used_by)}"
        return Fix(message, edits, ("Parameters", name))


class _Skip(Exception):
    pass


def _char_order(c: str) -> int:
    """Keep the familiar RDS characters first, the rest in ASCII order."""
    return _GENERIC.index(c) if c in _GENERIC else 100 + ord(c)


class _Target:
    def __init__(self, resource: str, type_: str, path: tuple, key: str, props: dict):
        self.resource, self.type, self.path, self.key = resource, type_, path, key
        user_key, exclude = KNOWN_TARGETS.get((type_, key), ("", _GENERIC))
        self.exclude = exclude
        self.length = PASSWORD_LENGTH
        if type_ == "AWS::RDS::DBInstance" and str(props.get("Engine", "")).lower().startswith("oracle"):
            self.exclude, self.length = exclude + "&'", ORACLE_LENGTH
        self.username = None
        container = _get(props, path[3:-1])
        if isinstance(container, dict):
            keys = [user_key] if user_key else [k for k in container if k.lower().endswith("username")]
            self.username = next((container[k] for k in keys if k in container), None)


def _password_target(template: Template, r) -> _Target | None:
    """The property a reference feeds when that property is a password, else None."""
    if r.section != "Resources" or len(r.path) < 4 or r.path[2] != "Properties":
        return None
    key, end = None, None
    for i, step in enumerate(r.path[3:], start=3):
        if isinstance(step, str) and (step == "Ref" or step.startswith("Fn::")):
            break
        if isinstance(step, str):
            key, end = step, i + 1
    rtype = template.resource_type(r.owner)
    if key is None or not ("password" in key.lower() or (rtype, key) in KNOWN_TARGETS):
        return None
    props = template.resources[r.owner].get("Properties")
    return _Target(r.owner, rtype, r.path[:end], key, props if isinstance(props, dict) else {})


def _username_value(user) -> str | None:
    """The username as text for a JSON template in an Fn::Sub (None when it cannot be one)."""
    if isinstance(user, str) and "{{resolve:" not in user:
        return user
    if isinstance(user, dict) and isinstance(user.get("Ref"), str):
        return "${%s}" % user["Ref"]
    if isinstance(user, dict) and isinstance(user.get("Fn::Sub"), str) and not re.search(r'["\\]', user["Fn::Sub"]):
        return user["Fn::Sub"]
    return None


def _username_template(owner: _Target):
    """SecretStringTemplate carrying the owner's username (``{}`` when none is known)."""
    user = owner.username
    if isinstance(user, str) and "{{resolve:" not in user:
        return json.dumps({"username": user})
    value = _username_value(user)
    if value is not None:
        return sub(json.dumps({"username": value}))
    if isinstance(user, dict):
        return {"Fn::Join": ["", ['{"username": "', user, '"}']]}
    return "{}"


def _condition(template: Template, name: str) -> str | None:
    res = template.resources.get(name)
    cond = res.get("Condition") if isinstance(res, dict) else None
    return cond if isinstance(cond, str) else None


def _conditional(body: dict, conditions: set) -> dict:
    """The resource, created only under the condition that all its users share."""
    (condition,) = conditions if len(conditions) == 1 else (None,)
    return {"Type": body["Type"], "Condition": condition, **body} if isinstance(condition, str) else body


def _generate(template_value, key: str, exclude: str, length: int) -> dict:
    return {"SecretStringTemplate": template_value, "GenerateStringKey": key,
            "PasswordLength": length, "ExcludeCharacters": exclude}


def _json_secrets(template: Template, refs) -> list[str]:
    """Secrets whose SecretString mentions the parameter."""
    return list(dict.fromkeys(
        r.owner for r in refs
        if r.section == "Resources" and r.path[2:4] == ("Properties", "SecretString")
        and template.resource_type(r.owner) == "AWS::SecretsManager::Secret"))


def _rewrite_secret(template: Template, secret: str, name: str, targets, owner: _Target, exclude: str, length: int):
    """Edits turning ``SecretString: !Sub '{..."password": "${P}"...}'`` into GenerateSecretString.
    Returns the JSON key that holds the password and the edits."""
    res = template.resources[secret]
    props = res["Properties"]
    value = props["SecretString"]
    text = value.get("Fn::Sub") if isinstance(value, dict) and len(value) == 1 else None
    if not isinstance(text, str) or "GenerateSecretString" in props:
        raise _Skip(f"secret {secret} stores it in a form that cannot be generated")
    data, variables = _parse_sub_json(text)
    placeholder = next((f"__cfnfix_{i}__" for i, v in enumerate(variables) if _var_name(v) == name), None)
    keys = [k for k, v in data.items() if v == placeholder] if isinstance(data, dict) else []
    if len(keys) != 1 or sum(_var_name(v) == name for v in variables) != 1:
        raise _Skip(f"secret {secret} stores it in a form that cannot be generated")
    password_key = keys[0]
    users = {t.resource for t in targets}
    kept = {}
    for k, v in data.items():
        used = {_var_name(variables[int(n)]).split(".")[0] for n in _TOKEN.findall(json.dumps(v))}
        if k != password_key and not used & users:  # the database's own attributes would be a cycle
            kept[k] = v
    user = _username_value(owner.username)
    if "username" not in kept and user is not None:
        kept = {"username": user, **kept}
    out = json.dumps(kept, ensure_ascii=False)
    out = re.sub(r'"__cfnfix_bare_(\d+)__"', lambda m: variables[int(m.group(1))], out)
    out = re.sub(r"__cfnfix_(\d+)__", lambda m: variables[int(m.group(1))], out)
    base = ("Resources", secret, "Properties")
    edits = [
        SetValue(base + ("SecretString",), _generate(sub(out) if "${" in out else out, password_key, exclude, length)),
        RenameKey(base + ("SecretString",), "GenerateSecretString"),
    ]
    edits += template.drop_dependencies(secret, set(users))
    return password_key, edits


def _parse_sub_json(text: str):
    """Parse the JSON of an Fn::Sub string: ``${X}`` inside a JSON string becomes
    ``__cfnfix_N__``, a bare ``${X}`` (a number, say) the string ``"__cfnfix_bare_N__"``."""
    variables: list[str] = []
    out, in_string, i = [], False, 0
    while i < len(text):
        c = text[i]
        if c == "\\" and in_string:
            out.append(text[i : i + 2])
            i += 2
            continue
        if c == '"':
            in_string = not in_string
        if text.startswith("${", i) and "}" in text[i:]:
            end = text.index("}", i) + 1
            variables.append(text[i:end])
            n = len(variables) - 1
            out.append(f"__cfnfix_{n}__" if in_string else f'"__cfnfix_bare_{n}__"')
            i = end
            continue
        out.append(c)
        i += 1
    try:
        return json.loads("".join(out)), variables
    except ValueError:
        raise _Skip("its secret's SecretString is not JSON") from None


def _var_name(variable: str) -> str:
    return variable[2:-1].strip()


def _secret_name(parameter: str) -> str:
    """The secret is named for the credential, not the password: DBPassword → DBSecret,
    MasterUserPassword → MasterUserSecret, AuthToken → AuthTokenSecret."""
    base = re.sub(r"(?i)(password|passwd|pwd|pass)$", "", parameter)
    return f"{base or 'Database'}Secret"


def _attached(template: Template, secret: str) -> bool:
    return any(template.refers_to(props.get("SecretId"), secret)
               for _, _, props in template.resources_of_type("AWS::SecretsManager::SecretTargetAttachment"))


def _get(data, path):
    for step in path:
        try:
            data = data[step]
        except (KeyError, IndexError, TypeError):
            return None
    return data
