"""POST /webhooks/orders: BigCommerce store/order/* deliveries."""

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from bcsync.domain.webhooks import Family
from bcsync.entrypoints.webhooks import receive, webhook_resolver
from bcsync.observability import logger, metrics, tracer
from bcsync.wiring import container

app = webhook_resolver()


@app.post("/webhooks/orders")
def orders_webhook() -> Response[dict[str, object]]:
    return receive(Family.ORDERS, app.current_event)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    container().dedupe.register_lambda_context(context)
    return app.resolve(event, context)
