"""Pure sync bookkeeping: windows, shrink step-back, hook plans, store days, and the quota pacer."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bcsync.adapters.bigcommerce import QuotaPacer, RateLimitState
from bcsync.domain.bigcommerce import Hook, StoreInfo
from bcsync.domain.stores import HANDLED_SCOPES, Family
from bcsync.domain.sync import (
    HOOK_RETRY_SPAN,
    Stream,
    StreamCursor,
    Window,
    plan_hooks,
    reconcile_window,
    step_back_after_shrink,
    store_days,
)
from bcsync.usecases.catalog import ABSENT_PRODUCT_SECONDS, CatalogLookup

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def cursor(page: int, total: int | None) -> StreamCursor:
    return StreamCursor(stream=Stream.CUSTOMERS, window=Window(start=None, end=NOW), page=page, total=total)


def test_a_shrunk_collection_steps_back_over_the_rows_that_moved_up():
    assert step_back_after_shrink(cursor(3, 1000), 1000, 250) == 3  # unchanged: carry on
    assert step_back_after_shrink(cursor(3, 1000), 999, 250) == 2  # row 501 is now row 500
    assert step_back_after_shrink(cursor(3, 1000), 700, 250) == 1
    assert step_back_after_shrink(cursor(3, 1000), 1200, 250) == 3  # growth skips nothing
    assert step_back_after_shrink(cursor(1, None), 10, 250) == 1


def test_windows_overlap_the_watermark_and_reach_back_over_an_outage():
    mark = NOW - timedelta(hours=1)
    lookback = timedelta(days=7)
    overlap = timedelta(minutes=15)
    assert reconcile_window(mark, now=NOW, overlap=overlap, first_lookback=lookback) == Window(
        start=mark - overlap, end=NOW
    )
    assert reconcile_window(None, now=NOW, overlap=overlap, first_lookback=lookback).start == NOW - lookback
    outage = NOW - timedelta(days=2)
    widened = reconcile_window(mark, now=NOW, overlap=overlap, first_lookback=lookback, reopen_from=outage)
    assert widened.start == outage


def test_hook_plan_creates_missing_scopes_and_dates_an_outage_from_deactivation():
    base = "https://hooks.example.com"
    deactivated_at = NOW - timedelta(hours=3)
    hooks = [
        Hook(
            id=1,
            scope="store/order/created",
            destination=f"{base}/webhooks/orders",
            is_active=False,
            updated_at=deactivated_at,
        ),
        Hook(id=2, scope="store/order/updated", destination=f"{base}/webhooks/orders"),
        Hook(id=3, scope="store/order/statusUpdated", destination="https://elsewhere.example.com/x"),
    ]
    plan = plan_hooks(hooks, base, now=NOW)
    assert [hook.id for hook in plan.reenable] == [1]
    assert plan.outage_since == {Family.ORDERS: deactivated_at - HOOK_RETRY_SPAN}
    created = dict(plan.create)
    assert "store/order/statusUpdated" in created  # another app's hook to elsewhere is not ours
    assert "store/order/updated" not in created
    assert len(plan.create) == sum(len(s) for s in HANDLED_SCOPES.values()) - 2


def test_store_days_follow_the_stores_timezone_and_end_today():
    chicago = ZoneInfo("America/Chicago")
    days = store_days(3, zone=chicago, now=datetime(2026, 11, 22, 3, 0, tzinfo=UTC))  # 21:00 on the 21st there
    assert [day for day, _, _ in days] == [date(2026, 11, 19), date(2026, 11, 20), date(2026, 11, 21)]
    _, start, end = days[-1]
    assert start.astimezone(UTC) == datetime(2026, 11, 21, 6, 0, tzinfo=UTC)
    assert end - start == timedelta(days=1)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_the_pacer_spends_its_share_of_each_window_then_waits_for_the_reset():
    clock = FakeClock()
    pacer = QuotaPacer(0.5, clock, clock.sleep)
    sent_at: list[float] = []
    while clock.now < 90:  # three fixed 30 s windows of a 10-request quota
        pacer.before_request()
        sent_at.append(clock.now)
        clock.now += 0.1
        reset_ms = int((30 - clock.now % 30) * 1000)
        pacer.after_response(RateLimitState(window_ms=30_000, reset_ms=reset_ms, quota=10), fresh=True)
    per_window = [sum(1 for at in sent_at if window * 30 <= at < (window + 1) * 30) for window in range(3)]
    assert per_window == [5, 5, 5]


def test_the_pacer_does_not_wait_without_rate_limit_headers():
    clock = FakeClock()
    pacer = QuotaPacer(0.5, clock, clock.sleep)
    for _ in range(100):
        pacer.before_request()
        pacer.after_response(RateLimitState(), fresh=False)
    assert clock.slept == []


class EmptyCatalog:
    """A catalog cache that holds nothing, and a store whose products were all deleted."""

    def __init__(self) -> None:
        self.product_reads: list[list[int]] = []

    def get_items(self, store_hash, product_ids):
        return {}

    def put_items(self, store_hash, items):
        pass

    def get_names(self, store_hash, kind, ids):
        return {}

    def put_names(self, store_hash, kind, names):
        pass

    def get_store_info(self, store_hash):
        return StoreInfo(secure_url="https://shop.example.com")

    def get_products(self, product_ids):
        self.product_reads.append(list(product_ids))
        return []


def test_a_product_bigcommerce_no_longer_has_is_not_asked_for_again_soon():
    clock = FakeClock()
    catalog = EmptyCatalog()
    lookup = CatalogLookup(catalog, clock)  # type: ignore[arg-type]
    for _ in range(3):  # three old orders naming the deleted product 7
        assert lookup.items_for("store", [7], catalog) == {}  # type: ignore[arg-type]
    assert catalog.product_reads == [[7]]
    clock.now += ABSENT_PRODUCT_SECONDS + 1
    lookup.items_for("store", [7, 8], catalog)  # type: ignore[arg-type]
    assert catalog.product_reads == [[7], [7, 8]]


def test_a_slow_response_does_not_make_the_pacer_think_a_new_window_began():
    clock = FakeClock()
    pacer = QuotaPacer(0.5, clock, clock.sleep)
    sent_at = []
    latencies = iter([20.0] + [0.0] * 10)  # the first answer reaches us 20 s after it was sent
    while clock.now < 30:  # one fixed 30 s window of a 10-request quota
        pacer.before_request()
        sent_at.append(clock.now)
        reset_ms = int((30 - clock.now % 30) * 1000)  # as the server stamps it
        clock.now += 0.1 + next(latencies)
        pacer.after_response(RateLimitState(window_ms=30_000, reset_ms=reset_ms, quota=10), fresh=True)
    assert sum(1 for at in sent_at if at < 30) == 5
