"""What a run says about its fixes: explanations (deepdiff per fix), unified diffs, and the output
formats — terminal text, markdown, JSON, SARIF — plus a fixer's rendered docs.

Imports ``cfnfix.fixing``, ``cfnfix.cloudformation`` and ``cfnfix.text``.
"""
