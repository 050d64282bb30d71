"""Reconcile/backfill cost and pace, measured side by side in one run (`make bench`).

1. BigCommerce requests to import N orders: bcsync's backfill (orders listed 250 a page with line
   items embedded, products read per order only when the embedded list is capped) against a naive
   connector that lists orders and then reads each order's products, coupons and shipping
   addresses (Singer's tap-bigcommerce does this), on the same sandbox store.
2. The same for a store with refunds, manual ones among them (status Refunded, no refund record):
   bcsync lists the refunds created since the backfill's start once, against a connector that asks
   each refunded order for its refunds.
3. Backfill throughput under an enforced quota, as a share of the share it may use.

AWS is moto in-process and BigCommerce the sandbox on loopback, provisioned from template.yaml.
"""

from __future__ import annotations

import json
import math
import time
import urllib.request
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from harness import quiet_environment, stack

ORDERS = 600
CAPPED = 3  # orders with more than 50 lines: BigCommerce caps the embedded list
REFUND_STORE_ORDERS, MANUAL_REFUNDS, RECORDED_REFUNDS = 300, 14, 6
# BigCommerce Standard's pace (150 per 30 s, so 2.5/s at a 50% share), in shorter windows.
QUOTA, WINDOW_SECONDS, SHARE = 10, 2.0, 0.5


def parse_datetime(value: str) -> datetime:
    from bcsync.domain.bigcommerce import parse_datetime as parse

    parsed = parse(value)
    assert parsed is not None
    return parsed


def history(orders: int):
    from bcsync_ops.demo import sandbox_store
    from bcsync_ops.sandbox import Line

    store = sandbox_store()
    products = list(store.products.values())
    start = datetime.now(UTC) - timedelta(days=90)
    for index in range(orders):
        count = 60 if index < CAPPED else 1 + index % 3
        lines = [Line(products[(index + k) % len(products)], 1) for k in range(count)]
        store.place_order(
            10_000 + index,
            email=f"buyer{index % 97}@example.com",
            first_name="Buyer",
            last_name=str(index % 97),
            lines=lines,
            created=start + timedelta(minutes=index),
            status_id=10 if index % 3 else 11,
            shipping=Decimal("5"),
        )
    return store


def run_backfill(store_hash: str) -> dict:
    from bcsync.usecases.backfill import BackfillRequests
    from bcsync.wiring import container

    app = container()
    BackfillRequests(app.sync_state).start(store_hash, since=None)
    while not app.backfill.run(store_hash, lambda: 900.0):
        pass
    state = app.sync_state.backfill(store_hash)
    assert state is not None and state.status == "done", state
    return state.model_dump()


def orders_requests(paths: list[str]) -> int:
    return sum(1 for path in paths if "/orders" in path)


class CountingClient:
    """A connector's GETs against the sandbox over HTTP: parsed JSON ([] for 204 or an error),
    each request counted."""

    def __init__(self, url: str, store) -> None:
        self.base = f"{url}/stores/{store.store_hash}"
        self.token = store.access_token
        self.made = 0

    def get(self, path: str):
        self.made += 1
        request = urllib.request.Request(f"{self.base}{path}", headers={"X-Auth-Token": self.token})
        try:
            with urllib.request.urlopen(request) as response:
                body = response.read()
        except urllib.error.HTTPError:
            return []
        return json.loads(body) if body else []


def naive_connector(url: str, store) -> int:
    """List orders (250 a page), then products, coupons and shipping addresses of each."""
    client = CountingClient(url, store)
    page = 1
    while True:
        rows = client.get(f"/v2/orders?limit=250&page={page}")
        for row in rows:
            for part in ("products", "coupons", "shipping_addresses"):
                client.get(f"/v2/orders/{row['id']}/{part}")
        if len(rows) < 250:
            return client.made
        page += 1


def backfill_aws_calls(orders: int) -> list:
    """The AWS calls a backfill of `orders` orders makes (each with its parameters)."""
    from bcsync_ops.measure import aws_calls

    store = history(orders)
    with stack(store, SYNC_QUOTA_SHARE=str(SHARE)), aws_calls() as calls:
        run_backfill(store.store_hash)
    return calls


def bench_requests() -> None:
    from bcsync_ops.measure import aws_requests
    from bcsync_ops.sandbox import SandboxServer

    store = history(ORDERS)
    with stack(store, SYNC_QUOTA_SHARE=str(SHARE)), aws_requests() as aws:
        run_backfill(store.store_hash)
    ours = orders_requests(store.requests)
    bound = math.ceil(ORDERS / 250) + 1 + CAPPED
    breakdown = Counter(
        path.rsplit("/", 1)[-1] if "/orders/" in path else path.split("/v")[-1]
        for path in store.requests
        if "/orders" in path
    )

    naive_store = history(ORDERS)
    server = SandboxServer(naive_store).start()
    try:
        naive = naive_connector(server.url, naive_store)
    finally:
        server.stop()
    print(f"Requests to import {ORDERS} orders ({CAPPED} with capped line items):")
    print(f"  bcsync backfill      {ours:>6}   (bound ceil(N/250) + 1 + capped = {bound}; {dict(breakdown)})")
    print(f"  naive connector      {naive:>6}")
    print(f"  ratio naive / bcsync {naive / ours:>9.1f}x")
    print(f"  AWS requests per backfilled order: {sum(aws.values()) / ORDERS:.2f} ({dict(sorted(aws.items()))})")


def refunded_history(orders: int, manual: int, recorded: int):
    """Orders spread over the history refunded a week after they were placed: `manual` of them by a
    status change alone, `recorded` through a refund record."""
    store = history(orders)
    refunded = sorted(store.orders)[:: orders // (manual + recorded)][: manual + recorded]
    for index, order_id in enumerate(refunded):
        at = parse_datetime(store.orders[order_id]["date_created"]) + timedelta(days=7)
        if index >= manual:
            store.refund(order_id, Decimal("5"), at=at)
        store.set_status(order_id, 4 if index < manual else 14, at=at)
    return store


def per_order_refunds_connector(url: str, store) -> int:
    """Lists orders as bcsync does (250 a page, lines embedded) and asks each order in a refund
    status for its refunds."""
    client = CountingClient(url, store)
    page = 1
    while True:
        rows = client.get(
            f"/v2/orders?limit=250&page={page}&include=consignments.line_items&consignment_structure=object"
        )
        for row in rows:
            if len(row["consignments"]["shipping"][0]["line_items"]) >= 50:
                client.get(f"/v2/orders/{row['id']}/products?limit=250")
            if row["status_id"] in (4, 14):
                client.get(f"/v3/orders/{row['id']}/payment_actions/refunds")
        if len(rows) < 250:
            return client.made
        page += 1


def bench_refunds() -> None:
    from bcsync_ops.sandbox import SandboxServer

    store = refunded_history(REFUND_STORE_ORDERS, MANUAL_REFUNDS, RECORDED_REFUNDS)
    with stack(store, SYNC_QUOTA_SHARE=str(SHARE)):
        run_backfill(store.store_hash)
    ours = orders_requests(store.requests)
    bound = math.ceil(REFUND_STORE_ORDERS / 250) + 1 + max(1, math.ceil(RECORDED_REFUNDS / 250)) + CAPPED
    other_store = refunded_history(REFUND_STORE_ORDERS, MANUAL_REFUNDS, RECORDED_REFUNDS)
    server = SandboxServer(other_store).start()
    try:
        per_order = per_order_refunds_connector(server.url, other_store)
    finally:
        server.stop()
    refunds = f"{MANUAL_REFUNDS} manual refunds, {RECORDED_REFUNDS} refund records"
    print(f"Requests to import {REFUND_STORE_ORDERS} orders with {refunds} ({CAPPED} capped):")
    print(f"  bcsync backfill             {ours:>4}   (bound ceil(N/250) + 1 + ceil(R/250) + capped = {bound})")
    print(f"  asking each refunded order  {per_order:>4}")
    print(f"  ratio                       {per_order / ours:>6.1f}x")


def bench_throughput() -> None:
    from bcsync.adapters import bigcommerce

    store = history(150)
    bigcommerce.PAGE_LIMIT = 5  # many small pages: the quota, not DynamoDB, sets the pace
    quota = store.enforce_quota(QUOTA, WINDOW_SECONDS)
    with stack(store, SYNC_QUOTA_SHARE=str(SHARE)):
        started = time.monotonic()
        run_backfill(store.store_hash)
        elapsed = time.monotonic() - started
    bigcommerce.PAGE_LIMIT = 250
    per_window = Counter(int(at // WINDOW_SECONDS) for at in quota.served_at)
    full = [per_window[i] for i in range(min(per_window) + 1, max(per_window))]  # windows wholly inside the run
    allowance = int(QUOTA * SHARE)
    achieved = sum(full) / (len(full) * allowance) if full else 0.0
    quota_text = f"{QUOTA} per {WINDOW_SECONDS:.0f} s, share {SHARE:.0%} ({allowance} per window)"
    print(f"Backfill pace under a quota of {quota_text}:")
    print(f"  {len(quota.served_at)} requests in {elapsed:.1f} s, {quota.rejected} answered 429")
    print(f"  busiest window {max(per_window.values())} requests (allowance {allowance})")
    print(f"  throughput over {len(full)} full windows: {achieved:.0%} of the allowed share (target >= 90%)")


def bench_wall_time(orders: int = 300) -> None:
    """A backfill's wall time against its floor: its BigCommerce requests at the allowed pace,
    plus batch-writing the items it wrote (BatchWriteItem, 25 a request) into the same tables."""
    import boto3

    from bcsync_ops.measure import aws_calls

    store = history(orders)
    quota = store.enforce_quota(QUOTA, WINDOW_SECONDS)
    with stack(store, SYNC_QUOTA_SHARE=str(SHARE)):
        with aws_calls() as calls:
            started = time.perf_counter()
            run_backfill(store.store_hash)
            elapsed = time.perf_counter() - started - sum(call.copying for call in calls)
        written = [
            (operation["Put"]["TableName"], operation["Put"]["Item"])
            if "Put" in operation
            else (operation["Update"]["TableName"], {**operation["Update"]["Key"], "count": 1})  # a counter
            for call in calls
            if call.operation == "TransactWriteItems"
            for operation in call.params["TransactItems"]
        ]
        dynamodb = boto3.resource("dynamodb")
        started = time.perf_counter()
        for table in {name for name, _ in written}:
            with dynamodb.Table(table).batch_writer() as batch:
                for name, item in written:
                    if name == table:
                        batch.put_item(Item={**item, "pk": f"{item['pk']}#floor"})
        batch_write = time.perf_counter() - started
    requests = len(quota.served_at)
    pace = requests / (QUOTA * SHARE / WINDOW_SECONDS)
    floor = pace + batch_write
    aws = len(calls)
    print(f"Backfill of {orders} orders, quota {QUOTA} per {WINDOW_SECONDS:.0f} s at a {SHARE:.0%} share:")
    print(f"  AWS requests: {aws} ({aws / orders:.2f} per order; {len(written)} items in TransactWriteItems)")
    print(f"  wall time {elapsed:.1f} s; floor {floor:.1f} s = {requests} BigCommerce requests at the allowed pace")
    print(f"  ({pace:.1f} s) + batch-writing its {len(written)} items ({batch_write:.1f} s): {elapsed / floor:.2f}x")


if __name__ == "__main__":
    quiet_environment()
    bench_requests()
    bench_refunds()
    bench_throughput()
    bench_wall_time()
