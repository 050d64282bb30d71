"""Checkout state to Started Checkout: BigCommerce has no checkout webhook, so it is derived.

A checkout counts as started once it has a billing email and a shipping address (the shopper
clicked continue to payment): BigCommerce creates a consignment, with its `address`, when the
shipping step is submitted. The event id carries a digest of the item set, so the same cart
yields one event until its items change, however many cart webhooks arrive and in what order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bcsync.domain.bigcommerce import CartLineItem, Checkout
from bcsync.domain.catalog import CatalogItem
from bcsync.domain.events import MarketingEvent, Metric, event_id
from bcsync.domain.profiles import normalize_email


@dataclass(frozen=True)
class CheckoutSnapshot:
    store_hash: str
    checkout: Checkout
    catalog: Mapping[int, CatalogItem]

    @property
    def lines(self) -> list[CartLineItem]:
        return self.checkout.cart.line_items.all()


def checkout_email(checkout: Checkout) -> str | None:
    """The billing email; the cart's email is the same address ("the same email address that is
    used in the billing address"), there before the billing step for a signed-in shopper."""
    billing = checkout.billing_address.email if checkout.billing_address else ""
    return normalize_email(billing) or normalize_email(checkout.cart.email)


def has_shipping_address(checkout: Checkout) -> bool:
    """A filled shipping address on a consignment; a cart with nothing to ship (digital items
    and gift certificates only) has no shipping step, so its billing address stands in."""
    if any(c.address and c.address.is_filled for c in checkout.consignments):
        return True
    nothing_to_ship = not checkout.cart.line_items.physical_items
    return nothing_to_ship and checkout.billing_address is not None and checkout.billing_address.is_filled


def is_checkout_started(checkout: Checkout) -> bool:
    return (
        checkout_email(checkout) is not None and has_shipping_address(checkout) and bool(checkout.cart.line_items.all())
    )


def item_set_digest(checkout: Checkout) -> str:
    """What is in the cart (product, variant, quantity per line), ignoring prices and line ids,
    which change without the shopper changing anything."""
    entries = sorted(
        f"{line.product_id}:{line.variant_id or 0}:{line.sku if not line.product_id else ''}:{line.quantity}"
        for line in checkout.cart.line_items.all()
    )
    return hashlib.sha256("|".join(entries).encode()).hexdigest()[:16]


def _unit_price(line: CartLineItem) -> Decimal:
    return line.sale_price or line.list_price


def checkout_properties(snapshot: CheckoutSnapshot) -> dict[str, Any]:
    """The order-level property set, with cart lines' own image and product URLs preferred."""
    cart = snapshot.checkout.cart
    details = []
    categories: set[str] = set()
    for line in snapshot.lines:
        item = snapshot.catalog.get(line.product_id)
        categories.update(item.category_names if item else [])
        details.append(
            {
                "Name": line.name,
                "SKU": line.sku,
                "ProductID": line.product_id,
                "VariantID": line.variant_id,
                "Quantity": line.quantity,
                "Price": _unit_price(line),
                "ImageURL": line.image_url or (item.image_url if item else ""),
                "ProductURL": line.url or (item.product_url if item else ""),
            }
        )
    coupons = sorted({c.code for c in [*cart.coupons, *snapshot.checkout.coupons] if c.code})
    line_discounts = any(line.discount_amount > 0 or line.coupon_amount > 0 for line in snapshot.lines)
    return {
        "Items": [line.name for line in snapshot.lines],
        "Item Count": sum(line.quantity for line in snapshot.lines),
        "Item Categories": sorted(categories),
        "Discounted": cart.discount_amount > 0 or bool(coupons) or line_discounts,
        "Coupons": coupons,
        "Items Detail": details,
    }


def normalize_checkout(
    snapshot: CheckoutSnapshot, *, profile_id: str | None, backfill: bool = False
) -> list[MarketingEvent]:
    """Started Checkout for a started checkout, keyed on cart id + item set; else nothing."""
    checkout = snapshot.checkout
    cart = checkout.cart
    if not is_checkout_started(checkout):
        return []
    time = checkout.updated_time or cart.updated_time or checkout.created_time or cart.created_time
    if time is None:
        return []
    source_id = f"cart:{cart.id}"
    return [
        MarketingEvent(
            id=event_id(snapshot.store_hash, Metric.STARTED_CHECKOUT, f"{source_id}:{item_set_digest(checkout)}"),
            store_hash=snapshot.store_hash,
            metric=Metric.STARTED_CHECKOUT,
            profile_id=profile_id,
            time=time,
            value=cart.amount,
            currency=cart.currency.code,
            properties=checkout_properties(snapshot),
            source_id=source_id,
            backfill=backfill,
        )
    ]


def recreated_cart(event: MarketingEvent) -> dict[str, Any] | None:
    """The `POST /v3/carts` body (`CartCreatePostData`) that puts a Started Checkout's catalog
    items back in a new cart: BigCommerce restores a shopper's cart only by recreating it through
    the Management API. Prices are the store's current ones; custom items and gift certificates,
    which have no product, are left out. None when nothing can be put back."""
    if event.metric != Metric.STARTED_CHECKOUT:
        return None
    lines = []
    for detail in event.properties.get("Items Detail", []):
        product_id, quantity = int(detail.get("ProductID") or 0), int(detail.get("Quantity") or 0)
        if product_id <= 0 or quantity <= 0:
            continue
        line = {"product_id": product_id, "quantity": quantity}
        if detail.get("VariantID"):
            line["variant_id"] = int(detail["VariantID"])
        lines.append(line)
    if not lines:
        return None
    body: dict[str, Any] = {"line_items": lines}
    if event.currency:
        body["currency"] = {"code": event.currency}
    return body
