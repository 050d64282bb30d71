"""HTTP API events to webhook ingestion, and the JSON answers BigCommerce (or an attacker) gets."""

from __future__ import annotations

from datetime import UTC, datetime

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from bcsync.domain.webhooks import Family, WebhookRejected
from bcsync.observability import logger
from bcsync.usecases.ingest import RawDelivery
from bcsync.wiring import container


def webhook_resolver() -> APIGatewayHttpResolver:
    """A resolver that answers every refusal as JSON: {"error": "..."} with a 4xx status."""
    app = APIGatewayHttpResolver()

    @app.exception_handler(WebhookRejected)
    def rejected(exc: WebhookRejected) -> Response[dict[str, str]]:
        logger.info("webhook rejected", extra={"status": exc.status_code, "reason": exc.message})
        return Response(exc.status_code, content_types.APPLICATION_JSON, {"error": exc.message})

    @app.exception_handler(Exception)
    def failed(exc: Exception) -> Response[dict[str, str]]:
        # Reached only when a delivery could not even be parked: BigCommerce must retry it.
        logger.exception("webhook could not be accepted")
        return Response(503, content_types.APPLICATION_JSON, {"error": "temporarily unable to accept; retry"})

    return app


def receive(family: Family, event: APIGatewayProxyEventV2) -> Response[dict[str, object]]:
    try:
        body = event.decoded_body or ""
    except (UnicodeDecodeError, ValueError):
        raise WebhookRejected(400, "body is not UTF-8 text") from None
    delivery = RawDelivery.received(family, event.headers or {}, body, datetime.now(UTC))
    ack = container().ingest.receive(delivery)
    return Response(200, content_types.APPLICATION_JSON, ack)
