"""Fixers for AWS Lambda (AWS::Lambda::*, AWS::Serverless::Function); named lambda_ because lambda is a Python keyword."""
