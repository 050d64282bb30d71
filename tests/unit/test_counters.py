"""What an event adds to the counters: the person's and the store's, by the store's day and UTC's."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from bcsync.domain.counters import Amount, Bucket, days_back, is_utc, merged, shard_of, tally
from bcsync.domain.events import MarketingEvent, Metric

SYDNEY = ZoneInfo("Australia/Sydney")


def placed(n: int, at: datetime, value: str = "10", profile: str | None = "p") -> MarketingEvent:
    return MarketingEvent(
        id=f"s:placed-order:order:{n}",
        store_hash="s",
        metric=Metric.PLACED_ORDER,
        profile_id=profile,
        time=at,
        value=Decimal(value),
        currency="USD",
        properties={},
        source_id=f"order:{n}",
    )


def test_an_event_counts_for_the_person_and_the_store_on_the_stores_day_and_utcs():
    late_evening_utc = datetime(2026, 11, 27, 22, 30, tzinfo=UTC)  # already the 28th in Sydney
    counted = tally([placed(1, late_evening_utc)], SYDNEY)
    shard = shard_of("p")
    assert counted == {
        Bucket("s", "Placed Order", shard=shard): Amount(1, Decimal(10)),
        Bucket("s", "Placed Order", day="2026-11-28", shard=shard): Amount(1, Decimal(10)),
        Bucket("s", "Placed Order", day="2026-11-27", utc=True, shard=shard): Amount(1, Decimal(10)),
        Bucket("s", "Placed Order", "p"): Amount(1, Decimal(10)),
        Bucket("s", "Placed Order", "p", day="2026-11-28"): Amount(1, Decimal(10)),
    }


def test_a_utc_store_keeps_one_calendar_and_an_anonymous_event_counts_only_for_the_store():
    counted = tally([placed(2, datetime(2026, 11, 27, 9, tzinfo=UTC), profile=None)], ZoneInfo("Etc/UTC"))
    assert {(b.profile_id, b.day, b.utc) for b in counted} == {(None, None, False), (None, "2026-11-27", False)}
    assert is_utc(UTC) and is_utc(ZoneInfo("UTC")) and not is_utc(SYDNEY)


def test_tallies_add_up_and_a_negative_one_takes_events_back_out():
    at = datetime(2026, 11, 27, 9, tzinfo=UTC)
    two = merged([tally([placed(1, at, "10")], UTC), tally([placed(2, at, "5.50")], UTC)])
    assert two[Bucket("s", "Placed Order", "p")] == Amount(2, Decimal("15.50"))
    none = merged([two, tally([placed(1, at, "10"), placed(2, at, "5.50")], UTC, sign=-1)])
    assert {amount.count for amount in none.values()} == {0} and {a.value for a in none.values()} == {0}


def test_a_persons_store_counters_share_one_shard_and_shards_spread_people():
    assert len({shard_of(f"prof_{n}") for n in range(200)}) == 8
    at = datetime(2026, 11, 27, 9, tzinfo=UTC)
    shards = {b.shard for b in tally([placed(1, at), placed(2, at)], UTC) if b.profile_id is None}
    assert shards == {shard_of("p")}


def test_days_back_ends_today_oldest_first():
    assert days_back(date(2026, 3, 1), 3) == ["2026-02-27", "2026-02-28", "2026-03-01"]


def test_a_stores_zone_is_read_once_and_an_unrecorded_store_is_asked_again_only_after_a_minute():
    from bcsync.domain.bigcommerce import StoreInfo
    from bcsync.usecases.store_zones import StoreZones

    class Catalog:
        info: StoreInfo | None = None
        reads = 0

        def get_store_info(self, store_hash: str) -> StoreInfo | None:
            self.reads += 1
            return self.info

    catalog, now = Catalog(), [0.0]
    zones = StoreZones(catalog, clock=lambda: now[0])  # type: ignore[arg-type]
    assert [zones("s") for _ in range(100)] == [UTC] * 100 and catalog.reads == 1  # an import's rows: one read
    catalog.info = StoreInfo(timezone={"name": "Europe/Paris"})
    now[0] = 61.0
    assert zones("s") == ZoneInfo("Europe/Paris") and zones("s") == ZoneInfo("Europe/Paris") and catalog.reads == 2
