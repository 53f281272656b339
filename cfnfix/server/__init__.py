"""The editor way in: ``cfnfix server``, a Language Server Protocol server over stdio (built on
pygls and lsprotocol, installed with ``pip install 'cfnfix[server]'``) that shows each fix as a
diagnostic with its quick fix, fix-all and ignore comment. ``analysis`` holds what it shows,
``positions`` the protocol's positions, ``project`` the settings, ``lsp`` the protocol side."""

from __future__ import annotations

import argparse
import logging
import os
import sys

USAGE = """cfnfix server [--stdio] [--log-level LEVEL]

Start the cfnfix language server on stdin/stdout, for an editor's LSP client (see the README,
section "Editor integration"). It needs the server extra: pip install 'cfnfix[server]'."""


def serve(args: list[str]) -> int:
    """Run ``cfnfix server ARGS``; the process ends with 0 after the client's shutdown and exit, 1
    when the client went away without them; 2 (returned) for bad arguments or a missing pygls."""
    parser = argparse.ArgumentParser(prog="cfnfix server", usage=USAGE, add_help=True)
    parser.add_argument("--stdio", action="store_true", help="talk over stdin/stdout (the default and only transport)")
    parser.add_argument("--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                        help="what the server logs on stderr (default WARNING)")
    try:
        options = parser.parse_args(args)
    except SystemExit as e:
        return int(e.code or 0)
    try:
        import lsprotocol  # noqa: F401
        import pygls  # noqa: F401
    except ImportError:
        print("cfnfix server needs pygls and lsprotocol: pip install 'cfnfix[server]'", file=sys.stderr)
        return 2
    logging.basicConfig(level=options.log_level, stream=sys.stderr, format="cfnfix server: %(levelname)s %(name)s: %(message)s")
    from .lsp import build

    server = build()
    # stdout carries the protocol: anything else printed (by a fixer, a library) goes to stderr.
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr
    try:
        server.start_io(stdin, stdout)
    finally:
        sys.stdout = sys.__stdout__
    code = 0 if getattr(server.protocol, "_shutdown", False) else 1
    # An analysis may still be running in the worker thread; it writes nothing, so the process
    # ends now rather than after it (an editor expects the server gone once it said exit).
    sys.stderr.flush()
    os._exit(code)
