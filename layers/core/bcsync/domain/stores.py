"""A store as bcsync knows it before any payload: its hash, its credentials, and the webhook
families and scopes it sends. Pydantic-free, so every function can name them without loading the
webhook envelope's models."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

STORE_HASH = re.compile(r"^[a-z0-9]{1,32}$")


@dataclass(frozen=True)
class StoreCredentials:
    access_token: str
    client_secret: str
    webhook_token: str | None = None


class Family(StrEnum):
    ORDERS = "orders"
    CARTS = "carts"
    CUSTOMERS = "customers"
    SUBSCRIBERS = "subscribers"
    CATALOG = "catalog"


FAMILY_PREFIXES: dict[Family, tuple[str, ...]] = {
    Family.ORDERS: ("store/order/",),
    Family.CARTS: ("store/cart/",),
    Family.CUSTOMERS: ("store/customer/",),
    Family.SUBSCRIBERS: ("store/subscriber/",),
    Family.CATALOG: ("store/product/", "store/sku/"),
}

# Scopes whose deliveries change marketing state; other scopes of the family are acknowledged.
HANDLED_SCOPES: dict[Family, frozenset[str]] = {
    Family.ORDERS: frozenset(
        {
            "store/order/created",
            "store/order/updated",
            "store/order/statusUpdated",
            "store/order/archived",
            "store/order/refund/created",
        }
    ),
    Family.CARTS: frozenset(
        {
            "store/cart/created",
            "store/cart/updated",
            "store/cart/abandoned",
            "store/cart/converted",
            "store/cart/deleted",
            "store/cart/couponApplied",
            "store/cart/lineItem/created",
            "store/cart/lineItem/updated",
            "store/cart/lineItem/deleted",
        }
    ),
    Family.CUSTOMERS: frozenset(
        {
            "store/customer/created",
            "store/customer/updated",
            "store/customer/deleted",
            "store/customer/address/created",
            "store/customer/address/updated",
            "store/customer/address/deleted",
        }
    ),
    Family.SUBSCRIBERS: frozenset({"store/subscriber/created", "store/subscriber/updated", "store/subscriber/deleted"}),
    Family.CATALOG: frozenset(
        {
            "store/product/created",
            "store/product/updated",
            "store/product/deleted",
            "store/product/inventory/updated",
            "store/product/inventory/order/updated",
            "store/sku/created",
            "store/sku/updated",
            "store/sku/deleted",
            "store/sku/inventory/updated",
            "store/sku/inventory/order/updated",
        }
    ),
}
