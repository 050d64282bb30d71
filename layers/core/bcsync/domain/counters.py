"""Counters kept with the events: per person and per store, per metric, per day and over all time,
each a count and a value. They are written in the same transaction as the events they count, so
an event counts once however often it is delivered, replayed or reconciled.

A person's days are the store's days (its timezone); the store keeps its days in its timezone and,
unless that is UTC, in UTC too, so a daily series is read in either without touching an event. A
store-wide counter would be one hot item under every order (DESIGN.md, Scale): the store's are
spread over shards by person and summed when read.

The same writes keep what product feeds rank (bcsync/domain/feeds.py): units and revenue of each
product per store day (Ordered Product), how many orders held two products together (Placed Order's
lines), and what each person bought and viewed. They are counted from the event alone, so every
path that writes an event (webhook, reconciliation, backfill, import, onsite) counts it once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from zoneinfo import ZoneInfo

from bcsync.domain.events import MarketingEvent, Metric

STORE_SHARDS = 8
# Pairs are counted among an order's first products (in line order): n products cost n x (n - 1)
# counter writes in the order's transaction, which holds 100 items.
PAIR_PRODUCTS = 5
UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/Universal", "Universal", "Zulu", "Etc/Zulu", "GMT", "Etc/GMT"})


@dataclass(frozen=True)
class Bucket:
    """One counter. `profile_id` None: the store's (`shard` of it); `day` None: all time;
    `utc`: a day of the UTC calendar rather than the store's. `product_id`: one product's (its
    units and revenue, or a person's units or views of it); with `partner`, the orders that held
    both."""

    store_hash: str
    metric: str
    profile_id: str | None = None
    day: str | None = None
    utc: bool = False
    shard: int = 0
    product_id: int | None = None
    partner: int | None = None


@dataclass
class Amount:
    count: int = 0
    value: Decimal = Decimal(0)

    def add(self, count: int, value: Decimal) -> None:
        self.count += count
        self.value += value


def is_utc(zone: tzinfo) -> bool:
    """A zone whose days are UTC's: its UTC buckets would repeat its own."""
    if zone is UTC or zone == UTC:
        return True
    return isinstance(zone, ZoneInfo) and zone.key in UTC_NAMES


def shard_of(key: str) -> int:
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % STORE_SHARDS


def day_of(moment: datetime, zone: tzinfo) -> str:
    return moment.astimezone(zone).date().isoformat()


def tally(events: Iterable[MarketingEvent], zone: tzinfo, *, sign: int = 1) -> dict[Bucket, Amount]:
    """What `events` add to (or, with sign -1, take from) each counter."""
    counted: dict[Bucket, Amount] = {}
    also_utc = not is_utc(zone)
    for event in events:
        store, metric, person = event.store_hash, str(event.metric), event.profile_id
        local = day_of(event.time, zone)
        shard = shard_of(person or event.id)
        buckets = [Bucket(store, metric, shard=shard), Bucket(store, metric, day=local, shard=shard)]
        if also_utc:
            buckets.append(Bucket(store, metric, day=day_of(event.time, UTC), utc=True, shard=shard))
        if person:
            buckets += [Bucket(store, metric, person), Bucket(store, metric, person, day=local)]
        for bucket in buckets:
            counted.setdefault(bucket, Amount()).add(sign, sign * event.value)
        for bucket, amount in product_counts(event, local, shard):
            counted.setdefault(bucket, Amount()).add(sign * amount.count, sign * amount.value)
    return counted


def product_counts(event: MarketingEvent, day: str, shard: int) -> list[tuple[Bucket, Amount]]:
    """What feeds count of one event: an ordered line's units and revenue on the store's day (and
    the buyer's units), a view (the viewer's), an order's pairs of products."""
    store, metric, person, properties = event.store_hash, str(event.metric), event.profile_id, event.properties
    if metric == Metric.ORDERED_PRODUCT and (product := product_ref(properties.get("ProductID"))):
        units = Amount(whole(properties.get("Quantity"), default=1), event.value)
        counts = [(Bucket(store, metric, day=day, shard=shard, product_id=product), units)]
        return counts + ([(Bucket(store, metric, person, product_id=product), units)] if person else [])
    if metric == Metric.VIEWED_PRODUCT and person and (product := product_ref(properties.get("ProductID"))):
        return [(Bucket(store, metric, person, product_id=product), Amount(1, Decimal(0)))]
    if metric == Metric.PLACED_ORDER:
        products = order_products(properties)
        return [
            (Bucket(store, metric, shard=shard, product_id=a, partner=b), Amount(1, Decimal(0)))
            for a in products
            for b in products
            if a != b
        ]
    return []


def order_products(properties: Mapping[str, object]) -> list[int]:
    """An order's first PAIR_PRODUCTS distinct products, in the order of its lines."""
    lines = properties.get("Items Detail")
    found: list[int] = []
    for line in lines if isinstance(lines, list) else []:
        product = product_ref(line.get("ProductID")) if isinstance(line, Mapping) else None
        if product and product not in found:
            found.append(product)
    return found[:PAIR_PRODUCTS]


def product_ref(value: object) -> int | None:
    """A catalog product id as an event carries it (an import may carry it as text); else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    return value if isinstance(value, int) and value > 0 else None


def whole(value: object, *, default: int) -> int:
    if isinstance(value, bool) or value is None:
        return default
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return default
    whole_number = number.is_finite() and number == number.to_integral_value() and number > 0
    return int(number) if whole_number else default


def merged(tallies: Iterable[Mapping[Bucket, Amount]]) -> dict[Bucket, Amount]:
    """Several tallies as one: a transaction may name a counter once."""
    total: dict[Bucket, Amount] = {}
    for counted in tallies:
        for bucket, amount in counted.items():
            total.setdefault(bucket, Amount()).add(amount.count, amount.value)
    return total


def days_back(today: date, days: int) -> list[str]:
    """The `days` calendar days ending with `today`, oldest first."""
    return [date.fromordinal(today.toordinal() - n).isoformat() for n in range(days - 1, -1, -1)]
