"""Every minute: move on the flow runs whose wait has ended."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from bcsync.entrypoints.flows import wake_due
from bcsync.observability import logger, metrics, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return wake_due(event)
