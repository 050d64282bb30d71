"""The orders webhook and retry consumer, end to end inside one process under moto."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bcsync.domain.stores import Family
from bcsync.usecases.ingest import RawDelivery
from bcsync_ops.sandbox import Line
from tests.integration.conftest import Killed, after_a_kill, ago, load_event, sqs_event, webhook_event

PLACED = "sandbox:placed-order:order:1001"


def place_ada(stack, status_id: int = 11, **kwargs):
    store = stack.store
    shirt, mug = store.products[101], store.products[102]
    return store.place_order(
        1001,
        email="ada@example.com",
        first_name="Ada",
        last_name="Lovelace",
        customer_id=7,
        lines=[Line(shirt, 1, Decimal("4"), coupon="WELCOME10"), Line(mug, 2)],
        created=ago(hours=3),
        status_id=status_id,
        **kwargs,
    )


def body(response):
    return json.loads(response["body"])


def test_order_created_event_file_writes_events_profile_and_triggers(stack):
    place_ada(stack)
    response = stack.invoke_orders(load_event("order_created.json"))
    assert response["statusCode"] == 200, response
    assert body(response)["new_events"] == 3
    events = stack.events()
    assert set(events) == {
        PLACED,
        "sandbox:ordered-product:order:1001:product:1",
        "sandbox:ordered-product:order:1001:product:2",
    }
    placed = events[PLACED]
    assert placed["value"] == Decimal("65.0000")
    assert placed["properties"]["Coupons"] == ["WELCOME10"]
    assert placed["properties"]["Item Categories"] == ["Apparel", "Kitchen", "Shirts"]
    assert placed["properties"]["Items Detail"][0]["ProductURL"] == "https://sandbox.example.com/linen-shirt/"
    profiles = [item for item in stack.table("ProfilesTable") if item.get("entity") == "profile"]
    assert len(profiles) == 1
    profile = profiles[0]["profile"]
    assert profile["email"] == "ada@example.com"
    assert profile["external_id"] == "7"
    assert profile["properties"]["City"] == "Austin"
    assert placed["profile_id"] == profile["id"]
    flows = sorted(t["flow"] for t in stack.triggers())
    assert flows == ["Customer Winback", "First Order", "Product Review / Cross Sell", "Product Review / Cross Sell"]


def test_one_order_call_when_line_items_are_embedded_and_catalog_cached(stack):
    place_ada(stack)
    stack.invoke_orders(load_event("order_created.json"))
    first = list(stack.store.requests)
    assert first[0] == "/stores/sandbox/v2/orders/1001"
    assert not any(path.endswith("/products") and "/orders/" in path for path in first)
    stack.store.place_order(
        1002,
        email="ada@example.com",
        first_name="Ada",
        last_name="Lovelace",
        customer_id=7,
        lines=[Line(stack.store.products[101], 1)],
        created=ago(hours=1),
    )
    stack.store.requests.clear()
    stack.invoke_orders(webhook_event("store/order/created", {"type": "order", "id": 1002}))
    assert stack.store.requests == ["/stores/sandbox/v2/orders/1002"]


def test_duplicate_delivery_is_answered_from_the_dedupe_record(stack):
    place_ada(stack)
    first = stack.invoke_orders(load_event("order_created.json"))
    calls = len(stack.store.requests)
    second = stack.invoke_orders(load_event("order_created.json"))
    assert second["statusCode"] == 200
    assert body(second) == body(first)
    assert len(stack.store.requests) == calls
    assert len(stack.triggers()) == 4


def test_replay_under_a_new_webhook_id_creates_nothing(stack):
    place_ada(stack)
    stack.invoke_orders(load_event("order_created.json"))
    stack.triggers()
    before = stack.events()
    replay = stack.invoke_orders(webhook_event("store/order/updated", {"type": "order", "id": 1001}))
    assert body(replay)["new_events"] == 0
    assert stack.events().keys() == before.keys()
    assert stack.triggers() == []


def test_out_of_order_status_update_before_created(stack):
    place_ada(stack)
    stack.store.set_status(1001, 2, at=ago(hours=2), shipped=True)
    stack.invoke_orders(load_event("order_status_updated.json"))
    assert "sandbox:fulfilled-order:order:1001" in stack.events()
    assert PLACED in stack.events()
    late_created = stack.invoke_orders(load_event("order_created.json"))
    assert body(late_created)["new_events"] == 0
    assert len(stack.events()) == 4


def test_refund_webhook_and_status_webhook_yield_one_refund_event(stack):
    place_ada(stack)
    stack.invoke_orders(load_event("order_created.json"))
    stack.store.refund(1001, Decimal("13.20"), at=ago(hours=1))
    stack.store.set_status(1001, 14, at=ago(hours=1))
    stack.invoke_orders(load_event("order_refund_created.json"))
    stack.invoke_orders(webhook_event("store/order/statusUpdated", {"type": "order", "id": 1001}))
    refunds = {k: v for k, v in stack.events().items() if ":refunded-order:" in k}
    assert list(refunds) == ["sandbox:refunded-order:refund:1"]
    assert refunds["sandbox:refunded-order:refund:1"]["value"] == Decimal("13.2")
    assert refunds["sandbox:refunded-order:refund:1"]["properties"]["Status"] == "Partially Refunded"


def test_awaiting_payment_order_writes_nothing(stack):
    place_ada(stack, status_id=7)
    response = stack.invoke_orders(load_event("order_created.json"))
    assert body(response)["status"] == "not_placed"
    assert stack.events() == {}
    assert stack.triggers() == []


def test_more_than_fifty_lines_fall_back_to_the_products_endpoint(stack):
    store = stack.store
    lines = [Line(store.products[104], 1) for _ in range(60)]
    store.place_order(1001, email="big@example.com", first_name="B", last_name="Ig", lines=lines, created=ago(hours=1))
    stack.invoke_orders(load_event("order_created.json"))
    assert "/stores/sandbox/v2/orders/1001/products" in store.requests
    assert sum(":ordered-product:" in key for key in stack.events()) == 60


def test_second_order_of_a_profile_gets_no_second_first_order_trigger(stack):
    place_ada(stack)
    stack.invoke_orders(load_event("order_created.json"))
    assert sum(t["flow"] == "First Order" for t in stack.triggers()) == 1
    stack.store.place_order(
        1002,
        email="ADA@example.com",
        first_name="Ada",
        last_name="Lovelace",
        customer_id=7,
        lines=[Line(stack.store.products[103], 1)],
        created=ago(hours=1),
    )
    stack.invoke_orders(webhook_event("store/order/created", {"type": "order", "id": 1002}))
    flows = [t["flow"] for t in stack.triggers()]
    assert "First Order" not in flows
    assert "Customer Winback" in flows
    placed = [v for k, v in stack.events().items() if ":placed-order:" in k]
    assert len({event["profile_id"] for event in placed}) == 1


def test_trigger_message_carries_flow_profile_event_and_dedup_key(stack):
    place_ada(stack)
    stack.invoke_orders(load_event("order_created.json"))
    winback = next(t for t in stack.triggers() if t["flow"] == "Customer Winback")
    assert winback["dedup_key"] == f"customer_winback:{PLACED}"
    assert winback["profile"]["email"] == "ada@example.com"
    assert winback["event"]["id"] == PLACED
    assert winback["event"]["metric"] == "Placed Order"


# ------------------------------------------------------------------ bad input: 4xx, nothing written
def assert_nothing_written(stack):
    assert stack.events() == {}
    assert stack.table("ProfilesTable") == []
    assert stack.table("DeliveriesTable") == []
    assert stack.receive("RetryQueue") == []


@pytest.mark.parametrize(
    ("make_event", "status"),
    [
        (lambda: {**load_event("order_created.json"), "headers": {"content-type": "application/json"}}, 401),
        (lambda: {**load_event("order_created.json"), "headers": {"x-webhook-token": "wrong"}}, 401),
        (
            lambda: webhook_event(
                "store/order/created",
                {"type": "order", "id": 1001},
                headers={
                    "webhook-id": "m",
                    "webhook-timestamp": str(int(ago(minutes=6).timestamp())),
                    "webhook-signature": "v1,AAAA",
                },
            ),
            401,
        ),
        (
            lambda: {
                **webhook_event("store/order/created", {"type": "order", "id": 1001}),
                "body": load_event("order_created.json")["body"].replace("1001", "1002"),
            },
            401,
        ),
        (lambda: webhook_event("", {}, body="{not json"), 400),
        (lambda: webhook_event("", {}, body='["a list"]'), 400),
        (lambda: webhook_event("store/cart/created", {"type": "cart", "id": "c-1"}, family="orders"), 400),
        (lambda: webhook_event("store/order/created", {"type": "order", "id": "abc"}), 400),
        (lambda: webhook_event("store/order/created", {"type": "order", "id": 1001}, store_hash="nosuchstore"), 404),
        (lambda: webhook_event("store/order/created", {"type": "order", "id": 1001, "pad": "x" * 70_000}), 413),
    ],
    ids=[
        "unsigned",
        "wrong-token",
        "stale",
        "tampered",
        "malformed",
        "not-object",
        "wrong-scope",
        "bad-id",
        "unknown-store",
        "oversized",
    ],
)
def test_bad_deliveries_get_a_json_4xx_and_write_nothing(stack, make_event, status):
    place_ada(stack)
    response = stack.invoke_orders(make_event())
    assert response["statusCode"] == status
    assert "error" in json.loads(response["body"])
    assert_nothing_written(stack)


def test_unhandled_scope_of_the_family_is_acknowledged_without_work(stack):
    response = stack.invoke_orders(webhook_event("store/order/message/created", {"type": "order", "id": 1001}))
    assert response["statusCode"] == 200
    assert body(response)["status"] == "ignored"
    assert stack.store.requests == []


# ------------------------------------------------------------------ faults: park, answer 200, retry
def test_bigcommerce_5xx_parks_the_delivery_and_the_retry_consumer_finishes_it(stack):
    place_ada(stack)
    stack.store.fail_next(r"/v2/orders/1001$", 500, times=10)
    response = stack.invoke_orders(load_event("order_created.json"))
    assert response["statusCode"] == 200
    assert body(response) == {"status": "parked"}
    assert stack.events() == {}
    parked = stack.receive("RetryQueue")
    assert len(parked) == 1
    assert "x-webhook-token" not in parked[0]["Body"]
    stack.store.clear_faults()
    result = stack.invoke_retry(sqs_event(parked))
    assert result == {"batchItemFailures": []}
    assert PLACED in stack.events()
    assert len(stack.triggers()) == 4
    again = stack.invoke_retry(sqs_event(parked))
    assert again == {"batchItemFailures": []}
    assert stack.triggers() == []


def test_a_delivery_in_progress_elsewhere_is_refused_for_now_and_done_by_the_retry(stack, kills):
    place_ada(stack)
    event = load_event("order_created.json")
    kills.next("TransactWriteItems", landed=False)  # the first invocation dies mid-way
    with pytest.raises(Killed):
        stack.invoke_orders(event)
    duplicate = stack.invoke_orders(event)  # the same delivery while the first still counts as running
    assert duplicate["statusCode"] == 409
    assert body(duplicate) == {"error": "this delivery is being processed; retry later"}
    assert stack.events() == {}
    after_a_kill(stack)  # a minute on: the dead invocation's in-progress record has expired
    retried = stack.invoke_orders(event)
    assert retried["statusCode"] == 200 and body(retried)["new_events"] == 3


def test_rate_limit_longer_than_the_budget_parks(stack):
    place_ada(stack)
    stack.store.fail_next(r"/v2/orders/1001$", 429, headers={"X-Rate-Limit-Time-Reset-Ms": "20000"})
    assert body(stack.invoke_orders(load_event("order_created.json"))) == {"status": "parked"}
    assert len(stack.receive("RetryQueue")) == 1


def test_retry_batch_reports_only_the_failed_message(stack):
    place_ada(stack)
    stack.store.place_order(
        1002,
        email="g@example.org",
        first_name="G",
        last_name="H",
        lines=[Line(stack.store.products[103], 1)],
        created=ago(hours=1),
    )
    stack.store.fail_next(r"/v2/orders/100[12]$", 500, times=8)
    stack.invoke_orders(load_event("order_created.json"))
    stack.invoke_orders(webhook_event("store/order/created", {"type": "order", "id": 1002}))
    parked = stack.receive("RetryQueue")
    assert len(parked) == 2
    stack.store.clear_faults()
    stack.store.fail_next(r"/v2/orders/1002$", 500, times=8)
    poison = {**parked[0], "MessageId": "poison", "Body": "{not json"}
    result = stack.invoke_retry(sqs_event([*parked, poison]))
    failed = {item["itemIdentifier"] for item in result["batchItemFailures"]}
    assert failed == {parked[1]["MessageId"], "poison"}
    assert PLACED in stack.events()


def test_delivery_parked_unauthenticated_is_verified_at_retry(stack):
    """Credentials unreadable at receipt: parked as received, judged later against receipt time."""
    place_ada(stack)
    good = webhook_event("store/order/created", {"type": "order", "id": 1001})
    delivery = RawDelivery.received(Family.ORDERS, good["headers"], good["body"], datetime.now(UTC))
    forged = delivery.model_copy(update={"body": delivery.body.replace("1001", "1002")})
    messages = [
        {"MessageId": "good", "ReceiptHandle": "r1", "Body": delivery.model_dump_json()},
        {"MessageId": "forged", "ReceiptHandle": "r2", "Body": forged.model_dump_json()},
    ]
    assert stack.invoke_retry(sqs_event(messages)) == {"batchItemFailures": []}
    assert PLACED in stack.events()
    assert not any("1002" in key for key in stack.events())


def test_logs_name_people_only_by_masked_email(stack, logs):
    place_ada(stack)
    stack.invoke_orders(load_event("order_created.json"))
    text = logs.getvalue()
    assert '"email":"a***@e***"' in text.replace(" ", "")
    assert "ada@example.com" not in text
