"""`bcsync local` over real HTTP: signed webhooks in, `bcsync ... export` out, a fake BigCommerce behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest

from bcsync.domain.webhooks import sign
from bcsync_ops.demo import ACCESS_TOKEN, CLIENT_SECRET, STORE_HASH, sandbox_store
from bcsync_ops.sandbox import Line, SandboxServer, SandboxStore
from bcsync_ops.webhook_sender import WebhookSender

pytestmark = pytest.mark.e2e
BCSYNC = [sys.executable, "-m", "bcsync_ops.cli"]


def settings_file(directory: Path) -> Path:
    path = directory / "bcsync-settings.json"
    path.write_text(json.dumps({"stores": {STORE_HASH: {"double_opt_in": True}}}))
    return path


@contextmanager
def local_stack(tmp_path: Path, *options: str) -> Iterator[tuple[SandboxStore, WebhookSender, dict[str, str]]]:
    store = sandbox_store()
    server = SandboxServer(store).start()
    env = {
        **os.environ,
        "BIGCOMMERCE_STORE_HASH": STORE_HASH,
        "BIGCOMMERCE_ACCESS_TOKEN": ACCESS_TOKEN,
        "BIGCOMMERCE_CLIENT_SECRET": CLIENT_SECRET,
        "BIGCOMMERCE_API_URL": server.url,
        "BCSYNC_STATE_DIR": str(tmp_path),
        "SETTINGS_FILE": str(settings_file(tmp_path)),
    }
    process = subprocess.Popen(
        # Port 0: the system picks a free one (no race between test workers); the stack says which.
        [*BCSYNC, "local", "--port", "0", "--log-level", "ERROR", *options],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "local-stack.json").exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"bcsync local did not start:\n{process.stdout.read() if process.stdout else ''}")
            time.sleep(0.2)
        api_url = json.loads((tmp_path / "local-stack.json").read_text())["api_url"]
        yield store, WebhookSender(api_url, STORE_HASH, CLIENT_SECRET), env
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired as timeout:
            process.kill()
            process.wait(timeout=10)
            raise AssertionError("bcsync local did not stop on SIGTERM") from timeout
        finally:
            server.stop()


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[SandboxStore, WebhookSender, dict[str, str]]]:
    with local_stack(tmp_path) as started:
        yield started


def export(kind: str, env: dict[str, str]) -> list[dict]:
    result = subprocess.run([*BCSYNC, kind, "export"], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def local_aws() -> boto3.session.Session:
    """A boto3 session on the running local stack's moto (its endpoint, any credentials)."""
    return boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local", region_name="us-east-1")


def local_queue(env: dict[str, str], logical_id: str) -> tuple[Any, str]:
    """An SQS client on the running local stack, and the URL of one of its queues."""
    state = json.loads((Path(env["BCSYNC_STATE_DIR"]) / "local-stack.json").read_text())
    sqs = local_aws().client("sqs", endpoint_url=state["aws_endpoint"])
    return sqs, state["physical"][logical_id]


def confirmation_link(env: dict[str, str]) -> str:
    """What a consumer of the flow-trigger queue would find in the Confirm Subscription message."""
    sqs, url = local_queue(env, "FlowTriggerQueue")
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)["Messages"]
    bodies = [json.loads(message["Body"]) for message in messages]
    return next(body["details"]["confirmation_url"] for body in bodies if body["flow"] == "Confirm Subscription")


def test_signed_order_webhooks_over_http_export_exactly_the_implied_events(running):
    store, sender, env = running
    now = datetime.now(UTC).replace(microsecond=0)
    shirt, mug = store.products[101], store.products[102]
    store.place_order(
        501,
        email="ada@example.com",
        first_name="Ada",
        last_name="Lovelace",
        customer_id=7,
        lines=[Line(shirt, 1, Decimal("4"), coupon="WELCOME10"), Line(mug, 2)],
        created=now - timedelta(hours=2),
    )
    assert sender.send("orders", "store/order/created", {"type": "order", "id": 501})[0] == 200
    store.set_status(501, 2, at=now - timedelta(hours=1), shipped=True)
    # Delivered twice, under the same webhook-id: one set of effects.
    for _ in range(2):
        assert (
            sender.send("orders", "store/order/statusUpdated", {"type": "order", "id": 501}, webhook_id="msg_dup")[0]
            == 200
        )
    store.place_order(
        502,
        email="guest@example.org",
        first_name="G",
        last_name="Uest",
        lines=[Line(mug, 1)],
        created=now - timedelta(minutes=30),
        status_id=7,
    )
    assert sender.send("orders", "store/order/created", {"type": "order", "id": 502})[0] == 200

    events = export("events", env)
    ids = sorted(event["id"] for event in events)
    assert ids == sorted(
        [
            "sandbox:placed-order:order:501",
            "sandbox:ordered-product:order:501:product:1",
            "sandbox:ordered-product:order:501:product:2",
            "sandbox:fulfilled-order:order:501",
        ]
    )
    placed = next(e for e in events if e["metric"] == "Placed Order")
    assert placed["value"] == 65
    assert placed["time"] == (now - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert placed["source_id"] == "order:501"
    assert set(placed) == {
        "id",
        "store_hash",
        "metric",
        "profile_id",
        "time",
        "value",
        "currency",
        "properties",
        "source",
        "source_id",
        "backfill",
    }
    fulfilled = next(e for e in events if e["metric"] == "Fulfilled Order")
    assert fulfilled["time"] == (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")

    profiles = export("profiles", env)
    assert [(p["email"], p["external_id"]) for p in profiles] == [("ada@example.com", "7")]
    assert profiles[0]["lists"] == ["Customers"]
    triggers = export("triggers", env)
    assert sorted(t["flow"] for t in triggers) == [
        "Customer Winback",
        "First Order",
        "Product Review / Cross Sell",
        "Product Review / Cross Sell",
    ]
    assert all(t["sent_at"] for t in triggers)


def test_bad_deliveries_over_http_get_4xx_and_change_nothing(running):
    store, sender, env = running
    store.place_order(
        601,
        email="x@example.com",
        first_name="X",
        last_name="Y",
        lines=[Line(store.products[104], 1)],
        created=datetime.now(UTC) - timedelta(hours=1),
    )
    payload = sender.body("store/order/created", {"type": "order", "id": 601})
    stale = sign(CLIENT_SECRET, "msg_stale", datetime.now(UTC) - timedelta(minutes=10), payload)
    fresh = sign(CLIENT_SECRET, "msg_fresh", datetime.now(UTC), payload)
    oversized = json.dumps({**json.loads(payload), "pad": "x" * 70_000})
    attempts = {
        "unsigned": (payload, {}),
        "stale": (payload, stale),
        "tampered": (payload.replace("601", "602"), fresh),
        "malformed": ('{"scope": ', sign(CLIENT_SECRET, "m1", datetime.now(UTC), '{"scope": ')),
        "oversized": (oversized, sign(CLIENT_SECRET, "m2", datetime.now(UTC), oversized)),
    }
    statuses = {name: sender.post("orders", body, headers) for name, (body, headers) in attempts.items()}
    assert {name: status for name, (status, _) in statuses.items()} == {
        "unsigned": 401,
        "stale": 401,
        "tampered": 401,
        "malformed": 400,
        "oversized": 413,
    }
    assert all("error" in answer for _, answer in statuses.values())
    assert export("events", env) == []
    assert export("profiles", env) == []
    assert export("triggers", env) == []


def test_every_family_over_http_yields_one_person_with_their_checkout_consent_and_history(running):
    store, sender, env = running
    now = datetime.now(UTC).replace(microsecond=0)
    cart = "7e57ca27-0000-4000-8000-000000000001"
    store.update_product(103, name="Canvas Tote XL")
    assert sender.send("catalog", "store/product/updated", {"type": "product", "id": 103})[0] == 200
    tote = store.products[103]

    store.create_cart(cart, [Line(tote, 2)], at=now - timedelta(hours=2))
    store.enter_checkout_email(cart, "grace@example.org", at=now - timedelta(hours=2), first_name="Grace")
    assert sender.send("carts", "store/cart/updated", {"type": "cart", "id": cart})[0] == 200
    store.enter_shipping_address(cart, at=now - timedelta(minutes=110))
    for scope in ("store/cart/updated", "store/cart/abandoned", "store/cart/updated"):
        assert sender.send("carts", scope, {"type": "cart", "id": cart})[0] == 200
    store.place_order(
        701,
        email="grace@example.org",
        first_name="Grace",
        last_name="Hopper",
        lines=[Line(tote, 2)],
        created=now - timedelta(minutes=100),
    )
    store.close_cart(cart)
    assert sender.send("carts", "store/cart/converted", {"type": "cart", "id": cart, "orderId": 701})[0] == 200
    assert sender.send("orders", "store/order/created", {"type": "order", "id": 701})[0] == 200

    store.add_customer(
        9, email="grace@example.org", first_name="Grace", last_name="Hopper", at=now - timedelta(hours=1)
    )
    assert sender.send("customers", "store/customer/created", {"type": "customer", "id": 9})[0] == 200
    store.update_customer(9, at=now - timedelta(minutes=30), email="grace.hopper@example.org")
    assert sender.send("customers", "store/customer/updated", {"type": "customer", "id": 9})[0] == 200
    store.subscribe(5, email="grace.hopper@example.org", at=now - timedelta(minutes=10))
    assert sender.send("subscribers", "store/subscriber/created", {"type": "subscriber", "id": 5})[0] == 200
    (pending,) = export("profiles", env)
    assert pending["consent"]["email_marketing"] == "pending"
    with urllib.request.urlopen(confirmation_link(env), timeout=30) as page:
        assert page.status == 200
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"http://127.0.0.1:{sender.api_url.rsplit(':', 1)[1]}/subscriptions/confirm?token=x")
    assert refused.value.code == 400

    events = export("events", env)
    (checkout,) = [e for e in events if e["metric"] == "Started Checkout"]
    assert checkout["properties"]["Items"] == ["Canvas Tote XL"]
    assert checkout["value"] == 50
    assert {e["metric"] for e in events} == {"Started Checkout", "Placed Order", "Ordered Product"}
    (profile,) = export("profiles", env)
    assert profile["email"] == "grace.hopper@example.org"
    assert profile["external_id"] == "9"
    assert profile["lists"] == ["Customers", "Subscribers"]
    assert profile["consent"]["email_marketing"] == "subscribed"
    assert {e["profile_id"] for e in events} == {profile["id"]}
    assert sorted(t["flow"] for t in export("triggers", env)) == [
        "Abandoned Cart",
        "Confirm Subscription",
        "Customer Winback",
        "First Order",
        "New Customer",
        "Product Review / Cross Sell",
        "Welcome Series",
    ]
    (cart_link,) = export("carts", env)
    assert cart_link["order_id"] == 701

    erase = [*BCSYNC, "profiles", "erase", "--email", "GRACE@example.org"]
    result = subprocess.run(erase, env=env, capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(result.stdout)["erased"] is True
    assert export("events", env) == []
    assert export("profiles", env) == []
    assert export("triggers", env) == []
    assert export("carts", env) == []


def bcsync(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*BCSYNC, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False)


def test_operator_commands_reconcile_backfill_webhooks_and_daily_counts(running):
    store, sender, env = running
    now = datetime.now(UTC).replace(microsecond=0)
    shirt = store.products[101]
    for order_id in (5001, 5002):
        store.place_order(
            order_id,
            email=f"buyer{order_id}@example.com",
            first_name="Buyer",
            last_name=str(order_id),
            lines=[Line(shirt, 1)],
            created=now - timedelta(hours=1),
        )
    # 5001's webhook arrives; 5002's is lost, and the daily counts say so.
    assert sender.send("orders", "store/order/created", {"type": "order", "id": 5001})[0] == 200
    counts = bcsync(env, "verify-counts", "--days", "3")
    assert counts.returncode == 1, counts.stdout + counts.stderr
    assert "MISMATCH" in counts.stdout

    registered = bcsync(env, "webhooks", "register", "--destination", "https://hooks.example.com")
    assert registered.returncode == 0, registered.stderr
    assert "store/order/created" in registered.stdout and "created" in registered.stdout
    status = bcsync(env, "webhooks", "status")
    assert status.returncode == 0 and "deactivated" not in status.stdout

    reconciled = bcsync(env, "reconcile", "--timeout", "60")
    assert reconciled.returncode == 0, reconciled.stderr
    assert "drift 2 event(s)" in reconciled.stdout  # 5002's Placed Order and Ordered Product
    assert bcsync(env, "verify-counts", "--days", "3").returncode == 0

    placed = [e for e in export("events", env) if e["metric"] == "Placed Order"]
    assert sorted(e["source_id"] for e in placed) == ["order:5001", "order:5002"]

    backfilled = bcsync(env, "backfill")
    assert backfilled.returncode == 0, backfilled.stderr
    assert "backfill done" in backfilled.stdout
    assert len([e for e in export("events", env) if e["metric"] == "Placed Order"]) == 2

    assert bcsync(env, "sync", "off").returncode == 0
    shown = bcsync(env, "sync", "status")
    assert "hourly sync off" in shown.stdout and "backfill: done" in shown.stdout and "drift 2" in shown.stdout

    # History from another platform: good rows once, bad rows by line, no flow started.
    triggers = len(export("triggers", env))
    examples = Path(__file__).parents[2] / "examples" / "import"
    sample = [str(examples / "shopify-placed-orders.csv"), "--map", str(examples / "shopify-map.yaml")]
    dry = bcsync(env, "import", "events", *sample, "--dry-run")
    assert dry.returncode == 1 and "5 rows would be imported" in dry.stdout and "line 6:" in dry.stdout
    for new in (4, 0):
        imported = bcsync(env, "import", "events", *sample)
        assert imported.returncode == 1 and f"{new} new events" in imported.stdout, imported.stdout + imported.stderr
        assert "line 7: value: not a number" in imported.stderr
    assert len(export("triggers", env)) == triggers
    exported = bcsync(env, "events", "export", "--format", "csv", "--metric", "Placed Order")
    assert exported.stdout.startswith("Timestamp,Email,External ID,$value,Currency,$event_id,")
    assert exported.stdout.count("\n") == 1 + 2 + 4 and "shopify-order-4101" in exported.stdout

    # The product feeds over HTTP and from the CLI: the two shirts sold, from the backfilled catalog.
    state = json.loads((Path(env["BCSYNC_STATE_DIR"]) / "local-stack.json").read_text())
    request = urllib.request.Request(
        f"{state['api_url']}/feeds/best-sellers?limit=3", headers={"Authorization": f"Bearer {state['api_token']}"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        best = json.loads(answer.read())
    assert [(item["product_id"], item["name"], item["score"]) for item in best["items"]] == [(101, "Linen Shirt", 2)]
    shown = bcsync(env, "feeds", "show", "new-arrivals", "--limit", "4")
    assert shown.returncode == 0, shown.stderr
    assert all(name in shown.stdout for name in ("Linen Shirt", "Ceramic Mug", "Canvas Tote", "Wool Socks"))
    refused = bcsync(env, "feeds", "show", "bought-together")
    assert refused.returncode == 1 and "product_id: required for bought-together" in refused.stderr


def test_a_flow_applied_with_the_cli_acts_on_a_webhook_through_the_streams(running, tmp_path):
    """bcsync flows apply, then a signed customer/created over HTTP: the Triggers table's stream
    reaches the flow runner, whose action lands on the action queue once."""
    store, sender, env = running
    flows = tmp_path / "flows.yaml"
    flows.write_text(
        "flows: [{name: Hello, kind: transactional, trigger: {profile: account_created}, reentry: once,"
        " steps: [{action: {template: hello}}]}]"
    )
    applied = bcsync(env, "flows", "apply", str(flows))
    assert applied.returncode == 0, applied.stderr
    store.add_customer(
        21, email="kay@example.com", first_name="Kay", last_name="Nygaard", at=datetime.now(UTC) - timedelta(minutes=5)
    )
    assert sender.send("customers", "store/customer/created", {"type": "customer", "id": 21})[0] == 200
    assert sender.send("customers", "store/customer/created", {"type": "customer", "id": 21})[0] == 200  # again
    sqs, url = local_queue(env, "FlowActionQueue")
    bodies: list[dict] = []
    deadline = time.monotonic() + 30
    while not bodies and time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        bodies += [json.loads(message["Body"]) for message in messages]
    assert [(b["flow"], b["template"], b["profile"]["email"]) for b in bodies] == [
        ("Hello", "hello", "kay@example.com")
    ]
    runs = bcsync(env, "flows", "runs", "--email", "kay@example.com")
    assert runs.returncode == 0 and runs.stdout.splitlines()[0].startswith("Hello: entered "), runs.stdout


def test_a_time_scaled_stack_passes_a_long_delay_in_seconds_and_exports_each_decision(tmp_path):
    """`bcsync local --time-scale 28800`: eight hours a second. A shopper who leaves gets the
    reminder after the (scaled) day's delay; one who orders inside it gets nothing; `bcsync actions
    export` says so."""
    with local_stack(tmp_path, "--time-scale", "28800") as (store, sender, env):
        flows = tmp_path / "flows.yaml"
        flows.write_text(
            "flows: [{name: Cart Reminder, kind: transactional, trigger: {metric: Started Checkout},"
            " filters: [{metric: Placed Order, count: 0, since: flow_start}],"
            " steps: [{delay: {days: 1}}, {action: {template: reminder}}]}]"
        )
        assert bcsync(env, "flows", "apply", str(flows)).returncode == 0
        now = datetime.now(UTC).replace(microsecond=0)
        for number, email in enumerate(("leaves@example.com", "orders@example.com"), start=1):
            cart = f"7e57ca47-0000-4000-8000-00000000000{number}"
            store.create_cart(cart, [Line(store.products[102], 1)], at=now - timedelta(minutes=2))
            store.enter_checkout_email(cart, email, at=now - timedelta(minutes=2), first_name="Sam")
            store.enter_shipping_address(cart, at=now - timedelta(minutes=1))
            assert sender.send("carts", "store/cart/updated", {"type": "cart", "id": cart})[0] == 200
        state = json.loads((tmp_path / "local-stack.json").read_text())
        dynamodb = local_aws().resource("dynamodb", endpoint_url=state["aws_endpoint"])
        runs = dynamodb.Table(state["physical"]["FlowRunsTable"])
        deadline = time.monotonic() + 20
        while sum(1 for item in runs.scan()["Items"] if "body" in item) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)  # both runs wait out their delay
        store.place_order(
            901,
            email="orders@example.com",
            first_name="Sam",
            last_name="Orders",
            lines=[Line(store.products[102], 1)],
            created=datetime.now(UTC).replace(microsecond=0),
        )
        assert sender.send("orders", "store/order/created", {"type": "order", "id": 901})[0] == 200
        decisions: list[dict] = []
        deadline = time.monotonic() + 45
        while not any(d["status"] == "sent" for d in decisions) and time.monotonic() < deadline:
            time.sleep(0.5)
            decisions = export("actions", env)
        profiles = {p["id"]: p["email"] for p in export("profiles", env)}
        made = sorted((profiles[d["profile_id"]], d["status"], d["reason"]) for d in decisions)
        assert made == [("leaves@example.com", "sent", None), ("orders@example.com", "skipped", "goal")]
        sent = next(d for d in decisions if d["status"] == "sent")
        assert sent["flow"] == "Cart Reminder" and sent["step"] == 1 and sent["event_id"].startswith(STORE_HASH)
