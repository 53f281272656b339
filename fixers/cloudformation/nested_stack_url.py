from __future__ import annotations

import re

from cfnfix.text.edits import SetValue
from cfnfix.fixing import Fix, Fixer, Safety
from cfnfix.cloudformation import Template, sub

PLACEHOLDER_BUCKETS = {
    "bucket", "bucket-name", "bucketname", "s3-bucket", "my-bucket", "mybucket", "my-s3-bucket",
    "your-bucket", "yourbucket", "your-s3-bucket", "example-bucket", "examplebucket",
    "awsexamplebucket", "awsexamplebucket1", "templates-bucket-name", "bucket-placeholder",
}
# Obvious placeholders only: a bucket name that could be real must stay.
PLACEHOLDER_PATTERN = re.compile(
    r"^(<.*>|\{.*\}|your[-_].*|my-.*-?bucket(-name)?|example.*|.*placeholder.*|(replace|change)[-_]?me.*"
    r"|amzn-s3-demo-.*|doc-example-.*|x{3,})$"
)
_SUFFIX = r"(?:amazonaws\.com(?:\.cn)?|\$\{AWS::URLSuffix\})"
_REGION = r"(?:[.-](?:[a-z0-9-]+|\$\{AWS::Region\}))?"
_PATH_STYLE = re.compile(rf"^s3{_REGION}\.{_SUFFIX}$")
_VIRTUAL_HOSTED = re.compile(rf"^(?P<bucket>.+?)\.s3{_REGION}\.{_SUFFIX}$")
_URL = re.compile(r"^https?://(?P<host>[^/]+)/(?P<path>.+)$")


class PlaceholderNestedStackUrl(Fixer):
    code = "STACK001"
    name = "placeholder-nested-stack-url"
    summary = "Nested stack `TemplateURL` in a placeholder S3 bucket"
    safety = Safety.UNSAFE
    docs = """
## What it does
When an `AWS::CloudFormation::Stack`'s `TemplateURL` points at an obvious placeholder bucket
(`your-bucket`, `my-bucket`, `example-bucket`, `<bucket>`, `your-*`, `my-*-bucket`,
`replace-me`, …), adds one String parameter `TemplatesBucket` shared by every such nested stack
and builds each URL from it, keeping the object key:
`!Sub 'https://${TemplatesBucket}.s3.${AWS::Region}.amazonaws.com/<key>'`. Path-style and
virtual-hosted URLs are understood, in plain strings and in `Fn::Sub` (whose other variables
stay). A bucket name that could be real is left alone.

## Why it breaks deploys
CloudFormation must read the nested template from the URL, and a placeholder bucket does not
exist or is not yours, so creating the nested stack fails with an S3 error (access denied or no
such bucket).

## Example
```yaml
Network:
  Type: AWS::CloudFormation::Stack
  Properties:
    TemplateURL: https://your-bucket.s3.amazonaws.com/templates/network.yaml
```
Use instead:
```yaml
Parameters:
  TemplatesBucket:
    Type: String
    Description: S3 bucket that holds the nested stack templates
Resources:
  Network:
    Type: AWS::CloudFormation::Stack
    Properties:
      TemplateURL: !Sub 'https://${TemplatesBucket}.s3.${AWS::Region}.amazonaws.com/templates/network.yaml'
```

## Fix safety
Unsafe: the stack gets a new required input; whoever deploys it must upload the nested
templates to a bucket in the stack's region and pass its name.
"""

    def run(self, template: Template):
        found = []  # (logical id, object key as Fn::Sub text, bucket, Fn::Sub variables or None)
        for name, _, props in template.resources_of_type("AWS::CloudFormation::Stack"):
            parsed = _parse(props.get("TemplateURL"))
            if parsed and _is_placeholder(parsed[1]):
                found.append((name, *parsed))
        if not found:
            return
        taken = {v for _, _, _, variables in found for v in (variables or {})}
        param = template.unique_id("TemplatesBucket", taken)
        edits = [template.add_parameter(param, {
            "Type": "String",
            "Description": "S3 bucket that holds the nested stack templates",
        })]
        for name, key, _, variables in found:
            url = f"https://${{{param}}}.s3.${{AWS::Region}}.amazonaws.com/{key}"
            path = ("Resources", name, "Properties", "TemplateURL")
            if variables is None:
                edits.append(SetValue(path, sub(url)))
            else:  # keep the variable map as written
                edits.append(SetValue(path + ("Fn::Sub", 0), url))
        buckets = ", ".join(f"`{b}`" for b in dict.fromkeys(f[2] for f in found))
        names = ", ".join(f[0] for f in found)
        yield Fix(f"Nested stack(s) {names}: TemplateURL points at placeholder bucket(s) {buckets}; add "
                  f"parameter {param} for the templates bucket and build the URL from it",
                  edits, ("Resources", found[0][0], "Properties", "TemplateURL"))


def _parse(value) -> tuple[str, str, dict | None] | None:
    """(object key as Fn::Sub text, bucket, Fn::Sub variables) of an S3 TemplateURL, else None."""
    variables = None
    if isinstance(value, dict) and len(value) == 1 and "Fn::Sub" in value:
        value = value["Fn::Sub"]
        if isinstance(value, list) and len(value) == 2 and isinstance(value[1], dict):
            value, variables = value
    elif isinstance(value, str):
        value = value.replace("${", "${!")  # literal text becomes Fn::Sub text
    if not isinstance(value, str):
        return None
    m = _URL.match(value.strip())
    if not m:
        return None
    host, path = m["host"], m["path"]
    if _PATH_STYLE.match(host):
        bucket, _, key = path.partition("/")
    elif v := _VIRTUAL_HOSTED.match(host):
        bucket, key = v["bucket"], path
    else:
        return None
    return (key, bucket, variables) if key and bucket else None


def _is_placeholder(bucket: str) -> bool:
    if "${" in bucket:
        return False
    b = bucket.lower()
    return b in PLACEHOLDER_BUCKETS or bool(PLACEHOLDER_PATTERN.match(b))
