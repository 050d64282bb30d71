"""Order sync: read an order's current state, normalize it, store events, send flow triggers.

`sync` serves webhooks and retries (one order by id); `record` takes a snapshot already read, so
reconciliation and backfill, which read orders in pages, reuse the exact same rules and writes.
"""

from __future__ import annotations

from bcsync.domain.bigcommerce import Order, Refund
from bcsync.domain.orders import (
    OrderSnapshot,
    coupon_codes_from_lines,
    is_placed,
    needs_refunds,
    normalize_order,
)
from bcsync.domain.profiles import contact_from_order
from bcsync.domain.webhooks import OrderWebhookData, WebhookEnvelope
from bcsync.usecases.catalog import CatalogLookup
from bcsync.usecases.ingest import DeliveryContext, Work, webhook_data
from bcsync.usecases.ports import BigCommerceConnector, BigCommerceReader
from bcsync.usecases.profiles import ProfileBook
from bcsync.usecases.recording import EventRecorder, SyncResult


class OrderSync:
    def __init__(self, catalog: CatalogLookup, profiles: ProfileBook, recorder: EventRecorder) -> None:
        self._catalog = catalog
        self._profiles = profiles
        self._recorder = recorder

    def read(
        self, store_hash: str, order_id: int, reader: BigCommerceReader, *, refund_announced: bool = False
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
        return self.complete(store_hash, order, reader, refunds=refunds)

    def complete(
        self, store_hash: str, order: Order, reader: BigCommerceReader, *, refunds: tuple[Refund, ...] | None
    ) -> OrderSnapshot:
        """The snapshot of an order already read (alone, or in a page of them): its line items
        from the embedded consignments unless capped, coupon codes, catalog items."""
        order_id = order.id
        embedded = order.embedded_lines()
        lines = embedded if embedded is not None else reader.get_order_products(order_id)
        coupons = coupon_codes_from_lines(lines)
        if not coupons and order.coupon_discount > 0:
            coupons = tuple(sorted(set(reader.get_order_coupon_codes(order_id))))
        catalog = self._catalog.items_for(store_hash, (line.product_id for line in lines), reader)
        return OrderSnapshot(
            store_hash=store_hash,
            order=order,
            lines=tuple(lines),
            catalog=catalog,
            refunds=refunds,
            coupon_codes=coupons,
        )

    def sync(
        self, store_hash: str, order_id: int, reader: BigCommerceReader, *, refund_announced: bool = False
    ) -> SyncResult:
        snapshot = self.read(store_hash, order_id, reader, refund_announced=refund_announced)
        if snapshot is None:
            return SyncResult(status="not_placed")
        return self.record(snapshot, backfill=False)

    def record(self, snapshot: OrderSnapshot, *, backfill: bool) -> SyncResult:
        contact = contact_from_order(snapshot.order)
        profile = self._profiles.record_order_contact(snapshot.store_hash, contact)
        events = normalize_order(snapshot, profile_id=profile.id if profile else None, backfill=backfill)
        return self._recorder.record(events, profile, source=f"order:{snapshot.order.id}")


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
