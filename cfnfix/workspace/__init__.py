"""Templates in a project: finding them (``discovery``), reading and writing them safely
(``source``), the project's settings (``config``), and the session and exit codes every way in
shares (``session``).

Imports ``cfnfix.fixing`` and the layers below it; never the reports or the ways in.
"""
