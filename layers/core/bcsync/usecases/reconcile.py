"""Hourly reconciliation: poll what changed since each stream's watermark and record it through
the webhook use cases, so whatever the webhooks missed is recovered and re-seen state adds nothing.

A run starts by checking the store's hooks (an outage widens the windows back over it), fixes one
window per stream ending now, and works through the streams page by page, saving its cursor after
each page. Near the time limit it stops; the caller continues it in a new invocation. A stream's
watermark moves to its window's end only once the whole window is recorded.
"""

from __future__ import annotations

from collections.abc import Callable

from bcsync.domain.orders import REFUND_RECORD_GRACE
from bcsync.domain.stores import Family
from bcsync.domain.sync import (
    STREAM_FAMILY,
    STREAMS,
    ReconcileState,
    RunReport,
    Stream,
    StreamCursor,
    Window,
    reconcile_window,
)
from bcsync.observability import logger, metrics
from bcsync.usecases.clock import utc_moment
from bcsync.usecases.jobs import JobRunner, SyncLimits
from bcsync.usecases.polling import PageOutcome
from bcsync.usecases.ports import BigCommercePoller, SyncStateStore
from bcsync.usecases.webhook_health import WebhookHealth


class Reconciler:
    """The reconciliation policy on the job runner: live windows, drift counted and reported."""

    name = "reconciliation"
    backfill = False

    def __init__(self, runner: JobRunner, state: SyncStateStore, hooks: WebhookHealth, limits: SyncLimits) -> None:
        self._runner = runner
        self._state = state
        self._hooks = hooks
        self._limits = limits

    def run(self, store_hash: str, remaining_seconds: Callable[[], float]) -> bool:
        """Make progress on the store's reconciliation; True when the run is complete."""
        return self._runner.run(self, store_hash, remaining_seconds)

    def load(self, store_hash: str) -> ReconcileState:
        return self._state.reconcile(store_hash)

    def prepare(self, store_hash: str, state: ReconcileState, reader: BigCommercePoller) -> str | None:
        if not state.running:
            self._start(store_hash, state, reader)
        return self._state.control(store_hash).destination

    def window(self, state: ReconcileState, stream: Stream) -> Window:
        return state.windows[stream]

    def page_recorded(self, store_hash: str, state: ReconcileState, cursor: StreamCursor, outcome: PageOutcome) -> bool:
        run = _current(state)
        run.seen[cursor.stream] = run.seen.get(cursor.stream, 0) + outcome.seen
        if outcome.created_ids:
            run.created[cursor.stream] = run.created.get(cursor.stream, 0) + len(outcome.created_ids)
            metrics.add_metric(name="ReconcileDrift", unit="Count", value=len(outcome.created_ids))
            logger.warning(
                "reconciliation recovered events the webhooks missed",
                extra={"store_hash": store_hash, "event_ids": outcome.created_ids},
            )
        return False

    def stream_done(self, state: ReconcileState, stream: Stream) -> None:
        state.watermarks[stream] = state.windows[stream].end
        state.reopen_from.pop(stream, None)

    def count_requests(self, state: ReconcileState, requests: int) -> None:
        _current(state).requests += requests

    def stopped(self, store_hash: str, state: ReconcileState) -> None:
        """Nothing asks a reconciliation to stop; it only pauses."""

    def failed(self, state: ReconcileState, error: str) -> None:
        run = _current(state)
        run.error, run.failed_at = error, utc_moment()

    def finished(self, store_hash: str, state: ReconcileState) -> None:
        run = _current(state)
        run.finished_at, run.error = utc_moment(), None
        state.last_finished = run
        state.windows = {}
        logger.info(
            "reconciliation finished",
            extra={"store_hash": store_hash, "drift": run.drift, "seen": run.seen, "requests": run.requests},
        )

    def save(self, store_hash: str, state: ReconcileState) -> None:
        self._state.save_reconcile(store_hash, state)

    def _start(self, store_hash: str, state: ReconcileState, reader: BigCommercePoller) -> None:
        """Check the hooks (an outage widens the windows back over it), then fix one window per
        stream ending now."""
        now = utc_moment()
        state.run = RunReport(started_at=now)
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
        self._state.save_reconcile(store_hash, state)


def _current(state: ReconcileState) -> RunReport:
    """The run under way; `prepare` starts one before any page is recorded."""
    assert state.run is not None
    return state.run
