"""Fixers for Amazon RDS and Aurora (AWS::RDS::*)."""
