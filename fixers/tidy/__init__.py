"""Opt-in tidy-ups for what cfn-lint warns about but CloudFormation deploys (select them all with `--select TIDY`)."""
