"""Fixers for AWS CloudTrail (AWS::CloudTrail::*)."""
