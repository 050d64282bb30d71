"""Cart webhooks: Started Checkout derived from the checkout, Abandoned Cart triggers, cart links."""

from __future__ import annotations

import json
from decimal import Decimal

from bcsync_ops.sandbox import Line
from tests.integration.conftest import ago, load_event, sqs_event, webhook_event

CART = "0b5e7f1a-4c2d-4e8f-9a6b-3c1d2e4f5a60"


def started_checkouts(stack):
    return {key: item for key, item in stack.events().items() if item["metric"] == "Started Checkout"}


def checkout_answer(stack, cart_id=CART):
    store = stack.store
    status, body, _ = store.answer(f"/stores/{store.store_hash}/v3/checkouts/{cart_id}", {}, store.access_token)
    assert status == 200
    return body["data"]


def open_checkout(stack, cart_id=CART, *, email="grace@example.org", address=True, lines=None):
    store = stack.store
    store.create_cart(cart_id, lines or [Line(store.products[101], 1), Line(store.products[102], 2)], at=ago(hours=2))
    if email:
        store.enter_checkout_email(cart_id, email, at=ago(hours=2), first_name="Grace", last_name="Hopper")
    if address:
        store.enter_shipping_address(cart_id, at=ago(minutes=90))


def test_checkout_with_email_and_address_is_one_started_checkout_with_an_abandoned_cart_trigger(stack):
    open_checkout(stack)
    response = stack.deliver(load_event("cart_updated.json"))
    assert response["statusCode"] == 200, response
    events = started_checkouts(stack)
    assert len(events) == 1
    (event_id, event), *_ = events.items()
    assert event_id.startswith(f"sandbox:started-checkout:cart:{CART}:")
    assert event["source_id"] == f"cart:{CART}"
    assert event["value"] == Decimal("64")  # 40 + 2 x 12, no shipping
    assert event["currency"] == "USD"
    properties = event["properties"]
    assert properties["Items"] == ["Linen Shirt", "Ceramic Mug"]
    assert properties["Item Count"] == 3
    assert properties["Item Categories"] == ["Apparel", "Kitchen", "Shirts"]
    assert properties["Discounted"] is False
    mug = properties["Items Detail"][1]
    assert mug["Quantity"] == 2
    assert mug["ImageURL"] == "https://cdn.example.com/mug-cer.jpg"
    assert mug["ProductURL"] == "https://sandbox.example.com/ceramic-mug/"
    (profile,) = stack.profiles()
    assert event["profile_id"] == profile["id"]
    assert profile["email"] == "grace@example.org"
    assert profile["properties"]["First Name"] == "Grace"
    (trigger,) = stack.triggers()
    assert trigger["flow"] == "Abandoned Cart"
    assert trigger["event"]["id"] == event_id
    assert trigger["profile"]["email"] == "grace@example.org"
    assert trigger["profile"]["consent"]["email_marketing"] is None


def test_every_cart_scope_for_the_same_items_yields_the_same_single_event(stack):
    open_checkout(stack)
    for name in (
        "cart_updated.json",
        "cart_line_item_created.json",  # type cart_line_item, with cartId
        "cart_line_item_updated.json",  # type cart, with cartId (webhooks.v3.yml's variant)
        "cart_abandoned.json",
        "cart_updated.json",
    ):
        event = load_event(name)
        event["headers"] = {**event["headers"], "webhook-id": f"msg_{len(stack.store.requests)}"}
        assert stack.deliver(event)["statusCode"] == 200
    assert len(started_checkouts(stack)) == 1
    assert [t["flow"] for t in stack.triggers()] == ["Abandoned Cart"]


def test_a_changed_item_set_is_a_new_started_checkout_and_a_new_trigger(stack):
    open_checkout(stack)
    stack.deliver(webhook_event("store/cart/updated", {"type": "cart", "id": CART}))
    store = stack.store
    store.set_cart_lines(CART, [Line(store.products[101], 1), Line(store.products[102], 3)], at=ago(minutes=30))
    stack.deliver(webhook_event("store/cart/lineItem/updated", {"type": "cart_line_item", "id": "x", "cartId": CART}))
    events = started_checkouts(stack)
    assert len(events) == 2
    assert {item["source_id"] for item in events.values()} == {f"cart:{CART}"}
    assert sorted(item["properties"]["Item Count"] for item in events.values()) == [3, 4]
    assert [t["flow"] for t in stack.triggers()] == ["Abandoned Cart", "Abandoned Cart"]


def test_a_tax_inclusive_cart_is_worth_its_amount_with_tax(stack):
    store = stack.store
    lines = [Line(store.products[101], 1), Line(store.products[102], 2)]
    store.create_cart(CART, lines, at=ago(hours=2), tax_included=True)
    store.enter_checkout_email(CART, "grace@example.org", at=ago(hours=2))
    store.enter_shipping_address(CART, at=ago(minutes=90))
    stack.deliver(load_event("cart_updated.json"))
    (event,) = started_checkouts(stack).values()
    assert event["value"] == Decimal("70.4")  # (40 + 2 x 12) with the store's 10% tax


def test_a_signed_in_shoppers_checkout_belongs_to_their_account(stack):
    """An account opened before bcsync was installed sends no customer webhook; its cart's
    customer id is enough for External ID and the Customers list, and its orders join it."""
    store = stack.store
    store.create_cart(CART, [Line(store.products[101], 1)], at=ago(hours=2))
    store.sign_in(CART, 32, "member@example.com", at=ago(hours=2))
    store.enter_shipping_address(CART, at=ago(minutes=90))
    assert checkout_answer(stack)["billing_address"]["email"] == "member@example.com"
    stack.deliver(load_event("cart_updated.json"))
    (profile,) = stack.profiles()
    assert profile["external_id"] == "32"
    assert profile["properties"]["External ID"] == "32"
    assert profile["lists"] == ["Customers"]
    assert profile["email"] == "member@example.com"
    assert [e["profile_id"] for e in started_checkouts(stack).values()] == [profile["id"]]
    store.place_order(
        2002,
        email="member@example.com",
        first_name="Mem",
        last_name="Ber",
        customer_id=32,
        lines=[Line(store.products[101], 1)],
        created=ago(minutes=5),
    )
    stack.deliver(webhook_event("store/order/created", {"type": "order", "id": 2002}))
    assert [p["id"] for p in stack.profiles()] == [profile["id"]]


def test_a_signed_in_shopper_is_known_before_the_billing_step(stack):
    """Billing stays `{}` until filled; the cart's email names the shopper."""
    store = stack.store
    store.create_cart(CART, [Line(store.products[103], 1)], at=ago(hours=2))
    store.sign_in(CART, 33, "early@example.com", at=ago(hours=2))
    store.enter_shipping_address(CART, at=ago(minutes=90), billing_same=False)
    assert checkout_answer(stack)["billing_address"] == {}
    stack.deliver(load_event("cart_updated.json"))
    (event,) = started_checkouts(stack).values()
    (profile,) = stack.profiles()
    assert (profile["email"], profile["external_id"]) == ("early@example.com", "33")
    assert event["profile_id"] == profile["id"]


def test_anonymous_carts_and_unfinished_checkouts_record_nothing(stack):
    open_checkout(stack, "cart-anon", email="", address=False)
    open_checkout(stack, "cart-email-only", address=False)
    anonymous = stack.deliver(webhook_event("store/cart/created", {"type": "cart", "id": "cart-anon"}))
    email_only = stack.deliver(webhook_event("store/cart/updated", {"type": "cart", "id": "cart-email-only"}))
    assert json.loads(anonymous["body"])["status"] == "anonymous"
    assert json.loads(email_only["body"])["status"] == "not_started"
    assert stack.events() == {}
    assert stack.profiles() == []
    assert stack.triggers() == []


def test_converted_links_the_cart_to_its_order_and_later_cart_webhooks_find_nothing(stack):
    open_checkout(stack)
    stack.deliver(load_event("cart_updated.json"))
    stack.store.close_cart(CART)
    assert stack.deliver(load_event("cart_converted.json"))["statusCode"] == 200
    (cart,) = stack.table("CartsTable")
    assert cart["cart_id"] == CART
    assert cart["order_id"] == 1001
    assert cart["converted_at"]
    assert cart["started_checkout_ids"] == set(started_checkouts(stack))
    late = stack.deliver(webhook_event("store/cart/updated", {"type": "cart", "id": CART}))
    assert json.loads(late["body"])["status"] == "gone"
    assert len(started_checkouts(stack)) == 1


def test_started_checkout_and_a_later_guest_order_share_one_profile(stack):
    open_checkout(stack)
    stack.deliver(load_event("cart_updated.json"))
    store = stack.store
    store.place_order(
        2001,
        email="Grace@Example.org",
        first_name="Grace",
        last_name="Hopper",
        lines=[Line(store.products[101], 1)],
        created=ago(minutes=5),
    )
    stack.deliver(webhook_event("store/order/created", {"type": "order", "id": 2001}))
    (profile,) = stack.profiles()
    assert {item["profile_id"] for item in stack.events().values()} == {profile["id"]}


def test_a_checkout_bigcommerce_cannot_serve_is_parked_then_recorded_once(stack):
    open_checkout(stack)
    stack.store.fail_next(r"/v3/checkouts/", 500, times=10)
    response = stack.deliver(load_event("cart_updated.json"))
    assert json.loads(response["body"]) == {"status": "parked"}
    assert stack.events() == {}
    stack.store.clear_faults()
    parked = stack.receive("RetryQueue")
    assert stack.invoke_retry(sqs_event(parked)) == {"batchItemFailures": []}
    assert len(started_checkouts(stack)) == 1
    assert [t["flow"] for t in stack.triggers()] == ["Abandoned Cart"]


def test_a_cart_body_with_a_bad_id_is_a_400_and_writes_nothing(stack):
    response = stack.deliver(webhook_event("store/cart/updated", {"type": "cart", "id": ""}))
    assert response["statusCode"] == 400
    assert "data" in json.loads(response["body"])["error"]
    assert stack.events() == {}
