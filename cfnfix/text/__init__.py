"""The lossless text layer: a template's text read into positioned nodes and plain data (YAML and
JSON readers, YAML 1.1 scalar rules), the style it is written in, new values rendered in that
style, and edits at data paths turned into splices of the original text.

Knows nothing of CloudFormation beyond its short-form tags. Imports only ``cfnfix.errors``.
"""
