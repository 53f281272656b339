"""Fixers for references between the parts of a template (Ref, Fn::GetAtt, Fn::Sub, DependsOn)."""
