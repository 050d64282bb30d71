"""Klaviyo's flow rules against the real run store (moto): re-entry windows, consent, smart
sending, and a send that fails after the run's step was saved (a crash mid-step)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import yaml

from bcsync.domain.flow_definitions import parse_flow_file
from bcsync.domain.flow_runs import flow_status
from bcsync.wiring import container
from bcsync_ops.sandbox import Line
from bcsync_ops.stack_reader import StackReader
from tests.integration.conftest import STORE_HASH, ago, webhook_event


def apply_flows(text: str) -> None:
    container().flow_library.apply(STORE_HASH, parse_flow_file(yaml.safe_load(text)))


def ada_orders(stack, order_id: int, created: datetime) -> None:
    store = stack.store
    store.place_order(
        order_id,
        email="ada@example.com",
        first_name="Ada",
        last_name="Lovelace",
        customer_id=7,
        lines=[Line(store.products[102], 1, Decimal(0))],
        created=created,
    )
    assert (
        stack.invoke_orders(webhook_event("store/order/created", {"type": "order", "id": order_id}))["statusCode"]
        == 200
    )


def subscribe_ada(stack) -> None:
    stack.store.subscribe(5, email="ada@example.com", first_name="Ada", at=ago(days=1))
    assert (
        stack.deliver(webhook_event("store/subscriber/created", {"type": "subscriber", "id": 5}))["statusCode"] == 200
    )


def statuses():
    return flow_status(list(StackReader(container().dynamodb, container().settings).runs_of_store(STORE_HASH)))


def test_a_reentry_window_lets_a_person_in_again_only_once_it_has_passed(stack):
    apply_flows(
        "flows: [{name: Thanks, kind: transactional, trigger: {metric: Placed Order},"
        " reentry: {every: {days: 30}}, steps: [{action: {template: thanks}}]}]"
    )
    ada_orders(stack, 1001, ago(days=40))
    stack.drain_streams()
    ada_orders(stack, 1002, ago(days=10))  # her last entry was 40 days ago: outside the window
    stack.drain_streams()
    ada_orders(stack, 1003, ago(hours=1))  # her last entry was 10 days ago: inside it
    stack.drain_streams()
    sent = [action["event"]["source_id"] for action in stack.actions()]
    assert sent == ["order:1001", "order:1002"]


def test_marketing_waits_for_consent_and_smart_sending_skips_a_second_email_within_16_hours(stack):
    apply_flows(
        """
flows:
  - {name: Thanks, trigger: {metric: Placed Order}, steps: [{action: {template: thanks}}]}
  - {name: Tips, trigger: {metric: Placed Order}, steps: [{action: {template: tips}}]}
"""
    )
    ada_orders(stack, 1001, ago(hours=3))  # not subscribed: nothing
    stack.drain_streams()
    assert stack.actions() == []
    subscribe_ada(stack)
    ada_orders(stack, 1002, ago(hours=1))
    stack.drain_streams()
    [sent] = stack.actions()  # the first marketing email goes, the second is skipped
    counts = statuses()
    assert counts["Thanks"].skipped.get("consent") == counts["Tips"].skipped.get("consent") == 1
    assert counts["Thanks"].sent + counts["Tips"].sent == 1
    assert counts["Thanks"].skipped.get("smart sending", 0) + counts["Tips"].skipped.get("smart sending", 0) == 1
    assert sent["template"] in {"thanks", "tips"} and sent["profile"]["consent"]["email_marketing"] == "subscribed"


def test_a_send_that_fails_after_the_step_was_saved_goes_out_once_at_the_next_tick(stack, monkeypatch):
    apply_flows(
        "flows: [{name: Thanks, kind: transactional, trigger: {metric: Placed Order},"
        " steps: [{action: {template: thanks}}]}]"
    )
    from bcsync.adapters.sqs import SqsActionPublisher  # late: its logger and metrics read the stack's settings

    real_publish = SqsActionPublisher.publish

    def unreachable(self, messages):
        raise ConnectionError("SQS unreachable")

    monkeypatch.setattr(SqsActionPublisher, "publish", unreachable)
    ada_orders(stack, 1001, ago(hours=1))
    stack.drain_streams(failures_expected=True)  # the stream record fails: Lambda retries it
    assert stack.actions() == []
    [owed] = StackReader(container().dynamodb, container().settings).runs_of_store(STORE_HASH)
    assert [p.step for p in owed.outbox] == [0] and owed.errors == 1  # its step saved, its send owed
    monkeypatch.setattr(SqsActionPublisher, "publish", real_publish)
    stack.tick(datetime.now(UTC))
    [action] = stack.actions()
    assert action["dedup_key"] == f"{owed.run_id}:0"
    stack._stream_positions.clear()  # the failed record handed over again, as Lambda retries it
    stack.drain_streams()
    stack.tick(datetime.now(UTC) + timedelta(minutes=1))
    assert stack.actions() == []
    assert statuses()["Thanks"].sent == 1
