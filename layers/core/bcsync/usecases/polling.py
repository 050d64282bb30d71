"""One pass over one stream's window, page by page, through the same use cases as the webhooks.

Reconciliation and backfill differ only in their windows and in `backfill` (no flow triggers, no
promised profile triggers); both call `StreamPasses.run`, which records a page, then saves the
cursor, then asks whether to stop. A crash mid-page re-reads that page: recording is idempotent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from bcsync.domain.bigcommerce import CatalogProduct, Customer, Order, Refund, Subscriber
from bcsync.domain.orders import RefundListing
from bcsync.domain.sync import Stream, StreamCursor, Window, step_back_after_shrink
from bcsync.observability import logger
from bcsync.usecases.catalog import CatalogLookup
from bcsync.usecases.clock import utc_moment
from bcsync.usecases.customers import CustomerSync
from bcsync.usecases.orders import OrderSync
from bcsync.usecases.ports import BigCommercePoller, Page
from bcsync.usecases.subscribers import SubscriberSync

Row = TypeVar("Row")


class PollingError(Exception):
    """BigCommerce answered a poll in a way that would loop or lose rows (e.g. ignored min_id)."""


@dataclass
class PageOutcome:
    """What one recorded page added: rows read and the ids of events it created."""

    seen: int = 0
    created_ids: list[str] = field(default_factory=list)


# Called after each recorded page with the advanced cursor; returns True to stop the pass there.
Checkpoint = Callable[[StreamCursor, PageOutcome], bool]


@dataclass
class PassContext:
    store_hash: str
    reader: BigCommercePoller
    backfill: bool
    origin: str | None = None  # where confirmation links point (the webhook destination)
    refunds: RefundListing | None = None  # the window's refunds, read on first need


class StreamPasses:
    def __init__(
        self, orders: OrderSync, customers: CustomerSync, subscribers: SubscriberSync, catalog: CatalogLookup
    ) -> None:
        self._orders = orders
        self._customers = customers
        self._subscribers = subscribers
        self._catalog = catalog

    def run(self, context: PassContext, cursor: StreamCursor, checkpoint: Checkpoint) -> bool:
        """True when the window is done; False when `checkpoint` asked to stop."""
        if cursor.stream is Stream.ORDERS:
            return self._orders_pass(context, cursor, checkpoint)
        return self._paged_pass(context, cursor, checkpoint)

    # ------------------------------------------------------------------ orders (keyset by id)
    def _orders_pass(self, context: PassContext, cursor: StreamCursor, checkpoint: Checkpoint) -> bool:
        for orders, more in order_pages(context.reader, cursor.window, after_id=cursor.after_id):
            outcome = PageOutcome(seen=len(orders))

            def refunds_of(order: Order) -> tuple[Refund, ...] | None:
                return self._refunds_of(context, cursor.window, order)

            results = self._orders.record_page(
                context.store_hash, orders, context.reader, refunds_of=refunds_of, backfill=context.backfill
            )
            outcome.created_ids += [event_id for result in results for event_id in result.created_ids]
            cursor.after_id = max((order.id for order in orders), default=cursor.after_id)
            cursor.done += len(orders)
            if checkpoint(cursor, outcome) and more:
                return False
        return True

    def _refunds_of(self, context: PassContext, window: Window, order: Order) -> tuple[Refund, ...] | None:
        """From the refunds stream since the window's start (`created:min`), read once when the
        first refunded order shows up. Reconciliation asks an order alone only when the listing
        cannot answer for it (older than the window, or changed since the listing). A backfill's
        window starts before its orders were created, so the listing answers for each one that
        has not changed since; one that has is live, and its refunds are left to the webhooks and
        the next reconciliation (None: not read), so a backfill never asks an order alone."""
        if context.refunds is None:
            context.refunds = _list_refunds(context.reader, start=window.start)
        listed = context.refunds.refunds_of(order)
        if listed is not None or context.backfill:
            return listed
        return tuple(context.reader.get_order_refunds(order.id))

    # ------------------------------------------------------------------ v3 collections (pages)
    def _paged_pass(self, context: PassContext, cursor: StreamCursor, checkpoint: Checkpoint) -> bool:
        store, reader, window = context.store_hash, context.reader, cursor.window
        if cursor.stream is Stream.PRODUCTS:

            def products(rows: list[CatalogProduct]) -> None:
                self._catalog.store_products(store, rows, reader)

            return _pages(cursor, checkpoint, reader.products_page, products, reader.page_size)
        if cursor.stream is Stream.CUSTOMERS:

            def customers(rows: list[Customer]) -> None:
                for customer in rows:
                    # A customer created inside a live window had its `created` webhook missed.
                    created = not context.backfill and window.covers(customer.date_created)
                    self._customers.record_read(store, customer, reader, created=created)

            return _pages(cursor, checkpoint, reader.customers_page, customers, reader.page_size)

        def subscribers(rows: list[Subscriber]) -> None:
            for subscriber in rows:
                self._subscribers.record(
                    store, subscriber, observed_at=utc_moment(), origin=context.origin, live=not context.backfill
                )

        return _pages(cursor, checkpoint, reader.subscribers_page, subscribers, reader.page_size)


def _list_refunds(reader: BigCommercePoller, *, start: datetime | None) -> RefundListing:
    listed_at = utc_moment()
    window = Window(start=start, end=listed_at, field="created")
    refunds: list[Refund] = []
    page = 1
    while True:
        batch = reader.refunds_page(window, page=page)
        refunds += batch.rows
        if _last_page(batch, page, reader.page_size):
            return RefundListing.of(refunds, start=start, listed_at=listed_at)
        page += 1


def order_pages(
    reader: BigCommercePoller, window: Window, *, after_id: int, with_lines: bool = True
) -> Iterator[tuple[list[Order], bool]]:
    """The window's orders above `after_id`, a page at a time (keyset by id), each with whether
    more may follow; a short page is the last."""
    while True:
        orders = reader.orders_page(window, after_id=after_id, with_lines=with_lines)
        fresh = [order for order in orders if order.id > after_id]
        more = len(orders) >= reader.page_size
        if more and not fresh:
            raise PollingError("BigCommerce returned a full page of orders at or below min_id")
        yield fresh, more
        if not more:
            return
        after_id = max(order.id for order in fresh)


def _pages(
    cursor: StreamCursor,
    checkpoint: Checkpoint,
    fetch: Callable[..., Page[Row]],
    record: Callable[[list[Row]], object],
    page_size: int,
) -> bool:
    """Page through a v3 collection from the cursor, stepping back when its total shrinks."""
    while True:
        batch = fetch(cursor.window, page=cursor.page)
        if batch.total is not None:
            back = step_back_after_shrink(cursor, batch.total, page_size)
            if back < cursor.page:
                logger.info("collection shrank mid-pass; re-reading", extra={"stream": cursor.stream, "page": back})
                cursor.page, cursor.total = back, batch.total
                continue
        record(batch.rows)
        last = _last_page(batch, cursor.page, page_size)
        cursor.page += 1
        cursor.total = batch.total
        cursor.done += len(batch.rows)
        outcome = PageOutcome(seen=len(batch.rows))
        if last:
            checkpoint(cursor, outcome)
            return True
        if checkpoint(cursor, outcome):
            return False


def _last_page(batch: Page[Row], page: int, page_size: int) -> bool:
    if not batch.rows:
        return True
    if batch.total_pages is not None:
        return page >= batch.total_pages
    return len(batch.rows) < page_size
