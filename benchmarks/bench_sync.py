"""Reconcile/backfill cost and pace, measured side by side in one run (`make bench`).

1. BigCommerce requests to import N orders: bcsync's backfill (orders listed 250 a page with line
   items embedded, products read per order only when the embedded list is capped) against a naive
   connector that lists orders and then reads each order's products, coupons and shipping
   addresses (Singer's tap-bigcommerce does this), on the same sandbox store.
2. Backfill throughput under an enforced quota, as a share of the share it may use.

AWS is moto in-process and BigCommerce the sandbox on loopback, provisioned from template.yaml.
"""

from __future__ import annotations

import math
import os
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from moto import mock_aws

ORDERS = 600
CAPPED = 3  # orders with more than 50 lines: BigCommerce caps the embedded list
# BigCommerce Standard's pace (150 per 30 s, so 2.5/s at a 50% share), in shorter windows.
QUOTA, WINDOW_SECONDS, SHARE = 10, 2.0, 0.5


@contextmanager
def stack(store) -> Iterator[None]:
    quiet_environment()
    from bcsync import observability, settings, wiring
    from bcsync_ops.local_stack import PROJECT_ROOT, StoreConfig, function_environment, provision
    from bcsync_ops.sandbox import SandboxServer
    from bcsync_ops.template import Resolver, load_template, parameter_defaults

    server = SandboxServer(store).start()
    template = load_template(PROJECT_ROOT / "template.yaml")
    resolver = Resolver(refs={**parameter_defaults(template), "BigCommerceApiUrl": server.url})
    try:
        with mock_aws():
            provision(template, resolver, StoreConfig(store.store_hash, store.access_token, "secret", None, server.url))
            os.environ.update(function_environment(template, resolver))
            os.environ["SYNC_QUOTA_SHARE"] = str(SHARE)
            wiring.container.cache_clear()
            settings.settings.cache_clear()
            # Not measured here, and Powertools would print them to stdout every 100.
            observability.metrics.add_metric = lambda **_: None  # type: ignore[method-assign]
            yield
    finally:
        server.stop()


def quiet_environment() -> None:
    """Set before bcsync is imported: Powertools reads these once."""
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "ERROR",
            "POWERTOOLS_METRICS_NAMESPACE": "bcsync",
        }
    )
    os.environ.pop("AWS_ENDPOINT_URL", None)


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


def naive_connector(url: str, store) -> int:
    """List orders (250 a page), then products, coupons and shipping addresses of each."""
    made = 0

    def get(path: str) -> bytes:
        nonlocal made
        made += 1
        request = urllib.request.Request(
            f"{url}/stores/{store.store_hash}{path}", headers={"X-Auth-Token": store.access_token}
        )
        try:
            with urllib.request.urlopen(request) as response:
                return response.read()
        except urllib.error.HTTPError:
            return b""

    import json

    page = 1
    while True:
        body = get(f"/v2/orders?limit=250&page={page}")
        rows = json.loads(body) if body else []
        for row in rows:
            for part in ("products", "coupons", "shipping_addresses"):
                get(f"/v2/orders/{row['id']}/{part}")
        if len(rows) < 250:
            return made
        page += 1


def bench_requests() -> None:
    from bcsync_ops.sandbox import SandboxServer

    store = history(ORDERS)
    with stack(store):
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


def bench_throughput() -> None:
    from bcsync.adapters import bigcommerce

    store = history(150)
    bigcommerce.PAGE_LIMIT = 5  # many small pages: the quota, not DynamoDB, sets the pace
    quota = store.enforce_quota(QUOTA, WINDOW_SECONDS)
    with stack(store):
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


if __name__ == "__main__":
    quiet_environment()
    bench_requests()
    bench_throughput()
