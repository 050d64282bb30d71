"""Cart sync: read the checkout behind a cart webhook and derive Started Checkout from it.

Every cart scope leads to the same read (`GET /v3/checkouts/{id}`), since cart bodies are thin and
the checkout is the only place the shopper's email and address live. `converted` names the order
the cart became; that link is recorded so consumers can tell a recovered cart.
"""

from __future__ import annotations

from datetime import datetime

from bcsync.domain.carts import CheckoutSnapshot, checkout_email, is_checkout_started, normalize_checkout
from bcsync.domain.profiles import apply_checkout_contact
from bcsync.domain.webhooks import CartWebhookData, WebhookEnvelope
from bcsync.usecases.catalog import CatalogLookup
from bcsync.usecases.clock import utc_now
from bcsync.usecases.ingest import DeliveryContext, Work, webhook_data
from bcsync.usecases.ports import BigCommerceConnector, BigCommerceReader, CartLedger
from bcsync.usecases.profiles import ProfileBook
from bcsync.usecases.recording import EventRecorder, SyncResult


class CartSync:
    def __init__(
        self, catalog: CatalogLookup, profiles: ProfileBook, recorder: EventRecorder, carts: CartLedger
    ) -> None:
        self._catalog = catalog
        self._profiles = profiles
        self._recorder = recorder
        self._carts = carts

    def read(self, store_hash: str, cart_id: str, reader: BigCommerceReader) -> CheckoutSnapshot | SyncResult:
        """The checkout with its catalog data, or why there is nothing to record."""
        checkout = reader.get_checkout(cart_id)
        if checkout is None:
            return SyncResult(status="gone")
        if checkout_email(checkout) is None:
            return SyncResult(status="anonymous")
        if not is_checkout_started(checkout):
            return SyncResult(status="not_started")
        product_ids = (line.product_id for line in checkout.cart.line_items.all())
        catalog = self._catalog.items_for(store_hash, product_ids, reader)
        return CheckoutSnapshot(store_hash=store_hash, checkout=checkout, catalog=catalog)

    def sync(self, store_hash: str, cart_id: str, reader: BigCommerceReader) -> SyncResult:
        snapshot = self.read(store_hash, cart_id, reader)
        return snapshot if isinstance(snapshot, SyncResult) else self.record(snapshot, backfill=False)

    def record(self, snapshot: CheckoutSnapshot, *, backfill: bool) -> SyncResult:
        checkout = snapshot.checkout
        email = checkout_email(checkout) or ""
        store_hash = snapshot.store_hash
        profile_id = self._profiles.resolve(store_hash, customer_id=checkout.cart.customer_id or None, email=email)
        if profile_id is None:
            return SyncResult(status="anonymous")
        billing = checkout.billing_address
        known = {
            "First Name": billing.first_name if billing else "",
            "Last Name": billing.last_name if billing else "",
            "Phone Number": billing.phone if billing else "",
        }
        profile = self._profiles.change(
            store_hash,
            profile_id,
            lambda current: apply_checkout_contact(
                current,
                email=email,
                properties=known,
                customer_id=checkout.cart.customer_id or None,
                profile_id=profile_id,
                store_hash=store_hash,
                now=utc_now(),
            ),
        )
        events = normalize_checkout(snapshot, profile_id=profile_id, backfill=backfill)
        result = self._recorder.record(events, profile, source=f"cart:{checkout.cart.id}")
        for event in events:
            self._carts.record_checkout(store_hash, checkout.cart.id, profile_id=profile_id, event_id=event.id)
        return result

    def convert(self, store_hash: str, cart_id: str, order_id: int, at: datetime) -> SyncResult:
        self._carts.record_conversion(store_hash, cart_id, order_id=order_id, at=at)
        return SyncResult(status="converted")


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
