from __future__ import annotations

from typing import Any

from cfnfix.text.edits import SetValue
from cfnfix.fixing import Fix, Fixer, Report, Safety
from cfnfix.cloudformation import Template, Reference
from cfnfix.cloudformation.references import SUB_VARIABLE
from cfnfix.fixers.resources._facts import expanded_later

SG = "AWS::EC2::SecurityGroup"
# Per type: the property that fixes its physical name, what Ref returns ("name" or an ARN
# pattern), and the ARN pattern of its Arn attribute. {name} is the physical name (Fn::Sub text).
ARN = "arn:${AWS::Partition}:"
KNOWN = {
    "AWS::Lambda::Function": ("FunctionName", "name", {"Arn": ARN + "lambda:${AWS::Region}:${AWS::AccountId}:function:{name}"}),
    "AWS::IAM::Role": ("RoleName", "name", {"Arn": ARN + "iam::${AWS::AccountId}:role{path}{name}"}),
    "AWS::S3::Bucket": ("BucketName", "name", {"Arn": ARN + "s3:::{name}"}),
    "AWS::SQS::Queue": ("QueueName", None, {"Arn": ARN + "sqs:${AWS::Region}:${AWS::AccountId}:{name}",
                                            "QueueName": "{name}"}),
    "AWS::SNS::Topic": ("TopicName", ARN + "sns:${AWS::Region}:${AWS::AccountId}:{name}",
                        {"TopicArn": ARN + "sns:${AWS::Region}:${AWS::AccountId}:{name}", "TopicName": "{name}"}),
    "AWS::DynamoDB::Table": ("TableName", "name", {"Arn": ARN + "dynamodb:${AWS::Region}:${AWS::AccountId}:table/{name}"}),
    "AWS::Logs::LogGroup": ("LogGroupName", "name", {"Arn": ARN + "logs:${AWS::Region}:${AWS::AccountId}:log-group:{name}:*"}),
    "AWS::StepFunctions::StateMachine": ("StateMachineName", ARN + "states:${AWS::Region}:${AWS::AccountId}:stateMachine:{name}",
                                         {"Arn": ARN + "states:${AWS::Region}:${AWS::AccountId}:stateMachine:{name}",
                                          "Name": "{name}"}),
}
# Where a reference is only text in a policy: cutting it there changes nothing that is checked.
POLICY_KEYS = {"PolicyDocument", "Policies", "KeyPolicy"}


class Cycles(Fixer):
    code = "CYCLE001"
    name = "circular-dependency"
    summary = "Resources that depend on each other in a cycle (beyond security groups)"
    safety = Safety.SAFE
    docs = """
## What it does
Finds resources that depend on each other in a cycle through `Ref`, `Fn::GetAtt`, `${}` in
`Fn::Sub` and `DependsOn` (a resource may also reference itself), and breaks each cycle by
replacing the references of one edge with the value they resolve to, written from the
resource's physical name when the template fixes it (a name property set to a literal, or to
an `Fn::Sub`/`Ref` of parameters and pseudo parameters).

Only references that are text no service checks at creation are replaced: an ARN in the
`Resource` or `Condition` of a policy (a role's inline policy, an `AWS::IAM::Policy` or
`ManagedPolicy`, a key, bucket, queue or topic policy), a `Lambda::Permission`'s `SourceArn`,
a Lambda function's environment variable. The usual cycles it breaks:

- a Lambda function whose own role's policy names the function (`!GetAtt Function.Arn`): the
  policy gets `!Sub arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:<name>`;
- an S3 bucket whose notification waits for (`DependsOn`) the permission that names the bucket:
  the permission's `SourceArn` gets `arn:${AWS::Partition}:s3:::<bucket name>`;
- a role whose policy names a bucket, table, queue, topic or state machine that (through a
  function or a replication configuration) depends on the role.

Names and ARNs can be written for Lambda functions, IAM roles (with their `Path`), S3 buckets,
SQS queues, SNS topics, DynamoDB tables, log groups and Step Functions state machines. A cycle
that cannot be broken whole this way is left as it is and reported with its edges, for a
person to choose the cut:

- a reference in a `Principal` (IAM, KMS and S3 check that a principal exists, so a key policy
  that names a role which references the key cannot lose that reference; move the role's
  statement about the key to an `AWS::IAM::Policy` resource instead);
- a reference in configuration that the service validates when the resource is created (a
  bucket's notification target, an API's integration URI), or a `DependsOn`;
- a resource without a fixed name (its ARN cannot be written).

Cycles made only of security groups are EC2001's. Templates expanded before CloudFormation
reads them (a `Transform`, modules) are left alone.

## Why it breaks deploys
CloudFormation must create a resource after everything it references; resources that reference
each other in a cycle cannot be ordered, and the template is rejected ("Circular dependency
between resources: [Function, FunctionRole]") before anything is created.

## Example
```yaml
Function:
  Type: AWS::Lambda::Function
  Properties:
    FunctionName: orders-worker
    Role: !GetAtt FunctionRole.Arn
    # ...
FunctionRole:
  Type: AWS::IAM::Role
  Properties:
    # ...
    Policies:
      - PolicyName: invoke-self
        PolicyDocument:
          Statement:
            - Effect: Allow
              Action: lambda:InvokeFunction
              Resource: !GetAtt Function.Arn
```
Use instead:
```yaml
              Resource: !Sub arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:orders-worker
```

## Fix safety
Safe: the value written is the one the reference resolved to (the same ARN or name), so the
deployed resources and their permissions are the same; only the order of creation is freed.

## References
- cfn-lint E3004 (circular dependencies).
- https://aws.amazon.com/blogs/infrastructure-and-automation/handling-circular-dependency-errors-in-aws-cloudformation/
- ARN formats: https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html
"""

    def run(self, template: Template):
        if expanded_later(template):
            return
        resources = template.resources
        edges: dict[tuple[str, str], list[Reference]] = {}
        for r in template.references:
            path = r.path
            if not path or path[0] != "Resources" or r.target not in resources or r.kind not in ("Ref", "GetAtt", "Sub", "DependsOn"):
                continue
            if r.kind != "DependsOn" and path[2:3] != ("Properties",):
                continue
            edges.setdefault((path[1] if len(path) > 1 else None, r.target), []).append(r)
        sgs = {n for n, _, _ in template.resources_of_type(SG)}
        graph = {pair: refs for pair, refs in edges.items() if not (pair[0] in sgs and pair[1] in sgs)}
        if _acyclic(graph):
            return  # no cycle: nothing to cut, nothing to report
        types = {n: (res.get("Type") if isinstance(res, dict) else None) for n, res in resources.items()}
        cut: dict[tuple, tuple] = {}  # pair -> (rank, edits)
        for _ in range(len(graph) + 1):
            cycles = _cyclic_components(graph)
            if not cycles:
                break
            progress = False
            for component in cycles:
                options = []
                for pair in sorted(p for p in graph if p[0] in component and p[1] in component):
                    if not _text_only(pair, graph[pair], types):
                        continue
                    plan = _replacements(template, pair, graph[pair], types)
                    if plan is not None:
                        options.append((pair, plan))
                if not options:
                    continue
                pair, plan = min(options, key=lambda o: o[0])
                cut[pair] = (component, plan)
                del graph[pair]
                progress = True
            if not progress:
                break
        # A cycle that cannot be broken whole is left as it is: cutting part of it only moves
        # the error (and the report names every edge of it).
        stuck = set().union(*_cyclic_components(graph)) if graph else set()
        for pair, (component, _) in list(cut.items()):
            if component & stuck:
                del cut[pair]
                graph[pair] = edges[pair]
        for pair, (component, edits) in cut.items():
            src, dst = pair
            refs = edges[pair]
            what = "name" if all(r.kind == "Ref" or (r.attribute or "").endswith("Name") for r in refs) and KNOWN[types[dst]][1] == "name" else "ARN"
            cycle = f"between {', '.join(sorted(component))}" if len(component) > 1 else f"of {src} on itself"
            yield Fix(f"{src}: write {dst}'s {what} from its fixed name instead of referencing it "
                      f"(breaks the circular dependency {cycle})", edits, ("Resources", src))
        for component in _cyclic_components(graph):
            pairs = sorted(p for p in graph if p[0] in component and p[1] in component)
            names = ", ".join(sorted(component))
            kinds = "; ".join(f"{a} -> {b} ({', '.join(sorted({r.kind for r in graph[(a, b)]}))})" for a, b in pairs)
            first = sorted(component)[0]
            yield Report(f"{first}: circular dependency between {names}: cut one of {kinds} — give the resource a fixed "
                         f"name and build its ARN, or remove the reference", ("Resources", first))


def _text_only(pair: tuple, refs: list[Reference], types: dict) -> bool:
    """True when every reference of the edge is text that no service checks when the resource
    is created: an ARN in the Resource or Condition of a policy (not a Principal, which IAM, KMS
    and S3 check exist), a Lambda permission's SourceArn, a Lambda environment variable."""
    src_type = types.get(pair[0])
    for r in refs:
        steps = [s for s in r.path if isinstance(s, str)]
        if src_type == "AWS::Lambda::Permission" and r.path[3:4] in (("SourceArn",), ("SourceAccount",)):
            continue
        if src_type == "AWS::Lambda::Function" and r.path[2:5] == ("Properties", "Environment", "Variables"):
            continue
        in_policy = any(step in POLICY_KEYS for step in steps)
        if not in_policy or {"Principal", "NotPrincipal", "AssumeRolePolicyDocument"} & set(steps):
            return False
    return True


def _replacements(template: Template, pair: tuple, refs: list[Reference], types: dict) -> list | None:
    """SetValue edits replacing every reference of ``pair`` with what it resolves to, or None."""
    src, dst = pair
    if any(r.kind == "DependsOn" for r in refs):
        return None
    rtype = types.get(dst)
    if rtype not in KNOWN:
        return None
    res = template.resources[dst]
    props = res.get("Properties") if isinstance(res.get("Properties"), dict) else {}
    name_prop, ref_form, attrs = KNOWN[rtype]
    name = _name_text(props.get(name_prop), template)
    if name is None:
        return None
    path_text = "/"
    if rtype == "AWS::IAM::Role":
        path_value = props.get("Path", "/")
        if not isinstance(path_value, str) or "${" in path_value or not path_value.startswith("/") or not path_value.endswith("/"):
            return None
        path_text = path_value

    def text_for(attr: str | None) -> str | None:
        pattern = (("{name}" if ref_form == "name" else ref_form) if attr is None else attrs.get(attr))
        if pattern is None:
            return None
        return pattern.replace("{path}", path_text).replace("{name}", name)

    edits: dict[tuple, Any] = {}
    for r in refs:
        if r.kind in ("Ref", "GetAtt"):
            text = text_for(None if r.kind == "Ref" else r.attribute)
            if text is None:
                return None
            edits[r.path] = {"Fn::Sub": text} if "${" in text else text
        else:  # ${dst} / ${dst.Attr} inside an Fn::Sub string
            node = _node(template.data, r.path)
            value = node.get("Fn::Sub") if isinstance(node, dict) else None
            at = r.path + ("Fn::Sub",) if isinstance(value, str) else r.path + ("Fn::Sub", 0)
            current = edits.get(at, value if isinstance(value, str) else value[0] if isinstance(value, list) and value else None)
            if not isinstance(current, str):
                return None
            failed = []

            def swap(m):
                var = m.group(1)
                target, _, attr = var.partition(".")
                if target != dst:
                    return m.group(0)
                text = text_for(attr or None)
                if text is None:
                    failed.append(var)
                    return m.group(0)
                return text

            new = SUB_VARIABLE.sub(swap, current)
            if failed:
                return None
            edits[at] = new
    for p, v in edits.items():
        # A policy's Resource written from a reference that was not an ARN (a bucket's Ref, its
        # name) was wrong before; left as a reference it stays as wrong as it was, written out it
        # becomes a new finding (cfn-lint W1031): leave such an edge to a person.
        text = v.get("Fn::Sub") if isinstance(v, dict) else v
        if {"Resource", "NotResource"} & {s for s in p if isinstance(s, str)} and isinstance(text, str) \
                and not text.startswith(("arn:", "*")):
            return None
    return [SetValue(p, v) for p, v in edits.items()]


def _name_text(value: Any, template: Template) -> str | None:
    """The physical name as Fn::Sub text, when the template fixes it: a literal, a Ref to a
    parameter or pseudo parameter, or an Fn::Sub string naming only those."""
    params = template.parameters
    if isinstance(value, str):
        return None if "${" in value or not value else value
    if isinstance(value, dict) and len(value) == 1:
        if isinstance(value.get("Ref"), str):
            target = value["Ref"]
            return "${" + target + "}" if target in params or target.startswith("AWS::") else None
        text = value.get("Fn::Sub")
        if isinstance(text, str):
            names = [m.group(1) for m in SUB_VARIABLE.finditer(text)]
            if all(n in params or (n.startswith("AWS::") and "." not in n) for n in names):
                return text
    return None


def _node(data: Any, path: tuple) -> Any:
    for step in path:
        try:
            data = data[step]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _acyclic(graph: dict) -> bool:
    """True when the edges (source, target) make no cycle: every node can be taken away once
    nothing points at it (Kahn's order), which is cheaper than finding the components."""
    succ: dict[str, list[str]] = {}
    into: dict[str, int] = {}
    for a, b in graph:
        succ.setdefault(a, []).append(b)
        into[b] = into.get(b, 0) + 1
        into.setdefault(a, 0)
    free = [n for n, k in into.items() if k == 0]
    taken = 0
    while free:
        n = free.pop()
        taken += 1
        for m in succ.get(n, ()):
            into[m] -= 1
            if into[m] == 0:
                free.append(m)
    return taken == len(into)


def _cyclic_components(graph: dict) -> list[set]:
    """Strongly connected components with a cycle (more than one node, or a self-loop)."""
    succ: dict[str, list[str]] = {}
    for a, b in graph:
        succ.setdefault(a, []).append(b)
        succ.setdefault(b, [])
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[set] = []
    counter = [0]
    for root in sorted(succ):
        if root in index:
            continue
        work = [(root, iter(sorted(succ[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            node, it = work[-1]
            advanced = False
            for nxt in it:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter[0]
                    counter[0] += 1
                    stack.append(nxt)
                    on.add(nxt)
                    work.append((nxt, iter(sorted(succ[nxt]))))
                    advanced = True
                    break
                if nxt in on:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = set()
                while True:
                    n = stack.pop()
                    on.discard(n)
                    comp.add(n)
                    if n == node:
                        break
                if len(comp) > 1 or (node, node) in graph:
                    out.append(comp)
    return out


