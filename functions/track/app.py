"""POST /track: Viewed Product and Active on Site beacons from the storefront snippet."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from bcsync.entrypoints.onsite import track_resolver
from bcsync.observability import logger, metrics, tracer

app = track_resolver()


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
