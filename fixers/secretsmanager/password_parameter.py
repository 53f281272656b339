from __future__ import annotations

import json
import re
import string

from cfnfix.text.edits import EditError, RenameKey, SetValue
from cfnfix.fixing import Fix, Fixer, Report, Safety
from cfnfix.cloudformation import Template, ref, sub
from cfnfix.cloudformation.references import collect

# Characters each service rejects in a password (GenerateSecretString never includes a space
# unless IncludeSpace is set).
_RDS = '"@/\\'
_REDSHIFT = "\"'@/\\"
_DMS = _RDS + ",;+%{}"
_ELASTICACHE = "\"%'()*+,./:;=?@[\\]_`{|}~"  # only ! & # $ ^ < > - are allowed
_GENERIC = _RDS + " "
# The properties that set the credential of an account a resource of the stack creates:
# (type, property) -> (the username property beside it, or "=Name" for a fixed username,
# or None; the characters the service rejects).
OWNERS = {
    ("AWS::RDS::DBInstance", "MasterUserPassword"): ("MasterUsername", _RDS),
    ("AWS::RDS::DBCluster", "MasterUserPassword"): ("MasterUsername", _RDS),
    ("AWS::DocDB::DBCluster", "MasterUserPassword"): ("MasterUsername", _RDS),
    ("AWS::DocDBElastic::Cluster", "AdminUserPassword"): ("AdminUserName", _RDS),
    ("AWS::Redshift::Cluster", "MasterUserPassword"): ("MasterUsername", _REDSHIFT),
    ("AWS::RedshiftServerless::Namespace", "AdminUserPassword"): ("AdminUsername", _REDSHIFT),
    ("AWS::ElastiCache::ReplicationGroup", "AuthToken"): (None, _ELASTICACHE),
    ("AWS::AmazonMQ::Broker", "Password"): ("Username", _RDS + ",:="),
    ("AWS::Lightsail::Database", "MasterUserPassword"): ("MasterUsername", _RDS),
    ("AWS::OpenSearchService::Domain", "MasterUserPassword"): ("MasterUserName", _GENERIC),
    ("AWS::Elasticsearch::Domain", "MasterUserPassword"): ("MasterUserName", _GENERIC),
    ("AWS::DirectoryService::MicrosoftAD", "Password"): ("=Admin", _GENERIC),
    ("AWS::DirectoryService::SimpleAD", "Password"): ("=Administrator", _GENERIC),
}
# Properties that log in to a server with the password: the server must be an owner of the
# stack. (type, property) -> (username property, rejected characters, the server's property
# or None for "anywhere in the resource's properties").
CLIENTS = {
    ("AWS::DMS::Endpoint", "Password"): ("Username", _DMS, "ServerName"),
    ("AWS::KinesisFirehose::DeliveryStream", "Password"): ("Username", _REDSHIFT, None),
}
_ATTACHABLE = ("AWS::RDS::DBInstance", "AWS::RDS::DBCluster")
_NESTED = ("AWS::CloudFormation::Stack", "AWS::Serverless::Application")
PASSWORD_LENGTH = 32
ORACLE_LENGTH = 30  # RDS for Oracle: 8 to 30 characters, no & or '
_TOKEN = re.compile(r"__cfnfix_(?:bare_)?(\d+)__")
# GenerateSecretString draws from the printable ASCII characters (a space only with IncludeSpace).
_CATEGORIES = (("ExcludeUppercase", string.ascii_uppercase), ("ExcludeLowercase", string.ascii_lowercase),
               ("ExcludeNumbers", string.digits), ("ExcludePunctuation", string.punctuation))
_ALPHABET = "".join(chars for _, chars in _CATEGORIES)
# An AllowedPattern that says only which characters and how many: one character class (or
# `.`, `\w`, `\S`, ...) repeated, anchored or not.
_SIMPLE_PATTERN = re.compile(r"\^?(\[(?:\\.|[^\]\\])+\]|\.|\\[wWdDsS])(\*|\+|\{(\d+)(?:(,)(\d*))?\})\$?")


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
generates the password: `GenerateSecretString` with the username of the account in
`SecretStringTemplate`, 32 characters (30 for RDS for Oracle) and none of the characters the
service rejects. The parameter's `MinLength`, `MaxLength` and a character-class
`AllowedPattern` (such as `^[a-zA-Z0-9]*$`) carry over into `PasswordLength`,
`ExcludeCharacters` and `ExcludePunctuation` (and the other `Exclude*` switches). Every use of
the parameter becomes `!Sub '{{resolve:secretsmanager:${Secret}:SecretString:password}}'`; the
parameter leaves `Parameters`, the Interface metadata and `Rules`, and outputs that show it are
removed. When an RDS instance or cluster owns the password, an
`AWS::SecretsManager::SecretTargetAttachment` links the secret to it.

It does so only where a generated password can replace the parameter: a resource of the stack
creates the account the password belongs to (the master password of an RDS, Aurora, DocumentDB,
Redshift or Lightsail database, an ElastiCache `AuthToken`, an Amazon MQ broker user, an
OpenSearch master user, an AWS Directory Service directory), and every other use passes the
same password along as a whole value (a DMS or Firehose endpoint must connect to such a
resource of the stack). It reports the parameter, and changes nothing, when:

- no resource of the stack creates the account (a DMS source endpoint to an on-premises
  database, an IAM user's console password, a directory join account, a vendor's key): the
  password must match something outside the stack;
- the value is embedded in text (`UserData`, an `Fn::Sub` or `Fn::Join` string), where a
  generated character can break the quoting;
- it is passed on to a nested stack (generate the secret in the nested template);
- it names a secret used inside a `{{resolve:...}}` dynamic reference rather than holding a
  password;
- a condition, resource metadata, a custom resource or the `AllowedPattern` (other than a
  character class) depend on it;
- an existing secret stores it but sits under another `Condition`, or depends on the resources
  that would then read it (a circular dependency).

A secret whose `SecretString` builds JSON from the parameter with `Fn::Sub` (either form) becomes
the generated secret itself: its other keys go into `SecretStringTemplate`, except those that
read the database's own attributes (they would make a circular dependency; for RDS the
attachment adds the connection details).

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
Secrets Manager, and an update of an existing stack changes the password of the account. Only
accounts that resources of the stack create are changed this way.

## References
- Get a secret or secret value from Secrets Manager (dynamic references):
  https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/dynamic-references-secretsmanager.html
- `AWS::SecretsManager::Secret` `GenerateSecretString`:
  https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-secretsmanager-secret-generatesecretstring.html
- cfn-lint W1011 (use dynamic references over parameters for secrets).
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
                yield self._fix(template, name, param, refs, targets, taken)
            except _Skip as e:
                yield Report(f"Parameter {name} feeds a password but {e}", ("Parameters", name))

    def _fix(self, template: Template, name: str, param: dict, refs, targets, taken: set[str]) -> Fix:
        secrets = _json_secrets(template, refs)
        if len(secrets) > 1:
            raise _Skip(f"several secrets ({', '.join(secrets)}) store it; {_BY_HAND}")
        owners = _check_uses(template, name, refs, targets, secrets)
        owner = owners[0]
        exclude = "".join(sorted(set("".join(t.exclude for t in targets)), key=_char_order))
        edits = []
        users = list(dict.fromkeys(r.owner for r in refs if r.section == "Resources" and r.owner not in secrets))
        try:
            settings, problem = _constraints(param, min(t.length for t in targets), exclude), None
        except _Skip as e:  # reported after the reasons that lie in the template's structure
            settings, problem = {}, e
        if secrets:
            secret, = secrets
            resolve_key, secret_edits, needs = _rewrite_secret(template, secret, name, users, owner, settings)
            _check_existing(template, secret, users, needs)
            edits += secret_edits
            new_secret = None
        else:
            secret = template.unique_id(_secret_name(name), taken)
            resolve_key = "password"
            new_secret = secret
        if problem:
            raise problem
        taken.add(secret)
        resolve = f"{{{{resolve:secretsmanager:${{{secret}}}:SecretString:{resolve_key}}}}}"
        for r in refs:
            if r.section != "Resources" or r.owner == secret and r.path[2:4] == ("Properties", "SecretString"):
                continue  # Outputs and Rules go with the parameter; the secret is rewritten above
            edits.append(SetValue(r.path, sub(resolve)))  # a whole value (_check_uses): a Ref or "${P}"
        try:
            edits += template.remove(name, handled=edits)
        except EditError as e:
            raise _Skip(f"{e}; {_BY_HAND}") from None
        if new_secret:
            username = _username_template(owner)
            if _reaches(template, _targets_in(username), set(users)):
                raise _Skip(f"the username of {owner.resource} depends on the resources that use the password; {_BY_HAND}")
            generate = _generate(username, "password", settings)
            body = {"Type": "AWS::SecretsManager::Secret", "Properties": {"GenerateSecretString": generate}}
            conditions = {_condition(template, u) for u in users}
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
        message = f"Parameter {name}: generate it in {how} and resolve it in {', '.join(users)}"
        return Fix(message, edits, ("Parameters", name))


_BY_HAND = "give it a value or move it to a secret by hand"


class _Skip(Exception):
    pass


def _type(template: Template, name) -> str | None:
    """The resource's type when it is a string (a hostile template may hold anything there)."""
    rtype = template.resource_type(name) if isinstance(name, str) else None
    return rtype if isinstance(rtype, str) else None


def _char_order(c: str) -> int:
    """Keep the familiar RDS characters first, the rest in ASCII order."""
    return _GENERIC.index(c) if c in _GENERIC else 100 + ord(c)


class _Target:
    """A property that takes the password: its resource, and whether it owns the account."""

    def __init__(self, resource: str, type_: str, path: tuple, key: str, props: dict):
        self.resource, self.type, self.path, self.key = resource, type_, path, key
        if (type_, key) in OWNERS:
            self.role = "owner"
            user_key, exclude = OWNERS[(type_, key)]
            self.server = None
        elif (type_, key) in CLIENTS:
            self.role = "client"
            user_key, exclude, self.server = CLIENTS[(type_, key)]
        else:
            self.role, user_key, exclude, self.server = "other", "", _GENERIC, None
        self.exclude = exclude
        self.length = PASSWORD_LENGTH
        if type_ == "AWS::RDS::DBInstance" and str(props.get("Engine", "")).lower().startswith("oracle"):
            self.exclude, self.length = exclude + "&'", ORACLE_LENGTH
        self.username = None
        if user_key and user_key.startswith("="):
            self.username = user_key[1:]
            return
        container = _get(props, path[3:-1])
        if isinstance(container, dict):
            keys = [user_key] if user_key else [k for k in container if k.lower().endswith("username")]
            self.username = next((container[k] for k in keys if k in container), None)


def _password_target(template: Template, r) -> _Target | None:
    """The property a reference feeds when that property is a password, else None."""
    if r.section != "Resources" or len(r.path) < 4 or r.path[2] != "Properties":
        return None
    key, end = _property_key(r.path)
    rtype = _type(template, r.owner)
    if key is None or not ("password" in key.lower() or (rtype, key) in OWNERS or (rtype, key) in CLIENTS):
        return None
    return _Target(r.owner, rtype, r.path[:end], key, _properties(template, r.owner))


def _properties(template: Template, name: str) -> dict:
    res = template.resources.get(name)
    props = res.get("Properties") if isinstance(res, dict) else None
    return props if isinstance(props, dict) else {}


def _property_key(path: tuple):
    """(the last key before the first intrinsic function in a path under Properties, its end)."""
    key, end = None, None
    for i, step in enumerate(path[3:], start=3):
        if isinstance(step, str) and (step == "Ref" or step.startswith("Fn::")):
            break
        if isinstance(step, str):
            key, end = step, i + 1
    return key, end


def _check_uses(template: Template, name: str, refs, targets, secrets) -> list:
    """The targets that own the account, once every use of the parameter is one that a generated
    password can take; raises _Skip saying why not."""
    for r in refs:
        if r.section == "Conditions":
            raise _Skip(f"condition {r.owner} tests it; {_BY_HAND}")
        if r.section != "Resources" or r.owner in secrets and r.path[2:4] == ("Properties", "SecretString"):
            continue
        rtype = _type(template, r.owner) or ""
        if r.path[2:3] != ("Properties",):
            raise _Skip(f"{r.owner} uses it outside its Properties (no dynamic references there); {_BY_HAND}")
        if rtype.startswith("Custom::") or rtype == "AWS::CloudFormation::CustomResource":
            raise _Skip(f"custom resource {r.owner} uses it (no dynamic references there); {_BY_HAND}")
        if rtype in _NESTED:
            raise _Skip(f"it is passed on to nested stack {r.owner}; generate the password in the nested "
                        "stack's template, or give the parameter a value")
        if _in_dynamic_reference(template, r, name):
            raise _Skip(f"{r.owner} uses it inside a {{{{resolve:...}}}} dynamic reference, so it names a secret "
                        "rather than holding a password; give it a default (the secret's name or ARN)")
        where = _embedded(template, r, name)
        if where:
            raise _Skip(f"{r.owner} embeds it in the text of {where}, where a generated character can break the quoting; "
                        f"{_BY_HAND}")
    owners = [t for t in targets if t.role == "owner"]
    if not owners:
        uses = ", ".join(dict.fromkeys(f"{t.key} of {t.resource}" for t in targets))
        raise _Skip(f"none of its uses ({uses}) creates the account it belongs to: it may be the password of "
                    "something outside the stack, which a generated one would not match; keep it in a secret of your own")
    owned = {t.resource for t in owners}
    for t in targets:
        if t.role != "client":
            continue
        props = _properties(template, t.resource)
        server = props.get(t.server) if t.server else props
        if not any(template.refers_to(server, o) for o in owned):
            raise _Skip(f"{t.resource} ({t.type}) logs in with it to a server outside this stack; "
                        "keep that password in a secret of your own")
    return owners


def _in_dynamic_reference(template: Template, r, name: str) -> bool:
    """True when the parameter's value goes inside ``{{resolve:...}}`` (it names a secret)."""
    if r.kind == "Sub":
        text = _sub_text(_get(template.data, r.path))
        if not isinstance(text, str):
            return False
        for m in re.finditer(r"\$\{\s*" + re.escape(name) + r"\s*\}", text):
            before = text[: m.start()]
            opened = before.rfind("{{resolve:")
            if opened >= 0 and "}}" not in before[opened:]:
                return True
        return False
    for i, step in enumerate(r.path):
        if step == "Fn::Join":
            joined = _get(template.data, r.path[: i + 1])
            parts = joined[1] if isinstance(joined, list) and len(joined) == 2 else None
            if isinstance(parts, list) and any(isinstance(p, str) and "{{resolve:" in p for p in parts):
                return True
    return False


def _embedded(template: Template, r, name: str) -> str | None:
    """Where the value is embedded in a longer value (None when it is the whole value, perhaps
    one branch of an Fn::If)."""
    key, end = _property_key(r.path)
    steps = r.path[end:] if end else ()
    i = 0
    while i < len(steps):
        if steps[i] == "Fn::If" and i + 1 < len(steps) and steps[i + 1] in (1, 2) or isinstance(steps[i], int):
            i += 2 if steps[i] == "Fn::If" else 1
            continue
        return f"{key or r.path[2]} ({steps[i]})"
    if r.kind == "Sub":
        text = _sub_text(_get(template.data, r.path))
        if not (isinstance(text, str) and re.fullmatch(r"\s*\$\{\s*" + re.escape(name) + r"\s*\}\s*", text)):
            return f"{key} (Fn::Sub)"
    return None


def _sub_text(value):
    value = value.get("Fn::Sub") if isinstance(value, dict) else None
    return value[0] if isinstance(value, list) and value else value


def _constraints(param: dict, length: int, exclude: str) -> dict:
    """PasswordLength and the Exclude* settings that honour the service's rules and the
    parameter's MinLength, MaxLength and AllowedPattern."""
    low, high = _int(param.get("MinLength")), _int(param.get("MaxLength"))
    banned = set(exclude)
    pattern = param.get("AllowedPattern")
    if pattern is not None:
        allowed, p_low, p_high = _pattern_chars(pattern)
        if allowed is None:
            raise _Skip("its AllowedPattern says more than which characters and how many it takes, which a generated "
                        f"password cannot promise; {_BY_HAND}")
        banned |= set(_ALPHABET) - allowed
        low = max(x for x in (low, p_low) if x is not None) if low is not None or p_low is not None else None
        high = min(x for x in (high, p_high) if x is not None) if high is not None or p_high is not None else None
    if high is not None:
        length = min(length, high)
    if low is not None:
        length = max(length, low)
    if high is not None and length > high or length < 1:
        raise _Skip(f"its MinLength, MaxLength and AllowedPattern allow no length; {_BY_HAND}")
    settings: dict = {"PasswordLength": length}
    rest = ""
    for switch, chars in _CATEGORIES:
        if set(chars) <= banned:
            settings[switch] = True
        else:
            rest += "".join(c for c in chars if c in banned)
    if all(settings.get(switch) for switch, _ in _CATEGORIES):
        raise _Skip(f"its AllowedPattern leaves no character the service accepts; {_BY_HAND}")
    rest = "".join(sorted(rest, key=_char_order))
    if rest:
        settings = {"PasswordLength": length, "ExcludeCharacters": rest,
                    **{k: v for k, v in settings.items() if k != "PasswordLength"}}
    return settings


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: a number that read as infinity
        return None


def _pattern_chars(pattern) -> tuple[set | None, int | None, int | None]:
    """(the characters of the generator's alphabet the pattern allows, its least and greatest
    length) for a pattern that is one repeated character class; (None, None, None) otherwise."""
    m = _SIMPLE_PATTERN.fullmatch(pattern) if isinstance(pattern, str) else None
    inner = re.sub(r"\\.", "", m.group(1)[1:-1]) if m and m.group(1).startswith("[") else ""
    if not m or "[" in inner or "&&" in inner or re.search(r"\\[pPQE]", m.group(1)):
        return None, None, None  # Java's nested classes, intersections, properties and quoting
    try:
        atom = re.compile(m.group(1))
    except re.error:
        return None, None, None
    allowed = {c for c in _ALPHABET if atom.fullmatch(c)}
    quant = m.group(2)
    if quant == "*":
        return allowed, None, None
    if quant == "+":
        return allowed, 1, None
    low = int(m.group(3))
    high = low if m.group(4) is None else (int(m.group(5)) if m.group(5) else None)
    return allowed, low, high


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


def _generate(template_value, key: str, settings: dict) -> dict:
    return {"SecretStringTemplate": template_value, "GenerateStringKey": key, **settings}


def _json_secrets(template: Template, refs) -> list[str]:
    """Secrets whose SecretString mentions the parameter."""
    return list(dict.fromkeys(
        r.owner for r in refs
        if r.section == "Resources" and r.path[2:4] == ("Properties", "SecretString")
        and _type(template, r.owner) == "AWS::SecretsManager::Secret"))


def _rewrite_secret(template: Template, secret: str, name: str, users: list, owner: _Target, settings: dict):
    """Edits turning ``SecretString: !Sub '{..."password": "${P}"...}'`` (or the two-argument
    form) into GenerateSecretString. Returns the JSON key that holds the password, the edits,
    and the logical ids the secret still depends on."""
    res = template.resources[secret]
    props = res["Properties"]
    value = props["SecretString"]
    sub_value = value.get("Fn::Sub") if isinstance(value, dict) and len(value) == 1 else None
    local: dict = {}
    if isinstance(sub_value, list) and len(sub_value) == 2 and isinstance(sub_value[1], dict):
        sub_value, local = sub_value
    if not isinstance(sub_value, str) or "GenerateSecretString" in props:
        raise _Skip(f"secret {secret} stores it in a form that cannot be generated; {_BY_HAND}")
    text = sub_value
    data, variables = _parse_sub_json(text)

    def is_password(v: str) -> bool:
        var = _var_name(v)
        return local.get(var) == ref(name) if var in local else var == name

    def targets_of(v: str) -> set:
        var = _var_name(v)
        if var in local:
            return _targets_in(local[var])
        return {var.split(".")[0]}

    placeholder = next((f"__cfnfix_{i}__" for i, v in enumerate(variables) if is_password(v)), None)
    keys = [k for k, v in data.items() if v == placeholder] if isinstance(data, dict) else []
    in_local = [k for k, v in local.items() if template.refers_to(v, name)]
    if len(keys) != 1 or sum(is_password(v) for v in variables) != 1 or any(local[k] != ref(name) for k in in_local):
        raise _Skip(f"secret {secret} stores it in a form that cannot be generated; {_BY_HAND}")
    password_key = keys[0]
    database = set(users)
    kept, needs = {}, set()
    for k, v in data.items():
        used = set().union(*(targets_of(variables[int(n)]) for n in _TOKEN.findall(json.dumps(v))))
        if k != password_key and not used & database:  # the database's own attributes would be a cycle
            kept[k] = v
            needs |= used
    user = _username_value(owner.username)
    if "username" not in kept and user is not None:
        kept = {"username": user, **kept}
        needs |= _targets_in(sub(user)) if "${" in user else set()
    out = json.dumps(kept, ensure_ascii=False)
    out = re.sub(r'"__cfnfix_bare_(\d+)__"', lambda m: variables[int(m.group(1))], out)
    out = re.sub(r"__cfnfix_(\d+)__", lambda m: variables[int(m.group(1))], out)
    still_local = {k: v for k, v in local.items() if re.search(r"\$\{\s*" + re.escape(k) + r"\s*\}", out)}
    if still_local:
        new_value = sub([out, still_local])
    else:
        new_value = sub(out) if "${" in out else out
    base = ("Resources", secret, "Properties")
    edits = [
        SetValue(base + ("SecretString",), _generate(new_value, password_key, settings)),
        RenameKey(base + ("SecretString",), "GenerateSecretString"),
    ]
    edits += template.drop_dependencies(secret, database)
    for r in template.references:  # what the rest of the secret refers to
        if r.section == "Resources" and r.owner == secret and r.path[2:4] != ("Properties", "SecretString"):
            if not (r.kind == "DependsOn" and r.target in database):
                needs.add(r.target)
    return password_key, edits, needs


def _check_existing(template: Template, secret: str, users: list, needs: set) -> None:
    """An existing secret can generate the password only under the condition of its readers and
    without depending on them."""
    condition = _condition(template, secret)
    if condition is not None:
        other = [u for u in users if _condition(template, u) != condition]
        if other:
            raise _Skip(f"secret {secret}, which stores it, exists only under condition {condition} and "
                        f"{', '.join(other)} would read it without that condition; {_BY_HAND}")
    if _reaches(template, needs, set(users)):
        raise _Skip(f"secret {secret}, which stores it, depends on {', '.join(users)}, so reading the password from it "
                    f"would be a circular dependency; {_BY_HAND}")


def _targets_in(value) -> set:
    found: list = []
    collect((), value, found)
    return {r.target for r in found}


def _reaches(template: Template, start: set, goal: set) -> bool:
    """True when a resource among ``start`` is, or depends (through Ref, GetAtt, Sub or DependsOn,
    transitively) on, one of ``goal``."""
    graph: dict[str, set] = {}
    for r in template.references:
        if r.section == "Resources" and r.target in template.resources:
            graph.setdefault(r.owner, set()).add(r.target)
    seen, todo = set(), [s for s in start if s in template.resources]
    while todo:
        node = todo.pop()
        if node in goal:
            return True
        if node not in seen:
            seen.add(node)
            todo.extend(graph.get(node, ()))
    return False


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
        raise _Skip(f"its secret's SecretString is not JSON; {_BY_HAND}") from None


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
