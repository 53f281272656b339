#!/usr/bin/env python3
"""How big a template cfnfix handles within a budget: CPU time and peak memory of one
``cfnfix FILE`` run (dry run, every default fixer, diff and explanation) on generated
templates of growing size, in YAML and JSON, each with a fix to make in every repeated block.

    python bench/size_limit.py                    # 0.5 and 1 MB, and each shape at the limit
    python bench/size_limit.py --mb 2 4 --shape dense
    python bench/size_limit.py --mb 0.01 0.02 0.04 --shape fixdense

The README's size limit ("Limits", MAX_BYTES in cfnfix/text/document.py) is a size at which
every shape stays under 10 s of CPU and 1 GB on the project's 2-core machine. CPU time (user +
system), not wall time, is what is compared: the machine is shared, and wall time depends on
the neighbours. Sizes above the limit are generated at the limit (cfnfix rejects larger files):
raise MAX_BYTES for the run to measure beyond it.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BLOCK_YAML = """\
  Bucket{i}:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub 'data-{i}-${{AWS::AccountId}}'
      VersioningConfiguration:
        Status: Enabled
      Tags:
        - Key: Name
          Value: bucket-{i}
        - Key: Team
          Value: platform
  Queue{i}:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 300
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt Dead{i}.Arn
        maxReceiveCount: 5
  Dead{i}:
    Type: AWS::SQS::Queue
  Role{i}:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal:
              Service: lambda.amazonaws.com
            Action: sts:AssumeRole
      Policies:
        - PolicyName: access-{i}
          PolicyDocument:
            Version: '2012-10-17'
            Statement:
              - Effect: Allow
                Action: [s3:GetObject, s3:PutObject]
                Resource: !Sub '${{Bucket{i}.Arn}}/*'
              - Effect: Allow
                Action: sqs:SendMessage
                Resource: !GetAtt Queue{i}.Arn
  Function{i}:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: !GetAtt Role{i}.Arn
      Timeout: 30
      Environment:
        Variables:
          BUCKET: !Ref Bucket{i}
          QUEUE: !Ref Queue{i}
      Code:
        ZipFile: |
          import os
          def handler(event, context):
              return {{"bucket": os.environ["BUCKET"], "n": {i}}}
"""
OUTPUT_YAML = """\
  Url{i}:
    Value: !Ref Queue{i}
    Export: {{}}
"""


def yaml_template(size: int) -> str:
    resources, outputs = ["AWSTemplateFormatVersion: '2010-09-09'\nResources:\n"], ["Outputs:\n"]
    total, i = 60, 0
    while True:
        block, out = BLOCK_YAML.format(i=i), OUTPUT_YAML.format(i=i)
        if total + len(block) + len(out) > size and i:
            return "".join(resources) + "".join(outputs)
        resources.append(block)
        outputs.append(out)
        total += len(block) + len(out)
        i += 1


def json_template(size: int) -> str:
    """The YAML shape as JSON, about ``size`` bytes (JSON spends more bytes on the same data)."""
    from cfnfix.text.document import Document

    scale = 0.8
    while True:
        text = json.dumps(Document(yaml_template(int(size * scale)), "t.yaml").data, indent=2) + "\n"
        if len(text.encode()) <= size:
            return text
        scale *= 0.97


def dense_template(size: int) -> str:
    """The worst case per byte: a flow list of one-character scalars (a node every 3 bytes)."""
    head = "Resources:\n  T:\n    Type: AWS::SNS::Topic\n    Metadata:\n      Values: ["
    n = max(1, (size - len(head) - 3) // 3)
    return head + ", ".join(["1"] * n) + "]\n"


def fix_dense_template(size: int) -> str:
    """The worst case per fix: an output needing a fix every 35 bytes. Its cost grows with the
    square of the number of fixes (the engine resolves each fix together with all those before
    it), so this shape is measured in tens of kilobytes, not megabytes."""
    head = "Resources:\n  T:\n    Type: AWS::SNS::Topic\nOutputs:\n"
    n = max(1, (size - len(head)) // 36)
    return head + "".join(f"  O{i}: {{Value: !Ref T, Export: {{}}}}\n" for i in range(n))


SHAPES = {"yaml": (yaml_template, ".yaml"), "json": (json_template, ".json"), "dense": (dense_template, ".yaml"),
          "fixdense": (fix_dense_template, ".yaml")}


def measure(path: Path) -> tuple[float, float, int]:
    """(CPU seconds, wall seconds, peak RSS in MB) of ``cfnfix path``."""
    exe = Path(sys.executable).with_name("cfnfix")
    timer = shutil.which("time") or "/usr/bin/time"
    fmt = "%U %S %e %M"
    p = subprocess.run([timer, "-f", fmt, str(exe), str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    user, system, wall, rss = p.stderr.strip().splitlines()[-1].split()
    return float(user) + float(system), float(wall), int(rss) // 1024


def main() -> int:
    from cfnfix.text.document import MAX_BYTES

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=float, nargs="+", default=[0.5, 1])
    ap.add_argument("--shape", choices=sorted(SHAPES), nargs="+", default=["yaml", "json", "dense"])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'shape':6} {'MB':>6} {'CPU s':>7} {'wall s':>7} {'peak MB':>8}")
        for shape in args.shape:
            make, suffix = SHAPES[shape]
            for mb in args.mb:
                path = Path(tmp) / f"t{suffix}"
                path.write_text(make(min(int(mb * 1024 * 1024), MAX_BYTES)))
                cpu, wall, rss = measure(path)
                print(f"{shape:6} {path.stat().st_size / 1024 / 1024:6.2f} {cpu:7.1f} {wall:7.1f} {rss:8d}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
