from __future__ import annotations

from cfnfix.cloudformation import Template, ref_target
from cfnfix.fixing import Fix, Fixer, Report, Safety
from cfnfix.text.edits import EditError

DEPLOYMENT = "AWS::ApiGateway::Deployment"
METHOD = "AWS::ApiGateway::Method"
REST_API = "AWS::ApiGateway::RestApi"


class DeploymentMethods(Fixer):
    code = "APIGW005"
    name = "deployment-without-methods"
    summary = "`AWS::ApiGateway::Deployment` that does not wait for the methods of its REST API"
    safety = Safety.SAFE
    default = True
    options = {"all_methods": False}
    docs = """
## What it does
Adds the `AWS::ApiGateway::Method` resources of a REST API to the `DependsOn` of each
`AWS::ApiGateway::Deployment` of that API that is created after none of them (directly or
through other resources). Methods that exist only under a condition the deployment does not
share are left out: a `DependsOn` on a resource that may not exist is itself an error (cfn-lint
E3005).

A deployment that already waits for some of the methods deploys (the API has a method when it
is created), so the methods it does not wait for are reported, not added; with `all_methods`
they are added too.

## Why it breaks deploys
CloudFormation creates the deployment as soon as its `RestApi` exists, usually before the
methods, and API Gateway refuses it: "The REST API doesn't contain any methods". A deployment
is a snapshot of the API taken when it is created, and nothing else orders it after the methods
(which wait for their resources and integrations). When some methods happen to be created
first, the deployment succeeds without the others and the stage serves an API that lacks them.
AWS's documentation of the resource says the deployment must depend on the methods.

## Example
```yaml
Api:
  Type: AWS::ApiGateway::RestApi
  Properties:
    Name: orders
GetOrders:
  Type: AWS::ApiGateway::Method
  Properties:
    RestApiId: !Ref Api
    ResourceId: !GetAtt Api.RootResourceId
    HttpMethod: GET
    AuthorizationType: NONE
    Integration:
      Type: MOCK
Deployment:
  Type: AWS::ApiGateway::Deployment
  Properties:
    RestApiId: !Ref Api
```
Use instead:
```yaml
Deployment:
  Type: AWS::ApiGateway::Deployment
  DependsOn: GetOrders
  Properties:
    RestApiId: !Ref Api
```

## Fix safety
Safe: `DependsOn` only orders creation; every resource and setting stays as written. When a
method already waits for the deployment (a loop would follow), nothing is changed and the
finding is reported.

## Options
- `all_methods` (default `false`): also add the methods that a deployment which waits for some
  of them does not wait for.

## When to enable it
Turn on `all_methods` when the stage must serve every method from the first deployment (a
deployment created before a method leaves it out of the stage until the API is deployed
again), for templates whose deployments wait for only some of their methods (AWS's own
samples often wait for one).

## References
- [AWS::ApiGateway::Deployment](https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-apigateway-deployment.html)
  ("the deployment must depend on the RestApi's methods. To create a dependency, add a
  DependsOn attribute to the deployment")
- [DependsOn attribute](https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-dependson.html)
"""

    def run(self, template: Template):
        methods: dict[str, list[tuple[str, str | None]]] = {}
        for mid, res, props in template.resources_of_type(METHOD):
            api = ref_target(props.get("RestApiId"))
            if api and template.resource_type(api) == REST_API:
                methods.setdefault(api, []).append((mid, res.get("Condition")))
        for dep_id, dep, props in template.resources_of_type(DEPLOYMENT):
            api = ref_target(props.get("RestApiId"))
            if not isinstance(props.get("RestApiId"), dict) or api not in methods:
                continue
            condition = dep.get("Condition")
            candidates = [m for m, c in methods[api] if c is None or c == condition]
            missing = [m for m in candidates if not template.waits_for(dep_id, m)]
            if not missing:
                continue
            path = ("Resources", dep_id)
            loops = [m for m in missing if template.waits_for(m, dep_id)]
            if loops:
                what = f"method {loops[0]} is" if len(loops) == 1 else f"methods {', '.join(loops)} are"
                yield Report(f"Deployment {dep_id}: {what} created after the deployment itself "
                             "(a DependsOn would make a loop); not changed", path)
                continue
            if len(missing) < len(candidates) and not self.config["all_methods"]:
                # It waits for some: the API has a method when the deployment is created, so it deploys.
                noun = "method" if len(missing) == 1 else "methods"
                yield Report(f"Deployment {dep_id}: it does not wait for the {noun} {', '.join(missing)} of RestApi {api}, "
                             f"which the stage lacks when the deployment is created first; add {'it' if len(missing) == 1 else 'them'} "
                             "to its DependsOn (option all_methods)", path)
                continue
            try:
                edits = template.add_dependencies(dep_id, missing)
            except EditError as e:
                yield Report(f"Deployment {dep_id}: {e}; not changed", path)
                continue
            noun = "method" if len(missing) == 1 else "methods"
            yield Fix(f"Deployment {dep_id}: add DependsOn on the {noun} {', '.join(missing)} of RestApi {api}",
                      edits, path)
