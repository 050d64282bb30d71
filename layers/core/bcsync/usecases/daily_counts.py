"""Daily-count verification: per day in the store's timezone, the orders BigCommerce says were
created in placed statuses against bcsync's Placed Order events (Klaviyo asks merchants to make
this comparison by hand)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from bcsync.domain.orders import is_placed
from bcsync.domain.sync import DayCount, Window, day_of, store_days
from bcsync.usecases.polling import order_pages
from bcsync.usecases.ports import BigCommercePoller, PlacedOrderCounter


class DailyCounts:
    def __init__(self, events: PlacedOrderCounter) -> None:
        self._events = events

    def compare(self, store_hash: str, reader: BigCommercePoller, *, days: int, now: datetime) -> list[DayCount]:
        zone = reader.get_store_info().zone()
        spans = store_days(days, zone=zone, now=now)
        first, last = spans[0][1], spans[-1][2]
        # One pass over the orders created in the range (ids ascending, 250 a page, no line items).
        window = Window(start=first, end=last - timedelta(seconds=1), field="created")
        placed: Counter[object] = Counter()
        for orders, _ in order_pages(reader, window, after_id=0, with_lines=False):
            for order in orders:
                if is_placed(order) and order.date_created is not None:
                    placed[day_of(order.date_created, zone)] += 1
        recorded = Counter(day_of(moment, zone) for moment in self._events.placed_order_times(store_hash, first, last))
        return [DayCount(day=day, bigcommerce=placed[day], bcsync=recorded[day]) for day, _, _ in spans]
