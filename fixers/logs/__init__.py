"""Fixers for Amazon CloudWatch Logs (AWS::Logs::*)."""
