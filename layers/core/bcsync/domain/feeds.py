"""Product feeds for flow emails: what each one ranks, from the counters the event writes keep
(bcsync/domain/counters.py `product_counts`), and which catalog items may be shown.

Every ranking is a pure function of those counts, so a feed read from DynamoDB equals the same
ranking computed from an events export and the catalog (README, "Product feeds"). Ties go to the
larger second measure, then to the lower product id.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, tzinfo
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from bcsync.domain.catalog import CatalogItem
from bcsync.domain.counters import Amount, Bucket, days_back, order_products, product_ref, tally
from bcsync.domain.events import MarketingEvent, Metric


class Feed(StrEnum):
    BEST_SELLERS = "best-sellers"
    TRENDING = "trending"
    BOUGHT_TOGETHER = "bought-together"
    FOR_YOU = "for-you"
    NEW_ARRIVALS = "new-arrivals"


Measure = Literal["units", "revenue"]

DEFAULT_DAYS = 30
TRENDING_DAYS = 28  # this week against the three before it
WEEK = 7
MAX_DAYS = 366
MAX_ITEMS = 50
# A person's recommendations start from their most bought or viewed products: one query each.
FOR_YOU_SEEDS = 5


@dataclass(frozen=True)
class ProductDay:
    """One product's units and revenue on one store day (shards summed)."""

    product_id: int
    day: str
    units: int
    revenue: Decimal


@dataclass(frozen=True)
class PersonProducts:
    """What one person bought (units) and viewed (views), by product."""

    bought: Mapping[int, int]
    viewed: Mapping[int, int]


@dataclass(frozen=True)
class Ranked:
    product_id: int
    score: Decimal


# ---------------------------------------------------------------------- what may be shown
def offerable(item: CatalogItem | None) -> bool:
    """In the catalog, visible, purchasable and, where stock is tracked, in stock."""
    if item is None or not item.is_visible or item.availability == "disabled":
        return False
    return item.inventory_tracking == "none" or (item.inventory_level or 0) > 0


# ---------------------------------------------------------------------- the rankings
def window(today: date, days: int) -> tuple[str, str]:
    span = days_back(today, days)
    return span[0], span[-1]


def best_sellers(sold: Iterable[ProductDay], *, by: Measure = "units") -> list[Ranked]:
    """Units (or revenue) per product over the days read; ties: the other measure, then id."""
    totals: dict[int, Amount] = {}
    for row in sold:
        totals.setdefault(row.product_id, Amount()).add(row.units, row.revenue)
    ranked = [(pid, a) for pid, a in totals.items() if (a.count if by == "units" else a.value) > 0]
    if by == "units":
        ranked.sort(key=lambda pair: (-pair[1].count, -pair[1].value, pair[0]))
        return [Ranked(pid, Decimal(amount.count)) for pid, amount in ranked]
    ranked.sort(key=lambda pair: (-pair[1].value, -pair[1].count, pair[0]))
    return [Ranked(pid, amount.value) for pid, amount in ranked]


def trending(sold: Iterable[ProductDay], *, today: date, days: int = TRENDING_DAYS) -> list[Ranked]:
    """This week's units (the last 7 days) above the weekly average of the `days - 7` before:
    score = this week - before x 7 / (days - 7). Only products sold this week and rising."""
    if days < 2 * WEEK:
        raise ValueError(f"trending needs at least {2 * WEEK} days")
    week_start = days_back(today, WEEK)[0]
    this_week: dict[int, int] = {}
    before: dict[int, int] = {}
    for row in sold:
        into = this_week if row.day >= week_start else before
        into[row.product_id] = into.get(row.product_id, 0) + row.units
    weeks_before = Decimal(days - WEEK) / WEEK
    scored = [
        (pid, Decimal(units) - Decimal(before.get(pid, 0)) / weeks_before, units)
        for pid, units in this_week.items()
        if units > 0
    ]
    scored.sort(key=lambda row: (-row[1], -row[2], row[0]))
    return [Ranked(pid, score.quantize(Decimal("0.01"))) for pid, score, _ in scored if score > 0]


def bought_together(partners: Mapping[int, int], product_id: int) -> list[Ranked]:
    """Products by the number of orders that held them with `product_id`."""
    ranked = sorted(
        ((pid, n) for pid, n in partners.items() if n > 0 and pid != product_id), key=lambda pair: (-pair[1], pair[0])
    )
    return [Ranked(pid, Decimal(n)) for pid, n in ranked]


def seeds(person: PersonProducts) -> list[int]:
    """The person's FOR_YOU_SEEDS products most bought (units) plus viewed (views)."""
    weight: dict[int, int] = {}
    for counts in (person.bought, person.viewed):
        for pid, n in counts.items():
            weight[pid] = weight.get(pid, 0) + n
    return [pid for pid, n in sorted(weight.items(), key=lambda pair: (-pair[1], pair[0])) if n > 0][:FOR_YOU_SEEDS]


def for_you(person: PersonProducts, partners_of: Mapping[int, Mapping[int, int]]) -> list[Ranked]:
    """Products the person viewed and did not buy, and those bought with their seeds: score =
    their views + the orders that held them with each seed; never what they bought."""
    score: dict[int, int] = {pid: n for pid, n in person.viewed.items() if n > 0}
    for seed in seeds(person):
        for pid, n in partners_of.get(seed, {}).items():
            score[pid] = score.get(pid, 0) + max(n, 0)
    ranked = sorted(
        ((pid, n) for pid, n in score.items() if n > 0 and person.bought.get(pid, 0) <= 0), key=lambda p: (-p[1], p[0])
    )
    return [Ranked(pid, Decimal(n)) for pid, n in ranked]


def not_bought(ranked: Sequence[Ranked], person: PersonProducts) -> list[Ranked]:
    """A fallback list (best sellers) without what the person bought."""
    return [row for row in ranked if person.bought.get(row.product_id, 0) <= 0]


def trigger_product(event: MarketingEvent | None) -> int | None:
    """The product an action's "bought together" starts from: the viewed or ordered product, or
    an order's or checkout's first line."""
    if event is None:
        return None
    return product_ref(event.properties.get("ProductID")) or next(iter(order_products(event.properties)), None)


# ---------------------------------------------------------------------- returns (a store setting)
def returned(event: MarketingEvent) -> bool:
    """Cancelled, or refunded in full: the order leaves the rankings when a store excludes returns."""
    if event.metric == Metric.CANCELLED_ORDER:
        return True
    return event.metric == Metric.REFUNDED_ORDER and event.properties.get("Status") == "Refunded"


def exclusion(
    order_events: Sequence[MarketingEvent], new_ids: Iterable[str], zone: tzinfo
) -> dict[str, dict[Bucket, Amount]]:
    """What takes a returned order out of the rankings, by the id of the event that carries it:
    the first new return of an order none of whose stored events is a return takes back what
    its lines and pairs added (on the days they were added). `order_events`: one order's events,
    as stored where they are."""
    new = set(new_ids)
    returns = [event for event in order_events if returned(event)]
    if not returns or any(event.id not in new for event in returns):
        return {}
    carrier = min(returns, key=lambda event: event.id)
    sold = [event for event in order_events if event.metric in (Metric.ORDERED_PRODUCT, Metric.PLACED_ORDER)]
    taken = {
        bucket: Amount(-amount.count, -amount.value)
        for bucket, amount in tally(sold, zone).items()
        if bucket.profile_id is None and bucket.product_id is not None
    }
    return {carrier.id: taken} if taken else {}
