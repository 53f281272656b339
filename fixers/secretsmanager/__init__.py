"""Fixers for AWS Secrets Manager (AWS::SecretsManager::*) and the parameters a secret should replace."""
