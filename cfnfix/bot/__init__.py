"""Bot mode (``cfnfix --pr``): fix the templates of a base branch and propose the fixes in one pull
request kept up to date. ``pull_request`` runs git and the fixing; ``github`` is the REST client.
Imports the workspace, fixing and reports layers; never the command line."""
