from __future__ import annotations

from cfnfix.text.edits import Delete, SetValue
from cfnfix.fixing import Fix, Fixer, Report, Safety
from cfnfix.cloudformation import Template

BASIC_TYPES = ("AWS::S3::Object", "AWS::Lambda::Function", "AWS::DynamoDB::Table")


class CloudTrailDataResources(Fixer):
    code = "CT001"
    name = "cloudtrail-unsupported-data-resource"
    summary = "CloudTrail `EventSelectors` data resource of a type basic selectors do not support"
    safety = Safety.UNSAFE
    docs = """
## What it does
Removes the `DataResources` entries of an `AWS::CloudTrail::Trail`'s `EventSelectors` whose
`Type` is not one of `AWS::S3::Object`, `AWS::Lambda::Function` or `AWS::DynamoDB::Table`.
A `DataResources` list left empty is removed. A selector left with nothing at all is removed
when the trail still logs all management events without it (otherwise it is written out as
`ReadWriteType: All`, `IncludeManagementEvents: true`, what an empty selector means). A selector
with `IncludeManagementEvents: false` left without data resources is removed, because CloudTrail
rejects it. It does not add `AdvancedEventSelectors` for the dropped types.

## Why it breaks deploys
Basic event selectors log data events only for S3 objects, Lambda functions and DynamoDB tables;
any other `DataResources` type, such as `AWS::S3::Bucket` or `AWS::RDS::DBCluster`, fails the
trail with `InvalidEventSelectorsException` and needs `AdvancedEventSelectors` instead.

## Example
```yaml
Trail:
  Type: AWS::CloudTrail::Trail
  Properties:
    EventSelectors:
      - ReadWriteType: All
        DataResources:
          - Type: AWS::S3::Object
            Values: ['arn:aws:s3:::*/*']
          - Type: AWS::S3::Bucket
            Values: ['arn:aws:s3:::*']
```
Use instead:
```yaml
Trail:
  Type: AWS::CloudTrail::Trail
  Properties:
    EventSelectors:
      - ReadWriteType: All
        DataResources:
          - Type: AWS::S3::Object
            Values: ['arn:aws:s3:::*/*']
```

## Fix safety
Unsafe: the trail no longer logs the data events the author asked for on the dropped types. To
keep them, write `AdvancedEventSelectors` (which cannot be combined with `EventSelectors` on the
same trail). When every selector would go and the trail would fall back to logging management
events the template turned off, nothing is changed and the trail is reported instead.
"""

    def run(self, template: Template):
        for name, _, props in template.resources_of_type("AWS::CloudTrail::Trail"):
            selectors = props.get("EventSelectors")
            if isinstance(selectors, list):
                yield from self._trail(name, selectors)

    def _trail(self, name: str, selectors: list):
        base = ("Resources", name, "Properties", "EventSelectors")
        edits, dropped = [], []
        kept_full, emptied, removed = [], [], []  # selector indices by what is left of them
        for i, sel in enumerate(selectors):
            resources = sel.get("DataResources") if isinstance(sel, dict) else None
            if not isinstance(resources, list):
                kept_full.append(i)
                continue
            bad = [j for j, dr in enumerate(resources) if _unsupported(dr)]
            dropped += [resources[j]["Type"] for j in bad]
            if not bad:
                kept_full.append(i)
            elif len(bad) < len(resources):
                kept_full.append(i)
                edits += [Delete(base + (i, "DataResources", j)) for j in bad]
            elif len(sel) > 1 and _includes_management(sel) is True:
                kept_full.append(i)
                edits.append(Delete(base + (i, "DataResources")))
            elif len(sel) == 1:
                emptied.append(i)
            elif _includes_management(sel) is False:
                removed.append(i)
            else:
                yield Report(f"Trail {name}: EventSelectors[{i}] has only unsupported DataResources "
                             f"({', '.join(resources[j]['Type'] for j in bad)}) and an "
                             "IncludeManagementEvents that cfnfix cannot read; use AdvancedEventSelectors",
                             base + (i,))
                return
        if not dropped:
            return
        types = ", ".join(dict.fromkeys(dropped))
        if not kept_full and not emptied:
            yield Report(f"Trail {name}: every EventSelector logs only unsupported DataResources ({types}) "
                         "with IncludeManagementEvents false; removing them would log management events "
                         "instead. Use AdvancedEventSelectors", base)
            return
        note = ""
        if not kept_full:
            # Only selectors that log all management events remain: the trail's default.
            edits = [Delete(base)]
            note = "; EventSelectors is removed, the trail logs management events by default"
        else:
            logs_all = any(isinstance(selectors[i], dict) and _includes_management(selectors[i]) is True
                           and selectors[i].get("ReadWriteType", "All") == "All" for i in kept_full)
            removed += emptied if logs_all else []
            edits += [SetValue(base + (i,), {"ReadWriteType": "All", "IncludeManagementEvents": True})
                      for i in ([] if logs_all else emptied)]
            edits += [Delete(base + (i,)) for i in removed]
        yield Fix(f"Trail {name}: drop EventSelectors DataResources of type {types}: basic event selectors "
                  f"log data events only for {', '.join(BASIC_TYPES)}; these types need "
                  f"AdvancedEventSelectors (not added){note}", edits, base)


def _unsupported(dr) -> bool:
    return isinstance(dr, dict) and isinstance(dr.get("Type"), str) and dr["Type"] not in BASIC_TYPES


def _includes_management(selector: dict) -> bool | None:
    """IncludeManagementEvents as written (default true), None when it is not a literal."""
    value = selector.get("IncludeManagementEvents", True)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value if isinstance(value, bool) else None
