"""The ``cfnfix`` command: options and configuration (``command``), and a run over files and stdin
that fixes, reports and writes (``run``). The top layer: it may import every layer below, and
hands ``--pr`` to ``cfnfix.bot``.

``main`` is the click command of ``command``, loaded on first use: ``cfnfix --version`` answers
without importing click or the engine."""

from __future__ import annotations

import sys

from ..version import __version__

__all__ = ["main"]


class _Main:
    """Stands for ``cfnfix.cli.command.main``: calling it runs the command (``--version`` alone is
    answered here, as click would), and every attribute is the command's (for click's test
    runner and the like)."""

    def __call__(self, args=None, prog_name=None, **kwargs):
        argv = sys.argv[1:] if args is None else list(args)
        if argv == ["--version"]:
            sys.stdout.write(f"cfnfix, version {__version__}\n")  # click's version_option, as command declares it
            sys.stdout.flush()
            sys.exit(0)
        return _command()(args, prog_name=prog_name, **kwargs)

    def __getattr__(self, name: str):
        return getattr(_command(), name)


def _command():
    from .command import main as command

    return command


main = _Main()
