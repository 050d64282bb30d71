"""The shapes every part of the sandbox answers in: v2 money and dates, v3 numbers, the
products and order lines the demo and tests build stores from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import format_datetime
from typing import Any

EMBED_CAP = 50
Answer = tuple[int, Any, dict[str, str]]


def rfc2822(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=False).replace("-0000", "+0000")


def money(amount: Decimal | int | str) -> str:
    """v2 money: a 4-decimal string."""
    return f"{Decimal(amount):.4f}"


def number(amount: Decimal | int) -> float:
    """v3 money: a JSON number, to the cent."""
    return float(round(Decimal(amount), 2))


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def whole_second() -> datetime:
    """Now, as BigCommerce stamps changes: to the second (a window ending later in the same
    second must still hold the change)."""
    return datetime.now(UTC).replace(microsecond=0)


# Once any part of a checkout address is set, BigCommerce answers every field ('' when unset).
BLANK_CHECKOUT_ADDRESS = {
    "first_name": "",
    "last_name": "",
    "email": "",
    "company": "",
    "address1": "",
    "address2": "",
    "city": "",
    "state_or_province": "",
    "state_or_province_code": "",
    "country": "",
    "country_code": "",
    "postal_code": "",
    "phone": "",
    "custom_fields": [],
}


@dataclass
class Product:
    id: int
    name: str
    sku: str
    price: Decimal
    categories: list[int]
    brand: str
    cost: Decimal = Decimal(0)
    path: str = ""
    sale_price: Decimal = Decimal(0)
    inventory_level: int = 100
    inventory_tracking: str = "product"  # none | product | variant
    availability: str = "available"  # available | disabled | preorder
    is_visible: bool = True
    created: datetime = field(default_factory=whole_second)
    modified: datetime = field(default_factory=whole_second)


@dataclass
class Line:
    product: Product
    quantity: int
    discount: Decimal = Decimal(0)
    coupon: str | None = None
    options: dict[str, str] = field(default_factory=dict)


STATUS_NAMES = {
    0: "Incomplete",
    1: "Pending",
    2: "Shipped",
    3: "Partially Shipped",
    4: "Refunded",
    5: "Cancelled",
    6: "Declined",
    7: "Awaiting Payment",
    8: "Awaiting Pickup",
    9: "Awaiting Shipment",
    10: "Completed",
    11: "Awaiting Fulfillment",
    12: "Manual Verification Required",
    13: "Disputed",
    14: "Partially Refunded",
}
