"""Serving product feeds: read the counters a feed ranks (a few queries, however many orders),
rank them (bcsync/domain/feeds.py), and fill the first offerable items from the catalog cache.

The read API, `bcsync feeds show` and flow actions all ask here, so an email's "trending now" is
the list the API shows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Protocol

from pydantic import BaseModel, Field, PlainSerializer

from bcsync.domain.catalog import CatalogItem
from bcsync.domain.events import MarketingEvent
from bcsync.domain.feeds import (
    DEFAULT_DAYS,
    MAX_DAYS,
    MAX_ITEMS,
    TRENDING_DAYS,
    WEEK,
    Feed,
    Measure,
    PersonProducts,
    ProductDay,
    Ranked,
    best_sellers,
    bought_together,
    for_you,
    not_bought,
    offerable,
    seeds,
    trending,
    trigger_product,
    window,
)
from bcsync.domain.refusals import Refusal, Refused

if TYPE_CHECKING:  # the read API serves feeds without loading the flow models
    from bcsync.domain.flow_definitions import FeedRef

# Catalog items read per batch while filling a feed: hidden or sold-out ones are skipped.
CATALOG_BATCH = 100


# Numbers in JSON, as the read API's other amounts are.
Number = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]


class FeedItem(BaseModel):
    product_id: int
    name: str
    url: str = Field(description="The product page")
    image_url: str
    price: Number
    sale_price: Number = Field(description="0 when the product is not on sale")
    score: Number = Field(description="What the feed ranks by (units, revenue, orders, trend, views)")


class FeedView(BaseModel):
    feed: str
    store: str
    days: int | None = Field(description="The window read, in the store's days (None: all time)")
    items: list[FeedItem]


@dataclass(frozen=True)
class FeedQuery:
    feed: Feed
    limit: int = 10
    days: int | None = None
    product_id: int | None = None
    profile_id: str | None = None
    by: Measure = "units"


# ---------------------------------------------------------------------- ports
class FeedCounters(Protocol):
    def sold(self, store_hash: str, first_day: str, last_day: str) -> Sequence[ProductDay]: ...
    def partners(self, store_hash: str, product_id: int) -> Mapping[int, int]: ...
    def person_products(self, store_hash: str, profile_id: str) -> PersonProducts: ...


class FeedCatalog(Protocol):
    def get_items(self, store_hash: str, product_ids: Sequence[int]) -> dict[int, CatalogItem]: ...
    def newest(self, store_hash: str, *, since: datetime | None) -> Iterator[list[CatalogItem]]:
        """The store's items, newest first (catalog creation date), a page at a time."""
        ...


# ---------------------------------------------------------------------- the use case
class Feeds:
    def __init__(
        self,
        counters: FeedCounters,
        catalog: FeedCatalog,
        *,
        zone_of: Callable[[str], tzinfo],
        now: Callable[[], datetime],
        current_profile: Callable[[str, str], str | None] = lambda store_hash, profile_id: profile_id,
    ) -> None:
        """`current_profile`: the id a profile's counters are under (a merge moves them to the
        survivor), None for no such profile."""
        self._current_profile = current_profile
        self._counters = counters
        self._catalog = catalog
        self._zone_of = zone_of
        self._now = now

    def show(self, store_hash: str, query: FeedQuery) -> FeedView:
        """The feed's first `limit` offerable items; Refused for a query it cannot answer. A
        for-you `profile_id` is looked up first (a merge moves a person's counters on)."""
        days = _checked(query)
        if query.feed is Feed.FOR_YOU:
            assert query.profile_id is not None
            profile_id = self._current_profile(store_hash, query.profile_id)
            if profile_id is None:
                raise Refused(Refusal.UNKNOWN, "no such profile")
            query = replace(query, profile_id=profile_id)
        return self._answer(store_hash, query, days)

    def _answer(self, store_hash: str, query: FeedQuery, days: int | None) -> FeedView:
        if query.feed is Feed.NEW_ARRIVALS:
            return FeedView(feed=query.feed, store=store_hash, days=days, items=self._arrivals(store_hash, query, days))
        ranked = self._ranked(store_hash, query, days)
        items = self._filled(store_hash, ranked, query.limit)
        return FeedView(feed=query.feed, store=store_hash, days=days, items=items)

    def for_action(
        self, store_hash: str, profile_id: str, event: MarketingEvent | None, feeds: Sequence[FeedRef]
    ) -> dict[str, list[FeedItem]]:
        """The feeds a flow action names, for its person (current: the runner has just read
        them) and trigger: bought-together starts from the trigger's product (none: an empty list)."""
        filled: dict[str, list[FeedItem]] = {}
        for ref in feeds:
            product_id = trigger_product(event) if ref.name is Feed.BOUGHT_TOGETHER else None
            if ref.name is Feed.BOUGHT_TOGETHER and product_id is None:
                filled[ref.name.value] = []
                continue
            query = FeedQuery(ref.name, limit=ref.limit, days=ref.days, product_id=product_id, profile_id=profile_id)
            filled[ref.name.value] = self._answer(store_hash, query, _checked(query)).items
        return filled

    def _ranked(self, store_hash: str, query: FeedQuery, days: int | None) -> list[Ranked]:
        if query.feed is Feed.BEST_SELLERS:
            assert days is not None
            return best_sellers(self._sold(store_hash, days), by=query.by)
        if query.feed is Feed.TRENDING:
            assert days is not None
            return trending(self._sold(store_hash, days), today=self._today(store_hash), days=days)
        if query.feed is Feed.BOUGHT_TOGETHER:
            assert query.product_id is not None
            return bought_together(self._counters.partners(store_hash, query.product_id), query.product_id)
        assert query.profile_id is not None
        person = self._counters.person_products(store_hash, query.profile_id)
        partners = {seed: self._counters.partners(store_hash, seed) for seed in seeds(person)}
        ranked = for_you(person, partners)
        if len(ranked) < query.limit:  # too little to go on: the month's best sellers they have not bought
            shown = {row.product_id for row in ranked}
            fallback = not_bought(best_sellers(self._sold(store_hash, DEFAULT_DAYS)), person)
            ranked += [row for row in fallback if row.product_id not in shown]
        return ranked

    def _sold(self, store_hash: str, days: int) -> Sequence[ProductDay]:
        first, last = window(self._today(store_hash), days)
        return self._counters.sold(store_hash, first, last)

    def _filled(self, store_hash: str, ranked: Sequence[Ranked], limit: int) -> list[FeedItem]:
        """The first `limit` ranked products the catalog may show, read a batch at a time."""
        items: list[FeedItem] = []
        for start in range(0, len(ranked), CATALOG_BATCH):
            batch = ranked[start : start + CATALOG_BATCH]
            found = self._catalog.get_items(store_hash, [row.product_id for row in batch])
            for row in batch:
                item = found.get(row.product_id)
                if item is not None and offerable(item):
                    items.append(_feed_item(item, row.score))
                    if len(items) == limit:
                        return items
        return items

    def _arrivals(self, store_hash: str, query: FeedQuery, days: int | None) -> list[FeedItem]:
        since = None
        if days is not None:
            first, _ = window(self._today(store_hash), days)
            since = datetime.combine(date.fromisoformat(first), datetime.min.time(), self._zone_of(store_hash))
        items: list[FeedItem] = []
        for page in self._catalog.newest(store_hash, since=since):
            for item in page:
                if offerable(item):
                    items.append(_feed_item(item, Decimal(0)))
                    if len(items) == query.limit:
                        return items
        return items

    def _today(self, store_hash: str) -> date:
        return self._now().astimezone(self._zone_of(store_hash)).date()


def _checked(query: FeedQuery) -> int | None:
    """The days the feed reads (None: all time), or Refused naming what is wrong."""
    if not 1 <= query.limit <= MAX_ITEMS:
        raise Refused(Refusal.INVALID, f"limit: between 1 and {MAX_ITEMS}")
    if query.days is not None and not 1 <= query.days <= MAX_DAYS:
        raise Refused(Refusal.INVALID, f"days: between 1 and {MAX_DAYS}")
    if query.feed is Feed.BOUGHT_TOGETHER and not query.product_id:
        raise Refused(Refusal.INVALID, "product_id: required for bought-together")
    if query.feed is Feed.FOR_YOU and not query.profile_id:
        raise Refused(Refusal.INVALID, "profile_id: required for for-you")
    if query.feed is Feed.TRENDING:
        days = query.days or TRENDING_DAYS
        if days < 2 * WEEK:
            raise Refused(Refusal.INVALID, f"days: trending compares this week with those before: at least {2 * WEEK}")
        return days
    if query.feed is Feed.BEST_SELLERS:
        return query.days or DEFAULT_DAYS
    if query.feed is Feed.NEW_ARRIVALS:
        return query.days
    return None  # pairs and a person's products are counted over all time


def _feed_item(item: CatalogItem, score: Decimal) -> FeedItem:
    return FeedItem(
        product_id=item.product_id,
        name=item.name,
        url=item.product_url,
        image_url=item.image_url,
        price=item.price,
        sale_price=item.sale_price,
        score=score,
    )
