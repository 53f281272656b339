"""Fixers for text that does not parse yet (JSON syntax errors CloudFormation rejects)."""
