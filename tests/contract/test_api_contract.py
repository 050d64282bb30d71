"""Every BigCommerce endpoint bcsync reads, as BigCommerce publishes it.

For each request the client makes: the hand-written fixture in the published shape parses into
our models with the fields we use (asserted value by value below), and the sandbox's answer to the
same request, for the same facts (`scenario.py`), parses to the same values and uses no field,
or JSON type, that the published answer lacks. So neither the models nor the sandbox can drift
from the published API without a test failing here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel

from bcsync.adapters.bigcommerce import BigCommerceClient
from bcsync.domain.bigcommerce import Order
from bcsync.domain.sync import Window
from bcsync.usecases.ports import Page
from bcsync_ops.snippet import script_manager_entry
from tests.contract.harness import PublishedApi, Route, SandboxApi, shape_errors, unpublished_fields
from tests.contract.scenario import FRESH_CART, RECREATED_CART, STARTED_CART, contract_store

MARCH_5 = Window(start=datetime(2019, 3, 5, tzinfo=UTC), end=datetime(2019, 3, 5, 23, 59, tzinfo=UTC), field="created")
MARCH = Window(start=datetime(2019, 3, 1, tzinfo=UTC), end=datetime(2019, 3, 31, tzinfo=UTC), field="created")
ALL_OF_2019 = Window(start=None, end=datetime(2019, 12, 31, tzinfo=UTC), field="created")
FEBRUARY_EDITS = Window(start=datetime(2019, 2, 1, tzinfo=UTC), end=datetime(2019, 2, 28, tzinfo=UTC))
TOKEN_HEADER = {"X-Webhook-Token": "hook-token"}
# What `bcsync onsite install` asks for (script_Post).
SCRIPT = script_manager_entry("<script>/* bcsync */</script>")
# The cart a recovery link rebuilds from scenario's STARTED_CART (CartCreatePostData).
RECREATED = {
    "line_items": [{"product_id": 101, "quantity": 1, "variant_id": 1010}, {"product_id": 102, "quantity": 2}],
    "currency": {"code": "USD"},
}


class OrderCoupon(BaseModel):
    """What `get_order_coupon_codes` reads of each coupon row."""

    code: str


def values(parsed: Any) -> Any:
    """What bcsync reads from a parsed answer, comparable across sources."""
    if isinstance(parsed, Order):
        lines = parsed.embedded_lines()
        return {
            **parsed.model_dump(exclude={"consignments"}),
            "embedded_lines": None if lines is None else [line.model_dump() for line in lines],
        }
    if isinstance(parsed, Page):
        return {"rows": values(parsed.rows), "total": parsed.total, "total_pages": parsed.total_pages}
    if isinstance(parsed, BaseModel):
        return parsed.model_dump()
    if isinstance(parsed, list):
        return [values(item) for item in parsed]
    return parsed


@dataclass(frozen=True)
class Case:
    name: str
    call: Callable[[BigCommerceClient], Any]
    routes: dict[str, Route] = field(default_factory=dict)  # "GET /path" -> fixture (see Route)


CASES = [
    Case("order with embedded lines", lambda c: c.get_order(250), {"GET /v2/orders/250": "orders/order_250.json"}),
    Case(
        "order with capped lines (__warning__)",
        lambda c: c.get_order(251),
        {"GET /v2/orders/251": "orders/order_251_capped.json"},
    ),
    Case("order not found (404)", lambda c: c.get_order(999)),
    Case(
        "order products",
        lambda c: c.get_order_products(250),
        {"GET /v2/orders/250/products": "orders/order_products_250.json"},
    ),
    Case(
        "order coupons",
        lambda c: c.get_order_coupon_codes(250),
        {"GET /v2/orders/250/coupons": "orders/order_coupons_250.json"},
    ),
    Case("order without coupons (204)", lambda c: c.get_order_coupon_codes(251), {"GET /v2/orders/251/coupons": None}),
    Case(
        "an order's refunds",
        lambda c: c.get_order_refunds(250),
        {"GET /v3/orders/250/payment_actions/refunds": "orders/refunds_250.json"},
    ),
    Case(
        "refunds created in a window",
        lambda c: c.refunds_page(MARCH, page=1),
        {"GET /v3/orders/payment_actions/refunds": "orders/refunds_250.json"},
    ),
    Case(
        "orders created in a window",
        lambda c: c.orders_page(MARCH_5, after_id=0),
        {"GET /v2/orders": "orders/orders_list.json"},
    ),
    Case("orders past the last (204)", lambda c: c.orders_page(MARCH_5, after_id=250), {"GET /v2/orders": None}),
    Case("order count", lambda c: c.count_orders(ALL_OF_2019), {"GET /v2/orders/count": "orders/orders_count.json"}),
    Case(
        "products by id",
        lambda c: c.get_products([101]),
        {"GET /v3/catalog/products": "catalog/products_101.json"},
    ),
    Case(
        "products modified in a window",
        lambda c: c.products_page(FEBRUARY_EDITS, page=1),
        {"GET /v3/catalog/products": "catalog/products_101.json"},
    ),
    Case(
        "category tree rows",
        lambda c: c.get_categories([1, 2]),
        {"GET /v3/catalog/trees/categories": "catalog/category_tree_1_2.json"},
    ),
    Case("brands", lambda c: c.get_brands([1]), {"GET /v3/catalog/brands": "catalog/brands_1.json"}),
    Case("store", lambda c: c.get_store_info(), {"GET /v2/store": "store.json"}),
    Case(
        "started checkout, prices with tax, signed in",
        lambda c: c.get_checkout(STARTED_CART),
        {f"GET /v3/checkouts/{STARTED_CART}": "checkouts/started_tax_inclusive.json"},
    ),
    Case(
        "fresh checkout, billing {}",
        lambda c: c.get_checkout(FRESH_CART),
        {f"GET /v3/checkouts/{FRESH_CART}": "checkouts/fresh_guest.json"},
    ),
    Case("checkout gone (404)", lambda c: c.get_checkout("d30016e2-0000-4000-8000-000000000000")),
    Case("customer", lambda c: c.get_customer(32), {"GET /v3/customers": "customers/customer_32.json"}),
    Case(
        "customers modified in a window",
        lambda c: c.customers_page(Window(start=None, end=datetime(2019, 12, 31, tzinfo=UTC)), page=1),
        {"GET /v3/customers": "customers/customer_32.json"},
    ),
    Case(
        "customer group",
        lambda c: c.get_customer_group(1),
        {"GET /v2/customer_groups/1": "customers/customer_group_1.json"},
    ),
    Case(
        "subscriber",
        lambda c: c.get_subscriber(5),
        {"GET /v3/customers/subscribers/5": "customers/subscriber_5.json"},
    ),
    Case(
        "subscriber by email",
        lambda c: c.find_subscriber("jane@example.com"),
        {"GET /v3/customers/subscribers": "customers/subscribers_by_email.json"},
    ),
    Case(
        "subscribers modified in a window",
        lambda c: c.subscribers_page(Window(start=None, end=datetime(2019, 12, 31, tzinfo=UTC)), page=1),
        {"GET /v3/customers/subscribers": "customers/subscribers_by_email.json"},
    ),
    Case("hooks", lambda c: c.list_hooks(), {"GET /v3/hooks": "hooks/hooks.json"}),
    Case(
        "hook created",
        lambda c: c.create_hook("store/cart/*", "https://hooks.example.com/webhooks/carts", TOKEN_HEADER),
        {"POST /v3/hooks": "hooks/hook_created.json"},
    ),
    Case(
        "hook re-enabled",
        lambda c: c.activate_hook(1, TOKEN_HEADER),
        {"PUT /v3/hooks/1": "hooks/hook_1_updated.json"},
    ),
    Case("cart created", lambda c: c.create_cart(RECREATED), {"POST /v3/carts": (201, "carts/cart_created.json")}),
    Case(
        "script created", lambda c: c.create_script(SCRIPT), {"POST /v3/content/scripts": "scripts/script_created.json"}
    ),
    Case(
        "scripts",
        lambda c: (c.create_script(SCRIPT), c.list_scripts())[1],
        {
            "POST /v3/content/scripts": "scripts/script_created.json",
            "GET /v3/content/scripts": "scripts/scripts.json",
        },
    ),
    Case(
        "cart redirect URLs",
        lambda c: c.create_cart_redirect(c.create_cart(RECREATED).id),
        {
            "POST /v3/carts": (201, "carts/cart_created.json"),
            f"POST /v3/carts/{RECREATED_CART}/redirect_urls": (201, "carts/cart_redirect_urls.json"),
        },
    ),
]


def case_named(name: str) -> Case:
    (case,) = [case for case in CASES if case.name == name]
    return case


def read_published(case: Case) -> tuple[Any, PublishedApi]:
    api = PublishedApi(routes=case.routes)
    return case.call(api.client()), api


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_the_sandbox_answers_as_bigcommerce_publishes(case: Case) -> None:
    expected, published_api = read_published(case)
    sandbox_api = SandboxApi(store=contract_store())
    actual = case.call(sandbox_api.client())

    assert values(actual) == values(expected)
    asked = [(e.method, e.path, e.status) for e in sandbox_api.exchanges]
    assert asked == [(e.method, e.path, e.status) for e in published_api.exchanges]
    for sandbox, reference in zip(sandbox_api.exchanges, published_api.exchanges, strict=True):
        if reference.status in (200, 201):
            assert shape_errors(sandbox.body, reference.body) == [], f"{sandbox.method} {sandbox.path}"


@pytest.mark.parametrize("case", [case for case in CASES if case.routes], ids=lambda case: case.name)
def test_every_field_our_models_read_is_in_the_published_answer(case: Case) -> None:
    parsed, api = read_published(case)
    exchange = api.exchanges[-1]
    if exchange.body is None:  # 204: nothing to compare
        return
    body = exchange.body
    rows = body["data"] if isinstance(body, dict) and "data" in body else body
    example = parsed.rows if isinstance(parsed, Page) else parsed
    model = type(example[0] if isinstance(example, list) else example)
    if not issubclass(model, BaseModel):  # coupon codes: a list of strings
        model = OrderCoupon
    assert unpublished_fields(model, rows) == []


def test_the_field_check_catches_a_model_reading_an_unpublished_field() -> None:
    class OldConsignment(BaseModel):
        shipping_address: dict[str, str] | None = None

    class OldCheckout(BaseModel):
        consignments: list[OldConsignment] = []

    _, api = read_published(case_named("started checkout, prices with tax, signed in"))
    assert unpublished_fields(OldCheckout, api.exchanges[0].body["data"]) == [
        "$.consignments[0].shipping_address: read by OldConsignment, not published"
    ]


def test_the_shape_check_catches_the_fields_that_broke_started_checkout() -> None:
    """The check itself: a checkout answered with the fields our sandbox once invented fails."""
    _, published_api = read_published(case_named("started checkout, prices with tax, signed in"))
    reference = published_api.exchanges[0].body
    invented = {"data": {"cart": {"cart_amount": 64.0}, "consignments": [{"shipping_address": {}}]}}
    assert shape_errors(invented, reference) == [
        "$.data.cart.cart_amount: not in the published shape",
        "$.data.consignments[0].shipping_address: not in the published shape",
    ]
    assert shape_errors({"data": {"cart": {"cart_amount_ex_tax": "64.00"}}}, reference) == [
        "$.data.cart.cart_amount_ex_tax: string, published as number"
    ]


# ---------------------------------------------------------------------- the fields we use, as published
def published_value(name: str) -> Any:
    return read_published(case_named(name))[0]


def test_an_order_reads_money_as_decimals_dates_as_utc_and_unset_dates_as_none() -> None:
    order = published_value("order with embedded lines")
    assert (order.id, order.customer_id, order.status_id, order.status) == (250, 32, 11, "Awaiting Fulfillment")
    assert order.date_created == datetime(2019, 3, 5, 21, 40, 11, tzinfo=UTC)
    assert order.date_shipped is None  # published as ""
    assert (order.subtotal_ex_tax, order.subtotal_inc_tax) == (Decimal("64"), Decimal("70.4"))
    assert (order.shipping_cost_ex_tax, order.shipping_cost_inc_tax) == (Decimal("5"), Decimal("5.5"))
    assert (order.discount_amount, order.coupon_discount) == (Decimal("0"), Decimal("4"))
    assert order.is_tax_inclusive_pricing is False
    assert (order.currency_code, order.default_currency_code, order.items_total) == ("USD", "USD", 3)
    billing = order.billing_address
    assert (billing.email, billing.city, billing.state, billing.zip, billing.country) == (
        "jane@example.com",
        "Austin",
        "Texas",
        "78701",
        "United States",
    )


def test_embedded_order_products_carry_prices_discounts_options_and_brand() -> None:
    shirt, mug = published_value("order with embedded lines").embedded_lines()
    assert (shirt.id, shirt.product_id, shirt.variant_id, shirt.sku, shirt.quantity) == (1, 101, 1010, "SHIRT-LIN", 1)
    assert (shirt.price_ex_tax, shirt.price_inc_tax, shirt.cost_price_ex_tax) == (
        Decimal("40"),
        Decimal("44"),
        Decimal("15"),
    )
    assert [(d.code, d.amount, d.target) for d in shirt.applied_discounts] == [("WELCOME10", Decimal("4"), "product")]
    assert [(o.display_name, o.display_value) for o in shirt.product_options] == [("Size", "M")]
    assert (shirt.brand, mug.brand, mug.quantity) == ("Fog Linen", "Stoneware Co", 2)
    assert published_value("order products") == [shirt, mug]


def test_a_capped_embedded_list_is_not_taken_for_the_whole_order() -> None:
    assert published_value("order with capped lines (__warning__)").embedded_lines() is None


def test_coupons_refunds_and_counts() -> None:
    assert published_value("order coupons") == ["WELCOME10"]
    assert published_value("order without coupons (204)") == []
    (refund,) = published_value("an order's refunds")
    assert (refund.id, refund.order_id, refund.total_amount, refund.reason) == (1, 250, Decimal("12"), "Chipped mug")
    assert refund.created == datetime(2019, 3, 7, 10, 0, tzinfo=UTC)
    window = published_value("refunds created in a window")
    assert (window.rows, window.total, window.total_pages) == ([refund], None, None)  # `meta: {}`: no pagination
    assert published_value("orders past the last (204)") == []
    assert published_value("order count").count == 2


def test_catalog_products_categories_brands_and_the_store() -> None:
    (product,) = published_value("products by id")
    assert (product.id, product.name, product.sku, product.price, product.sale_price) == (
        101,
        "Linen Shirt",
        "SHIRT-LIN",
        Decimal("40"),
        Decimal("0"),
    )
    assert (product.categories, product.brand_id, product.inventory_level, product.is_visible) == ([1, 2], 1, 100, True)
    assert product.custom_url is not None and product.custom_url.url == "/linen-shirt/"
    assert product.image_url == "https://cdn.example.com/shirt-lin.jpg"  # primary_image, included on request
    assert [(c.id, c.name) for c in published_value("category tree rows")] == [(1, "Apparel"), (2, "Shirts")]
    assert [(b.id, b.name) for b in published_value("brands")] == [(1, "Fog Linen")]
    store = published_value("store")
    assert store.secure_url == "https://sandbox.example.com"
    assert str(store.zone()) == "Etc/UTC"


def test_a_store_without_the_category_tree_api_answers_from_the_deprecated_one() -> None:
    """Published only: the sandbox serves the tree API, as current stores do."""
    api = PublishedApi(routes={"GET /v3/catalog/categories": "catalog/categories_1_2_deprecated.json"})
    categories = api.client().get_categories([1, 2])
    assert [(e.path, e.status) for e in api.exchanges] == [
        ("/v3/catalog/trees/categories", 404),
        ("/v3/catalog/categories", 200),
    ]
    assert categories == published_value("category tree rows")


def test_a_started_checkout_reads_the_consignment_address_and_both_cart_amounts() -> None:
    checkout = published_value("started checkout, prices with tax, signed in")
    cart = checkout.cart
    assert (cart.customer_id, cart.email, cart.currency.code, cart.tax_included) == (
        32,
        "jane@example.com",
        "USD",
        True,
    )
    assert (cart.cart_amount_inc_tax, cart.cart_amount_ex_tax, cart.amount) == (
        Decimal("70.4"),
        Decimal("64"),
        Decimal("70.4"),
    )
    (consignment,) = checkout.consignments
    assert consignment.address is not None and consignment.address.is_filled
    assert (consignment.address.city, consignment.address.country_code) == ("Austin", "US")
    assert checkout.billing_address is not None and checkout.billing_address.email == "jane@example.com"
    shirt, mug = cart.line_items.all()
    assert (shirt.product_id, shirt.variant_id, shirt.quantity, shirt.sale_price) == (101, 1010, 1, Decimal("44"))
    assert (mug.url, mug.image_url) == (
        "https://sandbox.example.com/ceramic-mug/",
        "https://cdn.example.com/mug-cer.jpg",
    )
    assert checkout.updated_time == datetime(2019, 3, 8, 15, 41, 28, tzinfo=UTC)


def test_a_fresh_checkout_has_an_empty_billing_address_and_no_consignment() -> None:
    checkout = published_value("fresh checkout, billing {}")
    assert checkout.billing_address is not None and checkout.billing_address.email == ""
    assert checkout.consignments == []
    assert checkout.cart.amount == Decimal("25")  # prices without tax: the ex-tax amount
    assert published_value("checkout gone (404)") is None


def test_customers_groups_and_subscribers() -> None:
    customer = published_value("customer")
    assert (customer.id, customer.email, customer.customer_group_id, customer.store_credit) == (
        32,
        "jane@example.com",
        1,
        Decimal("5"),
    )
    (address,) = customer.addresses
    assert (address.city, address.state_or_province, address.country, address.postal_code) == (
        "Austin",
        "Texas",
        "United States",
        "78701",
    )
    assert customer.date_modified == datetime(2019, 2, 1, 12, 0, tzinfo=UTC)
    assert published_value("customer group").name == "Retail"
    subscriber = published_value("subscriber")
    assert (subscriber.id, subscriber.email, subscriber.consents, subscriber.source) == (
        5,
        "jane@example.com",
        ["marketing_newsletter"],
        "storefront",
    )
    assert published_value("subscriber by email") == subscriber


def test_hooks_carry_scope_destination_state_and_headers() -> None:
    (hook,) = published_value("hooks")
    assert (hook.id, hook.scope, hook.is_active, hook.headers) == (1, "store/order/*", True, TOKEN_HEADER)
    assert hook.updated_at == datetime(2019, 1, 3, tzinfo=UTC)  # Unix seconds
    created = published_value("hook created")
    assert (created.id, created.scope, created.destination) == (
        2,
        "store/cart/*",
        "https://hooks.example.com/webhooks/carts",
    )


def test_a_recreated_cart_answers_its_id_and_a_redirect_url_to_load_it() -> None:
    assert published_value("cart created").id == RECREATED_CART
    urls = published_value("cart redirect URLs")
    assert urls.cart_url.startswith(f"https://sandbox.example.com/cart.php?action=load&id={RECREATED_CART}&token=")
    assert "action=loadInCheckout" in urls.checkout_url
