"""The one resumable-job loop, on in-memory ports: reconciliation and backfill as its policies.

The stream passes are scripted (pages of rows per stream, an optional crash); what is checked is
the runner's bookkeeping: cursors saved after every page and resumed from, pauses near the time
limit, an operator's stop, errors kept on the state, requests counted, and each policy's own
accounting (watermarks and drift; totals and status)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from bcsync.domain.bigcommerce import OrderCount
from bcsync.domain.stores import Family
from bcsync.domain.sync import STREAMS, HookHealth, HookPlan, Stream, StreamCursor
from bcsync.usecases.backfill import Backfill, BackfillRequests
from bcsync.usecases.jobs import JobRunner, SyncLimits
from bcsync.usecases.polling import PageOutcome
from bcsync.usecases.reconcile import Reconciler
from tests.unit.memory import MemorySyncState

STORE = "s"
LIMITS = SyncLimits(
    overlap=timedelta(minutes=15), first_lookback=timedelta(hours=24), quota_share=0.5, stop_margin_seconds=10
)


class Reader:
    page_size = 2

    def __init__(self):
        self.requests_made = 0

    def count_orders(self, window):
        self.requests_made += 1
        return OrderCount(count=5)


@dataclass
class Connector:
    readers: list[Reader] = field(default_factory=list)

    def reader(self, store_hash, *, budget_seconds, quota_share=1.0):
        self.readers.append(Reader())
        return self.readers[-1]


@dataclass
class ScriptedPasses:
    """Each stream has `pages` pages; every page costs one request and creates one event."""

    pages: dict[Stream, int]
    crash_at: tuple[Stream, int] | None = None
    started: list[tuple[Stream, int, bool]] = field(default_factory=list)  # stream, from page, refunds unset

    def run(self, context, cursor: StreamCursor, checkpoint) -> bool:
        self.started.append((cursor.stream, cursor.page, context.refunds is None))
        context.refunds = "this stream's listing"
        total = self.pages.get(cursor.stream, 0)
        while cursor.page <= total:
            if self.crash_at == (cursor.stream, cursor.page):
                self.crash_at = None
                raise ConnectionError("BigCommerce went away")
            context.reader.requests_made += 1
            cursor.done += 1
            created = [f"{cursor.stream}:{cursor.page}"]
            more = cursor.page < total
            cursor.page += 1
            if checkpoint(cursor, PageOutcome(seen=1, created_ids=created)) and more:
                return False
        return True


class Clock:
    """Seconds left in the invocation, lower than the stop margin after `pages_left` more asks (the
    runner asks once when it starts, for the reader's budget, then once per checkpoint)."""

    def __init__(self, pages_left: int | None = None):
        self.pages_left = pages_left

    def __call__(self) -> float:
        if self.pages_left is None:
            return 900.0
        self.pages_left -= 1
        return 900.0 if self.pages_left >= 0 else 1.0


class Hooks:
    def __init__(self, outage: dict[Family, datetime] | None = None):
        self.outage = outage or {}

    def check(self, store_hash, reader, *, now, repair):
        reader.requests_made += 1
        return HookHealth(checked_at=now, destination="https://x"), HookPlan(outage_since=self.outage)


def backfill_job(passes, state=None):
    state = state or MemorySyncState()
    connector = Connector()
    return Backfill(JobRunner(passes, connector, LIMITS), state), state, connector


def reconcile_job(passes, state=None, hooks=None):
    state = state or MemorySyncState()
    connector = Connector()
    return Reconciler(JobRunner(passes, connector, LIMITS), state, hooks or Hooks(), LIMITS), state, connector


def test_nothing_to_backfill_makes_no_reader():
    job, state, connector = backfill_job(ScriptedPasses({}))
    assert job.run(STORE, Clock()) is True
    assert connector.readers == [] and state.saves == 0


def test_a_backfill_pauses_near_the_limit_and_resumes_from_the_saved_cursor():
    passes = ScriptedPasses({Stream.PRODUCTS: 2, Stream.CUSTOMERS: 3, Stream.SUBSCRIBERS: 1, Stream.ORDERS: 2})
    job, state, _ = backfill_job(passes)
    BackfillRequests(state).start(STORE, since=None)

    assert job.run(STORE, Clock(pages_left=3)) is False
    paused = state.backfill(STORE)
    assert paused.pending[0] is Stream.CUSTOMERS and paused.cursor.page == 2  # two products, one customer
    assert paused.done == {"products": 2, "customers": 1}

    assert job.run(STORE, Clock()) is True
    done = state.backfill(STORE)
    assert done.status == "done" and done.pending == [] and done.cursor is None
    assert [(stream, page) for stream, page, _ in passes.started] == [
        (Stream.PRODUCTS, 1),
        (Stream.CUSTOMERS, 1),
        (Stream.CUSTOMERS, 2),  # resumed where it paused, not from the start
        (Stream.SUBSCRIBERS, 1),
        (Stream.ORDERS, 1),
    ]
    assert done.done == {"products": 2, "customers": 3, "subscribers": 1, "orders": 2}
    assert done.created == {"products": 2, "customers": 3, "subscribers": 1, "orders": 2}
    assert done.totals["orders"] == 5  # counted once for the progress bar
    assert done.requests == 8 + 1  # every page, and the count


def test_every_stream_starts_without_another_streams_refunds():
    passes = ScriptedPasses(dict.fromkeys(STREAMS, 1))
    job, state, _ = backfill_job(passes)
    BackfillRequests(state).start(STORE, since=None)
    job.run(STORE, Clock())
    reconciler, _, _ = reconcile_job(passes)
    reconciler.run(STORE, Clock())
    assert len(passes.started) == 2 * len(STREAMS)
    assert all(fresh for _, _, fresh in passes.started)


def test_an_operator_stop_ends_the_backfill_at_the_next_page_and_clears_the_request():
    passes = ScriptedPasses({Stream.PRODUCTS: 3})
    job, state, _ = backfill_job(passes)
    requests = BackfillRequests(state)
    requests.start(STORE, since=None)
    requests.request_stop(STORE)

    assert job.run(STORE, Clock()) is True
    stopped = state.backfill(STORE)
    assert stopped.status == "stopped" and stopped.done == {"products": 1}
    assert state.control(STORE).backfill_stop_requested is False
    assert job.run(STORE, Clock()) is True  # a stopped backfill is left alone
    assert len(passes.started) == 1

    requests.start(STORE, since=None)  # resumed
    assert job.run(STORE, Clock()) is True
    assert state.backfill(STORE).done["products"] == 3


def test_a_crash_keeps_the_error_and_the_cursor_and_the_next_run_resumes():
    passes = ScriptedPasses({Stream.PRODUCTS: 3}, crash_at=(Stream.PRODUCTS, 2))
    job, state, _ = backfill_job(passes)
    BackfillRequests(state).start(STORE, since=None)

    with pytest.raises(ConnectionError):
        job.run(STORE, Clock())
    failed = state.backfill(STORE)
    assert failed.error == "ConnectionError: BigCommerce went away"
    assert failed.status == "running" and failed.cursor.page == 2 and failed.requests == 2  # a count, a page

    assert job.run(STORE, Clock()) is True
    done = state.backfill(STORE)
    assert done.error is None and done.status == "done" and done.done["products"] == 3
    assert (Stream.PRODUCTS, 2, True) in passes.started


def test_a_reconciliation_moves_each_watermark_only_once_its_window_is_recorded():
    passes = ScriptedPasses(dict.fromkeys(STREAMS, 2))
    job, state, _ = reconcile_job(passes)

    assert job.run(STORE, Clock(pages_left=3)) is False
    paused = state.reconcile(STORE)
    assert set(paused.watermarks) == {Stream.PRODUCTS}
    assert paused.watermarks[Stream.PRODUCTS] == paused.windows[Stream.PRODUCTS].end
    assert paused.pending == [Stream.CUSTOMERS, Stream.SUBSCRIBERS, Stream.ORDERS]

    assert job.run(STORE, Clock()) is True
    done = state.reconcile(STORE)
    assert set(done.watermarks) == set(STREAMS) and done.windows == {} and not done.running
    run = done.last_finished
    assert run is not None and run.finished_at is not None and run.error is None
    assert run.drift == 8 and run.seen == dict.fromkeys(STREAMS, 2)
    assert run.requests == 1 + 8  # the hooks check and every page


def test_a_reconciliation_widens_a_family_window_back_over_a_hook_outage():
    outage = datetime.now(UTC) - timedelta(days=2)
    passes = ScriptedPasses({})
    job, state, _ = reconcile_job(passes, hooks=Hooks({Family.ORDERS: outage}))
    job.run(STORE, Clock())
    first = state.reconcile(STORE)
    assert Stream.ORDERS not in first.reopen_from  # cleared once the widened window was recorded

    second_state = MemorySyncState()
    crashing = ScriptedPasses({Stream.ORDERS: 1}, crash_at=(Stream.ORDERS, 1))
    job, _, _ = reconcile_job(crashing, second_state, Hooks({Family.ORDERS: outage}))
    with pytest.raises(ConnectionError):
        job.run(STORE, Clock())
    failed = second_state.reconcile(STORE)
    assert failed.windows[Stream.ORDERS].start == outage
    assert failed.windows[Stream.CUSTOMERS].start > outage
    assert failed.reopen_from == {Stream.ORDERS: outage}  # kept until the orders window is done
    assert failed.run is not None and failed.run.error == "ConnectionError: BigCommerce went away"
