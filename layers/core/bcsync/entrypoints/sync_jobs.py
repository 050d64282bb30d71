"""The sync worker's two entries: the hourly schedule, and jobs from the FIFO sync-job queue.

The schedule only fans out: one reconcile job per store whose sync is on. A job runs until done
or near the time limit, then sends its own continuation (a Lambda that re-invokes itself through
the queue): the FIFO message group (store + job) runs one invocation at a time, a crash returns
the message for another try from the saved cursor, and repeated failures land in the DLQ.
"""

from __future__ import annotations

from typing import Any, Literal

from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field, ValidationError

from bcsync.observability import logger
from bcsync.wiring import container

processor = SqsFifoPartialProcessor()


class SyncJob(BaseModel):
    job: Literal["reconcile", "backfill"]
    store_hash: str = Field(min_length=1, pattern=r"^[a-z0-9]+$")


def schedule_reconciles(event: dict[str, Any]) -> dict[str, object]:
    app = container()
    queued = []
    for store_hash in app.stores.store_hashes():
        if app.sync_state.control(store_hash).enabled:
            app.jobs.enqueue(store_hash, "reconcile", dedup=f"schedule:{event.get('id') or event.get('time')}")
            queued.append(store_hash)
    logger.info("reconciliation scheduled", extra={"stores": queued})
    return {"queued": queued}


def run_jobs(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    def run(record: SQSRecord) -> None:
        try:
            job = SyncJob.model_validate_json(record.body)
        except ValidationError as error:
            logger.error("dropping a malformed sync job", extra={"errors": error.errors(include_url=False)})
            return
        app = container()
        runner = app.reconciler if job.job == "reconcile" else app.backfill
        if not runner.run(job.store_hash, lambda: context.get_remaining_time_in_millis() / 1000):
            app.jobs.enqueue(job.store_hash, job.job, dedup=f"continue:{record.message_id}")

    return dict(process_partial_response(event=event, record_handler=run, processor=processor, context=context))
