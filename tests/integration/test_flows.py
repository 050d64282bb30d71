"""The flow runner under moto, fed as in AWS: the Events and Triggers table streams, the minute
tick (at times the test chooses), the action queue. A person who orders inside the delay gets
nothing; duplicates and replays start nothing twice; each action is queued once."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import yaml

from bcsync.domain.flow_definitions import parse_flow_file
from bcsync.wiring import container
from bcsync_ops import flows
from tests.integration.conftest import STORE_HASH, load_event, use_settings, webhook_event
from tests.integration.test_customers_webhook import add_ada
from tests.integration.test_orders_webhook import place_ada

FLOWS = """
flows:
  - name: Order Follow-up
    kind: transactional
    trigger: {metric: Placed Order}
    filters: [{metric: Refunded Order, count: 0, since: flow_start}]
    steps:
      - delay: {hours: 2}
      - action: {template: how-was-it}
  - name: New Account
    kind: transactional
    trigger: {profile: account_created}
    reentry: once
    steps:
      - action: {template: hello}
"""


def apply_flows(text: str = FLOWS) -> None:
    container().flow_library.apply(STORE_HASH, parse_flow_file(yaml.safe_load(text)))


def test_an_order_enters_its_flow_waits_and_gets_one_action(stack):
    apply_flows()
    place_ada(stack)
    stack.invoke_orders(load_event("order_created.json"))
    assert stack.drain_streams() > 0
    now = datetime.now(UTC)
    stack.tick(now + timedelta(hours=1))
    assert stack.actions() == []
    stack.tick(now + timedelta(hours=2, minutes=1))
    [action] = stack.actions()
    assert action["flow"] == "Order Follow-up" and action["template"] == "how-was-it"
    assert action["profile"]["email"] == "ada@example.com"
    assert action["event"]["metric"] == "Placed Order"
    assert {item["name"] for item in action["context"]["items"]} == {"Linen Shirt", "Ceramic Mug"}
    stack.tick(now + timedelta(hours=3))
    assert stack.actions() == []  # done: nothing twice


def test_a_replayed_order_and_a_redelivered_stream_start_nothing_twice(stack):
    apply_flows()
    place_ada(stack)
    stack.invoke_orders(load_event("order_created.json"))
    stack.drain_streams()
    stack.invoke_orders(webhook_event("store/order/created", {"type": "order", "id": 1001}))  # a replay
    stack._stream_positions.clear()  # the stream handed over again from its start
    stack.drain_streams()
    stack.tick(datetime.now(UTC) + timedelta(hours=3))
    assert len(stack.actions()) == 1


def test_a_refund_inside_the_delay_ends_the_run(stack):
    apply_flows()
    place_ada(stack)
    stack.invoke_orders(load_event("order_created.json"))
    stack.drain_streams()
    refunded = stack.store.refund(1001, stack.store.orders[1001]["total_inc_tax"], at=datetime.now(UTC))
    assert refunded
    stack.invoke_orders(webhook_event("store/order/refund/created", {"type": "order", "id": 1001}))
    stack.drain_streams()
    stack.tick(datetime.now(UTC) + timedelta(hours=3))
    assert stack.actions() == []


def test_a_new_account_enters_its_flow_once_from_the_promised_trigger(stack):
    apply_flows()
    add_ada(stack)
    stack.deliver(load_event("customer_created.json"))
    stack.drain_streams()
    [action] = stack.actions()
    assert (action["flow"], action["template"], action["event"]) == ("New Account", "hello", None)
    stack.deliver(webhook_event("store/customer/created", {"type": "customer", "id": 7}))  # a replay
    stack.drain_streams()
    assert stack.actions() == []


def test_operators_see_each_flows_counts_and_a_persons_steps(stack, capsys):
    apply_flows()
    place_ada(stack)
    stack.invoke_orders(load_event("order_created.json"))
    stack.drain_streams()
    stack.tick(datetime.now(UTC) + timedelta(hours=3))
    handle = stack.handle()
    assert flows.status(handle.reader().runs_of_store(STORE_HASH), STORE_HASH, sys.stdout) == 0
    assert capsys.readouterr().out == (
        "Order Follow-up: 0 active, 1 done, 1 actions sent; skipped: none; exited: none; errors: 0\n"
    )

    def runs_of(email: str) -> int:
        repository = handle.container.profile_repository
        return flows.runs_of_person(
            handle.container.flow_runs, repository, STORE_HASH, email, out=sys.stdout, err=sys.stderr
        )

    assert runs_of("ADA@example.com") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Order Follow-up: entered ") and lines[0].endswith("on order:1001, done")
    assert [line.split(": ", 1)[1] for line in lines[1:]] == ["waiting", "sent"]
    assert runs_of("nobody@example.com") == 1


def test_back_population_enters_past_buyers_where_they_would_be_now_once(stack, capsys):
    place_ada(stack)  # placed three hours ago
    stack.invoke_orders(load_event("order_created.json"))  # recorded before the flow existed
    apply_flows()
    handle = stack.handle()
    dry = SimpleNamespace(flow="Order Follow-up", since=None, dry_run=True)
    assert (
        flows.backpopulate(
            handle.container.flow_runner, handle.reader(), STORE_HASH, dry, out=sys.stdout, err=sys.stderr
        )
        == 0
    )
    assert capsys.readouterr().out == "Order Follow-up: 1 people would enter\n  done (its steps due now): 1\n"
    assert stack.actions() == []
    real = SimpleNamespace(flow="Order Follow-up", since=None, dry_run=False)
    flows.backpopulate(handle.container.flow_runner, handle.reader(), STORE_HASH, real, out=sys.stdout, err=sys.stderr)
    assert [a["template"] for a in stack.actions()] == ["how-was-it"]  # its 2-hour wait ended an hour ago
    flows.backpopulate(
        handle.container.flow_runner, handle.reader(), STORE_HASH, real, out=sys.stdout, err=sys.stderr
    )  # run twice
    assert stack.actions() == []
    unknown = SimpleNamespace(flow="Nope", since=None, dry_run=True)
    assert (
        flows.backpopulate(
            handle.container.flow_runner, handle.reader(), STORE_HASH, unknown, out=sys.stdout, err=sys.stderr
        )
        == 1
    )


def test_back_population_enters_past_account_openings_from_their_profiles_once(stack, capsys):
    add_ada(stack)  # opened two days ago
    assert stack.deliver(webhook_event("store/customer/created", {"type": "customer", "id": 7}))["statusCode"] == 200
    stack.drain_streams()  # its New Customer trigger found no flow: nothing entered
    apply_flows()
    handle = stack.handle()
    recent = SimpleNamespace(flow="New Account", since=datetime.now(UTC) - timedelta(days=1), dry_run=True)
    flows.backpopulate(
        handle.container.flow_runner, handle.reader(), STORE_HASH, recent, out=sys.stdout, err=sys.stderr
    )
    assert capsys.readouterr().out == "New Account: 0 people would enter\n"  # opened before --since
    real = SimpleNamespace(flow="New Account", since=None, dry_run=False)
    flows.backpopulate(handle.container.flow_runner, handle.reader(), STORE_HASH, real, out=sys.stdout, err=sys.stderr)
    [action] = stack.actions()
    assert (action["template"], action["profile"]["email"]) == ("hello", "ada@example.com")
    flows.backpopulate(handle.container.flow_runner, handle.reader(), STORE_HASH, real, out=sys.stdout, err=sys.stderr)
    assert stack.actions() == []


def test_a_marketing_action_carries_an_unsubscribe_link_that_withdraws_consent(stack, monkeypatch, tmp_path):
    use_settings(monkeypatch, tmp_path, {"stores": {STORE_HASH: {"public_base_url": "https://shop.example"}}})
    apply_flows("flows: [{name: Thanks, trigger: {metric: Placed Order}, steps: [{action: {template: thanks}}]}]")
    stack.store.subscribe(5, email="ada@example.com", first_name="Ada", at=datetime.now(UTC) - timedelta(days=1))
    stack.deliver(webhook_event("store/subscriber/created", {"type": "subscriber", "id": 5}))
    place_ada(stack)
    stack.invoke_orders(load_event("order_created.json"))
    stack.drain_streams()
    [action] = stack.actions()
    link = action["context"]["unsubscribe_url"]
    assert link.startswith("https://shop.example/subscriptions/unsubscribe?token=")
    event = load_event("subscription_confirm.json")
    token = link.split("token=", 1)[1]
    event.update(
        rawPath="/subscriptions/unsubscribe", rawQueryString=f"token={token}", queryStringParameters={"token": token}
    )
    event["requestContext"]["http"]["path"] = "/subscriptions/unsubscribe"
    answer = stack.invoke("ConfirmSubscriptionFunction", event)
    assert answer["statusCode"] == 200 and "You are unsubscribed" in answer["body"]
    (ada,) = [p for p in stack.profiles() if p["email"] == "ada@example.com"]
    assert (ada["consent"]["email_marketing"], ada["lists"]) == ("unsubscribed", ["Customers"])
    stack.deliver(webhook_event("store/subscriber/updated", {"type": "subscriber", "id": 5}))  # older record
    (ada,) = [p for p in stack.profiles() if p["email"] == "ada@example.com"]
    assert ada["consent"]["email_marketing"] == "unsubscribed"
    tampered = dict(event, rawQueryString=f"token={token}x", queryStringParameters={"token": f"{token}x"})
    assert stack.invoke("ConfirmSubscriptionFunction", tampered)["statusCode"] == 400
