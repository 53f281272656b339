"""The ``cfnfix`` command: options and configuration (``command``), and a run over files and stdin
that fixes, reports and writes (``run``). The top layer: it may import every layer below, and
hands ``--pr`` to ``cfnfix.bot``."""

from .command import main

__all__ = ["main"]
