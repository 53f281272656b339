"""Fixers for Amazon EC2 and VPC (AWS::EC2::*)."""
