from __future__ import annotations

import re

from cfnfix.text.edits import Append, Delete, Insert, RenameKey, SetValue
from cfnfix.fixing import Fix, Fixer, Report, Safety
from cfnfix.cloudformation import Template, ref, ref_target
from cfnfix.fixers.secretsmanager._rotation_stub import inline_code, schedules_using, stub_steps

SCHEDULE = "AWS::SecretsManager::RotationSchedule"
ATTACHMENT = "AWS::SecretsManager::SecretTargetAttachment"
TRANSFORM = "AWS::SecretsManager-2024-09-16"
# Database type -> (security groups property, subnet group property, subnet group type).
DATABASES = {
    "AWS::RDS::DBInstance": ("VPCSecurityGroups", "DBSubnetGroupName", "AWS::RDS::DBSubnetGroup"),
    "AWS::RDS::DBCluster": ("VpcSecurityGroupIds", "DBSubnetGroupName", "AWS::RDS::DBSubnetGroup"),
    "AWS::DocDB::DBCluster": ("VpcSecurityGroupIds", "DBSubnetGroupName", "AWS::DocDB::DBSubnetGroup"),
    "AWS::Redshift::Cluster": ("VpcSecurityGroupIds", "ClusterSubnetGroupName", "AWS::Redshift::ClusterSubnetGroup"),
}
# What a RotationLambdaARN may point at: a function, or something whose value we cannot know.
LAMBDA_TYPES = ("AWS::Lambda::Function", "AWS::Lambda::Alias", "AWS::Lambda::Version", "AWS::Serverless::Function")
OPAQUE_TYPES = ("AWS::CloudFormation::Stack", "AWS::CloudFormation::CustomResource", "AWS::Serverless::Application")
_SECRET_ARN = re.compile(r"^arn:(?:\$\{AWS::Partition\}|[\w-]+):secretsmanager:")


class _Unknown(Exception):
    """The schedule needs a decision the template does not allow: reported, not fixed."""


def _rotation_type(engine: str) -> str | None:
    e = engine.lower()
    if e == "mariadb":
        return "MariaDBSingleUser"
    if e in ("mysql", "aurora", "aurora-mysql"):
        return "MySQLSingleUser"
    if e in ("postgres", "aurora-postgresql"):
        return "PostgreSQLSingleUser"
    if e.startswith(("oracle-", "custom-oracle-")):
        return "OracleSingleUser"
    if e.startswith(("sqlserver-", "custom-sqlserver-")):
        return "SQLServerSingleUser"
    return {"docdb": "MongoDBSingleUser", "redshift": "RedshiftSingleUser"}.get(e)


class RotationWiring(Fixer):
    code = "SM002"
    name = "secret-rotation-wiring"
    summary = "Secret rotation with a `RotationLambdaARN` that is no Lambda function, or without its database attachment"
    safety = Safety.UNSAFE
    default = True
    options = {"attach_custom_lambda": False, "replace_rotation_stub": False}
    docs = """
## What it does
Repairs the wiring of an `AWS::SecretsManager::RotationSchedule` for a database secret:

- A `RotationLambdaARN` that is not a Lambda function (the secret itself, `!Ref` or `!GetAtt` of
  a resource that is not a function, a literal `arn:aws:secretsmanager:...` ARN) is replaced by
  `HostedRotationLambda`, with the single-user `RotationType` of the database that uses the
  secret (found through its `SecretTargetAttachment`, or the database whose properties use the
  secret) and, when the database's security groups and subnet group are in the template, its
  `VpcSecurityGroupIds` and `VpcSubnetIds`; the secret's `ExcludeCharacters` and the ARN of its
  KMS key (`KmsKeyArn`) go along. The `AWS::SecretsManager-2024-09-16` transform that
  `HostedRotationLambda` needs is added to `Transform` (an existing `AWS::SecretsManager-*`
  transform is kept).
- A hosted rotation of a secret used by an RDS instance or cluster, a DocumentDB cluster or a
  Redshift cluster gets the `AWS::SecretsManager::SecretTargetAttachment` that writes the
  connection details into the secret, and the schedule a `DependsOn` on it.

When the database or its engine cannot be determined, the schedule is reported. A parameter or
an import as `RotationLambdaARN` is left alone.

With the option `replace_rotation_stub`, a schedule whose `RotationLambdaARN` is an inline Python
function of the template that is a rotation stub — it creates and finishes a new secret version,
but its `setSecret` step does nothing — gets the same `HostedRotationLambda` instead, for the
engine of the database the secret's attachment (or the database that uses the secret) points
at. The stub function stays in the template, no longer used by the schedule.

## Why it breaks deploys
Secrets Manager can only invoke a Lambda function: a schedule whose `RotationLambdaARN` is a
secret ARN fails to create, and a hosted rotation function cannot reach a database whose host
and port are not in the secret, so the first rotation fails and leaves a pending version that
makes the next stack update fail.

## Example
```yaml
AWSTemplateFormatVersion: '2010-09-09'
Resources:
  DBSecret:
    Type: AWS::SecretsManager::Secret
    Properties:
      GenerateSecretString:
        SecretStringTemplate: '{"username": "app"}'
        GenerateStringKey: password
  Database:
    Type: AWS::RDS::DBInstance
    Properties:
      Engine: postgres
      MasterUsername: app
      MasterUserPassword: !Sub '{{resolve:secretsmanager:${DBSecret}:SecretString:password}}'
  Rotation:
    Type: AWS::SecretsManager::RotationSchedule
    Properties:
      SecretId: !Ref DBSecret
      RotationLambdaARN: !Ref DBSecret
      RotationRules:
        AutomaticallyAfterDays: 30
```
Use instead:
```yaml
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::SecretsManager-2024-09-16
Resources:
  ...
  DBSecretAttachment:
    Type: AWS::SecretsManager::SecretTargetAttachment
    Properties:
      SecretId: !Ref DBSecret
      TargetId: !Ref Database
      TargetType: AWS::RDS::DBInstance
  Rotation:
    Type: AWS::SecretsManager::RotationSchedule
    DependsOn: DBSecretAttachment
    Properties:
      SecretId: !Ref DBSecret
      HostedRotationLambda:
        RotationType: PostgreSQLSingleUser
      RotationRules:
        AutomaticallyAfterDays: 30
```

## Fix safety
Unsafe: the stack now creates a rotation function (in a nested stack made by the transform, so
a deploy needs `CAPABILITY_AUTO_EXPAND`) and the secret receives the database's connection
details. The function runs with the database's security groups and subnets: they must allow it
to reach the database and Secrets Manager (a NAT gateway or a VPC endpoint).

## Options
- `attach_custom_lambda` (default `false`): also add the attachment when the schedule uses a
  rotation function of your own. Off by default, since such a function need not read the
  connection details from the secret.
- `replace_rotation_stub` (default `false`): replace a rotation stub (see above) with a hosted
  rotation function. A stub's first rotation, which the schedule starts at deploy, puts a new
  password in the secret that the database never receives, so the secret and the database
  disagree from then on. Off by default, since it adds a rotation function that changes the
  database's password for real (and needs `CAPABILITY_AUTO_EXPAND` and network access to the
  database, see Fix safety).

## When to enable it
Turn on `replace_rotation_stub` when cfnfix reports a rotation stub (LAMBDA001 does when its
import fix lets one run) and nobody is about to write the `setSecret` and `testSecret` steps:
a hosted rotation function is what AWS provides for the supported engines.

## References
- `AWS::SecretsManager::RotationSchedule` and its `HostedRotationLambda`:
  https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-secretsmanager-rotationschedule.html
- The `AWS::SecretsManager` transform:
  https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/transform-aws-secretsmanager.html
- Secrets Manager user guide, "Lambda rotation functions":
  https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_lambda-functions.html
"""

    def run(self, template: Template):
        for name, res, props in template.resources_of_type(SCHEDULE):
            try:
                fix = self._fix(template, name, res, props)
            except _Unknown as e:
                yield Report(f"RotationSchedule {name}: {e}", ("Resources", name))
                continue
            if fix:
                yield fix

    def _fix(self, template: Template, name: str, res: dict, props: dict) -> Fix | None:
        secret = _secret_of(template, props.get("SecretId"))
        hosted = "HostedRotationLambda" in props
        arn = props.get("RotationLambdaARN")
        bad_arn = arn is not None and (arn == props.get("SecretId") or _not_a_lambda(template, arn))
        stub = None
        if arn is not None and not bad_arn and self.config["replace_rotation_stub"]:
            stub = _stub_function(template, name)
        if not (hosted or bad_arn or stub or self.config["attach_custom_lambda"] and "RotationLambdaARN" in props):
            return None
        base = ("Resources", name)
        edits, notes = [], []
        db = _database(template, secret) if secret else "its SecretId is not a secret of the template"
        if stub and not hosted:
            if isinstance(db, str):
                raise _Unknown(f"rotation function {stub} is a stub whose `setSecret` step does nothing, and {db}; "
                               "use `HostedRotationLambda` with the RotationType of the database")
            arn_path = base + ("Properties", "RotationLambdaARN")
            hosted_props, note = _hosted(template, db, secret, "its rotation function is a stub")
            edits += [SetValue(arn_path, hosted_props), RenameKey(arn_path, "HostedRotationLambda")]
            notes.append(f"replace rotation function {stub}, a stub whose `setSecret` step does nothing, with a hosted "
                         f"{hosted_props['RotationType']} rotation{note} ({stub} stays in the template, unused by "
                         f"{name})")
            hosted = True
        elif bad_arn:
            arn_path = base + ("Properties", "RotationLambdaARN")
            if hosted:
                edits.append(Delete(arn_path))
                notes.append("drop RotationLambdaARN, which is not a Lambda function")
            else:
                if isinstance(db, str):
                    raise _Unknown(f"RotationLambdaARN is not a Lambda function, and {db}; use `HostedRotationLambda` "
                                   "with the RotationType of the database, or a rotation function's ARN")
                hosted_props, note = _hosted(template, db, secret)
                edits += [SetValue(arn_path, hosted_props), RenameKey(arn_path, "HostedRotationLambda")]
                notes.append("replace RotationLambdaARN, which is not a Lambda function, with a hosted "
                             f"{hosted_props['RotationType']} rotation{note}")
                hosted = True
        if hosted and not _has_transform(template):
            edits.append(_transform_edit(template))
            notes.append(f"add the {TRANSFORM} transform")
        if isinstance(db, tuple):
            attach_edits, note = _attachment(template, name, res, secret, db)
            edits += attach_edits
            notes += [note] if note else []
        return Fix(f"RotationSchedule {name}: " + "; ".join(notes), edits, base) if edits else None


def _stub_function(template: Template, schedule: str) -> str | None:
    """The inline Python function the schedule rotates with, when it is a rotation stub."""
    for name, _, props in template.resources_of_type("AWS::Lambda::Function", "AWS::Serverless::Function"):
        if any(s == schedule for s, _ in schedules_using(template, name)):
            keys = ("InlineCode",) if "InlineCode" in props else ("Code", "ZipFile")
            runtime = props.get("Runtime")
            code = inline_code(props, keys)
            if code is not None and (not isinstance(runtime, str) or runtime.startswith("python")) and stub_steps(code):
                return name
    return None


def _type(template: Template, name) -> str | None:
    """The resource's type when it is a string (a hostile template may hold anything there)."""
    rtype = template.resource_type(name) if isinstance(name, str) else None
    return rtype if isinstance(rtype, str) else None


def _secret_of(template: Template, value) -> str | None:
    """The secret resource a SecretId names (through an attachment too: its Ref is the secret)."""
    name = ref_target(value)
    if _type(template, name) == ATTACHMENT:
        name = ref_target((template.resources[name].get("Properties") or {}).get("SecretId"))
    return name if _type(template, name) == "AWS::SecretsManager::Secret" else None


def _not_a_lambda(template: Template, value) -> bool:
    """True when the value is certainly no Lambda ARN; parameters and opaque values pass."""
    if isinstance(value, dict) and isinstance(value.get("Fn::Sub"), str):
        text = value["Fn::Sub"]
        whole = re.fullmatch(r"\$\{([^}.!]+)(?:\.[^}]+)?\}", text.strip())
        if not whole:
            return bool(_SECRET_ARN.match(text))
        value = ref(whole.group(1))
    if isinstance(value, str):
        return bool(_SECRET_ARN.match(value))
    target = ref_target(value)
    rtype = _type(template, target)
    if rtype is None:
        return False  # a parameter, a pseudo parameter or another intrinsic
    return not (rtype in LAMBDA_TYPES or rtype in OPAQUE_TYPES or rtype.startswith("Custom::"))


def _database(template: Template, secret: str):
    """(name, type) of the database the secret belongs to, or a string saying why it is unknown."""
    for att, _, props in template.resources_of_type(ATTACHMENT):
        if ref_target(props.get("SecretId")) == secret:
            target = ref_target(props.get("TargetId"))
            if _type(template, target) in DATABASES:
                return target, _type(template, target)
            return f"the database of attachment {att} is not in the template"
    users = list(dict.fromkeys(
        r.owner for r in template.references_to(secret)
        if r.section == "Resources" and r.path[2:3] == ("Properties",) and _type(template, r.owner) in DATABASES))
    if len(users) == 1:
        return users[0], _type(template, users[0])
    if users:
        return f"secret {secret} is used by several databases ({', '.join(users)})"
    return f"no database in the template uses secret {secret}"


def _engine(template: Template, name: str, rtype: str) -> list:
    """The engine names the database may have (several when a parameter allows several)."""
    if rtype == "AWS::DocDB::DBCluster":
        return ["docdb"]
    if rtype == "AWS::Redshift::Cluster":
        return ["redshift"]
    props = template.resources[name].get("Properties") or {}
    engine = props.get("Engine")
    cluster = ref_target(props.get("DBClusterIdentifier"))
    if engine is None and _type(template, cluster) == "AWS::RDS::DBCluster":
        engine = (template.resources[cluster].get("Properties") or {}).get("Engine")
    if isinstance(engine, str):
        return [engine]
    param = template.parameters.get(ref_target(engine) or "")
    if isinstance(param, dict) and isinstance(param.get("AllowedValues"), list):
        return [str(v) for v in param["AllowedValues"]]
    return []


def _hosted(template: Template, db: tuple, secret: str, why: str = "RotationLambdaARN is not a Lambda function"):
    """HostedRotationLambda properties for the database, and a note on what is left to do."""
    name, rtype = db
    types = {_rotation_type(e) for e in _engine(template, name, rtype)}
    if len(types) != 1 or None in types:
        raise _Unknown(f"{why}, and the engine of database {name} has no "
                       "single hosted rotation type; set `HostedRotationLambda` with its RotationType by hand")
    hosted, note, todo = {"RotationType": types.pop()}, "", []
    groups, subnets = _vpc(template, name, rtype)
    if groups is not None and subnets is not None:
        hosted["VpcSecurityGroupIds"] = _comma_list(groups)
        hosted["VpcSubnetIds"] = _comma_list(subnets)
        note = f" in the subnets and security groups of {name}"
    elif groups is not None or subnets is not None:
        todo.append(f"VpcSubnetIds and VpcSecurityGroupIds (the network of {name} is not all in the template)")
    secret_props = template.resources[secret].get("Properties") or {}
    generate = secret_props.get("GenerateSecretString")
    if isinstance(generate, dict) and "ExcludeCharacters" in generate:
        hosted["ExcludeCharacters"] = generate["ExcludeCharacters"]  # new passwords keep the secret's rules
    key = secret_props.get("KmsKeyId")
    if key is not None:
        arn = _key_arn(template, key)
        if arn is not None:
            hosted["KmsKeyArn"] = arn
        else:
            todo.append(f"KmsKeyArn (the ARN of the key of {secret})")
    return hosted, note + (f"; set its {' and '.join(todo)} by hand" if todo else "")


def _key_arn(template: Template, key):
    """The ARN of the KMS key a secret's KmsKeyId names, when the template tells."""
    target = ref_target(key)
    if _type(template, target) == "AWS::KMS::Alias":
        target = ref_target((template.resources[target].get("Properties") or {}).get("TargetKeyId"))
    if _type(template, target) == "AWS::KMS::Key":
        return {"Fn::GetAtt": [target, "Arn"]}
    if isinstance(key, str) and re.match(r"^arn:[\w-]+:kms:.*:key/", key):
        return key
    return None


def _vpc(template: Template, name: str, rtype: str):
    """The database's security groups and subnets (each None when not found)."""
    props = template.resources[name].get("Properties") or {}
    cluster = ref_target(props.get("DBClusterIdentifier")) if rtype == "AWS::RDS::DBInstance" else None
    if _type(template, cluster) == "AWS::RDS::DBCluster":  # an Aurora instance: the cluster has the network
        rtype, props = "AWS::RDS::DBCluster", template.resources[cluster].get("Properties") or {}
    groups_key, group_key, group_type = DATABASES[rtype]
    groups = props.get(groups_key)
    group = ref_target(props.get(group_key))
    subnets = None
    if _type(template, group) == group_type:
        subnets = (template.resources[group].get("Properties") or {}).get("SubnetIds")
    return groups, subnets


def _comma_list(value):
    """A list (or a list-valued Ref) as the comma-separated string HostedRotationLambda takes."""
    if isinstance(value, list) and len(value) == 1:
        return value[0]
    return {"Fn::Join": [",", value]}


def _has_transform(template: Template) -> bool:
    value = template.data.get("Transform")
    values = value if isinstance(value, list) else [value]
    return any(isinstance(v, str) and v.startswith("AWS::SecretsManager-") for v in values)


def _transform_edit(template: Template):
    value = template.data.get("Transform")
    if isinstance(value, list):
        return Append(("Transform",), TRANSFORM)
    if value is not None:
        return SetValue(("Transform",), [value, TRANSFORM])
    return template.add_top_level("Transform", TRANSFORM)


def _attachment(template: Template, name: str, res: dict, secret: str, db: tuple):
    """Edits adding the secret's attachment (when missing) and the schedule's DependsOn on it."""
    attachment = next((a for a, _, p in template.resources_of_type(ATTACHMENT)
                       if ref_target(p.get("SecretId")) == secret), None)
    edits, note = [], ""
    if attachment is None:
        if not _holds_json(template.resources[secret]):
            raise _Unknown(f"secret {secret} does not hold JSON, so it cannot take the connection details of {db[0]}; "
                           "generate it from a SecretStringTemplate with the username")
        attachment = template.unique_id(f"{secret}Attachment")
        edits.append(template.add_resource(attachment, {
            "Type": ATTACHMENT,
            "Properties": {"SecretId": ref(secret), "TargetId": ref(db[0]), "TargetType": db[1]},
        }, after=db[0]))
        note = f"attach secret {secret} to {db[0]} ({attachment})"
    if template.refers_to(res, attachment):
        return edits, note
    depends = res.get("DependsOn")
    if depends == attachment or isinstance(depends, list) and attachment in depends:
        return edits, note
    path = ("Resources", name, "DependsOn")
    if isinstance(depends, list):
        edits.append(Append(path, attachment))
    elif isinstance(depends, str):
        edits.append(SetValue(path, [depends, attachment]))
    else:
        edits.append(Insert(path[:-1], "DependsOn", attachment, after="Type"))
    return edits, note or f"depend on attachment {attachment}"


def _holds_json(secret: dict) -> bool:
    props = secret.get("Properties") or {}
    generate = props.get("GenerateSecretString")
    if isinstance(generate, dict):
        return "SecretStringTemplate" in generate
    value = props.get("SecretString")
    if isinstance(value, dict) and len(value) == 1 and "Fn::Sub" in value:
        value = value["Fn::Sub"]
        value = value[0] if isinstance(value, list) and value else value
    return isinstance(value, str) and value.lstrip().startswith("{")
