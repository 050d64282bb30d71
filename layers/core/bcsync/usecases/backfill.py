"""Historic backfill: import the catalog, customers, subscribers, then orders with their refunds,
as events marked `backfill: true` that start no flows, within a share of the store's API quota.

`start` records the request (or resumes a stopped one); `run` makes progress from the saved
cursor until done, stopped, or near the time limit, when the caller continues it in a new
invocation. Whatever crashes, the cursor was saved after the last fully recorded page.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bcsync.domain.sync import BackfillState, Stream, StreamCursor
from bcsync.observability import logger
from bcsync.usecases.clock import utc_moment
from bcsync.usecases.polling import PageOutcome, PassContext, StreamPasses
from bcsync.usecases.ports import BigCommerceConnector, SyncStateStore
from bcsync.usecases.reconcile import SyncLimits


class BackfillAlreadyRunning(Exception):
    """A backfill with other bounds is under way; stop it first."""


class BackfillRequests:
    """What an operator asks of the backfill (`bcsync backfill`, Ctrl-C); the worker does it."""

    def __init__(self, state: SyncStateStore) -> None:
        self._state = state

    def start(self, store_hash: str, *, since: datetime | None) -> BackfillState:
        """Resume an unfinished backfill over the same range, or begin a new one."""
        now = utc_moment()
        current = self._state.backfill(store_hash)
        self._state.update_control(store_hash, backfill_stop_requested=False)
        if current and current.status != "done" and (since is None or since == current.since):
            if current.status == "running":
                return current
            current.status, current.error, current.updated_at = "running", None, now
            self._state.save_backfill(store_hash, current)
            return current
        if current and current.status == "running":
            raise BackfillAlreadyRunning(f"a backfill since {current.since} is running; stop it first")
        state = BackfillState(status="running", since=since, until=now, started_at=now, updated_at=now)
        self._state.save_backfill(store_hash, state)
        return state

    def request_stop(self, store_hash: str) -> None:
        self._state.update_control(store_hash, backfill_stop_requested=True)


class Backfill:
    def __init__(
        self, passes: StreamPasses, state: SyncStateStore, connector: BigCommerceConnector, limits: SyncLimits
    ) -> None:
        self._passes = passes
        self._state = state
        self._connector = connector
        self._limits = limits

    def run(self, store_hash: str, remaining_seconds: Callable[[], float]) -> bool:
        """Make progress; True when there is nothing left to continue (done, stopped, none)."""
        state = self._state.backfill(store_hash)
        if state is None or state.status != "running":
            return True
        margin = self._limits.stop_margin_seconds
        reader = self._connector.reader(
            store_hash, budget_seconds=max(1.0, remaining_seconds() - margin), quota_share=self._limits.quota_share
        )
        context = PassContext(store_hash, reader, backfill=True)
        requests_base = state.requests
        stopped = False
        try:
            while state.pending:
                stream = state.pending[0]
                cursor = state.cursor if state.cursor and state.cursor.stream == stream else None
                cursor = cursor or StreamCursor(stream=stream, window=state.window_for(stream))
                if stream is Stream.ORDERS and stream.value not in state.totals:
                    # For the progress bar; v3 collections report their total on every page.
                    state.totals[stream.value] = reader.count_orders(cursor.window).count

                def checkpoint(position: StreamCursor, outcome: PageOutcome) -> bool:
                    nonlocal stopped
                    state.cursor = position
                    state.done[position.stream.value] = position.done
                    if position.total is not None:
                        state.totals[position.stream.value] = position.total
                    if outcome.created_ids:
                        state.created[position.stream.value] = state.created.get(position.stream.value, 0) + len(
                            outcome.created_ids
                        )
                    state.requests = requests_base + reader.requests_made
                    state.updated_at = utc_moment()
                    stopped = self._state.control(store_hash).backfill_stop_requested
                    if stopped:
                        state.status = "stopped"
                    self._state.save_backfill(store_hash, state)
                    return stopped or remaining_seconds() < margin

                if not self._passes.run(context, cursor, checkpoint):
                    if stopped:
                        self._state.update_control(store_hash, backfill_stop_requested=False)
                        logger.info("backfill stopped", extra={"store_hash": store_hash})
                        return True
                    return False
                state.totals[stream.value] = max(state.totals.get(stream.value, 0), state.done.get(stream.value, 0))
                state.pending.pop(0)
                state.cursor = None
                context.refunds = None
                self._state.save_backfill(store_hash, state)
        except Exception as error:
            state.error, state.updated_at = f"{type(error).__name__}: {error}", utc_moment()
            self._state.save_backfill(store_hash, state)
            raise
        state.status, state.error, state.updated_at = "done", None, utc_moment()
        state.requests = requests_base + reader.requests_made
        self._state.save_backfill(store_hash, state)
        logger.info(
            "backfill finished", extra={"store_hash": store_hash, "done": state.done, "requests": state.requests}
        )
        return True
