"""Fixers for AWS IAM (AWS::IAM::*) and the policies other resources embed."""
