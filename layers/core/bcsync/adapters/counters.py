"""The counters table: how a counter is keyed, written (inside the events' transaction) and read.

    person:  pk `<store>#person#<profile>`  sk `day#<YYYY-MM-DD>#<metric>` | `total#<metric>`
    store:   pk `<store>#metric#<metric>`   sk `local#<day>#<shard>` | `utc#<day>#<shard>`
             pk `<store>#totals`            sk `<metric>#<shard>`
    feeds:   pk `<store>#sold#<shard>`      sk `<day>#<product>`            units and revenue
             pk `<store>#with#<product>`    sk `<other product>#<shard>`   orders holding both
             pk `<store>#person#<profile>` sk `bought#<product>` | `browsed#<product>`

So a person's snapshot (30 days and all time) is one query (`sk >= day#<first day>` reaches the
`total#` items too, and not the `b…` ones), a store's series of N days one query, and its totals
per metric one query, however many events there are. A feed reads any window of product days in
one query a shard (the shards spread a store's sales over partitions), a product's partners or a
person's products in one query each (bcsync/usecases/feeds.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, tzinfo
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Key

from bcsync.adapters.dynamodb import query_all
from bcsync.domain.counters import STORE_SHARDS, Amount, Bucket, tally
from bcsync.domain.events import MarketingEvent, Metric
from bcsync.domain.feeds import PersonProducts, ProductDay

# Events deleted per erasure transaction, with their few store counters (one shard: the person's).
ERASE_CHUNK = 25


def person_key(store_hash: str, profile_id: str) -> str:
    return f"{store_hash}#person#{profile_id}"


def counter_key(bucket: Bucket) -> dict[str, str]:
    store, metric = bucket.store_hash, bucket.metric
    if bucket.product_id is not None:
        return product_key(bucket)
    if bucket.profile_id is not None:
        sort = f"day#{bucket.day}#{metric}" if bucket.day else f"total#{metric}"
        return {"pk": person_key(store, bucket.profile_id), "sk": sort}
    if bucket.day is None:
        return {"pk": f"{store}#totals", "sk": f"{metric}#{bucket.shard}"}
    calendar = "utc" if bucket.utc else "local"
    return {"pk": f"{store}#metric#{metric}", "sk": f"{calendar}#{bucket.day}#{bucket.shard}"}


def product_key(bucket: Bucket) -> dict[str, str]:
    store, product = bucket.store_hash, bucket.product_id
    if bucket.profile_id is not None:
        kind = "bought" if bucket.metric == Metric.ORDERED_PRODUCT else "browsed"
        return {"pk": person_key(store, bucket.profile_id), "sk": f"{kind}#{product}"}
    if bucket.partner is not None:
        return {"pk": f"{store}#with#{product}", "sk": f"{bucket.partner}#{bucket.shard}"}
    return {"pk": f"{store}#sold#{bucket.shard}", "sk": f"{bucket.day}#{product}"}


def counter_update(table: str, bucket: Bucket, amount: Amount) -> dict[str, Any]:
    """An `Update` for a transaction: adds to the counter, creating it at zero if absent."""
    names = {"#c": "count", "#v": "value", "#m": "metric"}
    values: dict[str, Any] = {":c": amount.count, ":v": amount.value, ":m": bucket.metric}
    assignments = "#m = :m"
    described = {"day": bucket.day, "product_id": bucket.product_id, "partner": bucket.partner}
    for name, value in described.items():
        if value:
            names[f"#{name}"] = name
            values[f":{name}"] = value
            assignments += f", #{name} = :{name}"
    expression = f"SET {assignments} ADD #c :c, #v :v"
    return {
        "Update": {
            "TableName": table,
            "Key": counter_key(bucket),
            "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
    }


def counter_updates(table: str, counted: Mapping[Bucket, Amount]) -> list[dict[str, Any]]:
    keyed = sorted((tuple(counter_key(bucket).values()), bucket) for bucket in counted)
    return [counter_update(table, bucket, counted[bucket]) for _, bucket in keyed if counted[bucket].count]


@dataclass(frozen=True)
class Counted:
    """One counter as read."""

    metric: str
    day: str | None
    count: int
    value: Decimal
    product_id: int | None = None
    partner: int | None = None


def _counted(item: Mapping[str, Any]) -> Counted:
    return Counted(
        metric=str(item["metric"]),
        day=str(item["day"]) if item.get("day") else None,
        count=int(item.get("count", 0)),
        value=Decimal(item.get("value", 0)),
        product_id=int(item["product_id"]) if item.get("product_id") else None,
        partner=int(item["partner"]) if item.get("partner") else None,
    )


class DynamoCounters:
    """Reads of the counters, and what erasure and merges do to them. `zone_of` gives a store's
    timezone (its days)."""

    def __init__(self, resource: Any, table_name: str, zone_of: Callable[[str], tzinfo] | None = None) -> None:
        self._table = resource.Table(table_name)
        self._name = table_name
        self._zone_of = zone_of or (lambda _: UTC)

    def person(self, store_hash: str, profile_id: str, *, first_day: str) -> list[Counted]:
        """The person's days from `first_day` and their totals (all time): one query."""
        condition = Key("pk").eq(person_key(store_hash, profile_id)) & Key("sk").gte(f"day#{first_day}")
        return [_counted(item) for item in query_all(self._table, KeyConditionExpression=condition)]

    def series(self, store_hash: str, metric: str, first_day: str, last_day: str, *, utc: bool) -> list[Counted]:
        """The store's days of one metric, shards summed: one query."""
        calendar = "utc" if utc else "local"
        condition = Key("pk").eq(f"{store_hash}#metric#{metric}") & Key("sk").between(
            f"{calendar}#{first_day}#", f"{calendar}#{last_day}#~"
        )
        return _summed(_counted(item) for item in query_all(self._table, KeyConditionExpression=condition))

    def totals(self, store_hash: str) -> list[Counted]:
        """Every metric's all-time count and value for the store, shards summed: one query."""
        condition = Key("pk").eq(f"{store_hash}#totals")
        return _summed(_counted(item) for item in query_all(self._table, KeyConditionExpression=condition))

    # ------------------------------------------------------------------ feeds
    def sold(self, store_hash: str, first_day: str, last_day: str) -> list[ProductDay]:
        """Each product's units and revenue per day, shards summed: one query a shard."""
        sums: dict[tuple[int, str], Amount] = {}
        for shard in range(STORE_SHARDS):
            condition = Key("pk").eq(f"{store_hash}#sold#{shard}") & Key("sk").between(f"{first_day}#", f"{last_day}#~")
            for item in query_all(self._table, KeyConditionExpression=condition):
                counted = _counted(item)
                if counted.product_id is not None and counted.day is not None:
                    sums.setdefault((counted.product_id, counted.day), Amount()).add(counted.count, counted.value)
        return [ProductDay(pid, day, amount.count, amount.value) for (pid, day), amount in sorted(sums.items())]

    def partners(self, store_hash: str, product_id: int) -> dict[int, int]:
        """The orders that held each other product with this one, shards summed: one query."""
        condition = Key("pk").eq(f"{store_hash}#with#{product_id}")
        together: dict[int, int] = {}
        for item in query_all(self._table, KeyConditionExpression=condition):
            counted = _counted(item)
            if counted.partner is not None:
                together[counted.partner] = together.get(counted.partner, 0) + counted.count
        return together

    def person_products(self, store_hash: str, profile_id: str) -> PersonProducts:
        """What the person bought (units) and viewed (views): one query."""
        condition = Key("pk").eq(person_key(store_hash, profile_id)) & Key("sk").between("bought#", "browsed#~")
        bought: dict[int, int] = {}
        viewed: dict[int, int] = {}
        for item in query_all(self._table, KeyConditionExpression=condition):
            counted = _counted(item)
            if counted.product_id is not None:
                into = bought if str(item["sk"]).startswith("bought#") else viewed
                into[counted.product_id] = counted.count
        return PersonProducts(bought=bought, viewed=viewed)

    def delete_events(self, events_table: str, events: Sequence[MarketingEvent]) -> None:
        """Erasure: each event deleted in the transaction that takes it out of the store's
        counters, so a retried erasure subtracts nothing twice. The store's product sales and
        pairs stay: they name no one, and an order's exclusion (a setting) is not the event's."""
        client = self._table.meta.client
        remaining = list(events)
        while remaining:
            chunk, remaining = remaining[:ERASE_CHUNK], remaining[ERASE_CHUNK:]
            while chunk:
                store_part = {
                    bucket: amount
                    for bucket, amount in tally(chunk, self._zone_of(chunk[0].store_hash), sign=-1).items()
                    if bucket.profile_id is None and bucket.product_id is None
                }
                deletes = [
                    {
                        "Delete": {
                            "TableName": events_table,
                            "Key": {"pk": event.id},
                            "ConditionExpression": "attribute_exists(pk)",
                        }
                    }
                    for event in chunk
                ]
                try:
                    client.transact_write_items(TransactItems=deletes + counter_updates(self._name, store_part))
                    break
                except client.exceptions.TransactionCanceledException:
                    found = client.batch_get_item(
                        RequestItems={events_table: {"Keys": [{"pk": e.id} for e in chunk], "ConsistentRead": True}}
                    )["Responses"].get(events_table, [])
                    still = {item["pk"] for item in found}
                    chunk = [event for event in chunk if event.id in still]  # the rest went in an earlier run

    def erase_person(self, store_hash: str, profile_id: str) -> int:
        keys = self._person_keys(store_hash, profile_id)
        with self._table.batch_writer() as batch:
            for key in keys:
                batch.delete_item(Key=key)
        return len(keys)

    def move_person(self, store_hash: str, from_profile: str, to_profile: str) -> int:
        """A merge: the retired person's counters join the survivor's. Each counter moves in one
        transaction that deletes it only as it was read, so a retried merge moves nothing twice."""
        client = self._table.meta.client
        moved = 0
        condition = Key("pk").eq(person_key(store_hash, from_profile))
        # Read as they are: a counter raised a moment ago, read stale, fails its delete condition
        # and would stay behind on the retired profile.
        for item in query_all(self._table, KeyConditionExpression=condition, ConsistentRead=True):
            counted = _counted(item)
            bucket = Bucket(store_hash, counted.metric, to_profile, day=counted.day, product_id=counted.product_id)
            delete = {
                "Delete": {
                    "TableName": self._name,
                    "Key": {"pk": item["pk"], "sk": item["sk"]},
                    "ConditionExpression": "#c = :c AND #v = :v",
                    "ExpressionAttributeNames": {"#c": "count", "#v": "value"},
                    "ExpressionAttributeValues": {":c": item["count"], ":v": item["value"]},
                }
            }
            try:
                add = counter_update(self._name, bucket, Amount(counted.count, counted.value))
                client.transact_write_items(TransactItems=[delete, add])
                moved += 1
            except client.exceptions.TransactionCanceledException:
                continue  # moved (or changed) by another run of the same merge
        return moved

    def _person_keys(self, store_hash: str, profile_id: str) -> list[dict[str, str]]:
        condition = Key("pk").eq(person_key(store_hash, profile_id))
        found = query_all(self._table, KeyConditionExpression=condition, ProjectionExpression="pk, sk")
        return [{"pk": item["pk"], "sk": item["sk"]} for item in found]


def _summed(counters: Iterable[Counted]) -> list[Counted]:
    """Shards of one metric and day as one counter, in key order."""
    sums: dict[tuple[str, str | None], Amount] = {}
    for counted in counters:
        sums.setdefault((counted.metric, counted.day), Amount()).add(counted.count, counted.value)
    return [Counted(metric, day, amount.count, amount.value) for (metric, day), amount in sums.items()]
