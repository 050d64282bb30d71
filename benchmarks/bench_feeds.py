"""Product feeds on a store of 10,000 orders and one of 100,000, side by side: DynamoDB requests,
read units and time to answer each feed, and what keeping the feeds' counters adds to each order's
write. The counters are written as the orders' own transactions leave them (the same `tally`) for
the partitions the feeds read (moto could not hold a year of them all, and no feed reads the
others). The target: a few requests per feed, the same for both stores."""

from __future__ import annotations

import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

from bench_read import measured
from harness import stack

NOW = datetime.now(UTC).replace(microsecond=0)
DAYS = 365
PRODUCTS = list(range(101, 301))  # 200 products
PEOPLE = 20_000
SHOPPER = "prof_7"
DYNAMODB_PER_WRU = 0.625 / 1e6  # on-demand, us-east-1 (bench_cost.py)


def synthetic_orders(count: int):
    """Orders over a year: 1-4 lines each, popular products more often; their Placed Order and
    Ordered Product events as the normalizer makes them (only the fields tally reads)."""
    from bcsync.domain.events import Metric

    rng = random.Random(count)
    weights = [1 / (n + 1) for n in range(len(PRODUCTS))]
    for n in range(count):
        person = f"prof_{n % PEOPLE}"
        at = NOW - timedelta(days=n % DAYS, minutes=n % 997)
        lines = list(dict.fromkeys(rng.choices(PRODUCTS, weights, k=rng.randint(1, 4))))
        details = [{"ProductID": pid, "Quantity": rng.randint(1, 3)} for pid in lines]
        common = {"store_hash": "sandbox", "profile_id": person, "time": at}
        yield SimpleNamespace(
            id=f"sandbox:placed-order:order:{n}",
            metric=Metric.PLACED_ORDER,
            value=Decimal(30),
            properties={"Items Detail": details},
            **common,
        )
        for number, line in enumerate(details):
            yield SimpleNamespace(
                id=f"sandbox:ordered-product:order:{n}:product:{number}",
                metric=Metric.ORDERED_PRODUCT,
                value=Decimal(10) * line["Quantity"],
                properties=line,
                **common,
            )


def counted(orders: int):
    """The counters a store's orders leave, and the feed counters the average order writes."""
    from bcsync.domain.counters import Amount, Bucket, tally

    totals: dict[Bucket, Amount] = {}
    feed_items = 0
    all_items = 0
    order_buckets: set[Bucket] = set()

    for event in synthetic_orders(orders):
        if event.metric == "Placed Order" and order_buckets:
            all_items += len(order_buckets)
            feed_items += sum(1 for b in order_buckets if b.product_id is not None)
            order_buckets = set()
        for bucket, amount in tally([event], UTC).items():
            order_buckets.add(bucket)
            totals.setdefault(bucket, Amount()).add(amount.count, amount.value)
    all_items += len(order_buckets)
    feed_items += sum(1 for b in order_buckets if b.product_id is not None)
    return totals, feed_items / orders, all_items / orders


def write(totals, *, since: str, partners_of: set[int]) -> int:
    """The counters the feeds read: product days since `since`, the pairs of `partners_of`, the
    shopper's own."""
    from bcsync.adapters.counters import counter_update
    from bcsync.wiring import container

    table = container().settings.require("counters_table_name")
    client = container().counters._table.meta.client
    written = 0
    for bucket, amount in totals.items():
        if bucket.product_id is None or not amount.count:
            continue
        wanted = (
            bucket.profile_id == SHOPPER
            or (bucket.partner is not None and bucket.product_id in partners_of)
            or (bucket.profile_id is None and bucket.partner is None and (bucket.day or "") >= since)
        )
        if wanted:
            client.update_item(**counter_update(table, bucket, amount)["Update"])
            written += 1
    return written


def catalog() -> None:
    from bcsync.domain.catalog import CatalogItem
    from bcsync.wiring import container

    items = [
        CatalogItem(
            product_id=pid,
            name=f"Product {pid}",
            price=Decimal(10),
            product_url=f"https://shop.example/{pid}/",
            is_visible=pid % 17 != 0,  # a few hidden: the feeds skip them
            date_created=NOW - timedelta(days=pid),
        )
        for pid in PRODUCTS
    ]
    container().catalog_repository.put_items("sandbox", items)


def timed(read) -> float:
    """Median milliseconds of three calls. moto reads a partition item by item in Python, so
    these say how the two stores compare, not what DynamoDB takes."""
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        read()
        runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs)


def clear() -> None:
    from bcsync.wiring import container

    table = container().counters._table
    with table.batch_writer() as batch:
        page: dict = {}
        while True:
            found = table.scan(ProjectionExpression="pk, sk", **page)
            for item in found["Items"]:
                batch.delete_item(Key={"pk": item["pk"], "sk": item["sk"]})
            if "LastEvaluatedKey" not in found:
                break
            page = {"ExclusiveStartKey": found["LastEvaluatedKey"]}


def main() -> None:
    from bcsync_ops.demo import sandbox_store

    rows = []
    with stack(sandbox_store()):
        from bcsync.domain.bigcommerce import StoreInfo
        from bcsync.domain.feeds import Feed
        from bcsync.usecases.feeds import FeedQuery, Feeds
        from bcsync.wiring import container

        app = container()
        app.catalog_repository.put_store_info("sandbox", StoreInfo(secure_url="https://sandbox.example.com"))
        app.store_zones("sandbox")
        catalog()
        # The read API's feeds, without the profile lookup for-you makes first (one GetItem).
        feeds = Feeds(app.counters, app.catalog_repository, zone_of=app.store_zones, now=lambda: NOW)
        queries = {
            "best-sellers (30 days)": FeedQuery(Feed.BEST_SELLERS),
            "trending (28 days)": FeedQuery(Feed.TRENDING),
            "bought-together": FeedQuery(Feed.BOUGHT_TOGETHER, product_id=101),
            "for-you": FeedQuery(Feed.FOR_YOU, profile_id=SHOPPER),
            "new-arrivals": FeedQuery(Feed.NEW_ARRIVALS),
        }
        for orders in (10_000, 100_000):
            totals, feed_items, all_items = counted(orders)
            person = {b.product_id for b in totals if b.profile_id == SHOPPER and b.product_id}
            since = (NOW.date() - timedelta(days=31)).isoformat()
            written = write(totals, since=since, partners_of=person | {101})
            answers = {}
            for label, query in queries.items():
                calls, units = measured(lambda q=query: feeds.show("sandbox", q))
                answers[label] = (calls, units, timed(lambda q=query: feeds.show("sandbox", q)))
            rows.append((orders, written, feed_items, all_items, answers))
            clear()
    print("Product feeds (requests, read units and median ms per answer; moto in-process):")
    print(f"  {'feed':<24}" + "".join(f"{f'{orders:,} orders':>31}" for orders, *_ in rows) + f"{'requests ratio':>16}")
    small, large = rows[0][4], rows[1][4]
    for label in queries:
        cells = "".join(f"{f'{n} req, {rru:g} RRU, {ms:.1f} ms':>31}" for n, rru, ms in (small[label], large[label]))
        print(f"  {label:<24}{cells}{large[label][0] / small[label][0]:>15.1f}x")
    print("Keeping them current (per order, in the order's own transaction):")
    for orders, written, feed_items, all_items, _ in rows:
        wru = 2 * feed_items  # a transactional write of an item under 1 KB
        print(
            f"  {orders:>7,} orders: {feed_items:.1f} feed counters of {all_items:.1f} counters an order writes, "
            f"{wru:.1f} WRU, ${wru * DYNAMODB_PER_WRU * 1e6:.2f} per million orders "
            f"({written:,} counters written for the reads)"
        )


if __name__ == "__main__":
    main()
