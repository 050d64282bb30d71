"""The facts behind the published-shape fixtures, seeded into the sandbox store.

Each fixture in `published/` is hand-written in the shape BigCommerce's OpenAPI documents give
(bigcommerce/docs, `reference/*.yml`) and describes this store: the same facts, so the sandbox's
answer to the same request must parse to the same values.

- Catalog: the demo's four products (101 Linen Shirt 40.00, 102 Ceramic Mug 12.00, 103 Canvas
  Tote 25.00, 104 Wool Socks 9.00), categories 1 Apparel, 2 Shirts, 3 Kitchen, 4 Bags; brands in
  order of appearance 1 Fog Linen, 2 Stoneware Co, 3 Northwool; store URL
  https://sandbox.example.com; created at CATALOG_AT, the shirt last edited at SHIRT_EDITED_AT.
- Jane Doe, customer 32 in group 1 "Retail", jane@example.com, phone 555-0100, store credit 5.00,
  one address in Austin; subscriber 5 with the marketing_newsletter consent.
- Order 250 by customer 32, created ORDER_AT, Awaiting Fulfillment (11), not tax-inclusive
  (10% tax), shipping 5.00: one Linen Shirt (size M) with coupon WELCOME10 taking 4.00, two
  Ceramic Mugs; refund 1 of 12.00 ("Chipped mug") at REFUND_AT.
- Cart STARTED_CART, Jane signed in: the shirt and two mugs, prices shown with tax, a shipping
  address in Austin (the billing address the same). Cart FRESH_CART: one tote, nothing entered.
- The first cart made with `POST /v3/carts` (a recovery link rebuilding STARTED_CART's items for
  a guest) is RECREATED_CART, stamped HOOK_AT.
- A hook for store/order/* to https://hooks.example.com/webhooks/orders with an X-Webhook-Token;
  hooks are stamped HOOK_AT.
- Order 251, a guest's (Sam Lee, sam@example.com), created CAPPED_ORDER_AT: sixty lines of one pair
  of Wool Socks each, so BigCommerce embeds fifty and warns.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from bcsync_ops.demo import sandbox_store
from bcsync_ops.sandbox import Line, SandboxStore

CATALOG_AT = datetime(2019, 1, 2, 9, 0, tzinfo=UTC)
SHIRT_EDITED_AT = datetime(2019, 2, 15, 10, 0, tzinfo=UTC)
CUSTOMER_AT = datetime(2019, 2, 1, 12, 0, tzinfo=UTC)
ORDER_AT = datetime(2019, 3, 5, 21, 40, 11, tzinfo=UTC)
REFUND_AT = datetime(2019, 3, 7, 10, 0, tzinfo=UTC)
CAPPED_ORDER_AT = datetime(2019, 3, 6, 8, 0, tzinfo=UTC)
CART_AT = datetime(2019, 3, 8, 15, 38, 14, tzinfo=UTC)
CHECKOUT_AT = datetime(2019, 3, 8, 15, 41, 28, tzinfo=UTC)
HOOK_AT = datetime(2019, 1, 3, 0, 0, tzinfo=UTC)

STARTED_CART = "306d57d7-124e-4112-82cd-35e060c0d4d9"
FRESH_CART = "b0386708-fef3-45de-9d8b-fbe3031450a4"
RECREATED_CART = "4100b51e-cf19-5aae-9947-3e6f0eb1c3f3"


def contract_store() -> SandboxStore:
    store = sandbox_store()
    for product in store.products.values():
        product.created = product.modified = CATALOG_AT
    store.products[101].modified = SHIRT_EDITED_AT
    store.customer_groups[1] = "Retail"
    store.add_customer(
        32,
        email="jane@example.com",
        first_name="Jane",
        last_name="Doe",
        at=CUSTOMER_AT,
        group_id=1,
        phone="555-0100",
        store_credit=Decimal("5"),
        city="Austin",
    )
    store.subscribe(5, email="jane@example.com", first_name="Jane", last_name="Doe", at=CUSTOMER_AT)
    shirt, mug, tote = store.products[101], store.products[102], store.products[103]
    store.place_order(
        250,
        email="jane@example.com",
        first_name="Jane",
        last_name="Doe",
        customer_id=32,
        lines=[Line(shirt, 1, Decimal("4"), coupon="WELCOME10", options={"Size": "M"}), Line(mug, 2)],
        created=ORDER_AT,
        phone="555-0100",
    )
    store.refund(250, Decimal("12"), at=REFUND_AT, reason="Chipped mug")
    store.place_order(
        251,
        email="sam@example.com",
        first_name="Sam",
        last_name="Lee",
        lines=[Line(store.products[104], 1) for _ in range(60)],
        created=CAPPED_ORDER_AT,
    )
    store.create_cart(STARTED_CART, [Line(shirt, 1), Line(mug, 2)], at=CART_AT, tax_included=True)
    store.sign_in(STARTED_CART, 32, "jane@example.com", at=CART_AT, first_name="Jane", last_name="Doe")
    store.enter_shipping_address(STARTED_CART, at=CHECKOUT_AT)
    store.create_cart(FRESH_CART, [Line(tote, 1)], at=CART_AT)
    store.clock = lambda: HOOK_AT
    store.add_hook(
        "store/order/*", "https://hooks.example.com/webhooks/orders", headers={"X-Webhook-Token": "hook-token"}
    )
    return store
