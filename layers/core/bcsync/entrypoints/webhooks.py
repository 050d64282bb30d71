"""HTTP API events to webhook ingestion, and the JSON answers BigCommerce (or an attacker) gets."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from aws_lambda_powertools.utilities.typing import LambdaContext

from bcsync.domain.refusals import Refusal
from bcsync.domain.stores import Family
from bcsync.domain.webhooks import WebhookRejected
from bcsync.entrypoints.http import json_resolver
from bcsync.observability import logger, metrics, tracer
from bcsync.usecases.ingest import RawDelivery
from bcsync.wiring import container


def webhook_resolver() -> APIGatewayHttpResolver:
    """Refusals as JSON 4xx; a 503 only when a delivery could not even be parked (BigCommerce
    must retry it)."""
    return json_resolver(failure="webhook could not be accepted", unavailable="temporarily unable to accept; retry")


def receive(family: Family, event: APIGatewayProxyEventV2) -> Response[dict[str, object]]:
    try:
        body = event.decoded_body or ""
    except (UnicodeDecodeError, ValueError):
        raise WebhookRejected(Refusal.INVALID, "body is not UTF-8 text") from None
    delivery = RawDelivery.received(family, event.headers or {}, body, datetime.now(UTC), origin=origin_of(event))
    ack = container().ingest.receive(delivery)
    return Response(200, content_types.APPLICATION_JSON, ack)


def origin_of(event: APIGatewayProxyEventV2) -> str | None:
    """The public base URL this request came in on (API Gateway's domain, or a custom one)."""
    headers = event.headers or {}
    host = headers.get("host") or event.request_context.domain_name
    if not host:
        return None
    scheme = headers.get("x-forwarded-proto", "https").split(",")[0].strip()
    return f"{scheme}://{host}"


LambdaHandler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def webhook_handler(family: Family) -> LambdaHandler:
    """The Lambda handler of one family's route: every family shares one pipeline."""
    app = webhook_resolver()

    @app.post(f"/webhooks/{family.value}")
    def webhook() -> Response[dict[str, object]]:
        return receive(family, app.current_event)

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        container().dedupe.register_lambda_context(context)
        return app.resolve(event, context)

    handler: LambdaHandler = lambda_handler  # the decorators are untyped
    return handler
