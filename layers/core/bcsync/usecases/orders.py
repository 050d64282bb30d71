"""Order sync: read an order's current state, normalize it, store events, send flow triggers.

`sync` serves webhooks and retries (one order by id); `record` takes a snapshot already read, so
reconciliation and backfill, which read orders in pages, reuse the exact same rules and writes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from bcsync.domain.bigcommerce import Order, Refund
from bcsync.domain.orders import (
    OrderSnapshot,
    coupon_codes_from_lines,
    is_placed,
    needs_refunds,
    normalize_order,
)
from bcsync.domain.profiles import Profile, apply_order_contact, contact_from_order
from bcsync.domain.webhooks import OrderWebhookData, WebhookEnvelope
from bcsync.usecases.catalog import CatalogLookup
from bcsync.usecases.clock import utc_moment, utc_now
from bcsync.usecases.ingest import DeliveryContext, Work, webhook_data
from bcsync.usecases.ports import BigCommerceConnector, BigCommerceReader
from bcsync.usecases.recording import EventRecorder, Sighting, SyncResult


class OrderSync:
    def __init__(self, catalog: CatalogLookup, recorder: EventRecorder) -> None:
        self._catalog = catalog
        self._recorder = recorder

    def read(
        self,
        store_hash: str,
        order_id: int,
        reader: BigCommerceReader,
        *,
        refund_announced: bool = False,
        with_catalog: bool = True,
    ) -> OrderSnapshot | None:
        """One call for the order with its line items; more only when BigCommerce requires them."""
        order = reader.get_order(order_id)
        if order is None or not is_placed(order):
            return None
        refunds = (
            tuple(reader.get_order_refunds(order_id))
            if needs_refunds(order, refund_announced=refund_announced)
            else None
        )
        return self.complete(store_hash, order, reader, refunds=refunds, with_catalog=with_catalog)

    def complete(
        self,
        store_hash: str,
        order: Order,
        reader: BigCommerceReader,
        *,
        refunds: tuple[Refund, ...] | None,
        with_catalog: bool = True,
    ) -> OrderSnapshot:
        """The snapshot of an order already read (alone, or in a page of them): its line items
        from the embedded consignments unless capped, coupon codes, catalog items."""
        order_id = order.id
        embedded = order.embedded_lines()
        lines = embedded if embedded is not None else reader.get_order_products(order_id)
        coupons = coupon_codes_from_lines(lines)
        if not coupons and order.coupon_discount > 0:
            coupons = tuple(sorted(set(reader.get_order_coupon_codes(order_id))))
        catalog = (
            self._catalog.items_for(store_hash, (line.product_id for line in lines), reader) if with_catalog else {}
        )
        return OrderSnapshot(
            store_hash=store_hash,
            order=order,
            lines=tuple(lines),
            catalog=catalog,
            refunds=refunds,
            coupon_codes=coupons,
            observed_at=utc_moment(),
        )

    def sync(
        self, store_hash: str, order_id: int, reader: BigCommerceReader, *, refund_announced: bool = False
    ) -> SyncResult:
        """The catalog items are read with everything else the write depends on: one read."""
        draft = self.read(store_hash, order_id, reader, refund_announced=refund_announced, with_catalog=False)
        if draft is None:
            return SyncResult(status="not_placed")
        product_ids = [line.product_id for line in draft.lines]
        known = self._recorder.read(order_sighting(draft, backfill=False), product_ids)
        catalog = self._catalog.items_for(store_hash, product_ids, reader, cached=known.catalog)
        return self._recorder.record(order_sighting(replace(draft, catalog=catalog), backfill=False), known)

    def record(self, snapshot: OrderSnapshot, *, backfill: bool) -> SyncResult:
        return self._recorder.record(order_sighting(snapshot, backfill=backfill))

    def record_page(
        self,
        store_hash: str,
        orders: Sequence[Order],
        reader: BigCommerceReader,
        *,
        refunds_of: Callable[[Order], tuple[Refund, ...] | None],
        backfill: bool,
    ) -> list[SyncResult]:
        """A page of orders already read: the placed ones, with their refunds where one can exist
        (`refunds_of` answers from the pass's listing), get one read of everything their writes
        depend on (catalog items included), then their changes written together."""
        drafts = [
            self.complete(
                store_hash,
                order,
                reader,
                refunds=refunds_of(order) if needs_refunds(order, refund_announced=False) else None,
                with_catalog=False,
            )
            for order in orders
            if is_placed(order)
        ]
        if not drafts:
            return []
        product_ids = [line.product_id for draft in drafts for line in draft.lines]
        known = self._recorder.read_many([order_sighting(draft, backfill=backfill) for draft in drafts], product_ids)
        catalog = self._catalog.items_for(store_hash, product_ids, reader, cached=known.catalog)
        sightings = [order_sighting(replace(draft, catalog=catalog), backfill=backfill) for draft in drafts]
        return self._recorder.record_many(sightings, known)


def order_sighting(snapshot: OrderSnapshot, *, backfill: bool) -> Sighting:
    contact = contact_from_order(snapshot.order)
    store_hash = snapshot.store_hash

    def edit(profile: Profile | None, profile_id: str) -> Profile:
        return apply_order_contact(profile, contact, profile_id=profile_id, store_hash=store_hash, now=utc_now())

    return Sighting(
        store_hash=store_hash,
        customer_id=contact.customer_id,
        email=contact.email,
        events=lambda profile_id: normalize_order(snapshot, profile_id=profile_id, backfill=backfill),
        edit=edit,
        source=f"order:{snapshot.order.id}",
    )


class OrderDeliveries:
    """store/order/* deliveries: validate the body's data, then sync the order it names."""

    def __init__(self, sync: OrderSync, connector: BigCommerceConnector) -> None:
        self._sync = sync
        self._connector = connector

    def prepare(self, envelope: WebhookEnvelope, context: DeliveryContext) -> Work:
        data = webhook_data(OrderWebhookData, envelope, types=("order",))
        refund_announced = data.refund is not None or envelope.scope.endswith("/refund/created")

        def work(budget_seconds: float) -> dict[str, object]:
            reader = self._connector.reader(envelope.store_hash, budget_seconds=budget_seconds)
            result = self._sync.sync(envelope.store_hash, data.id, reader, refund_announced=refund_announced)
            return {"order_id": data.id, **result.as_dict()}

        return work
