"""The read model on in-memory ports: snapshots add up the counters, series fill every day in the
store's or UTC's calendar, cursors round-trip and refuse what they did not make."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from bcsync.domain.profiles import blank_profile
from bcsync.domain.refusals import Refusal, Refused
from bcsync.usecases.read_model import ReadModel

NOW = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)  # 14:00 on the 29th in Sydney
SYDNEY = ZoneInfo("Australia/Sydney")


@dataclass(frozen=True)
class Row:
    metric: str
    day: str | None
    count: int
    value: Decimal


class Ports:
    """Profiles, timeline, counters, sync state, jobs and stores, all in memory."""

    def __init__(self):
        self.people = {"p": blank_profile("p", "s", "t")}
        self.rows = [
            Row("Placed Order", None, 5, Decimal("500")),
            Row("Placed Order", "2026-11-29", 1, Decimal("100")),
            Row("Placed Order", "2026-11-20", 2, Decimal("150")),
        ]
        self.series_asked: list[tuple] = []
        self.person_reads = 0
        self.pages: list[tuple] = []

    def get(self, store_hash, profile_id):
        return self.people.get(profile_id)

    def find(self, store_hash, kind, value):
        return None

    def person(self, store_hash, profile_id, *, first_day):
        self.person_reads += 1
        rows = self.rows if profile_id == "p" else []
        return [row for row in rows if row.day is None or row.day >= first_day]

    def series(self, store_hash, metric, first_day, last_day, *, utc):
        self.series_asked.append((first_day, last_day, utc))
        return [Row(metric, "2026-11-28", 3, Decimal("30"))]

    def totals(self, store_hash):
        return [Row("Placed Order", None, 5, Decimal("500")), Row("Imported Thing", None, 1, Decimal("1"))]

    def timeline_page(self, store_hash, profile_id, *, before, limit, metric):
        self.pages.append((before, limit, metric))
        return [], "2026-11-01T00:00:00Z#s:placed-order:order:1"

    def store_hashes(self):
        return ["s"]


@contextmanager
def refused(reason: Refusal) -> Iterator[None]:
    with pytest.raises(Refused) as error:
        yield
    assert error.value.reason is reason


def model(ports, zone=SYDNEY):
    return ReadModel(ports, ports, ports, ports, jobs=ports, stores=ports, zone_of=lambda _: zone, now=lambda: NOW)


def test_a_snapshot_adds_the_last_30_store_days_and_keeps_all_time_apart():
    snapshot = model(Ports()).snapshot("s", "p")
    placed = next(m for m in snapshot.metrics if m.metric == "Placed Order")
    assert (placed.last_30_days.count, placed.last_30_days.value) == (3, Decimal("250"))
    assert (placed.all_time.count, placed.all_time.value) == (5, Decimal("500"))
    assert snapshot.through == "2026-11-29"  # Sydney's day at 03:00 UTC
    assert [m.metric for m in snapshot.metrics][:6] == [
        "Started Checkout",
        "Placed Order",
        "Ordered Product",
        "Fulfilled Order",
        "Cancelled Order",
        "Refunded Order",
    ]
    with refused(Refusal.UNKNOWN):
        model(Ports()).snapshot("s", "nobody")
    quiet = Ports()
    quiet.people["q"] = blank_profile("q", "s", "t")  # no events yet: a snapshot of zeros
    assert {m.all_time.count for m in model(quiet).snapshot("s", "q").metrics} == {0}


def test_a_series_fills_every_day_of_the_calendar_asked_for():
    ports = Ports()
    series = model(ports).series("s", "Placed Order", days=3, tz="store")
    assert [(d.day, d.count) for d in series.days] == [("2026-11-27", 0), ("2026-11-28", 3), ("2026-11-29", 0)]
    assert ports.series_asked[-1] == ("2026-11-27", "2026-11-29", False) and series.timezone == "Australia/Sydney"
    utc = model(ports).series("s", "Placed Order", days=2, tz="utc")
    assert ports.series_asked[-1] == ("2026-11-28", "2026-11-29", True) and utc.timezone == "UTC"
    assert model(ports, UTC).series("s", "Placed Order", days=1, tz="utc").timezone == "UTC"
    assert ports.series_asked[-1][2] is False  # a UTC store keeps one calendar
    assert model(ports).series("s", "Imported Thing", days=1, tz="store").metric == "Imported Thing"
    for bad in (0, 367):
        with refused(Refusal.INVALID):
            model(ports).series("s", "Placed Order", days=bad, tz="store")
    with refused(Refusal.UNKNOWN):
        model(ports).series("s", "Nothing", days=1, tz="store")


def test_a_cursor_round_trips_and_one_the_api_did_not_make_is_refused():
    ports = Ports()
    page = model(ports).events("s", "p", metric=None, before=None, limit=10)
    assert page.next and "#" not in page.next  # opaque
    model(ports).events("s", "p", metric="Placed Order", before=page.next, limit=10)
    assert ports.pages[-1] == ("2026-11-01T00:00:00Z#s:placed-order:order:1", 10, "Placed Order")
    for bad in ("%%%", "bm90LWEtY3Vyc29y"):  # not base64; base64 of "not-a-cursor"
        with refused(Refusal.INVALID):
            model(ports).events("s", "p", metric=None, before=bad, limit=10)
    with refused(Refusal.INVALID):
        model(ports).events("s", "p", metric=None, before=None, limit=101)


def test_the_store_is_the_only_one_or_the_one_named():
    ports = Ports()
    assert model(ports).store(None) == "s"
    with refused(Refusal.UNKNOWN):
        model(ports).store("other")
    ports.store_hashes = lambda: ["s", "t"]
    two = model(ports)
    with refused(Refusal.INVALID):
        two.store(None)
    assert two.store("t") == "t"
