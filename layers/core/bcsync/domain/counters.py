"""Counters kept with the events: per person and per store, per metric, per day and over all time,
each a count and a value. They are written in the same transaction as the events they count, so
an event counts once however often it is delivered, replayed or reconciled.

A person's days are the store's days (its timezone); the store keeps its days in its timezone and,
unless that is UTC, in UTC too, so a daily series is read in either without touching an event. A
store-wide counter would be one hot item under every order (DESIGN.md, Scale): the store's are
spread over shards by person and summed when read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from zoneinfo import ZoneInfo

from bcsync.domain.events import MarketingEvent

STORE_SHARDS = 8
UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/Universal", "Universal", "Zulu", "Etc/Zulu", "GMT", "Etc/GMT"})


@dataclass(frozen=True)
class Bucket:
    """One counter. `profile_id` None: the store's (`shard` of it); `day` None: all time;
    `utc`: a day of the UTC calendar rather than the store's."""

    store_hash: str
    metric: str
    profile_id: str | None = None
    day: str | None = None
    utc: bool = False
    shard: int = 0


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
    return counted


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
