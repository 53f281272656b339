"""Fixers for AWS KMS (AWS::KMS::*) key policies."""
