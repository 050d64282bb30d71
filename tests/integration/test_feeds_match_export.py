"""The feeds' promise, checked as an outsider would: after a store's story (orders over six weeks,
some replayed, one cancelled, a product hidden and one sold out, history imported from another
platform), every feed equals the ranking recomputed here from `bcsync events export` and the
catalog alone, by the rules the README states (not by bcsync's code)."""

from __future__ import annotations

import json
import random
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bcsync import wiring
from bcsync_ops import exports
from bcsync_ops.sandbox.shapes import Line, Product
from tests.integration.conftest import webhook_event
from tests.integration.test_import import run_import
from tests.integration.test_read_api import call

NOW = datetime.now(UTC).replace(microsecond=0)
PRODUCTS = range(101, 109)


def story(stack, tmp_path: Path) -> None:
    rng = random.Random(16)
    store = stack.store
    for pid in PRODUCTS:
        if pid not in store.products:
            store.add_product(Product(pid, f"Product {pid}", f"SKU-{pid}", Decimal(5 + pid % 7), [1], "Brand"))
        store.products[pid].created = NOW - timedelta(days=200 - pid)
    store.products[107].is_visible = False
    store.products[108].inventory_level = 0
    for pid in PRODUCTS:
        stack.deliver(webhook_event("store/product/created", {"type": "product", "id": pid}))
    for order_id in range(1, 21):
        lines = [Line(store.products[pid], rng.randint(1, 3)) for pid in rng.sample(list(PRODUCTS), rng.randint(1, 4))]
        person = rng.randint(1, 6)
        store.place_order(
            order_id,
            email=f"person{person}@example.com",
            first_name="P",
            last_name=str(person),
            customer_id=0,
            lines=lines,
            created=NOW - timedelta(days=rng.randint(0, 40), hours=1),
            status_id=11,
        )
        for _ in range(rng.choice((1, 1, 2))):  # some delivered twice
            stack.deliver(webhook_event("store/order/created", {"type": "order", "id": order_id}))
    store.set_status(5, 5, at=NOW)  # cancelled: kept, this store does not exclude returns
    stack.deliver(webhook_event("store/order/statusUpdated", {"type": "order", "id": 5}))
    rows = [
        {
            "metric": "Ordered Product",
            "time": (NOW - timedelta(days=days)).isoformat(),
            "email": "person1@example.com",
            "value": 30,
            "currency": "USD",
            "source_id": f"shopify-{n}",
            "properties": {"ProductID": pid, "Quantity": quantity},
        }
        for n, (pid, quantity, days) in enumerate([(104, 5, 1), (105, 2, 20), (101, 1, 60)])
    ]
    history = tmp_path / "history.jsonl"
    history.write_text("\n".join(json.dumps(row) for row in rows))
    assert run_import(stack, history)[0] == 0


# ---------------------------------------------------------------------- the rules, written again
def shown(stack, pid: int) -> bool:
    product = stack.store.products.get(pid)
    return bool(product and product.is_visible and product.availability != "disabled" and product.inventory_level > 0)


def first(stack, ranked: list[int], limit: int) -> list[int]:
    return [pid for pid in ranked if shown(stack, pid)][:limit]


def day_of(event: dict) -> str:
    return event["time"][:10]  # the sandbox store keeps UTC days


def sold(events: list[dict], days: int) -> dict[int, list[Decimal]]:
    since = (NOW.date() - timedelta(days=days - 1)).isoformat()
    totals: dict[int, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for event in events:
        if event["metric"] == "Ordered Product" and day_of(event) >= since:
            pid = int(event["properties"]["ProductID"])
            totals[pid][0] += int(event["properties"]["Quantity"])
            totals[pid][1] += Decimal(str(event["value"]))
    return totals


def best_sellers(events: list[dict], days: int = 30) -> list[int]:
    totals = sold(events, days)
    return sorted((p for p in totals if totals[p][0] > 0), key=lambda p: (-totals[p][0], -totals[p][1], p))


def trending(events: list[dict], days: int = 28) -> list[int]:
    week, window = sold(events, 7), sold(events, days)
    score = {p: week[p][0] - (window[p][0] - week[p][0]) * 7 / Decimal(days - 7) for p in week if week[p][0] > 0}
    return sorted((p for p in score if score[p] > 0), key=lambda p: (-score[p], -week[p][0], p))


def pairs(events: list[dict]) -> dict[int, Counter[int]]:
    together: dict[int, Counter[int]] = defaultdict(Counter)
    for event in events:
        if event["metric"] == "Placed Order":
            products = list(dict.fromkeys(int(line["ProductID"]) for line in event["properties"]["Items Detail"]))[:5]
            for a in products:
                together[a].update(b for b in products if b != a)
    return together


def bought_together(events: list[dict], pid: int) -> list[int]:
    counts = pairs(events)[pid]
    return sorted(counts, key=lambda p: (-counts[p], p))


def for_you(events: list[dict], profile_id: str, limit: int) -> list[int]:
    bought: Counter[int] = Counter()
    for event in events:
        if event["metric"] == "Ordered Product" and event["profile_id"] == profile_id:
            bought[int(event["properties"]["ProductID"])] += int(event["properties"]["Quantity"])
    seeds = sorted(bought, key=lambda p: (-bought[p], p))[:5]
    together, score = pairs(events), Counter[int]()
    for seed in seeds:
        score.update(together[seed])
    ranked = sorted((p for p in score if p not in bought), key=lambda p: (-score[p], p))
    if len(ranked) < limit:
        ranked += [p for p in best_sellers(events) if p not in bought and p not in ranked]
    return ranked


# ---------------------------------------------------------------------- the check
def feed(stack, name: str, **query: object) -> list[int]:
    status, body = call(stack, "GET", f"/feeds/{name}", {k: str(v) for k, v in query.items()})
    assert status == 200, body
    return [item["product_id"] for item in body["items"]]


@pytest.fixture
def told(stack, tmp_path, monkeypatch):
    # The feeds' windows end on NOW's day, as the recomputation's do, even if midnight passes
    # between this module's import and the requests.
    monkeypatch.setattr(wiring, "utc_moment", lambda: NOW)
    story(stack, tmp_path)
    return stack, list(exports.event_records(stack.reader()))


def test_every_feed_equals_the_ranking_recomputed_from_the_export_and_the_catalog(told):
    stack, events = told
    assert any(e["source"] == "import" for e in events) and any(e["metric"] == "Cancelled Order" for e in events)
    for days in (1, 7, 30, 60):
        assert feed(stack, "best-sellers", days=days, limit=50) == first(stack, best_sellers(events, days), 50)
    by_revenue = sold(events, 30)
    expected = sorted(by_revenue, key=lambda p: (-by_revenue[p][1], -by_revenue[p][0], p))
    assert feed(stack, "best-sellers", by="revenue", limit=50) == first(stack, expected, 50)
    for days in (14, 28, 42):
        assert feed(stack, "trending", days=days, limit=50) == first(stack, trending(events, days), 50)
    for pid in PRODUCTS:
        assert feed(stack, "bought-together", product_id=pid, limit=50) == first(
            stack, bought_together(events, pid), 50
        )
    for profile_id in sorted({e["profile_id"] for e in events if e["profile_id"]}):
        assert feed(stack, "for-you", profile_id=profile_id, limit=3) == first(stack, for_you(events, profile_id, 3), 3)
    newest = sorted(PRODUCTS, key=lambda p: (stack.store.products[p].created, p), reverse=True)
    assert feed(stack, "new-arrivals", limit=50) == first(stack, newest, 50)
