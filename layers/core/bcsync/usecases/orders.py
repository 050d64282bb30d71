"""Order sync: read an order's current state, normalize it, store events, send flow triggers.

`sync` serves webhooks and retries (one order by id); `record` takes a snapshot already read, so
reconciliation and backfill, which read orders in pages, reuse the exact same rules and writes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pydantic import ValidationError

from bcsync.domain.orders import (
    OrderSnapshot,
    coupon_codes_from_lines,
    is_placed,
    needs_refunds,
    normalize_order,
)
from bcsync.domain.profiles import contact_from_order
from bcsync.domain.webhooks import OrderWebhookData, WebhookEnvelope, WebhookRejected
from bcsync.observability import logger, metrics
from bcsync.usecases.catalog import CatalogLookup
from bcsync.usecases.ports import BigCommerceConnector, BigCommerceReader, EventLedger
from bcsync.usecases.profiles import ProfileBook
from bcsync.usecases.triggers import TriggerDispatcher


@dataclass(frozen=True)
class SyncResult:
    status: str
    events: int = 0
    new_events: int = 0
    triggers: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "status": self.status,
            "events": self.events,
            "new_events": self.new_events,
            "triggers": self.triggers,
        }


class OrderSync:
    def __init__(
        self,
        catalog: CatalogLookup,
        profiles: ProfileBook,
        events: EventLedger,
        triggers: TriggerDispatcher,
    ) -> None:
        self._catalog = catalog
        self._profiles = profiles
        self._events = events
        self._triggers = triggers

    def read(
        self, store_hash: str, order_id: int, reader: BigCommerceReader, *, refund_announced: bool = False
    ) -> OrderSnapshot | None:
        """One call for the order with its line items; more only when BigCommerce requires them."""
        order = reader.get_order(order_id)
        if order is None or not is_placed(order):
            return None
        embedded = order.embedded_lines()
        lines = embedded if embedded is not None else reader.get_order_products(order_id)
        coupons = coupon_codes_from_lines(lines)
        if not coupons and order.coupon_discount > 0:
            coupons = tuple(sorted(set(reader.get_order_coupon_codes(order_id))))
        refunds = (
            tuple(reader.get_order_refunds(order_id))
            if needs_refunds(order, refund_announced=refund_announced)
            else None
        )
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
        recorded = self._events.record(events)
        stored = [event for event, _ in recorded]
        new = [event for event, created in recorded if created]
        if new:
            metrics.add_metric(name="EventsCreated", unit="Count", value=len(new))
            logger.info(
                "events created",
                extra={"order_id": snapshot.order.id, "event_ids": [event.id for event in new]},
            )
        intents = self._triggers.plan(stored)
        sent = self._triggers.dispatch(intents, profile, {event.id: event for event in stored})
        return SyncResult(status="synced", events=len(stored), new_events=len(new), triggers=sent)


class OrderDeliveries:
    """store/order/* deliveries: validate the body's data, then sync the order it names."""

    def __init__(self, sync: OrderSync, connector: BigCommerceConnector) -> None:
        self._sync = sync
        self._connector = connector

    def prepare(self, envelope: WebhookEnvelope) -> Callable[[float], dict[str, object]]:
        try:
            data = OrderWebhookData.model_validate(envelope.data)
        except ValidationError as exc:
            raise WebhookRejected(400, f"invalid order webhook data: {_first_error(exc)}") from None
        if data.type != "order":
            raise WebhookRejected(400, "data.type must be 'order' on /webhooks/orders")
        refund_announced = data.refund is not None or envelope.scope.endswith("/refund/created")

        def work(budget_seconds: float) -> dict[str, object]:
            reader = self._connector.reader(envelope.store_hash, budget_seconds=budget_seconds)
            result = self._sync.sync(envelope.store_hash, data.id, reader, refund_announced=refund_announced)
            return {"order_id": data.id, **result.as_dict()}

        return work


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    location = ".".join(str(part) for part in error["loc"])
    return f"{location}: {error['msg']}" if location else str(error["msg"])
