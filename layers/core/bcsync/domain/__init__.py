"""The pure core: models, metric rules, the normalizer and identity. No boto3, no I/O."""
