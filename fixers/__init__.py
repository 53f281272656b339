"""cfnfix's built-in fixers, installed as the package ``cfnfix.fixers``: one sub-package per AWS
service family (``apigateway``, ``ec2``, ``secretsmanager``…), one module per fixer, data files
in a ``data/`` folder next to the fixers that use them.

Fixers import ``cfnfix.fixing`` (Fixer, Fix, Report, Safety), ``cfnfix.cloudformation``
(Template, reference helpers) and ``cfnfix.text.edits`` (the edits they return).
"""
