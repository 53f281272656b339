"""Fixers for the template's Outputs section."""
