"""Cart sync: read the checkout behind a cart webhook and derive Started Checkout from it.

Every cart scope leads to the same read (`GET /v3/checkouts/{id}`), since cart bodies are thin and
the checkout is the only place the shopper's email and address live. `converted` names the order
the cart became; that link is recorded so consumers can tell a recovered cart.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from bcsync.domain.carts import CheckoutSnapshot, checkout_email, is_checkout_started, normalize_checkout
from bcsync.domain.webhooks import CartWebhookData, WebhookEnvelope
from bcsync.usecases.catalog import CatalogLookup
from bcsync.usecases.ingest import DeliveryContext, Work, webhook_data
from bcsync.usecases.ports import BigCommerceConnector, BigCommerceReader, CartLedger, Known
from bcsync.usecases.recording import EventRecorder, Sighting, SyncResult, checkout_contact


class CartSync:
    def __init__(self, catalog: CatalogLookup, recorder: EventRecorder, carts: CartLedger) -> None:
        self._catalog = catalog
        self._recorder = recorder
        self._carts = carts

    def read(self, store_hash: str, cart_id: str, reader: BigCommerceReader) -> CheckoutSnapshot | SyncResult:
        """The checkout (catalog items still to be added), or why there is nothing to record."""
        checkout = reader.get_checkout(cart_id)
        if checkout is None:
            return SyncResult(status="gone")
        if checkout_email(checkout) is None:
            return SyncResult(status="anonymous")
        if not is_checkout_started(checkout):
            return SyncResult(status="not_started")
        return CheckoutSnapshot(store_hash=store_hash, checkout=checkout, catalog={})

    def sync(self, store_hash: str, cart_id: str, reader: BigCommerceReader) -> SyncResult:
        """The catalog items are read with everything else the write depends on: one read."""
        draft = self.read(store_hash, cart_id, reader)
        if isinstance(draft, SyncResult):
            return draft
        product_ids = [line.product_id for line in draft.checkout.cart.line_items.all()]
        known = self._recorder.read(checkout_sighting(draft, backfill=False), product_ids)
        catalog = self._catalog.items_for(store_hash, product_ids, reader, cached=known.catalog)
        return self.record(replace(draft, catalog=catalog), backfill=False, known=known)

    def record(self, snapshot: CheckoutSnapshot, *, backfill: bool, known: Known | None = None) -> SyncResult:
        result = self._recorder.record(checkout_sighting(snapshot, backfill=backfill), known)
        cart_id = snapshot.checkout.cart.id
        for event_id in result.event_ids:  # every time: a crash after the commit must not lose the link
            if result.profile_id:
                self._carts.record_checkout(
                    snapshot.store_hash, cart_id, profile_id=result.profile_id, event_id=event_id
                )
        return result

    def convert(self, store_hash: str, cart_id: str, order_id: int, at: datetime) -> SyncResult:
        self._carts.record_conversion(store_hash, cart_id, order_id=order_id, at=at)
        return SyncResult(status="converted")


def checkout_sighting(snapshot: CheckoutSnapshot, *, backfill: bool) -> Sighting:
    checkout = snapshot.checkout
    email = checkout_email(checkout) or ""
    store_hash = snapshot.store_hash
    customer_id = checkout.cart.customer_id or None
    billing = checkout.billing_address
    stated = {
        "First Name": billing.first_name if billing else "",
        "Last Name": billing.last_name if billing else "",
        "Phone Number": billing.phone if billing else "",
    }

    return Sighting(
        store_hash=store_hash,
        customer_id=customer_id,
        email=email,
        events=lambda profile_id: normalize_checkout(snapshot, profile_id=profile_id, backfill=backfill),
        edit=checkout_contact(store_hash, email=email, customer_id=customer_id, properties=stated),
        source=f"cart:{checkout.cart.id}",
    )


class CartDeliveries:
    """store/cart/* deliveries: every scope re-reads the checkout, except `converted` (the cart
    is gone by then: the link to its order is recorded) and `deleted` (nothing left to read)."""

    def __init__(self, sync: CartSync, connector: BigCommerceConnector) -> None:
        self._sync = sync
        self._connector = connector

    def prepare(self, envelope: WebhookEnvelope, context: DeliveryContext) -> Work:
        data = webhook_data(CartWebhookData, envelope, types=("cart", "cart_line_item"))
        cart_id = data.cart
        store_hash = envelope.store_hash

        def work(budget_seconds: float) -> dict[str, object]:
            if envelope.scope == "store/cart/converted":
                if data.order_id is None:
                    return {"cart_id": cart_id, "status": "converted_without_order"}
                result = self._sync.convert(store_hash, cart_id, data.order_id, context.event_time(envelope))
            elif envelope.scope == "store/cart/deleted":
                result = SyncResult(status="deleted")
            else:
                reader = self._connector.reader(store_hash, budget_seconds=budget_seconds)
                result = self._sync.sync(store_hash, cart_id, reader)
            return {"cart_id": cart_id, **result.as_dict()}

        return work
