"""The fixer framework: what a fixer is (``fixer``), how fixers are found (``registry``), the
engine that runs them to a fixed point and checks every splice (``engine``, ``result``,
``suppressions``), and the optional cfn-lint check (``verify``).

Imports ``cfnfix.cloudformation``, ``cfnfix.text`` and ``cfnfix.errors``; never the fixers
themselves (the registry finds them at run time), the reports or the ways in.
"""

from .fixer import Fix, Fixer, Report, Safety, TextFixer

__all__ = ["Fix", "Fixer", "Report", "Safety", "TextFixer"]
