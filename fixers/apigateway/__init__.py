"""Fixers for Amazon API Gateway (AWS::ApiGateway::*, AWS::Serverless::Api)."""
