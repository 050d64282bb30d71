"""Delivery dedupe on `webhook-id` with Powertools Idempotency (a TTL'd DynamoDB record).

Correctness never depends on it (processing reads current state and writes idempotently); it
saves BigCommerce calls and work when BigCommerce retries or duplicates a delivery. A failure
inside the work deletes the in-progress record, so the parked retry can run it again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError

from bcsync.usecases.ingest import DeliveryInProgress


class IdempotentDeliveries:
    def __init__(self, table_name: str, ttl_seconds: int, boto3_client: Any = None) -> None:
        self.config = IdempotencyConfig(event_key_jmespath="webhook_id", expires_after_seconds=ttl_seconds)
        self._persistence = DynamoDBPersistenceLayer(table_name=table_name, boto3_client=boto3_client)

    def register_lambda_context(self, context: Any) -> None:
        """Lets an in-progress record expire with the invocation if it times out."""
        self.config.register_lambda_context(context)

    def run_once(self, webhook_id: str | None, work: Callable[[], dict[str, object]]) -> dict[str, object]:
        if not webhook_id:
            return work()  # token-authenticated hooks may carry no id; processing is idempotent anyway

        # One key space for the webhook and retry functions: a delivery done by either is done.
        @idempotent_function(
            data_keyword_argument="delivery",
            config=self.config,
            persistence_store=self._persistence,
            key_prefix="delivery",
        )
        def once(delivery: dict[str, str]) -> dict[str, object]:
            return work()

        try:
            result: dict[str, object] = once(delivery={"webhook_id": webhook_id})
        except IdempotencyAlreadyInProgressError:
            raise DeliveryInProgress(webhook_id) from None
        return result
