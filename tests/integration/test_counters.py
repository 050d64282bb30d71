"""Counters under moto: after webhooks, replays, a reconcile, a backfill, a merge and an erasure,
every person's and the store's counters equal what the events table holds, exactly."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal

from botocore.client import BaseClient

from bcsync.adapters import bigcommerce
from bcsync.adapters.dynamodb import event_from_item
from bcsync.wiring import container
from tests.integration.conftest import STORE_HASH, webhook_event
from tests.integration.test_backfill import history, start_backfill
from tests.integration.test_customers_webhook import add_ada, customer_event, guest_order
from tests.integration.test_orders_webhook import place_ada
from tests.integration.test_reconcile import place, reconcile

ALL_TIME = "0000-01-01"


def counted_by_events(stack):
    """What the counters must say, from the events themselves: per person (metric, day) and
    (metric, None) for all time; per store the same."""
    people: dict[str, dict] = defaultdict(lambda: defaultdict(lambda: [0, Decimal(0)]))
    store: dict = defaultdict(lambda: [0, Decimal(0)])
    for item in stack.events().values():
        event = event_from_item(item)
        day = event.time.astimezone(UTC).date().isoformat()  # the sandbox store keeps UTC
        for key in ((event.metric.value, day), (event.metric.value, None)):
            store[key][0] += 1
            store[key][1] += event.value
            if event.profile_id:
                people[event.profile_id][key][0] += 1
                people[event.profile_id][key][1] += event.value
    as_tuples = {key: tuple(amount) for key, amount in store.items()}
    return {pid: {k: tuple(v) for k, v in keys.items()} for pid, keys in people.items()}, as_tuples


def counted_by_counters(stack):
    counters = container().counters
    people = {}
    for profile in stack.profiles():
        rows = counters.person(STORE_HASH, profile["id"], first_day=ALL_TIME)
        if rows:
            people[profile["id"]] = {(c.metric, c.day): (c.count, c.value) for c in rows}
    # A day or a total counted to zero (its only events erased) is a day without events: the store's
    # counters are not personal data, and stay.
    store = {(c.metric, None): (c.count, c.value) for c in counters.totals(STORE_HASH) if c.count}
    for metric, _ in list(store):
        for c in counters.series(STORE_HASH, metric, ALL_TIME, "9999-12-31", utc=False):
            if c.count or c.value:
                store[(metric, c.day)] = (c.count, c.value)
    return people, store


def bought_by_events(stack, profile_id: str) -> dict[int, int]:
    bought: dict[int, int] = defaultdict(int)
    for item in stack.events().values():
        if item["metric"] == "Ordered Product" and item["profile_id"] == profile_id:
            bought[int(item["properties"]["ProductID"])] += int(item["properties"]["Quantity"])
    return dict(bought)


def assert_counters_match_events(stack):
    expected_people, expected_store = counted_by_events(stack)
    people, store = counted_by_counters(stack)
    assert people == expected_people
    assert store == expected_store


def test_webhooks_replays_and_a_reconcile_count_each_event_once(stack):
    place_ada(stack)
    for _ in range(3):  # delivered three times, each a new webhook-id
        assert stack.deliver(webhook_event("store/order/created", {"type": "order", "id": 1001}))["statusCode"] == 200
    place(stack, 1002, email="shopper@example.com")
    stack.store.set_status(1001, 2, at=datetime.now(UTC), shipped=True)
    stack.deliver(webhook_event("store/order/statusUpdated", {"type": "order", "id": 1001}))
    reconcile(stack)  # reads 1001 again and recovers the dropped 1002
    reconcile(stack)
    assert_counters_match_events(stack)
    _, store = counted_by_counters(stack)
    assert store[("Placed Order", None)][0] == 2 and store[("Fulfilled Order", None)][0] == 1


def test_a_backfill_counts_its_pages_once_even_when_run_again(stack, monkeypatch):
    monkeypatch.setattr(bigcommerce, "PAGE_LIMIT", 4)
    history(stack, orders=9)
    start_backfill(stack)
    stack.run_jobs()
    start_backfill(stack)
    stack.run_jobs()
    assert_counters_match_events(stack)
    _, store = counted_by_counters(stack)
    assert store[("Placed Order", None)][0] == 9


def ada_takes_a_guests_address(stack):
    """Ada (an account, one order) takes the address of a guest (one order): her next delivery
    makes the guest's profile and hers one person. Another shopper has an order too."""
    guest_order(stack, 3004, "countess@example.com", hours=10)
    guest_order(stack, 3006, "someone@example.com", hours=9)
    add_ada(stack)
    stack.deliver(customer_event("created"))
    place_ada(stack)
    stack.deliver(webhook_event("store/order/created", {"type": "order", "id": 1001}))
    stack.store.update_customer(7, at=datetime.now(UTC), email="countess@example.com")
    stack.deliver(customer_event("updated"))


def test_a_merge_moves_the_counters_and_an_erasure_takes_a_person_out_of_the_stores(stack):
    ada_takes_a_guests_address(stack)
    assert_counters_match_events(stack)
    people, _ = counted_by_counters(stack)
    ada = next(p["id"] for p in stack.profiles() if p["email"] == "countess@example.com")
    assert people[ada][("Placed Order", None)][0] == 2
    # what for-you reads moved with the merge too: the guest's lines and Ada's, once each
    assert container().counters.person_products(STORE_HASH, ada).bought == bought_by_events(stack, ada)
    assert bought_by_events(stack, ada) == {101: 1, 102: 3}  # her shirt and mugs, and the guest's mug
    assert container().erasure.erase(STORE_HASH, "countess@example.com") is not None
    assert container().erasure.erase(STORE_HASH, "countess@example.com") is None  # done already
    assert_counters_match_events(stack)
    people, store = counted_by_counters(stack)
    assert ada not in people and store[("Placed Order", None)][0] == 1  # the other shopper's
    assert container().counters.person_products(STORE_HASH, ada).bought == {}


def test_a_merge_reads_the_counters_it_moves_as_they_are(stack, monkeypatch):
    """DynamoDB answers a query from what it last replicated unless asked for a consistent read
    (moto always answers as things are): the counters a merge moves are read consistently."""
    queries = []
    make_api_call = BaseClient._make_api_call

    def watched(client, operation, params):
        merging = stack.calls.current == "CustomersWebhookFunction"
        if merging and operation == "Query" and params["TableName"].endswith("CountersTable"):
            queries.append(params)
        return make_api_call(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", watched)
    ada_takes_a_guests_address(stack)
    assert queries and all(q.get("ConsistentRead") is True for q in queries), queries
