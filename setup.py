"""Only the package list lives here (pyproject.toml holds the rest): ``fixers/`` is installed as
``cfnfix.fixers``, with one sub-package per service family, so a new service folder needs no
packaging change."""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["cfnfix", "cfnfix.*"])
    + ["cfnfix.fixers"]
    + ["cfnfix.fixers." + name for name in find_packages("fixers")],
)
