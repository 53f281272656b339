"""Fixers for template parameters (the Parameters section) that block unattended deploys."""
