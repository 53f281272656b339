"""cfnfix's built-in fixers, one per module. Installed as the package ``cfnfix.fixers``."""
