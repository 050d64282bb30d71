"""AWS requests per order webhook, counted by operation in-process (counts are deterministic;
their timing is for `make bench`). A warm store: the secret and the catalog are cached."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bcsync_ops.measure import aws_requests, place_measured_orders
from tests.integration.conftest import ago, webhook_event


@pytest.fixture
def warm(stack):
    created = ago(hours=2)
    place_measured_orders(stack.store, created)
    assert stack.invoke_orders(order_event(3000))["statusCode"] == 200
    stack.triggers()  # drained: each test sees its own
    return stack, created


def order_event(order_id, scope="store/order/created", webhook_id=None, **data):
    return webhook_event(scope, {"type": "order", "id": order_id, **data}, webhook_id=webhook_id)


def counted(stack, event):
    with aws_requests() as requests:
        assert stack.invoke_orders(event)["statusCode"] == 200
    return dict(requests)


def test_a_new_order_is_one_read_one_write_and_its_triggers_in_batches(warm):
    stack, _ = warm
    dedupe = {"PutItem": 1, "UpdateItem": 1}  # Powertools' in-progress and completed records
    one_write_one_settle = {"BatchGetItem": 1, "TransactWriteItems": 2}
    assert counted(stack, order_event(3001)) == {**dedupe, **one_write_one_settle, "SendMessageBatch": 1}
    # 24 lines: 26 triggers (a Cross Sell per line, Winback, First Order) go 10 to a batch.
    assert counted(stack, order_event(3002)) == {**dedupe, **one_write_one_settle, "SendMessageBatch": 3}
    triggers = stack.triggers()
    assert len(triggers) == 5 + 26
    assert len({t["dedup_key"] for t in triggers}) == len(triggers)


def test_a_redelivery_costs_the_dedupe_check_only(warm):
    stack, _ = warm
    first = order_event(3001, webhook_id="msg_same")
    stack.invoke_orders(first)
    assert counted(stack, first) == {"PutItem": 1}


def test_status_updates_write_only_what_they_add(warm):
    stack, created = warm
    stack.invoke_orders(order_event(3001))
    stack.invoke_orders(order_event(3002))
    stack.triggers()
    stack.store.set_status(3001, 2, at=created + timedelta(minutes=30), shipped=True)
    shipped = order_event(3001, "store/order/statusUpdated", status={"previous_status_id": 11, "new_status_id": 2})
    # Fulfilled Order starts no default flow: one read, one write.
    assert counted(stack, shipped) == {"PutItem": 1, "BatchGetItem": 1, "TransactWriteItems": 1, "UpdateItem": 1}
    stack.store.set_status(3002, 9, at=created + timedelta(minutes=40))
    packed = order_event(3002, "store/order/statusUpdated", status={"previous_status_id": 11, "new_status_id": 9})
    assert counted(stack, packed) == {"PutItem": 1, "BatchGetItem": 1, "UpdateItem": 1}
    assert stack.triggers() == []
    assert sum(":fulfilled-order:" in key for key in stack.events()) == 1
