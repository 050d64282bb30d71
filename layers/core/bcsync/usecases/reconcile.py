"""Hourly reconciliation: poll what changed since each stream's watermark and record it through
the webhook use cases, so whatever the webhooks missed is recovered and re-seen state adds nothing.

A run starts by checking the store's hooks (an outage widens the windows back over it), fixes one
window per stream ending now, and works through the streams page by page, saving its cursor after
each page. Near the time limit it stops; the caller continues it in a new invocation. A stream's
watermark moves to its window's end only once the whole window is recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from bcsync.domain.orders import REFUND_RECORD_GRACE
from bcsync.domain.sync import (
    STREAM_FAMILY,
    STREAMS,
    ReconcileState,
    RunReport,
    StreamCursor,
    reconcile_window,
)
from bcsync.domain.webhooks import Family
from bcsync.observability import logger, metrics
from bcsync.usecases.clock import utc_moment
from bcsync.usecases.polling import PageOutcome, PassContext, StreamPasses
from bcsync.usecases.ports import BigCommerceConnector, BigCommercePoller, SyncStateStore
from bcsync.usecases.webhook_health import WebhookHealth


@dataclass(frozen=True)
class SyncLimits:
    overlap: timedelta
    first_lookback: timedelta
    quota_share: float
    stop_margin_seconds: float


class Reconciler:
    def __init__(
        self,
        passes: StreamPasses,
        state: SyncStateStore,
        connector: BigCommerceConnector,
        hooks: WebhookHealth,
        limits: SyncLimits,
    ) -> None:
        self._passes = passes
        self._state = state
        self._connector = connector
        self._hooks = hooks
        self._limits = limits

    def run(self, store_hash: str, remaining_seconds: Callable[[], float]) -> bool:
        """Make progress on the store's reconciliation; True when the run is complete."""
        margin = self._limits.stop_margin_seconds
        reader = self._connector.reader(
            store_hash, budget_seconds=max(1.0, remaining_seconds() - margin), quota_share=self._limits.quota_share
        )
        state = self._state.reconcile(store_hash)
        if not state.running:
            self._start(store_hash, state, reader)
        run = state.run
        assert run is not None
        context = PassContext(store_hash, reader, backfill=False, origin=self._state.control(store_hash).destination)
        requests_base = run.requests - reader.requests_made
        try:
            while state.pending:
                stream = state.pending[0]
                cursor = state.cursor if state.cursor and state.cursor.stream == stream else None
                cursor = cursor or StreamCursor(stream=stream, window=state.windows[stream])
                context.refunds = None

                def checkpoint(position: StreamCursor, outcome: PageOutcome) -> bool:
                    run.seen[position.stream] = run.seen.get(position.stream, 0) + outcome.seen
                    if outcome.created_ids:
                        run.created[position.stream] = run.created.get(position.stream, 0) + len(outcome.created_ids)
                        metrics.add_metric(name="ReconcileDrift", unit="Count", value=len(outcome.created_ids))
                        logger.warning(
                            "reconciliation recovered events the webhooks missed",
                            extra={"store_hash": store_hash, "event_ids": outcome.created_ids},
                        )
                    run.requests = requests_base + reader.requests_made
                    state.cursor = position
                    self._state.save_reconcile(store_hash, state)
                    return remaining_seconds() < margin

                if not self._passes.run(context, cursor, checkpoint):
                    logger.info("reconciliation paused near the time limit", extra={"store_hash": store_hash})
                    return False
                state.watermarks[stream] = state.windows[stream].end
                state.reopen_from.pop(stream, None)
                state.pending.pop(0)
                state.cursor = None
                self._state.save_reconcile(store_hash, state)
        except Exception as error:
            run.error, run.failed_at = f"{type(error).__name__}: {error}", utc_moment()
            self._state.save_reconcile(store_hash, state)
            raise
        run.finished_at, run.error = utc_moment(), None
        run.requests = requests_base + reader.requests_made
        state.last_finished = run
        state.windows = {}
        self._state.save_reconcile(store_hash, state)
        logger.info(
            "reconciliation finished",
            extra={"store_hash": store_hash, "drift": run.drift, "seen": run.seen, "requests": run.requests},
        )
        return True

    def _start(self, store_hash: str, state: ReconcileState, reader: BigCommercePoller) -> None:
        now = utc_moment()
        health, plan = self._hooks.check(store_hash, reader, now=now, repair=True)
        state.hooks = health
        for family, began in plan.outage_since.items():
            if family is Family.CARTS:
                logger.warning("cart webhooks were down; carts cannot be polled", extra={"since": began.isoformat()})
            for stream, stream_family in STREAM_FAMILY.items():
                if stream_family is family and began < state.reopen_from.get(stream, now):
                    state.reopen_from[stream] = began
        state.windows = {
            stream: reconcile_window(
                state.watermarks.get(stream),
                now=now,
                # An order changed to Refunded too recently to count as a manual refund is seen again.
                overlap=max(self._limits.overlap, REFUND_RECORD_GRACE),
                first_lookback=self._limits.first_lookback,
                reopen_from=state.reopen_from.get(stream),
            )
            for stream in STREAMS
        }
        state.pending = list(STREAMS)
        state.cursor = None
        state.run = RunReport(started_at=now)
        self._state.save_reconcile(store_hash, state)
