"""Reconciliation and backfill: the hourly schedule fans out per store; jobs run from the queue."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from bcsync.entrypoints.sync_jobs import run_jobs, schedule_reconciles
from bcsync.observability import logger, metrics, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if event.get("detail-type") == "Scheduled Event":
        return schedule_reconciles(event)
    return run_jobs(event, context)
