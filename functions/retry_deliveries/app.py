"""Retry-queue consumer: parked deliveries through the same pipeline as the webhook."""

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from bcsync.observability import logger, metrics, tracer
from bcsync.usecases.ingest import RawDelivery
from bcsync.wiring import container

processor = BatchProcessor(event_type=EventType.SQS)


def retry_delivery(record: SQSRecord) -> dict[str, object]:
    """A failure here returns the message to the queue; after five receives it is dead-lettered."""
    return container().ingest.retry(RawDelivery.model_validate_json(record.body))


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    container().dedupe.register_lambda_context(context)
    return process_partial_response(event=event, record_handler=retry_delivery, processor=processor, context=context)
