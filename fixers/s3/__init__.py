"""Fixers for Amazon S3 (AWS::S3::*)."""
