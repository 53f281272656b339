"""The CloudFormation model over a parsed document: sections, resources by type, references
between them (Ref, GetAtt, Sub, DependsOn, Condition), edit helpers for common surgery, and how
values read to a reviewer.

Imports ``cfnfix.text`` and ``cfnfix.errors``.
"""

from .references import Reference, getatt, ref, ref_target, sub, sub_targets
from .template import Template, is_template, parse_template

__all__ = ["Reference", "Template", "getatt", "is_template", "parse_template", "ref", "ref_target", "sub", "sub_targets"]
