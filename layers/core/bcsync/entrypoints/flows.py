"""The flow runner's Lambda entrances: stream records of new events and promised profile
triggers (enter flows, end runs a goal fulfils), and the minute tick (wake due runs).

A stream record is processed alone (partial batch responses): one that fails is retried by
Lambda, bisected, and after ten tries its position goes to the dead-letter queue; the rest of the
batch is not held up. Entering and ending runs is idempotent, so a retried record changes nothing
twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from bcsync.adapters.dynamodb import event_from_item
from bcsync.domain.flows import TriggerIntent
from bcsync.observability import logger
from bcsync.wiring import container

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def on_stream(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    def handle(record: DynamoDBRecord) -> None:
        item = record.dynamodb.new_image if record.dynamodb else {}
        now = container().flow_clock.now()
        runner = container().flow_runner
        if "metric" in item and "source_id" in item:
            runner.on_event(event_from_item(item), now)
        elif "dedup_key" in item and "flow" in item:
            runner.on_profile_trigger(TriggerIntent.model_validate(item), now)

    return dict(process_partial_response(event=event, record_handler=handle, processor=processor, context=context))


def wake_due(event: dict[str, Any]) -> dict[str, Any]:
    """Each store's due runs, as of the schedule's time (so a compressed clock can drive it)."""
    stated = event.get("time")
    app = container()
    now = datetime.fromisoformat(stated.replace("Z", "+00:00")) if isinstance(stated, str) else app.flow_clock.now()
    woken = {store_hash: app.flow_runner.wake(store_hash, now) for store_hash in app.stores.store_hashes()}
    logger.info("flow runs woken", extra={"woken": woken})
    return {"woken": woken}
