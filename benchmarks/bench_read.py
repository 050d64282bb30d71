"""Snapshots and series read from the counters: DynamoDB requests and read units per call for a
person with 10,000 events and a store with 1,000,000, side by side with a person of 100 and a store
of 1,000. The counters are written as the events' own transactions leave them (the same `tally`),
for a year of events; moto could not hold a million events, and the reads never touch them. The
target: the same requests and bounded read units, whatever the number of events."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

from harness import stack

DAYS = 365
NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)


def synthetic_events(count: int, people: int, *, person: str | None = None):
    """Placed Orders spread over a year and over `people` people (or all one person's)."""
    from bcsync.domain.events import Metric

    for n in range(count):
        yield SimpleNamespace(
            id=f"sandbox:placed-order:order:{n}",
            store_hash="sandbox",
            metric=Metric.PLACED_ORDER,
            profile_id=person or f"prof_{n % people}",
            time=NOW - timedelta(days=n % DAYS, minutes=n % 997),
            value=Decimal("25.50"),
            properties={},  # no lines: the feeds' product counters are bench_feeds.py's
        )


def write_counters(events, *, store_only: bool) -> int:
    """What the events' transactions would have added, written as the counters they leave."""
    from bcsync.adapters.counters import counter_update
    from bcsync.domain.counters import merged, tally
    from bcsync.wiring import container

    totals = merged(tally(chunk, UTC) for chunk in _chunks(events, 10_000))
    if store_only:
        totals = {bucket: amount for bucket, amount in totals.items() if bucket.profile_id is None}
    table = container().settings.require("counters_table_name")
    client = container().counters._table.meta.client
    for bucket, amount in totals.items():
        client.update_item(**counter_update(table, bucket, amount)["Update"])
    return len(totals)


def _chunks(events, size):
    chunk = []
    for event in events:
        chunk.append(event)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def read_cost(call) -> float:
    """A unit per 4 KB of the items a request returns, half for an eventually consistent read."""
    answer = call.response or {}
    items = answer.get("Items") or ([answer["Item"]] if answer.get("Item") else [])
    size = sum(len(json.dumps(item, default=str)) for item in items)
    units = max(1, math.ceil(size / 4096))
    return units if call.params.get("ConsistentRead") else units / 2


def measured(read) -> tuple[int, float]:
    from bcsync_ops.measure import aws_calls

    with aws_calls() as calls:
        read()
    return len(calls), sum(read_cost(call) for call in calls)


def main() -> None:
    from bcsync_ops.demo import sandbox_store

    with stack(sandbox_store()):
        from bcsync.adapters.dynamodb import profile_item
        from bcsync.domain.bigcommerce import StoreInfo
        from bcsync.domain.profiles import blank_profile
        from bcsync.wiring import container

        app = container()
        app.catalog_repository.put_store_info("sandbox", StoreInfo(secure_url="https://sandbox.example.com"))
        app.store_zones("sandbox")  # a warm function has the store's timezone cached
        read = app.read_model
        rows = []
        for label, person, store in (("small", 100, 1_000), ("large", 10_000, 1_000_000)):
            person_id = f"person-{label}"
            app.profile_repository._table.put_item(Item=profile_item(blank_profile(person_id, "sandbox", "t")))
            items = write_counters(synthetic_events(person, 1, person=person_id), store_only=False)
            items += write_counters(synthetic_events(store - person, 5_000), store_only=True)
            snapshot = measured(lambda pid=person_id: read.snapshot("sandbox", pid))
            series = measured(lambda: read.series("sandbox", "Placed Order", days=90, tz="store"))
            metrics = measured(lambda: read.metrics("sandbox"))
            rows.append((label, person, store, items, snapshot, series, metrics))
            # Clear the counters between the two stores: each is measured on its own.
            table = app.counters._table
            with table.batch_writer() as batch:
                for item in table.scan(ProjectionExpression="pk, sk")["Items"]:
                    batch.delete_item(Key={"pk": item["pk"], "sk": item["sk"]})
    print("Reads from the counters (requests and read units per call; a snapshot also reads the profile):")
    print(f"  {'':<7}{'person':>8}{'store':>11}{'counters':>10}   {'snapshot':>14}{'90-day series':>16}{'metrics':>14}")
    for label, person, store, items, snapshot, series, metrics in rows:
        cells = "".join(f"{f'{n} req, {rru:g} RRU':>16}" for n, rru in (snapshot, series, metrics))
        print(f"  {label:<7}{person:>8,}{store:>11,}{items:>10,}   {cells}")
    small, large = rows
    print(
        f"  events x{large[2] // small[2]:,} (store), x{large[1] // small[1]} (person): requests the same; "
        "read units bounded by the days read, not the events"
    )


if __name__ == "__main__":
    main()
