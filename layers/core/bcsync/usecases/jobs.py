"""The resumable-job loop that reconciliation and backfill share: streams one after another, each
from its saved cursor, a checkpoint after every recorded page, a pause near the time limit, and the
error kept on the job's state when something fails.

A job is a small policy (`StreamJob`): where its state lives, which window each stream covers and
what it counts. The loop, its limits and its bookkeeping live here once, so the two cannot drift.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol, TypeVar

from bcsync.domain.sync import Stream, StreamCursor, StreamProgress, Window
from bcsync.observability import logger
from bcsync.usecases.polling import PageOutcome, PassContext, StreamPasses
from bcsync.usecases.ports import BigCommerceConnector, BigCommercePoller


@dataclass(frozen=True)
class SyncLimits:
    overlap: timedelta
    first_lookback: timedelta
    quota_share: float
    stop_margin_seconds: float


State = TypeVar("State", bound=StreamProgress)


class StreamJob(Protocol[State]):
    """What differs between reconciliation and backfill; everything else is the runner's."""

    name: str
    backfill: bool  # backfilled events start no flows

    def load(self, store_hash: str) -> State | None:
        """The state to continue, or None when there is nothing to do."""

    def prepare(self, store_hash: str, state: State, reader: BigCommercePoller) -> str | None:
        """Start a new run if none is under way; the origin confirmation links point to."""

    def window(self, state: State, stream: Stream) -> Window: ...

    def page_recorded(self, store_hash: str, state: State, cursor: StreamCursor, outcome: PageOutcome) -> bool:
        """Count the page; True when an operator asked the job to stop."""

    def stream_done(self, state: State, stream: Stream) -> None: ...

    def count_requests(self, state: State, requests: int) -> None: ...

    def stopped(self, store_hash: str, state: State) -> None: ...

    def failed(self, state: State, error: str) -> None: ...

    def finished(self, store_hash: str, state: State) -> None: ...

    def save(self, store_hash: str, state: State) -> None: ...


class JobRunner:
    def __init__(self, passes: StreamPasses, connector: BigCommerceConnector, limits: SyncLimits) -> None:
        self._passes = passes
        self._connector = connector
        self._limits = limits

    def run(self, job: StreamJob[State], store_hash: str, remaining_seconds: Callable[[], float]) -> bool:
        """Make progress; True when there is nothing left to continue (done, stopped, nothing to do),
        False when paused near the time limit (the caller continues it in a new invocation)."""
        state = job.load(store_hash)
        if state is None:
            return True
        margin = self._limits.stop_margin_seconds
        reader = self._connector.reader(
            store_hash, budget_seconds=max(1.0, remaining_seconds() - margin), quota_share=self._limits.quota_share
        )
        counted = 0

        def count_requests() -> None:
            nonlocal counted
            job.count_requests(state, reader.requests_made - counted)
            counted = reader.requests_made

        context = PassContext(store_hash, reader, backfill=job.backfill, origin=job.prepare(store_hash, state, reader))
        try:
            while state.pending:
                stream = state.pending[0]
                cursor = state.cursor if state.cursor and state.cursor.stream == stream else None
                cursor = cursor or StreamCursor(stream=stream, window=job.window(state, stream))
                context.refunds = None  # a window's refund listing serves that window only
                stop_requested = False

                def checkpoint(position: StreamCursor, outcome: PageOutcome) -> bool:
                    nonlocal stop_requested
                    state.cursor = position
                    stop_requested = job.page_recorded(store_hash, state, position, outcome)
                    count_requests()
                    job.save(store_hash, state)
                    return stop_requested or remaining_seconds() < margin

                if not self._passes.run(context, cursor, checkpoint):
                    if stop_requested:
                        job.stopped(store_hash, state)
                        logger.info(f"{job.name} stopped", extra={"store_hash": store_hash})
                        return True
                    logger.info(f"{job.name} paused near the time limit", extra={"store_hash": store_hash})
                    return False
                job.stream_done(state, stream)
                state.pending.pop(0)
                state.cursor = None
                job.save(store_hash, state)
        except Exception as error:
            count_requests()
            job.failed(state, f"{type(error).__name__}: {error}")
            job.save(store_hash, state)
            raise
        count_requests()
        job.finished(store_hash, state)
        job.save(store_hash, state)
        return True
