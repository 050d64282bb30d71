"""The links people follow from email: confirm a subscription, unsubscribe, recover a cart."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from bcsync.entrypoints.subscriptions import confirmation_resolver
from bcsync.observability import logger, metrics, tracer

app = confirmation_resolver()


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
