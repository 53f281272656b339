"""Fixers for any resource type, driven by the CloudFormation resource schemas (bundled in data/)."""
