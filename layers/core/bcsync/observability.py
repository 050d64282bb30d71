"""One Logger, Tracer and Metrics for the whole package (Powertools reads its POWERTOOLS_* env)."""

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()
