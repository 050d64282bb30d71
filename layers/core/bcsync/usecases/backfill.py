"""Historic backfill: import the catalog, customers, subscribers, then orders with their refunds,
as events marked `backfill: true` that start no flows, within a share of the store's API quota.

`start` records the request (or resumes a stopped one); `run` makes progress from the saved
cursor until done, stopped, or near the time limit, when the caller continues it in a new
invocation. Whatever crashes, the cursor was saved after the last fully recorded page.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bcsync.domain.sync import BackfillState, Stream, StreamCursor, Window
from bcsync.observability import logger
from bcsync.usecases.clock import utc_moment
from bcsync.usecases.jobs import JobRunner
from bcsync.usecases.polling import PageOutcome
from bcsync.usecases.ports import BigCommercePoller, SyncStateStore


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
    """The backfill policy on the job runner: history windows, progress totals, operator stops."""

    name = "backfill"
    backfill = True

    def __init__(self, runner: JobRunner, state: SyncStateStore) -> None:
        self._runner = runner
        self._state = state

    def run(self, store_hash: str, remaining_seconds: Callable[[], float]) -> bool:
        """Make progress; True when there is nothing left to continue (done, stopped, none)."""
        return self._runner.run(self, store_hash, remaining_seconds)

    def load(self, store_hash: str) -> BackfillState | None:
        state = self._state.backfill(store_hash)
        return state if state is not None and state.status == "running" else None

    def prepare(self, store_hash: str, state: BackfillState, reader: BigCommercePoller) -> str | None:
        if Stream.ORDERS in state.pending and Stream.ORDERS.value not in state.totals:
            # For the progress bar; v3 collections report their total on every page.
            state.totals[Stream.ORDERS.value] = reader.count_orders(state.window_for(Stream.ORDERS)).count
        return None  # a backfill promises no triggers, so it builds no confirmation link

    def window(self, state: BackfillState, stream: Stream) -> Window:
        return state.window_for(stream)

    def page_recorded(self, store_hash: str, state: BackfillState, cursor: StreamCursor, outcome: PageOutcome) -> bool:
        stream = cursor.stream.value
        state.done[stream] = cursor.done
        if cursor.total is not None:
            state.totals[stream] = cursor.total
        if outcome.created_ids:
            state.created[stream] = state.created.get(stream, 0) + len(outcome.created_ids)
        state.updated_at = utc_moment()
        if self._state.control(store_hash).backfill_stop_requested:
            state.status = "stopped"
        return state.status == "stopped"

    def stream_done(self, state: BackfillState, stream: Stream) -> None:
        state.totals[stream.value] = max(state.totals.get(stream.value, 0), state.done.get(stream.value, 0))

    def count_requests(self, state: BackfillState, requests: int) -> None:
        state.requests += requests

    def stopped(self, store_hash: str, state: BackfillState) -> None:
        self._state.update_control(store_hash, backfill_stop_requested=False)

    def failed(self, state: BackfillState, error: str) -> None:
        state.error, state.updated_at = error, utc_moment()

    def finished(self, store_hash: str, state: BackfillState) -> None:
        state.status, state.error, state.updated_at = "done", None, utc_moment()
        logger.info(
            "backfill finished", extra={"store_hash": store_hash, "done": state.done, "requests": state.requests}
        )

    def save(self, store_hash: str, state: BackfillState) -> None:
        self._state.save_backfill(store_hash, state)
