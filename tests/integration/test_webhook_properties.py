"""Fuzzed webhooks: whatever the body (signed or not, any JSON in `data`, any scope, any family's
route) and whatever the headers, a webhook route never answers a 5xx for bad input and writes no
event; a refusal is JSON saying why. The store holds no orders, carts or people, so even a
well-formed delivery has nothing to record."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.conftest import SCOPE_FAMILIES, webhook_event
from tests.integration.test_track_properties import JSONISH

# Scopes with the `data.type` BigCommerce sends with them.
SCOPE_TYPES = {
    "store/order/created": "order",
    "store/order/statusUpdated": "order",
    "store/order/refund/created": "order",
    "store/cart/updated": "cart",
    "store/cart/lineItem/created": "cart_line_item",
    "store/customer/updated": "customer",
    "store/subscriber/created": "subscriber",
    "store/product/updated": "product",
    "store/sku/inventory/updated": "sku",
    "store/unknown/scope": "thing",
    "": "",
}


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[str, object]:
    """A scope and its data: mostly shaped as BigCommerce sends it (any id), sometimes anything."""
    scope = draw(st.sampled_from(sorted(SCOPE_TYPES)))
    kind = draw(st.sampled_from([SCOPE_TYPES[scope], SCOPE_TYPES[scope], "order", ""]))
    well_formed = st.fixed_dictionaries(
        {"type": st.just(kind), "id": st.integers(1, 10**6) | st.integers(-3, 10**15) | st.text(max_size=70)},
        optional={"cartId": st.text(max_size=70) | JSONISH, "status": JSONISH, "refund": JSONISH, "x": JSONISH},
    )
    return scope, draw(st.one_of(well_formed, well_formed, well_formed, JSONISH))


FUNCTIONS = {
    "orders": "OrdersWebhookFunction",
    "carts": "CartsWebhookFunction",
    "customers": "CustomersWebhookFunction",
    "subscribers": "SubscribersWebhookFunction",
    "catalog": "CatalogWebhookFunction",
}
# Mostly the scope's own route (the deliveries BigCommerce would send), sometimes another.
FAMILIES = st.none() | st.none() | st.sampled_from(sorted(FUNCTIONS))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    delivery=deliveries(),
    family=FAMILIES,
    tampering=st.sampled_from(["signed", "signed", "signed", "signed", "unsigned", "forged", "raw"]),
    raw=st.text(max_size=200),
)
def test_no_webhook_gets_a_5xx_or_writes_an_event(stack, delivery, family, tampering, raw):
    scope, data = delivery
    family = family or next((name for name, prefix in SCOPE_FAMILIES.items() if scope.startswith(prefix)), "orders")
    event = webhook_event(scope, data if isinstance(data, dict) else {"data": data}, family=family)
    if tampering == "unsigned":
        event["headers"] = {"content-type": "application/json"}
    elif tampering == "forged":
        event["headers"] = {**event["headers"], "webhook-signature": "v1,Zm9yZ2Vk"}
    elif tampering == "raw":  # a body that is not an envelope at all, with the headers of one
        event["body"] = raw
    answer = stack.invoke(FUNCTIONS[family], event)
    status = answer["statusCode"]
    assert status < 500, (scope, data, family, tampering, answer)
    body = json.loads(answer["body"])
    if status >= 400:
        assert body.get("error"), answer
    assert stack.events() == {}
