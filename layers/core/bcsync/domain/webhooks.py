"""Webhook deliveries: the envelope, its data per family, and the pure authenticator (the
families and their scopes are in `bcsync.domain.stores`).

Verification follows Standard Webhooks (HMAC-SHA256 over "{id}.{timestamp}.{body}", keyed with
the store's client secret, 5-minute window) through the `standardwebhooks` package, with the
clock passed in so a parked delivery is judged by when it was received, not when it is retried.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, model_validator
from standardwebhooks.webhooks import Webhook

from bcsync.domain.refusals import Refusal, Refused
from bcsync.domain.stores import FAMILY_PREFIXES, STORE_HASH, Family, StoreCredentials

MAX_BODY_BYTES = 64 * 1024
SIGNATURE_TOLERANCE = timedelta(minutes=5)
AUTH_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature", "x-webhook-token")


class WebhookRejected(Refused):
    """A delivery we refuse; the message is returned to the sender as JSON."""


class OrderStatusChange(BaseModel):
    previous_status_id: int | None = None
    new_status_id: int | None = None


class RefundRef(BaseModel):
    refund_id: PositiveInt


class WebhookData(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str = Field(min_length=1)
    id: PositiveInt | str


class OrderWebhookData(WebhookData):
    id: PositiveInt
    status: OrderStatusChange | None = None
    refund: RefundRef | None = None


class CartWebhookData(WebhookData):
    """`id` is the cart, or on lineItem scopes the line item with the cart in `cartId`."""

    id: str = Field(min_length=1, max_length=64)
    cart_id: str | None = Field(default=None, alias="cartId", min_length=1, max_length=64)
    order_id: PositiveInt | None = Field(default=None, alias="orderId")

    @property
    def cart(self) -> str:
        """`cartId` whenever present: BigCommerce's sources disagree on the lineItem scopes'
        `type` (`cart_line_item` in the callbacks, `cart` in webhooks.v3.yml)."""
        return self.cart_id or self.id


class AddressRef(BaseModel):
    customer_id: PositiveInt


class CustomerWebhookData(WebhookData):
    """`id` is the customer, or on address scopes the address with the customer in `address`."""

    id: PositiveInt
    address: AddressRef | None = None

    @property
    def customer_id(self) -> int:
        return self.address.customer_id if self.address else self.id


class SubscriberWebhookData(WebhookData):
    id: PositiveInt


class ProductRef(BaseModel):
    product_id: PositiveInt


class CatalogWebhookData(WebhookData):
    """`id` is the product, or the SKU when `type` is `sku`. The product a delivery is about is
    in `inventory` on the inventory scopes (`store/product|sku/inventory/*`), in `sku` on
    `store/sku/created|updated|deleted`, and is `id` itself on the other product scopes."""

    id: PositiveInt
    sku: ProductRef | None = None
    inventory: ProductRef | None = None

    @model_validator(mode="after")
    def _names_a_product(self) -> CatalogWebhookData:
        if self.type == "sku" and self.sku is None and self.inventory is None:
            raise ValueError("a sku delivery needs sku.product_id or inventory.product_id")
        return self

    @property
    def product_id(self) -> int:
        ref = self.inventory or self.sku
        return ref.product_id if ref else self.id


class WebhookEnvelope(BaseModel):
    """BigCommerce's callback body: thin, so processing always re-reads current state."""

    scope: str = Field(pattern=r"^store/[A-Za-z0-9_/{}]+$")
    store_id: str | int
    data: dict[str, Any]
    hash: str | None = None
    created_at: int
    producer: str = Field(pattern=r"^stores/[a-z0-9]{1,32}$")

    @property
    def store_hash(self) -> str:
        return self.producer.removeprefix("stores/")

    def family(self) -> Family | None:
        for family, prefixes in FAMILY_PREFIXES.items():
            if self.scope.startswith(prefixes):
                return family
        return None


def store_hash_of(body: Mapping[str, Any]) -> str:
    """The store named by `producer`, checked before any secret is looked up."""
    producer = body.get("producer")
    if not isinstance(producer, str) or not producer.startswith("stores/"):
        raise WebhookRejected(Refusal.INVALID, "body.producer must be 'stores/<store_hash>'")
    store_hash = producer.removeprefix("stores/")
    if not STORE_HASH.match(store_hash):
        raise WebhookRejected(Refusal.INVALID, "body.producer names an invalid store hash")
    return store_hash


def authenticate(headers: Mapping[str, str], body: str, credentials: StoreCredentials, *, now: datetime) -> None:
    """Standard Webhooks signature, or the hook's shared token header; anything else is 401."""
    if headers.get("webhook-signature"):
        _verify_signature(headers, body, credentials.client_secret, now=now)
        return
    token = headers.get("x-webhook-token")
    if token and credentials.webhook_token:
        if hmac.compare_digest(token.encode(), credentials.webhook_token.encode()):
            return
        raise WebhookRejected(Refusal.UNAUTHENTICATED, "invalid X-Webhook-Token")
    raise WebhookRejected(Refusal.UNAUTHENTICATED, "missing webhook signature or token")


def _verify_signature(headers: Mapping[str, str], body: str, secret: str, *, now: datetime) -> None:
    message_id = headers.get("webhook-id")
    timestamp_header = headers.get("webhook-timestamp")
    if not message_id or not timestamp_header:
        raise WebhookRejected(Refusal.UNAUTHENTICATED, "missing webhook-id or webhook-timestamp header")
    try:
        sent_at = datetime.fromtimestamp(int(timestamp_header), tz=UTC)
    except (ValueError, OverflowError, OSError):
        raise WebhookRejected(Refusal.UNAUTHENTICATED, "invalid webhook-timestamp header") from None
    if abs(now - sent_at) > SIGNATURE_TOLERANCE:
        raise WebhookRejected(Refusal.UNAUTHENTICATED, "webhook-timestamp outside the 5-minute tolerance")
    expected = Webhook(secret.encode()).sign(message_id, sent_at, body)
    offered = headers.get("webhook-signature", "").split()
    if not any(hmac.compare_digest(candidate.encode(), expected.encode()) for candidate in offered):
        raise WebhookRejected(Refusal.UNAUTHENTICATED, "webhook signature does not match")


def sign(secret: str, message_id: str, sent_at: datetime, body: str) -> dict[str, str]:
    """Headers BigCommerce would send; used by the demo, the local tools and the tests."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Webhook(secret.encode()).sign(message_id, sent_at, body),
    }
