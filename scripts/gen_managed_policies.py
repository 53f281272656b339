"""Generate fixers/iam/data/managed_policies.json, the table of AWS managed policies IAM002
(fixers/iam/managed_policy_arn.py) checks ``arn:aws:iam::aws:policy/...`` ARNs against.

The source is MAMIP (https://github.com/zoph-io/MAMIP, "Monitor AWS Managed IAM Policies"),
which records the output of ``aws iam list-policies --scope AWS`` several times a day:

- ``policies-list.json``: every AWS managed policy, with its path and whether it can still be
  attached (``IsAttachable``);
- ``DEPRECATED.json``: managed policies AWS deprecated (they left the list). A deprecated policy
  "cannot be attached to any new users, groups, or roles"
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-deprecated.html).

cfn-lint no longer ships these names (removed in 2026), so this table is how cfnfix knows them.

SUCCESSORS (below) is kept by hand: the policy AWS documents as the replacement of a deprecated
or never-existing name, with the page that says so. Each must be in the list and attachable;
the script stops otherwise.

Refresh (downloads the two files from GitHub)::

    .venv/bin/python scripts/gen_managed_policies.py

or from a local clone of MAMIP (records its commit)::

    .venv/bin/python scripts/gen_managed_policies.py --git /path/to/MAMIP

Table format (JSON)::

    {"source": "...", "date": "YYYY-MM-DD",
     "policies": {"AdministratorAccess": "/", "AWSLambdaBasicExecutionRole": "/service-role/", ...},
     "not_attachable": ["AWSConfigRole"], "deprecated": ["AWSLambdaFullAccess", ...],
     "successors": {"AWSLambdaFullAccess": ["AWSLambda_FullAccess", "https://..."], ...}}
"""

from __future__ import annotations

import argparse
import datetime
import json
import subprocess
import sys
import urllib.request
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "fixers" / "iam" / "data" / "managed_policies.json"
REPO = "zoph-io/MAMIP"
RAW = f"https://raw.githubusercontent.com/{REPO}/master/"

_CONFIG = "https://docs.aws.amazon.com/config/latest/developerguide/security-iam-awsmanpol.html"
_LAMBDA = "https://docs.aws.amazon.com/lambda/latest/dg/security-iam-awsmanpol.html"
_TRAIL = "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/security-iam-awsmanpol.html"
_ECS = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/security-iam-awsmanpol.html"
_PIPELINE = "https://docs.aws.amazon.com/codepipeline/latest/userguide/managed-policies.html"
_BEANSTALK = "https://docs.aws.amazon.com/elasticbeanstalk/latest/dg/AWSHowTo.iam.managed-policies.html"
_SPOT = "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/spot-fleet-prerequisites.html"

# name written in templates -> (the managed policy AWS documents in its place, the page)
SUCCESSORS = {
    "AWS_Config_Role": ("AWS_ConfigRole", _CONFIG),
    "AWSConfigRole": ("AWS_ConfigRole", _CONFIG),
    "ConfigRole": ("AWS_ConfigRole", _CONFIG),  # never a managed policy; AWS Config's role policy
    "AWSLambdaFullAccess": ("AWSLambda_FullAccess", _LAMBDA),
    "AWSLambdaReadOnlyAccess": ("AWSLambda_ReadOnlyAccess", _LAMBDA),
    "AWSCloudTrailFullAccess": ("AWSCloudTrail_FullAccess", _TRAIL),
    "AWSCloudTrailReadOnlyAccess": ("AWSCloudTrail_ReadOnlyAccess", _TRAIL),
    "AmazonEC2ContainerServiceFullAccess": ("AmazonECS_FullAccess", _ECS),
    "AWSCodePipelineFullAccess": ("AWSCodePipeline_FullAccess", _PIPELINE),
    "AWSCodePipelineReadOnlyAccess": ("AWSCodePipeline_ReadOnlyAccess", _PIPELINE),
    "AWSElasticBeanstalkFullAccess": ("AdministratorAccess-AWSElasticBeanstalk", _BEANSTALK),
    "AWSElasticBeanstalkReadOnlyAccess": ("AWSElasticBeanstalkReadOnly", _BEANSTALK),
    "AmazonEC2SpotFleetRole": ("AmazonEC2SpotFleetTaggingRole", _SPOT),
}


def _download(name: str) -> str:
    with urllib.request.urlopen(RAW + name, timeout=60) as response:  # noqa: S310 - fixed https URL
        return response.read().decode("utf-8")


def _from_git(checkout: str, name: str) -> str:
    return subprocess.run(["git", "-C", checkout, "show", f"HEAD:{name}"], check=True, capture_output=True, text=True).stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--git", metavar="DIR", help="read from a local clone of MAMIP instead of downloading")
    args = parser.parse_args(argv)
    if args.git:
        listing, deprecated_text = _from_git(args.git, "policies-list.json"), _from_git(args.git, "DEPRECATED.json")
        commit, day = subprocess.run(["git", "-C", args.git, "log", "-1", "--format=%H %cs"], check=True,
                                     capture_output=True, text=True).stdout.split()
        source = f"github.com/{REPO} policies-list.json and DEPRECATED.json at {commit}"
    else:
        listing, deprecated_text = _download("policies-list.json"), _download("DEPRECATED.json")
        day = datetime.date.today().isoformat()
        source = f"{RAW}policies-list.json and DEPRECATED.json, downloaded"
    policies = json.loads(listing)["Policies"]
    paths = {p["PolicyName"]: p["Path"] for p in sorted(policies, key=lambda p: p["PolicyName"])}
    not_attachable = sorted(p["PolicyName"] for p in policies if not p.get("IsAttachable", True))
    deprecated = sorted(n.removesuffix(".json") for n in json.loads(deprecated_text) if n.removesuffix(".json") not in paths)
    attachable = set(paths) - set(not_attachable)
    successors = {}
    for old, (new, page) in sorted(SUCCESSORS.items()):
        if new not in attachable:
            raise SystemExit(f"successor {new} of {old} is not an attachable AWS managed policy any more; update SUCCESSORS")
        if old in attachable:
            raise SystemExit(f"{old} can be attached again; drop it from SUCCESSORS")
        successors[old] = [new, page]
    table = {
        "source": source,
        "date": day,
        "policies": paths,
        "not_attachable": not_attachable,
        "deprecated": deprecated,
        "successors": successors,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(table, indent=0, sort_keys=False) + "\n")
    print(f"{OUT}: {len(paths)} policies ({len(not_attachable)} not attachable), {len(deprecated)} deprecated, "
          f"{len(successors)} successors", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
