"""One Logger, Tracer and Metrics for the whole package (Powertools reads its POWERTOOLS_* env).

Metrics gets the template's namespace as a default: the local stack and the tests import this
module before they set the functions' environment, and Powertools flushes on its own every 100
metrics, which fails without a namespace (a reconcile or backfill adds more than that in one run).
"""

import os

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "bcsync"))
