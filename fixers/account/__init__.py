"""Fixers for account- and region-level singletons (AWS::Config::*, AWS::GuardDuty::*, AWS::SecurityHub::*, …)."""
