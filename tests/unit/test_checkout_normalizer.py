"""Started Checkout derivation: when a checkout counts as started, its id, value and properties."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from bcsync.domain.bigcommerce import Checkout
from bcsync.domain.carts import (
    CheckoutSnapshot,
    checkout_email,
    is_checkout_started,
    item_set_digest,
    normalize_checkout,
    recreated_cart,
)
from bcsync.domain.catalog import CatalogItem

GIFT_CERTIFICATE = {
    "id": "gc-1",
    "name": "$25 Gift Certificate",
    "theme": "General",
    "amount": 25,
    "taxable": False,
    "sender": {"name": "Ada", "email": "ada@example.com"},
    "recipient": {"name": "Grace", "email": "grace@example.org"},
    "message": "Enjoy",
}
ADDRESS = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "shopper@example.com",
    "address1": "1 Main Street",
    "city": "Austin",
    "state_or_province": "Texas",
    "country_code": "US",
    "postal_code": "78701",
}


def cart_line(product_id: int, qty: int, *, line_id: str = "", price: float = 10.0, **extra: Any) -> dict[str, Any]:
    return {
        "id": line_id or f"line-{product_id}",
        "product_id": product_id,
        "variant_id": product_id * 10,
        "sku": f"SKU-{product_id}",
        "name": f"Product {product_id}",
        "quantity": qty,
        "list_price": price,
        "sale_price": price,
        "extended_sale_price": price * qty,
        **extra,
    }


def checkout(
    *,
    email: str | None = "Shopper@Example.com",
    shipping: bool = True,
    physical: list[dict[str, Any]] | None = None,
    digital: list[dict[str, Any]] | None = None,
    gift_certificates: list[dict[str, Any]] | None = None,
    billing: dict[str, Any] | None = None,
    consignment: dict[str, Any] | None = None,
    cart_email: str | None = None,
    **cart: Any,
) -> Checkout:
    """`GET /v3/checkouts/{id}`'s `data` as published: the cart's amounts in both tax bases,
    `billing_address` `{}` until filled, a consignment with its `address` once the shipping step
    is submitted."""
    physical = [cart_line(1, 1), cart_line(2, 2)] if physical is None else physical
    billing_address = {"email": email, **(billing or {})} if email else dict(billing or {})
    return Checkout.model_validate(
        {
            "id": "c-1",
            "cart": {
                "id": "c-1",
                "customer_id": 0,
                "email": cart_email or email or "",
                "currency": {"code": "EUR"},
                "tax_included": False,
                "base_amount": 30.0,
                "discount_amount": 0,
                "cart_amount_inc_tax": 33.0,
                "cart_amount_ex_tax": 30.0,
                "line_items": {
                    "physical_items": physical,
                    "digital_items": digital or [],
                    "gift_certificates": gift_certificates or [],
                    "custom_items": [],
                },
                "updated_time": "2026-11-20T10:00:00+00:00",
                **cart,
            },
            "billing_address": billing_address,
            "consignments": [consignment or {"id": "cons-1", "address": ADDRESS, "line_item_ids": ["line-1"]}]
            if shipping
            else [],
            "updated_time": "2026-11-20T10:05:00+00:00",
        }
    )


def events_for(value: Checkout, catalog: dict[int, CatalogItem] | None = None):
    return normalize_checkout(CheckoutSnapshot("s", value, catalog or {}), profile_id="p-1")


@pytest.mark.parametrize(
    ("value", "started"),
    [
        (checkout(), True),
        (checkout(email=None), False),
        (checkout(email="not-an-email"), False),
        (checkout(shipping=False), False),
        (checkout(physical=[]), False),
        (checkout(physical=[], digital=[cart_line(3, 1)], shipping=False, billing=ADDRESS), True),
        (checkout(physical=[], digital=[cart_line(3, 1)], shipping=False), False),
        (checkout(physical=[], gift_certificates=[GIFT_CERTIFICATE], shipping=False, billing=ADDRESS), True),
        (checkout(consignment={"id": "cons-1", "address": {"email": "s@example.com", "country_code": "US"}}), False),
        (checkout(consignment={"id": "cons-1", "shipping_address": ADDRESS}), False),
    ],
    ids=[
        "email+address",
        "no-email",
        "bad-email",
        "no-address",
        "empty",
        "digital+billing",
        "digital-no-address",
        "gift-certificate+billing",
        "consignment-address-unfilled",
        "no-shipping_address-field",
    ],
)
def test_a_checkout_is_started_with_a_billing_email_and_an_address(value, started):
    assert is_checkout_started(value) is started
    assert len(events_for(value)) == (1 if started else 0)


def test_the_event_is_keyed_on_cart_and_item_set_and_timed_by_the_checkout():
    (event,) = events_for(checkout())
    assert event.id == f"s:started-checkout:cart:c-1:{item_set_digest(checkout())}"
    assert event.source_id == "cart:c-1"
    assert event.time.isoformat() == "2026-11-20T10:05:00+00:00"
    assert event.value == Decimal("30.0")  # cart_amount_ex_tax: prices exclude tax
    assert event.currency == "EUR"
    assert event.profile_id == "p-1"


def test_the_item_set_ignores_prices_line_ids_and_order_but_not_quantities():
    base = item_set_digest(checkout())
    repriced = checkout(physical=[cart_line(2, 2, line_id="other", price=9), cart_line(1, 1, price=99)])
    assert item_set_digest(repriced) == base
    assert item_set_digest(checkout(physical=[cart_line(1, 1), cart_line(2, 3)])) != base
    assert item_set_digest(checkout(physical=[cart_line(1, 1)])) != base


def test_properties_describe_the_cart_with_catalog_categories_and_line_urls():
    catalog = {
        1: CatalogItem(product_id=1, category_names=["Shirts"], image_url="cat1.jpg", product_url="https://s/p1"),
        2: CatalogItem(product_id=2, category_names=["Kitchen", "Shirts"], image_url="cat2.jpg"),
    }
    physical = [
        cart_line(1, 1, image_url="line1.jpg", url="https://s/line1", coupon_amount=2.0),
        cart_line(2, 2),
    ]
    (event,) = events_for(checkout(physical=physical, coupons=[{"code": "SAVE2"}]), catalog)
    properties = event.properties
    assert properties["Items"] == ["Product 1", "Product 2"]
    assert properties["Item Count"] == 3
    assert properties["Item Categories"] == ["Kitchen", "Shirts"]
    assert properties["Discounted"] is True
    assert properties["Coupons"] == ["SAVE2"]
    first, second = properties["Items Detail"]
    assert (first["ImageURL"], first["ProductURL"]) == ("line1.jpg", "https://s/line1")  # the cart's own
    assert (second["ImageURL"], second["ProductURL"]) == ("cat2.jpg", "")  # from the catalog
    assert second["Price"] == Decimal("10.0")
    assert second["Quantity"] == 2


def test_a_tax_inclusive_cart_is_worth_its_amount_including_tax():
    (event,) = events_for(checkout(tax_included=True, cart_amount_inc_tax=36.3, cart_amount_ex_tax=30.25))
    assert event.value == Decimal("36.3")


def test_a_signed_in_shopper_before_the_billing_step_is_known_by_the_carts_email():
    """Billing is `{}` until filled; the cart's email is the same address."""
    value = checkout(email=None, cart_email="member@example.com", customer_id=32)
    assert value.billing_address is not None and value.billing_address.email == ""
    assert checkout_email(value) == "member@example.com"
    assert is_checkout_started(value)


def test_gift_certificates_are_items_that_ship_nothing():
    value = checkout(
        physical=[], gift_certificates=[GIFT_CERTIFICATE], shipping=False, billing=ADDRESS, cart_amount_ex_tax=25
    )
    (event,) = events_for(value)
    assert event.properties["Items"] == ["$25 Gift Certificate"]
    assert event.properties["Item Count"] == 1
    assert event.properties["Items Detail"][0]["Price"] == Decimal("25")
    assert event.value == Decimal("25")


def test_backfill_marks_the_event():
    (event,) = normalize_checkout(CheckoutSnapshot("s", checkout(), {}), profile_id="p", backfill=True)
    assert event.backfill is True


def test_a_recreated_cart_holds_the_catalog_lines_by_variant_and_leaves_out_what_has_no_product():
    value = checkout(
        physical=[cart_line(1, 1), cart_line(2, 3, variant_id=None)],
        gift_certificates=[GIFT_CERTIFICATE],
        currency={"code": "EUR"},
    )
    (event,) = events_for(value)
    assert recreated_cart(event) == {
        "line_items": [{"product_id": 1, "quantity": 1, "variant_id": 10}, {"product_id": 2, "quantity": 3}],
        "currency": {"code": "EUR"},
    }


def test_nothing_to_recreate_from_a_gift_certificate_alone_or_from_another_metric():
    gift = checkout(physical=[], gift_certificates=[GIFT_CERTIFICATE], shipping=False, billing=ADDRESS)
    (event,) = events_for(gift)
    assert recreated_cart(event) is None
    (started,) = events_for(checkout())
    assert recreated_cart(started.model_copy(update={"metric": "Placed Order"})) is None
