"""Historic backfill through the sync worker: everything imported once, marked backfill, no flow
triggers; resumable after crashes and stops; within its share of an enforced quota. And the
daily-count check against the same store."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from bcsync.adapters import bigcommerce
from bcsync.usecases.backfill import BackfillRequests
from bcsync.usecases.orders import OrderSync
from bcsync.wiring import container
from bcsync_ops.measure import aws_requests
from bcsync_ops.sandbox import Line
from tests.integration.conftest import STORE_HASH, _fresh_process_state, ago, webhook_event


def history(stack, orders: int, *, days: int = 30) -> None:
    store = stack.store
    store.customer_groups[1] = "Retail"
    for customer_id in range(1, 4):
        store.add_customer(
            customer_id,
            email=f"customer{customer_id}@example.com",
            first_name="Cus",
            last_name=str(customer_id),
            at=ago(days=days + 5),
            group_id=1,
        )
    store.subscribe(1, email="customer1@example.com", at=ago(days=days + 4))
    shirt, mug = store.products[101], store.products[102]
    for index in range(orders):
        store.place_order(
            2000 + index,
            email=f"customer{index % 3 + 1}@example.com",
            first_name="Cus",
            last_name=str(index % 3 + 1),
            customer_id=index % 3 + 1,
            lines=[Line(shirt, 1), Line(mug, 1 + index % 2)],
            created=ago(days=days) + timedelta(hours=index),
            status_id=10 if index % 2 else 11,
        )


def start_backfill(stack, since: datetime | None = None) -> None:
    app = container()
    BackfillRequests(app.sync_state).start(STORE_HASH, since=since)
    app.jobs.enqueue(STORE_HASH, "backfill", dedup=f"test:{datetime.now(UTC).isoformat()}")


def events_by_metric(stack) -> Counter[str]:
    return Counter(e["metric"] for e in stack.events().values())


def test_backfill_imports_everything_once_marked_backfill_without_triggers(stack, monkeypatch):
    monkeypatch.setattr(bigcommerce, "PAGE_LIMIT", 4)
    history(stack, orders=9)

    start_backfill(stack)
    stack.run_jobs()

    state = stack.sync_state("backfill")
    assert state["status"] == "done"
    assert state["done"] == {"products": 4, "customers": 3, "subscribers": 1, "orders": 9}
    assert state["totals"] == state["done"]
    events = stack.events().values()
    assert events_by_metric(stack) == {"Placed Order": 9, "Ordered Product": 18, "Fulfilled Order": 4}
    assert all(event["backfill"] for event in events)
    assert stack.triggers() == []
    assert stack.table("TriggersTable") == []
    profiles = stack.profiles()
    assert len(profiles) == 3
    subscribed = [p for p in profiles if p["consent"]["email_marketing"] == "subscribed"]
    assert [p["email"] for p in subscribed] == ["customer1@example.com"]


def test_backfill_reads_refunds_once_and_asks_no_order_about_its_own(stack, monkeypatch):
    """Manual refunds (status Refunded, no record) and refund records alike come from one
    listing of the refunds created since the backfill's start: requests stay at the floor."""
    monkeypatch.setattr(bigcommerce, "PAGE_LIMIT", 4)
    history(stack, orders=9)
    store = stack.store
    for order_id in (2001, 2004, 2007):
        store.set_status(order_id, 4, at=ago(days=2))
    store.refund(2002, Decimal("5"), at=ago(days=2))
    store.set_status(2002, 14, at=ago(days=2))

    start_backfill(stack)
    stack.run_jobs()

    refunds = sorted(e["source_id"] for e in stack.events().values() if e["metric"] == "Refunded Order")
    assert refunds == ["order:2001", "order:2004", "order:2007", "refund:1"]
    orders_api = [path.removeprefix(f"/stores/{STORE_HASH}") for path in store.requests if "/orders" in path]
    assert Counter(orders_api) == {
        "/v2/orders/count": 1,  # the progress bar's total
        "/v2/orders": 3,  # ceil(9 / 4) pages
        "/v3/orders/payment_actions/refunds": 1,  # ceil(1 / 4) refund pages
    }


def test_an_order_refunded_during_the_backfill_is_left_to_its_webhook_not_taken_for_a_manual_refund(stack, monkeypatch):
    """The refunds listing cannot see a refund made after it was read. The order changed after
    the listing, so the backfill records no refund for it (and asks nothing); its webhook does."""
    monkeypatch.setattr(bigcommerce, "PAGE_LIMIT", 4)
    history(stack, orders=9)
    store = stack.store
    store.set_status(2001, 4, at=ago(days=2))  # a manual refund: the listing is read on page 1
    answer = store.answer

    def refund_while_backfilling(path, *args, **kwargs):
        answered = answer(path, *args, **kwargs)
        if path.endswith("/v3/orders/payment_actions/refunds") and not store.refunds:
            later = datetime.now(UTC) + timedelta(seconds=1)
            store.refund(2006, Decimal("25"), at=later)
            store.set_status(2006, 4, at=later)
        return answered

    monkeypatch.setattr(store, "answer", refund_while_backfilling)
    start_backfill(stack)
    stack.run_jobs()
    backfill_requests = list(store.requests)
    stack.deliver(
        webhook_event("store/order/refund/created", {"type": "order", "id": 2006, "refund": {"refund_id": 1}})
    )

    refunds = sorted(e["source_id"] for e in stack.events().values() if e["metric"] == "Refunded Order")
    assert refunds == ["order:2001", "refund:1"]
    assert not [path for path in backfill_requests if path.endswith("/2006/payment_actions/refunds")]


def test_backfill_since_a_date_imports_only_orders_created_since(stack):
    history(stack, orders=5, days=10)  # orders 10 days ago, one hour apart

    start_backfill(stack, since=ago(days=10) + timedelta(hours=2, minutes=30))
    stack.run_jobs()

    placed = sorted(e["source_id"] for e in stack.events().values() if e["metric"] == "Placed Order")
    assert placed == ["order:2003", "order:2004"]


def test_backfill_resumes_after_a_crash_and_after_a_stop(stack, monkeypatch):
    monkeypatch.setattr(bigcommerce, "PAGE_LIMIT", 2)
    history(stack, orders=7)
    record_page = OrderSync.record_page
    seen: list[int] = []

    def crash_once_then_stop(self, store_hash, orders, reader, *, refunds_of, backfill):
        ids = [order.id for order in orders]
        seen.extend(ids)
        if 2003 in ids and seen.count(2003) == 1:
            raise RuntimeError("the function died here")
        if 2005 in ids and seen.count(2005) == 1:
            BackfillRequests(container().sync_state).request_stop(STORE_HASH)  # an operator's Ctrl-C
        return record_page(self, store_hash, orders, reader, refunds_of=refunds_of, backfill=backfill)

    monkeypatch.setattr(OrderSync, "record_page", crash_once_then_stop)
    start_backfill(stack)
    stack.run_jobs()
    stopped = stack.sync_state("backfill")
    assert stopped["status"] == "stopped"
    assert stopped["done"]["orders"] == 6  # pages of two: stopped after the page holding 2005

    start_backfill(stack)  # resume
    stack.run_jobs()

    assert stack.sync_state("backfill")["status"] == "done"
    placed = Counter(e["source_id"] for e in stack.events().values() if e["metric"] == "Placed Order")
    assert placed == {f"order:{2000 + i}": 1 for i in range(7)}
    # Re-read after the crash: only the page it happened on (2002, 2003); nothing after the stop.
    assert Counter(seen) == {2002: 2, 2003: 2, **dict.fromkeys((2000, 2001, 2004, 2005, 2006), 1)}
    assert stack.triggers() == []


def test_a_backfill_writes_its_pages_together_in_fewer_aws_requests_than_orders(stack):
    history(stack, orders=100)
    app = container()
    BackfillRequests(app.sync_state).start(STORE_HASH, since=None)
    with aws_requests() as counted:
        while not app.backfill.run(STORE_HASH, lambda: 900.0):
            pass
    # The job's state, the customers, subscribers and catalog passes (a few dozen requests), then
    # for the orders one read and a few transactions a page.
    assert sum(counted.values()) <= 100, counted
    assert counted["TransactWriteItems"] <= 3 + 100 // 10, counted  # a customer each, then 10+ orders each
    placed = Counter(e["source_id"] for e in stack.events().values() if e["metric"] == "Placed Order")
    assert placed == {f"order:{2000 + i}": 1 for i in range(100)}
    firsts = {p["email"]: p["first_order_event_id"] for p in stack.profiles()}
    assert firsts == {f"customer{k}@example.com": f"sandbox:placed-order:order:{1999 + k}" for k in (1, 2, 3)}
    assert stack.triggers() == []


def test_backfill_keeps_within_its_share_of_an_enforced_quota(stack, monkeypatch):
    monkeypatch.setattr(bigcommerce, "PAGE_LIMIT", 2)
    monkeypatch.setenv("SYNC_QUOTA_SHARE", "0.5")
    _fresh_process_state()
    history(stack, orders=8)
    quota = stack.store.enforce_quota(limit=6, window_seconds=0.5, clock=stack.time.monotonic)

    start_backfill(stack)
    stack.run_jobs()

    assert stack.sync_state("backfill")["status"] == "done"
    per_window = Counter(int(at // quota.window_seconds) for at in quota.served_at)
    assert max(per_window.values()) <= 3  # half of 6
    assert quota.rejected == 0
    assert len(quota.served_at) >= 10  # enough requests to span several windows


def test_verify_counts_passes_on_a_clean_store_and_catches_a_missing_order(stack):
    history(stack, orders=6, days=2)
    start_backfill(stack)
    stack.run_jobs()
    app = container()
    reader = app.connector.reader(STORE_HASH, budget_seconds=5)

    clean = app.daily_counts.compare(STORE_HASH, reader, days=7, now=datetime.now(UTC))
    assert len(clean) == 7 and all(day.matches for day in clean)
    assert sum(day.bigcommerce for day in clean) == 6
    # The six sit under several keys of the index (a store's own key would be one hot partition),
    # and the check read every one of them.
    placed_keys = Counter(item["placed_key"] for item in stack.table("EventsTable") if "placed_key" in item)
    assert sum(placed_keys.values()) == 6 and len(placed_keys) > 1
    assert all(key.startswith(f"{STORE_HASH}#") for key in placed_keys)

    # An order bcsync never heard of (its webhook lost, no reconcile since).
    stack.store.place_order(
        3000,
        email="late@example.com",
        first_name="Late",
        last_name="Order",
        lines=[Line(stack.store.products[101], 1)],
        created=ago(minutes=5),
    )
    checked = app.daily_counts.compare(STORE_HASH, reader, days=7, now=datetime.now(UTC))
    wrong = [day for day in checked if not day.matches]
    assert [(day.bigcommerce, day.bcsync) for day in wrong] == [(1, 0)]
