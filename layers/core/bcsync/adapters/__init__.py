"""Adapters: BigCommerce over HTTP, DynamoDB, SQS, Secrets Manager."""
