"""``python -m cfnfix``: the same as the ``cfnfix`` command."""

from cfnfix.cli import main

main(prog_name="cfnfix")
