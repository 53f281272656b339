"""Fixers for CloudFormation's own resources (AWS::CloudFormation::*)."""
