"""Fixers for AWS Systems Manager (AWS::SSM::*)."""
