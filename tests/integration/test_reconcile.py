"""Hourly reconciliation through the sync worker: recovery of dropped webhooks, idempotent
re-runs, resumption after crashes and time limits, and webhook health."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bcsync.adapters import bigcommerce
from bcsync.adapters.changes import DynamoChangeStore
from bcsync.domain.orders import REFUND_RECORD_GRACE
from bcsync.domain.stores import HANDLED_SCOPES
from bcsync.usecases import orders
from bcsync.wiring import container
from bcsync_ops.sandbox import Line
from tests.integration.conftest import STORE_HASH, ago, webhook_event

DESTINATION = "https://hooks.example.com"


def place(stack, order_id: int, *, email: str = "ada@example.com", status_id: int = 11, hours_ago: float = 2):
    shirt, mug = stack.store.products[101], stack.store.products[102]
    return stack.store.place_order(
        order_id,
        email=email,
        first_name="Ada",
        last_name="Lovelace",
        lines=[Line(shirt, 1), Line(mug, 2)],
        created=ago(hours=hours_ago),
        status_id=status_id,
    )


def placed_orders(stack) -> Counter[str]:
    return Counter(e["source_id"] for e in stack.events().values() if e["metric"] == "Placed Order")


def reconcile(stack, **kwargs) -> dict:
    stack.schedule()
    stack.run_jobs(**kwargs)
    return stack.sync_state("reconcile")


def test_reconciliation_recovers_dropped_webhooks_exactly_once(stack):
    for order_id in (1001, 1002, 1003):
        place(stack, order_id, email=f"shopper{order_id}@example.com")
    place(stack, 1004, status_id=1)  # pending: not placed, nothing to record
    # Only 1001's webhook arrived (twice); 1002 and 1003 were dropped.
    for _ in range(2):
        assert stack.deliver(webhook_event("store/order/created", {"type": "order", "id": 1001}))["statusCode"] == 200
    live_triggers = stack.triggers()

    state = reconcile(stack)

    assert placed_orders(stack) == {"order:1001": 1, "order:1002": 1, "order:1003": 1}
    run = state["last_finished"]
    assert run["created"] == {"orders": 6}  # Placed Order + 2 Ordered Product, for 1002 and 1003
    recovered = stack.triggers()
    assert {t["event"]["source_id"] for t in recovered} == {"order:1002", "order:1003"}
    assert not {t["dedup_key"] for t in recovered} & {t["dedup_key"] for t in live_triggers}
    assert state["watermarks"].keys() == {"products", "customers", "subscribers", "orders"}


def test_overlapping_windows_and_reruns_create_nothing(stack):
    place(stack, 1001, hours_ago=0.1)
    first = reconcile(stack)
    events, triggers = stack.events(), stack.triggers()
    assert first["last_finished"]["created"] == {"orders": 3}

    second = reconcile(stack)  # its window starts 15 minutes before the first one's end

    assert second["last_finished"]["created"] == {}
    assert second["last_finished"]["seen"]["orders"] == 1  # the order was re-read in the overlap
    assert stack.events() == events
    assert stack.triggers() == [] and len(triggers) > 0


def test_a_crash_mid_page_resumes_from_the_saved_cursor_without_loss(stack, monkeypatch):
    monkeypatch.setattr(bigcommerce, "PAGE_LIMIT", 3)
    for order_id in range(1001, 1009):
        place(stack, order_id, email=f"shopper{order_id}@example.com")
    commit_together = DynamoChangeStore.commit_together
    crashed = []

    def crash_after_writing_1005(self, changes):
        stored = commit_together(self, changes)
        if any(event.source_id == "order:1005" for change in changes for event in change.events) and not crashed:
            crashed.append(1005)
            raise RuntimeError("the function died here, its page written but not its cursor")
        return stored

    monkeypatch.setattr(DynamoChangeStore, "commit_together", crash_after_writing_1005)
    stack.schedule()
    stack.run_jobs()

    assert crashed == [1005]
    state = stack.sync_state("reconcile")
    assert state["pending"] == [] and state["last_finished"]["error"] is None
    assert placed_orders(stack) == {f"order:{i}": 1 for i in range(1001, 1009)}
    order_pages = [path for path in stack.store.requests if path.endswith("/v2/orders")]
    # Pages 1001-1003, 1004-1006 (crashed after its write), again 1004-1006, 1007-1008.
    assert len(order_pages) == 4


def test_a_run_near_the_time_limit_saves_its_cursor_and_continues_in_a_new_invocation(stack, monkeypatch):
    monkeypatch.setattr(bigcommerce, "PAGE_LIMIT", 2)
    monkeypatch.setenv("SYNC_STOP_MARGIN_SECONDS", "950")  # beyond the 900 s timeout: stop after each page
    from tests.integration.conftest import _fresh_process_state

    _fresh_process_state()
    for order_id in range(1001, 1006):
        place(stack, order_id, email=f"shopper{order_id}@example.com")
    stack.schedule()

    invocations = stack.run_jobs(timeout=900)

    assert invocations >= 4  # one page per invocation, then a continuation message
    assert placed_orders(stack) == {f"order:{i}": 1 for i in range(1001, 1006)}
    assert stack.sync_state("reconcile")["pending"] == []


def test_deactivated_hooks_are_reenabled_and_the_window_widened_over_the_outage(stack):
    app = container()
    reader = app.connector.reader(STORE_HASH, budget_seconds=5)
    health, _ = app.webhook_health.check(STORE_HASH, reader, now=ago(seconds=0), repair=True, destination=DESTINATION)
    assert len(health.created) == sum(len(scopes) for scopes in HANDLED_SCOPES.values())
    reconcile(stack)  # the watermark is now

    # Orders' hook failed for two days and BigCommerce deactivated it; an order from then was missed.
    hook_id = next(h["id"] for h in stack.store.hooks.values() if h["scope"] == "store/order/created")
    stack.store.deactivate_hook(hook_id, at=ago(hours=1))
    place(stack, 1001, hours_ago=20)
    stack.store.orders[1001]["date_modified"] = stack.store.orders[1001]["date_created"]

    state = reconcile(stack)

    assert stack.store.hooks[hook_id]["is_active"] is True
    assert state["hooks"]["reenabled"] == ["store/order/created"]
    assert placed_orders(stack) == {"order:1001": 1}
    # Only the orders stream reached back over the outage.
    assert state["last_finished"]["seen"].get("customers", 0) == 0


def test_webhooks_are_registered_with_the_stores_token_header(stack):
    app = container()
    reader = app.connector.reader(STORE_HASH, budget_seconds=5)
    app.webhook_health.check(STORE_HASH, reader, now=ago(seconds=0), repair=True, destination=DESTINATION + "/")

    hooks = list(stack.store.hooks.values())
    assert {h["destination"] for h in hooks} == {
        f"{DESTINATION}/webhooks/{family}" for family in ("orders", "carts", "customers", "subscribers", "catalog")
    }
    assert all(h["headers"] == {"X-Webhook-Token": "local-webhook-token"} for h in hooks)
    # A second check finds nothing to do.
    health, plan = app.webhook_health.check(STORE_HASH, reader, now=ago(seconds=0), repair=True)
    assert (health.created, health.reenabled, plan.create) == ([], [], [])


def test_sync_off_skips_the_store_on_schedule(stack):
    place(stack, 1001)
    container().sync_state.update_control(STORE_HASH, enabled=False)

    assert stack.schedule()["queued"] == []
    assert stack.run_jobs() == 0
    assert placed_orders(stack) == {}


@pytest.mark.parametrize("status", [429, 500])
def test_bigcommerce_faults_during_reconciliation_lose_nothing(stack, status):
    place(stack, 1001)
    place(stack, 1002, email="grace@example.com")
    stack.store.fail_next(r"/v2/orders$", status, times=1, headers={"X-Rate-Limit-Time-Reset-Ms": "10"})

    state = reconcile(stack)

    assert placed_orders(stack) == {"order:1001": 1, "order:1002": 1}
    assert state["last_finished"]["error"] is None


def test_refunds_are_read_once_per_window_and_recorded_per_refund(stack):
    place(stack, 1001)
    stack.store.refund(1001, Decimal("10"), at=ago(hours=1))
    stack.store.set_status(1001, 14, at=ago(hours=1))
    place(stack, 1002, email="grace@example.com")

    reconcile(stack)

    refunds = [e for e in stack.events().values() if e["metric"] == "Refunded Order"]
    assert [e["source_id"] for e in refunds] == ["refund:1"]
    assert stack.store.requests.count(f"/stores/{STORE_HASH}/v3/orders/payment_actions/refunds") == 1
    assert not any(path.endswith("/1001/payment_actions/refunds") for path in stack.store.requests)


def test_only_an_order_older_than_the_window_is_asked_for_its_refunds(stack):
    """A manual change to Refunded leaves no refund record. For an order created inside the
    window, the window's refunds listing proves it has none; an older order's refunds could
    predate the window, so it alone is asked."""
    place(stack, 1001, hours_ago=24 * 30)  # before the first run's 7-day window
    place(stack, 1002, email="grace@example.com", hours_ago=3)
    for order_id in (1001, 1002):
        stack.store.set_status(order_id, 4, at=ago(hours=1))

    reconcile(stack)

    refunds = sorted(e["source_id"] for e in stack.events().values() if e["metric"] == "Refunded Order")
    assert refunds == ["order:1001", "order:1002"]  # one manual refund each, valued as the order
    asked_alone = [path for path in stack.store.requests if path.endswith("/payment_actions/refunds")]
    assert asked_alone == [
        f"/stores/{STORE_HASH}/v3/orders/payment_actions/refunds",
        f"/stores/{STORE_HASH}/v3/orders/1001/payment_actions/refunds",
    ]


def test_a_hooks_api_refusal_does_not_stop_the_poll(stack):
    container().sync_state.update_control(STORE_HASH, destination=DESTINATION)
    place(stack, 1001)
    stack.store.fail_next(r"/v3/hooks", 403, times=100)

    state = reconcile(stack)

    assert "failed" in state["hooks"]["problem"]
    assert placed_orders(stack) == {"order:1001": 1}
    assert state["last_finished"]["error"] is None


def refunded_orders(stack) -> list[str]:
    return sorted(e["source_id"] for e in stack.events().values() if e["metric"] == "Refunded Order")


def status_webhook(stack, order_id: int) -> None:
    assert (
        stack.deliver(webhook_event("store/order/statusUpdated", {"type": "order", "id": order_id}))["statusCode"]
        == 200
    )


@pytest.mark.parametrize("record_first", [False, True], ids=["status-first", "record-first"])
def test_a_refund_is_one_event_whichever_of_status_and_record_arrives_first(stack, record_first):
    place(stack, 1001)
    stack.deliver(webhook_event("store/order/created", {"type": "order", "id": 1001}))
    steps = ["record", "status"] if record_first else ["status", "record"]
    for step in steps:
        if step == "status":  # BigCommerce shows Refunded ...
            stack.store.set_status(1001, 4, at=ago(minutes=1))
            status_webhook(stack, 1001)
        else:  # ... and creates the refund record, with its own webhook
            stack.store.refund(1001, Decimal("35.00"), at=ago(minutes=1))
            stack.deliver(webhook_event("store/order/refund/created", {"type": "order", "id": 1001}))
    reconcile(stack)
    assert refunded_orders(stack) == ["refund:1"]  # never the manual one as well


def test_a_change_to_refunded_with_no_record_counts_once_when_reconciliation_finds_it_settled(stack, monkeypatch):
    place(stack, 1001)
    stack.deliver(webhook_event("store/order/created", {"type": "order", "id": 1001}))
    stack.store.set_status(1001, 4, at=ago(minutes=1))
    status_webhook(stack, 1001)
    assert refunded_orders(stack) == []  # its record may still be coming
    later = datetime.now(UTC) + REFUND_RECORD_GRACE
    monkeypatch.setattr(orders, "utc_moment", lambda: later)  # the next hourly run, past the grace
    reconcile(stack)
    reconcile(stack)
    assert refunded_orders(stack) == ["order:1001"]  # a manual refund, once
