"""Product feeds on small stores whose rankings are computed by hand: what an event counts, ties,
windows, exclusions (hidden, deleted, sold out, already bought, returned orders), and the use case
over in-memory counters and catalog."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from bcsync.domain.catalog import CatalogItem
from bcsync.domain.counters import PAIR_PRODUCTS, Amount, Bucket, merged, shard_of, tally
from bcsync.domain.events import MarketingEvent, Metric
from bcsync.domain.feeds import (
    Feed,
    PersonProducts,
    ProductDay,
    Ranked,
    best_sellers,
    bought_together,
    exclusion,
    for_you,
    offerable,
    seeds,
    trending,
    trigger_product,
)
from bcsync.domain.flow_definitions import FeedRef
from bcsync.domain.refusals import Refused
from bcsync.usecases.feeds import FeedQuery, Feeds

TODAY = date(2026, 11, 29)
NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)


def line(order: int, n: int, product: int, quantity: int, value: str, *, profile: str | None = "p") -> MarketingEvent:
    return MarketingEvent(
        id=f"s:ordered-product:order:{order}:product:{n}",
        store_hash="s",
        metric=Metric.ORDERED_PRODUCT,
        profile_id=profile,
        time=NOW,
        value=Decimal(value),
        currency="USD",
        properties={"ProductID": product, "Quantity": quantity},
        source_id=f"order:{order}",
    )


def order(
    n: int, products: Sequence[int], *, metric: Metric = Metric.PLACED_ORDER, **properties: object
) -> MarketingEvent:
    return MarketingEvent(
        id=f"s:{metric.slug}:order:{n}",
        store_hash="s",
        metric=metric,
        profile_id="p",
        time=NOW,
        value=Decimal(10),
        currency="USD",
        properties={"Items Detail": [{"ProductID": pid, "Quantity": 1} for pid in products], **properties},
        source_id=f"order:{n}",
    )


def day(offset: int) -> str:
    return (TODAY - timedelta(days=offset)).isoformat()


def ids(ranked: Sequence[Ranked]) -> list[int]:
    return [row.product_id for row in ranked]


# ---------------------------------------------------------------------- what an event counts
def test_an_ordered_line_counts_its_units_and_revenue_for_the_store_day_and_the_buyer():
    counted = tally([line(1, 1, 101, 3, "29.97")], UTC)
    shard = shard_of("p")
    assert counted[Bucket("s", "Ordered Product", day="2026-11-29", shard=shard, product_id=101)] == Amount(
        3, Decimal("29.97")
    )
    assert counted[Bucket("s", "Ordered Product", "p", product_id=101)] == Amount(3, Decimal("29.97"))
    # the metric's own counters still count the event once
    assert counted[Bucket("s", "Ordered Product", shard=shard)] == Amount(1, Decimal("29.97"))


def test_an_order_counts_each_ordered_pair_of_its_first_products_once():
    counted = tally([order(1, [101, 102, 101, 103])], UTC)
    pairs = {(b.product_id, b.partner) for b in counted if b.partner is not None}
    assert pairs == {(101, 102), (102, 101), (101, 103), (103, 101), (102, 103), (103, 102)}
    big = tally([order(2, list(range(1, PAIR_PRODUCTS + 3)))], UTC)
    assert {b.product_id for b in big if b.partner is not None} == set(range(1, PAIR_PRODUCTS + 1))


def test_a_guests_line_counts_for_the_store_only_and_text_ids_from_an_import_count_too():
    guest = line(1, 1, 101, 1, "5", profile=None)
    assert all(b.profile_id is None for b in tally([guest], UTC))
    imported = guest.model_copy(update={"properties": {"ProductID": "101", "Quantity": "2"}})
    assert tally([imported], UTC)[
        Bucket("s", "Ordered Product", day="2026-11-29", shard=shard_of(guest.id), product_id=101)
    ] == (Amount(2, Decimal(5)))
    nonsense = guest.model_copy(update={"properties": {"ProductID": "abc", "Quantity": "Infinity"}})
    assert not [b for b in tally([nonsense], UTC) if b.product_id is not None]


# ---------------------------------------------------------------------- rankings
def test_best_sellers_rank_units_in_the_window_ties_by_revenue_then_id():
    sold = [
        ProductDay(101, day(0), 3, Decimal(30)),
        ProductDay(102, day(1), 3, Decimal(45)),
        ProductDay(103, day(2), 1, Decimal(100)),
        ProductDay(104, day(0), 3, Decimal(45)),
    ]
    assert ids(best_sellers(sold)) == [102, 104, 101, 103]
    assert ids(best_sellers(sold, by="revenue")) == [103, 102, 104, 101]
    assert best_sellers(sold)[0].score == 3 and best_sellers(sold, by="revenue")[0].score == 100


def test_a_returned_order_can_leave_the_product_with_nothing_and_out_of_the_ranking():
    sold = [ProductDay(101, day(0), 2, Decimal(20)), ProductDay(101, day(3), -2, Decimal(-20))]
    assert best_sellers(sold) == []


def test_trending_compares_this_week_with_the_weekly_average_before():
    sold = [
        ProductDay(101, day(0), 6, Decimal(0)),  # this week 6, before 6 over three weeks: 6 - 2 = 4
        ProductDay(101, day(10), 6, Decimal(0)),
        ProductDay(102, day(6), 3, Decimal(0)),  # this week 3, nothing before: 3
        ProductDay(103, day(7), 9, Decimal(0)),  # only before: not trending
        ProductDay(104, day(1), 3, Decimal(0)),  # 3 - 9/3 = 0: not rising
        ProductDay(104, day(20), 9, Decimal(0)),
        ProductDay(105, day(2), 3, Decimal(0)),  # ties 102 on score and units: lower id first
    ]
    ranked = trending(sold, today=TODAY)
    assert ids(ranked) == [101, 102, 105]
    assert [row.score for row in ranked] == [Decimal(4), Decimal(3), Decimal(3)]
    with pytest.raises(ValueError):
        trending(sold, today=TODAY, days=10)


def test_bought_together_ranks_partners_by_orders_and_never_the_product_itself():
    assert ids(bought_together({102: 2, 103: 5, 104: 2, 101: 9, 105: 0}, 101)) == [103, 102, 104]


def test_for_you_weighs_views_and_partners_of_the_most_bought_and_viewed_and_drops_what_was_bought():
    person = PersonProducts(bought={101: 2}, viewed={102: 1, 103: 3})
    assert seeds(person) == [103, 101, 102]
    partners = {101: {104: 2, 102: 1}, 103: {101: 4, 105: 1}, 102: {}}
    # 102: viewed 1 + with 101 once = 2; 103: viewed 3; 104: with 101 twice; 105: with 103 once; 101 bought
    assert [(row.product_id, row.score) for row in for_you(person, partners)] == [
        (103, 3),
        (102, 2),
        (104, 2),
        (105, 1),
    ]


def test_offerable_means_cached_visible_purchasable_and_in_stock_where_tracked():
    item = CatalogItem(product_id=1, inventory_tracking="product", inventory_level=2)
    assert offerable(item) and offerable(CatalogItem(product_id=2))
    assert not offerable(None)
    assert not offerable(item.model_copy(update={"is_visible": False}))
    assert not offerable(item.model_copy(update={"inventory_level": 0}))
    assert not offerable(item.model_copy(update={"availability": "disabled"}))
    assert offerable(item.model_copy(update={"availability": "preorder"}))


def test_the_trigger_product_is_the_lines_or_the_orders_first():
    assert trigger_product(line(1, 1, 107, 1, "1")) == 107
    assert trigger_product(order(1, [108, 109])) == 108
    assert trigger_product(None) is None


# ---------------------------------------------------------------------- orders that come back
def test_the_first_return_takes_the_orders_lines_and_pairs_back_once():
    lines = [line(1, 1, 101, 2, "20"), line(1, 2, 102, 1, "5")]
    placed = order(1, [101, 102])
    cancelled = order(1, [101, 102], metric=Metric.CANCELLED_ORDER)
    refunded = order(1, [101, 102], metric=Metric.REFUNDED_ORDER, Status="Refunded")
    events = [placed, *lines, cancelled, refunded]
    taken = exclusion(events, {cancelled.id, refunded.id}, UTC)
    assert list(taken) == [min(cancelled.id, refunded.id)]
    added = tally([placed, *lines], UTC)
    net = merged([added, *taken.values()])
    assert all(amount.count == 0 for b, amount in net.items() if b.profile_id is None and b.product_id)
    # the buyer still bought them (for-you never offers them again)
    assert net[Bucket("s", "Ordered Product", "p", product_id=101)] == Amount(2, Decimal(20))
    # a second return later, or a partial refund, takes nothing more
    assert exclusion(events, {refunded.id}, UTC) == {}
    partial = order(1, [101], metric=Metric.REFUNDED_ORDER, Status="Partially Refunded")
    assert exclusion([placed, *lines, partial], {partial.id}, UTC) == {}


# ---------------------------------------------------------------------- the use case, in memory
class MemoryCounters:
    def __init__(self, events: Sequence[MarketingEvent]) -> None:
        self.counted = merged(tally([event], UTC) for event in events)
        self.queries = 0

    def sold(self, store_hash: str, first_day: str, last_day: str) -> list[ProductDay]:
        self.queries += 1
        sums: dict[tuple[int, str], Amount] = {}
        for b, amount in self.counted.items():
            if b.product_id and b.day and b.profile_id is None and first_day <= b.day <= last_day:
                sums.setdefault((b.product_id, b.day), Amount()).add(amount.count, amount.value)
        return [ProductDay(pid, d, a.count, a.value) for (pid, d), a in sums.items()]

    def partners(self, store_hash: str, product_id: int) -> dict[int, int]:
        self.queries += 1
        found: dict[int, int] = {}
        for b, amount in self.counted.items():
            if b.product_id == product_id and b.partner is not None:
                found[b.partner] = found.get(b.partner, 0) + amount.count
        return found

    def person_products(self, store_hash: str, profile_id: str) -> PersonProducts:
        self.queries += 1
        bought = {b.product_id: a.count for b, a in self.counted.items() if b.profile_id == profile_id and b.product_id}
        return PersonProducts(bought={k: v for k, v in bought.items() if k}, viewed={})


class MemoryCatalog:
    def __init__(self, items: Mapping[int, CatalogItem]) -> None:
        self.items = dict(items)

    def get_items(self, store_hash: str, product_ids: Sequence[int]) -> dict[int, CatalogItem]:
        return {pid: self.items[pid] for pid in product_ids if pid in self.items}

    def newest(self, store_hash: str, *, since: datetime | None) -> Iterator[list[CatalogItem]]:
        dated = [i for i in self.items.values() if i.date_created and (since is None or i.date_created >= since)]
        dated.sort(key=lambda i: (i.date_created, i.product_id), reverse=True)
        for start in range(0, len(dated), 2):
            yield dated[start : start + 2]


def catalog(*hidden: int, sold_out: tuple[int, ...] = ()) -> MemoryCatalog:
    return MemoryCatalog(
        {
            pid: CatalogItem(
                product_id=pid,
                name=f"Product {pid}",
                price=Decimal(10),
                product_url=f"https://shop.example/{pid}/",
                is_visible=pid not in hidden,
                inventory_tracking="product",
                inventory_level=0 if pid in sold_out else 5,
                date_created=datetime(2026, 11, pid % 28 + 1, tzinfo=UTC),
            )
            for pid in range(101, 111)
        }
    )


def feeds(events: Sequence[MarketingEvent], shop: MemoryCatalog, **options: object) -> Feeds:
    return Feeds(MemoryCounters(events), shop, zone_of=lambda store: UTC, now=lambda: NOW, **options)  # type: ignore[arg-type]


def test_a_feed_skips_hidden_sold_out_and_deleted_products_and_stops_at_the_limit():
    events = [line(n, 1, pid, 10 - n, "1") for n, pid in enumerate([101, 102, 103, 999, 104, 105])]
    view = feeds(events, catalog(102, sold_out=(103,))).show("s", FeedQuery(Feed.BEST_SELLERS, limit=2))
    assert [item.product_id for item in view.items] == [101, 104]
    assert view.items[0].url == "https://shop.example/101/" and view.days == 30


def test_for_you_without_history_falls_back_to_best_sellers_not_bought():
    events = [line(1, 1, 101, 5, "1", profile="someone"), line(2, 1, 102, 4, "1"), line(3, 1, 103, 1, "1")]
    view = feeds(events, catalog()).show("s", FeedQuery(Feed.FOR_YOU, limit=5, profile_id="p"))
    assert [item.product_id for item in view.items] == [101]  # p bought 102 and 103


def test_new_arrivals_are_newest_first_within_the_days_asked():
    view = feeds([], catalog(110)).show("s", FeedQuery(Feed.NEW_ARRIVALS, limit=3))
    assert [item.product_id for item in view.items] == [109, 108, 107]  # 110 is hidden
    recent = feeds([], catalog()).show("s", FeedQuery(Feed.NEW_ARRIVALS, days=2))
    assert [item.product_id for item in recent.items] == []  # created Nov 18th-27th; today is the 29th
    recent = feeds([], catalog()).show("s", FeedQuery(Feed.NEW_ARRIVALS, days=4))
    assert [item.product_id for item in recent.items] == [110, 109]  # since the 26th


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (FeedQuery(Feed.BOUGHT_TOGETHER), "product_id: required for bought-together"),
        (FeedQuery(Feed.FOR_YOU), "profile_id: required for for-you"),
        (FeedQuery(Feed.TRENDING, days=7), "days: trending compares this week with those before: at least 14"),
        (FeedQuery(Feed.BEST_SELLERS, limit=0), "limit: between 1 and 50"),
        (FeedQuery(Feed.BEST_SELLERS, days=400), "days: between 1 and 366"),
    ],
)
def test_a_query_a_feed_cannot_answer_is_refused_with_what_is_wrong(query, message):
    with pytest.raises(Refused) as refused:
        feeds([], catalog()).show("s", query)
    assert str(refused.value) == message


def test_for_you_of_no_such_profile_is_refused():
    with pytest.raises(Refused, match="no such profile"):
        feeds([], catalog(), current_profile=lambda store, pid: None).show(
            "s", FeedQuery(Feed.FOR_YOU, profile_id="gone")
        )


def test_for_you_follows_a_retired_id_to_its_survivor_and_an_action_asks_for_no_lookup():
    events = [line(1, 1, 101, 5, "1", profile="someone"), line(2, 1, 102, 4, "1"), line(3, 1, 103, 1, "1")]
    asked: list[str] = []

    def current(store: str, profile_id: str) -> str | None:
        asked.append(profile_id)
        return {"retired": "p"}.get(profile_id)

    shop = feeds(events, catalog(), current_profile=current)
    view = shop.show("s", FeedQuery(Feed.FOR_YOU, profile_id="retired"))
    assert [item.product_id for item in view.items] == [101] and asked == ["retired"]  # p's, not a stranger's
    filled = shop.for_action("s", "p", None, [FeedRef(name=Feed.FOR_YOU), FeedRef(name=Feed.BOUGHT_TOGETHER)])
    assert [item.product_id for item in filled["for-you"]] == [101] and filled["bought-together"] == []
    assert asked == ["retired"]  # the runner's person is current already
