"""Every webhook scope bcsync handles, as BigCommerce publishes its callback body.

Each published body (`published/webhooks.json`) parses into the envelope and the family's data
model and names the record bcsync then reads; the sample events in `events/` (what the
integration tests and `sam local invoke` send) keep to the same shapes.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from bcsync.domain.stores import HANDLED_SCOPES, Family
from bcsync.domain.webhooks import (
    CartWebhookData,
    CatalogWebhookData,
    CustomerWebhookData,
    OrderWebhookData,
    SubscriberWebhookData,
    WebhookEnvelope,
)
from bcsync_ops.local_stack import PROJECT_ROOT
from tests.contract.harness import published, shape_errors

BODIES: list[dict[str, Any]] = published("webhooks.json")
BY_SCOPE = {body["scope"]: body for body in BODIES}
CART = "09346904-4175-44fd-be53-f7e598531b6c"


def record_named(envelope: WebhookEnvelope) -> object:
    """The id of what bcsync reads for this delivery."""
    family, data = envelope.family(), envelope.data
    if family is Family.ORDERS:
        return OrderWebhookData.model_validate(data).id
    if family is Family.CARTS:
        return CartWebhookData.model_validate(data).cart
    if family is Family.CUSTOMERS:
        return CustomerWebhookData.model_validate(data).customer_id
    if family is Family.SUBSCRIBERS:
        return SubscriberWebhookData.model_validate(data).id
    return CatalogWebhookData.model_validate(data).product_id


EXPECTED_RECORD = {
    "store/order/": 250,
    "store/cart/": CART,  # on lineItem scopes too: `cartId`, not the line item's id
    "store/customer/": 32,  # on address scopes: `address.customer_id`, not the address id
    "store/subscriber/": 5,
    "store/product/created": 205,
    "store/product/updated": 205,
    "store/product/deleted": 205,
    "store/product/inventory/": 167,
    "store/sku/": 206,  # the SKU's product, from `sku` or `inventory`, never the SKU id 461
}


@pytest.mark.parametrize("body", BODIES, ids=[body["scope"] for body in BODIES])
def test_a_published_callback_names_the_record_bcsync_reads(body: dict[str, Any]) -> None:
    envelope = WebhookEnvelope.model_validate(body)
    assert envelope.store_hash == "sandbox"
    family = envelope.family()
    assert family is not None
    if envelope.scope not in HANDLED_SCOPES[family]:
        assert envelope.scope == "store/order/message/created"  # acknowledged, nothing to read
        return
    expected = next(record for prefix, record in EXPECTED_RECORD.items() if envelope.scope.startswith(prefix))
    assert record_named(envelope) == expected


def test_every_handled_scope_has_a_published_body() -> None:
    handled = {scope for scopes in HANDLED_SCOPES.values() for scope in scopes}
    assert handled <= BY_SCOPE.keys()


SAMPLES = sorted((PROJECT_ROOT / "events").glob("*.json"))
WEBHOOK_SAMPLES = [path for path in SAMPLES if json.loads(path.read_text())["rawPath"].startswith("/webhooks/")]


@pytest.mark.parametrize("path", WEBHOOK_SAMPLES, ids=[path.name for path in WEBHOOK_SAMPLES])
def test_a_sample_event_keeps_to_the_published_body_of_its_scope(path: Any) -> None:
    body = json.loads(json.loads(path.read_text())["body"])
    assert body["scope"] in BY_SCOPE, f"{path.name}: no published body for {body['scope']}"
    reference = BY_SCOPE[body["scope"]]
    assert shape_errors(body, reference) == []
    assert set(body["data"]) == set(reference["data"]), f"{path.name}: data fields differ from the published ones"
