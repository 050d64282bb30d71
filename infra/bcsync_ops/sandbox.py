"""A small fake BigCommerce API: the sandbox store behind `bcsync demo` and the end-to-end tests.

It serves the endpoints bcsync reads, in BigCommerce's published shapes (v2 money as strings and
dates in RFC 2822, v3 lists under `data`, 204 for empty v2 pages, line items embedded in
consignments and capped at 50 with a `__warning__`, checkouts with both cart amounts and the
consignment's `address`, `include=` honoured), checks X-Auth-Token, sends the rate-limit headers,
and can be told to fail (429, 5xx) so tests can prove nothing is lost. `tests/contract/` holds
every answer to the published one for the same facts, so it cannot drift from the real API.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bcsync_ops.loopback import LoopbackServer
from bcsync_ops.sandbox_collections import (
    CollectionsApi,
    customer_view,
    page_of,
    refunds_page,
    v2_answer,
    v3_page,
)

EMBED_CAP = 50
Answer = tuple[int, Any, dict[str, str]]


def rfc2822(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=False).replace("-0000", "+0000")


def money(amount: Decimal | int | str) -> str:
    """v2 money: a 4-decimal string."""
    return f"{Decimal(amount):.4f}"


def _number(amount: Decimal | int) -> float:
    """v3 money: a JSON number, to the cent."""
    return float(round(Decimal(amount), 2))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _whole_second() -> datetime:
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
    is_visible: bool = True
    created: datetime = field(default_factory=_whole_second)
    modified: datetime = field(default_factory=_whole_second)


@dataclass
class Line:
    product: Product
    quantity: int
    discount: Decimal = Decimal(0)
    coupon: str | None = None
    options: dict[str, str] = field(default_factory=dict)


@dataclass
class Quota:
    """BigCommerce's rate limit: `limit` requests per fixed window, shared by every client."""

    limit: int
    window_seconds: float
    # The clients' clock: a test that lets them sleep in virtual time lets the windows pass in it.
    clock: Callable[[], float] = time.monotonic
    started: float = -1.0
    used: int = 0
    window_index: int = 0
    served_at: list[float] = field(default_factory=list)
    rejected: int = 0

    def __post_init__(self) -> None:
        self.started = self.clock()

    def take(self) -> tuple[bool, dict[str, str]]:
        elapsed = self.clock() - self.started
        index = int(elapsed // self.window_seconds)
        if index != self.window_index:
            self.window_index, self.used = index, 0
        reset_ms = max(1, int(((index + 1) * self.window_seconds - elapsed) * 1000))
        allowed = self.used < self.limit
        if allowed:
            self.used += 1
            self.served_at.append(elapsed)
        else:
            self.rejected += 1
        return allowed, {
            "X-Rate-Limit-Time-Window-Ms": str(int(self.window_seconds * 1000)),
            "X-Rate-Limit-Time-Reset-Ms": str(reset_ms),
            "X-Rate-Limit-Requests-Quota": str(self.limit),
            "X-Rate-Limit-Requests-Left": str(self.limit - self.used),
        }


STATIC_RATE_HEADERS = {
    "X-Rate-Limit-Time-Window-Ms": "30000",
    "X-Rate-Limit-Time-Reset-Ms": "15000",
    "X-Rate-Limit-Requests-Quota": "150",
    "X-Rate-Limit-Requests-Left": "149",
}


@dataclass
class Fault:
    path_pattern: str
    status: int
    headers: dict[str, str]
    remaining: int


class SandboxStore(CollectionsApi):
    """In-memory store state; the demo and tests mutate it, then send webhooks about it."""

    def __init__(self, store_hash: str, access_token: str, *, tax_rate: Decimal = Decimal("0.1")) -> None:
        self.store_hash = store_hash
        self.access_token = access_token
        self.tax_rate = tax_rate
        self.secure_url = f"https://{store_hash}.example.com"
        self.categories: dict[int, str] = {}
        self.products: dict[int, Product] = {}
        self.orders: dict[int, dict[str, Any]] = {}
        self.order_lines: dict[int, list[dict[str, Any]]] = {}
        self.refunds: dict[int, list[dict[str, Any]]] = {}
        self.checkouts: dict[str, dict[str, Any]] = {}
        self.customers: dict[int, dict[str, Any]] = {}
        self.customer_groups: dict[int, str] = {}
        self.subscribers: dict[int, dict[str, Any]] = {}
        self.hooks: dict[int, dict[str, Any]] = {}
        self.scripts: dict[str, dict[str, Any]] = {}
        # Carts made with `POST /v3/carts`: only these get redirect URLs.
        self.api_carts: set[str] = set()
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)  # what stamps hooks
        self.requests: list[str] = []
        self.quota: Quota | None = None
        self._faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        self._next_line_id = 1
        self._next_refund_id = 1

    # ------------------------------------------------------------------ catalog
    def add_category(self, category_id: int, name: str) -> None:
        self.categories[category_id] = name

    def add_product(self, product: Product) -> Product:
        product.path = product.path or f"/{product.name.lower().replace(' ', '-')}/"
        self.products[product.id] = product
        return product

    def update_product(self, product_id: int, **changes: Any) -> Product:
        product = self.products[product_id]
        changes.setdefault("modified", _whole_second())
        for name, value in changes.items():
            setattr(product, name, value)
        return product

    def delete_product(self, product_id: int) -> None:
        self.products.pop(product_id, None)

    def take_stock(self, product_id: int, quantity: int, *, variant: bool = False) -> tuple[str, dict[str, Any]]:
        """An order took `quantity` from stock; returns the scope and `data` BigCommerce's hook
        carries: `inventory{product_id, method, value}` (the change), the SKU's id when the
        product tracks inventory by variant."""
        product = self.update_product(product_id, inventory_level=self.products[product_id].inventory_level - quantity)
        inventory: dict[str, Any] = {"product_id": product.id, "method": "relative", "value": -quantity}
        if variant:
            inventory["variant_id"] = product.id * 10
            return "store/sku/inventory/order/updated", {"type": "sku", "id": product.id * 100, "inventory": inventory}
        return "store/product/inventory/order/updated", {"type": "product", "id": product.id, "inventory": inventory}

    def brand_id(self, name: str) -> int:
        """Brands get ids in order of first appearance, as a store's brand list would have them."""
        names = list(dict.fromkeys(product.brand for product in self.products.values()))
        return names.index(name) + 1 if name in names else 0

    # ------------------------------------------------------------------ carts and checkouts
    def create_cart(
        self,
        cart_id: str,
        lines: list[Line],
        *,
        at: datetime,
        customer_id: int = 0,
        email: str = "",
        tax_included: bool = False,
    ) -> dict[str, Any]:
        """A cart; `tax_included` carts show prices with tax (a tax-inclusive store or zone)."""
        with self._lock:
            self.checkouts[cart_id] = {
                "id": cart_id,
                "customer_id": customer_id,
                "email": email,
                "tax_included": tax_included,
                "lines": list(lines),
                "billing": {},
                "shipping": None,
                "created": at,
                "updated": at,
            }
            return self.checkouts[cart_id]

    def set_cart_lines(self, cart_id: str, lines: list[Line], *, at: datetime) -> None:
        with self._lock:
            self.checkouts[cart_id].update(lines=list(lines), updated=at)

    def add_cart_line(self, cart_id: str, line: Line, *, at: datetime) -> dict[str, Any]:
        """The shopper added an item; returns the `store/cart/lineItem/created` hook's `data`."""
        with self._lock:
            cart = self.checkouts[cart_id]
            cart.update(lines=[*cart["lines"], line], updated=at)
            line_id = f"{cart_id}-line-{len(cart['lines']) - 1}"
        return {"type": "cart_line_item", "id": line_id, "cartId": cart_id}

    def enter_checkout_email(
        self, cart_id: str, email: str, *, at: datetime, first_name: str = "", last_name: str = ""
    ) -> None:
        """A guest typed an email at checkout: it goes on the billing address and the cart."""
        with self._lock:
            cart = self.checkouts[cart_id]
            cart["billing"] = {**cart["billing"], "email": email, "first_name": first_name, "last_name": last_name}
            cart.update(email=email, updated=at)

    def sign_in(
        self, cart_id: str, customer_id: int, email: str, *, at: datetime, first_name: str = "", last_name: str = ""
    ) -> None:
        """The shopper signed in to their account: the cart is theirs; billing stays `{}`, and
        the address step starts from the account's name."""
        with self._lock:
            self.checkouts[cart_id].update(
                customer_id=customer_id,
                email=email,
                account_name={"first_name": first_name, "last_name": last_name},
                updated=at,
            )

    def enter_shipping_address(
        self, cart_id: str, *, at: datetime, city: str = "Austin", billing_same: bool = True
    ) -> None:
        """The shopper filled the address step and clicked continue to payment: a consignment
        with that address, and (the checkout's default) the billing address the same."""
        with self._lock:
            cart = self.checkouts[cart_id]
            billing = cart["billing"]
            names = cart.get("account_name") or {}
            address = {
                "first_name": billing.get("first_name") or names.get("first_name", ""),
                "last_name": billing.get("last_name") or names.get("last_name", ""),
                "email": cart["email"],
                "address1": "1 Main Street",
                "city": city,
                "state_or_province": "Texas",
                "state_or_province_code": "TX",
                "country": "United States",
                "country_code": "US",
                "postal_code": "78701",
            }
            cart["shipping"] = address
            if billing_same:
                cart["billing"] = {**address, **{key: value for key, value in billing.items() if value}}
            cart["updated"] = at

    def close_cart(self, cart_id: str) -> None:
        """Converted to an order or deleted: BigCommerce deletes the cart."""
        with self._lock:
            self.checkouts.pop(cart_id, None)

    def _checkout_body(self, cart_id: str) -> dict[str, Any]:
        """`GET /v3/checkouts/{id}`'s `data`: amounts in both tax bases, billing `{}` until
        filled, one consignment with its `address` once a shipping address was entered."""
        cart = self.checkouts[cart_id]
        tax_included = cart["tax_included"]
        items = [self._cart_line(cart_id, index, line, tax_included) for index, line in enumerate(cart["lines"])]
        amount = sum((Decimal(str(item["extended_sale_price"])) for item in items), Decimal(0))
        gross = sum((Decimal(str(item["extended_list_price"])) for item in items), Decimal(0))
        rate = 1 + self.tax_rate
        inc, ex = (amount, amount / rate) if tax_included else (amount * rate, amount)
        coupons = sorted({line.coupon for line in cart["lines"] if line.coupon})
        created, updated = _iso(cart["created"]), _iso(cart["updated"])
        consignments = []
        if cart["shipping"]:
            consignments.append(
                {
                    "id": f"{cart_id[:8]}c1",
                    "address": {"company": "", "address2": "", "phone": "", "custom_fields": [], **cart["shipping"]},
                    "line_item_ids": [item["id"] for item in items],
                    "shipping_cost_inc_tax": 0,
                    "shipping_cost_ex_tax": 0,
                    "handling_cost_inc_tax": 0,
                    "handling_cost_ex_tax": 0,
                    "coupon_discounts": [],
                    "discounts": [],
                }
            )
        billing = cart["billing"]
        if billing:
            billing = {**BLANK_CHECKOUT_ADDRESS, "id": f"{cart_id[:8]}b1", **billing}
        return {
            "id": cart_id,
            "cart": {
                "id": cart_id,
                "customer_id": cart["customer_id"],
                "channel_id": 1,
                "email": cart["email"],
                "currency": {"code": "USD"},
                "tax_included": tax_included,
                "base_amount": _number(gross),
                "discount_amount": 0,
                "cart_amount_inc_tax": _number(inc),
                "cart_amount_ex_tax": _number(ex),
                "coupons": [{"code": code} for code in coupons],
                "discounts": [],
                "line_items": {
                    "physical_items": items,
                    "digital_items": [],
                    "gift_certificates": [],
                    "custom_items": [],
                },
                "created_time": created,
                "updated_time": updated,
            },
            "billing_address": billing,
            "consignments": consignments,
            "taxes": [{"name": "Tax", "amount": _number(inc - ex)}],
            "coupons": [{"code": code} for code in coupons],
            "order_id": None,
            "shipping_cost_total_inc_tax": 0,
            "shipping_cost_total_ex_tax": 0,
            "handling_cost_total_inc_tax": 0,
            "handling_cost_total_ex_tax": 0,
            "tax_total": _number(inc - ex),
            "subtotal_inc_tax": _number(inc),
            "subtotal_ex_tax": _number(ex),
            "grand_total": _number(inc),
            "created_time": created,
            "updated_time": updated,
            "customer_message": "",
        }

    def _cart_full(self, cart_id: str) -> dict[str, Any]:
        """`Cart_Full`, as `POST /v3/carts` answers: one `cart_amount`, with tax where prices show it."""
        cart = dict(self._checkout_body(cart_id)["cart"])
        inc, ex = cart.pop("cart_amount_inc_tax"), cart.pop("cart_amount_ex_tax")
        cart["cart_amount"] = inc if cart["tax_included"] else ex
        return cart

    def _cart_line(self, cart_id: str, index: int, line: Line, tax_included: bool) -> dict[str, Any]:
        """A physical item, priced in the cart's tax basis; a coupon's share is `coupon_amount`,
        any other discount `discount_amount`, both taken off `extended_sale_price`."""
        product = line.product
        price = product.price * (1 + self.tax_rate) if tax_included else product.price
        extended = price * line.quantity - line.discount
        return {
            "id": f"{cart_id}-line-{index}",
            "parent_id": None,
            "variant_id": product.id * 10,
            "product_id": product.id,
            "sku": product.sku,
            "name": product.name,
            "url": f"{self.secure_url}{product.path}",
            "quantity": line.quantity,
            "is_taxable": True,
            "image_url": f"https://cdn.example.com/{product.sku.lower()}.jpg",
            "discounts": [],
            "coupons": [],
            "discount_amount": _number(line.discount if not line.coupon else 0),
            "coupon_amount": _number(line.discount if line.coupon else 0),
            "original_price": _number(price),
            "list_price": _number(price),
            "sale_price": _number(price),
            "extended_list_price": _number(price * line.quantity),
            "extended_sale_price": _number(extended),
            "is_require_shipping": True,
            "is_mutable": True,
        }

    # ------------------------------------------------------------------ customers and subscribers
    def add_customer(
        self,
        customer_id: int,
        *,
        email: str,
        first_name: str,
        last_name: str,
        at: datetime,
        group_id: int = 0,
        phone: str = "",
        company: str = "",
        store_credit: Decimal = Decimal(0),
        city: str = "",
    ) -> dict[str, Any]:
        addresses = (
            [
                {
                    "id": customer_id * 10,
                    "customer_id": customer_id,
                    "first_name": first_name,
                    "last_name": last_name,
                    "company": company,
                    "address1": "1 Main Street",
                    "address2": "",
                    "city": city,
                    "state_or_province": "Texas",
                    "postal_code": "78701",
                    "country": "United States",
                    "country_code": "US",
                    "phone": phone,
                    "address_type": "residential",
                }
            ]
            if city
            else []
        )
        row = {
            "id": customer_id,
            "email": email,
            "first_name": first_name,
            "last_name": last_name,
            "company": company,
            "phone": phone,
            "notes": "",
            "customer_group_id": group_id,
            "date_created": at.astimezone(UTC).isoformat(),
            "date_modified": at.astimezone(UTC).isoformat(),
            "address_count": len(addresses),
            "attribute_count": 0,
            "addresses": addresses,
            "store_credit_amounts": [{"amount": float(store_credit)}],
        }
        with self._lock:
            self.customers[customer_id] = row
        return row

    def update_customer(self, customer_id: int, *, at: datetime, **changes: Any) -> None:
        with self._lock:
            self.customers[customer_id].update(changes, date_modified=at.astimezone(UTC).isoformat())

    def delete_customer(self, customer_id: int) -> None:
        with self._lock:
            self.customers.pop(customer_id, None)

    def subscribe(
        self,
        subscriber_id: int,
        *,
        email: str,
        at: datetime,
        first_name: str = "",
        last_name: str = "",
        consents: tuple[str, ...] = ("marketing_newsletter",),
        source: str = "storefront",
    ) -> dict[str, Any]:
        row = {
            "id": subscriber_id,
            "email": email,
            "first_name": first_name,
            "last_name": last_name,
            "source": source,
            "order_id": None,
            "channel_id": 1,
            "consents": list(consents),
            "date_created": at.astimezone(UTC).isoformat(),
            "date_modified": at.astimezone(UTC).isoformat(),
        }
        with self._lock:
            self.subscribers[subscriber_id] = row
        return row

    def set_consents(self, subscriber_id: int, consents: tuple[str, ...], *, at: datetime) -> None:
        with self._lock:
            self.subscribers[subscriber_id].update(
                consents=list(consents), date_modified=at.astimezone(UTC).isoformat()
            )

    def unsubscribe_record(self, subscriber_id: int) -> None:
        """The subscriber record is deleted (BigCommerce's other way of unsubscribing)."""
        with self._lock:
            self.subscribers.pop(subscriber_id, None)

    # ------------------------------------------------------------------ orders
    def place_order(
        self,
        order_id: int,
        *,
        email: str,
        first_name: str,
        last_name: str,
        lines: list[Line],
        created: datetime,
        customer_id: int = 0,
        status_id: int = 11,
        shipping: Decimal = Decimal("5"),
        order_discount: Decimal = Decimal(0),
        tax_inclusive: bool = False,
        city: str = "Austin",
        state: str = "Texas",
        zip_code: str = "78701",
        country: str = "United States",
        phone: str = "",
    ) -> dict[str, Any]:
        rows = [self._line_row(order_id, line, tax_inclusive) for line in lines]
        subtotal_ex = sum((Decimal(row["price_ex_tax"]) * row["quantity"] for row in rows), Decimal(0))
        subtotal_inc = sum((Decimal(row["price_inc_tax"]) * row["quantity"] for row in rows), Decimal(0))
        coupon_discount = sum((line.discount for line in lines if line.coupon), Decimal(0))
        other_discount = sum((line.discount for line in lines if not line.coupon), Decimal(0)) + order_discount
        shipping_inc = shipping * (1 + self.tax_rate)
        total_ex = subtotal_ex + shipping - coupon_discount - other_discount
        order = {
            "id": order_id,
            "customer_id": customer_id,
            "status_id": status_id,
            "status": STATUS_NAMES[status_id],
            "date_created": rfc2822(created),
            "date_modified": rfc2822(created),
            "date_shipped": "",
            "subtotal_ex_tax": money(subtotal_ex),
            "subtotal_inc_tax": money(subtotal_inc),
            "subtotal_tax": money(subtotal_inc - subtotal_ex),
            "shipping_cost_ex_tax": money(shipping),
            "shipping_cost_inc_tax": money(shipping_inc),
            "discount_amount": money(other_discount),
            "coupon_discount": money(coupon_discount),
            "total_ex_tax": money(total_ex),
            "total_inc_tax": money(total_ex * (1 + self.tax_rate)),
            "is_tax_inclusive_pricing": tax_inclusive,
            "currency_code": "USD",
            "default_currency_code": "USD",
            "items_total": sum(line.quantity for line in lines),
            "items_shipped": 0,
            "refunded_amount": money(0),
            "channel_id": 1,
            "billing_address": {
                "first_name": first_name,
                "last_name": last_name,
                "street_1": "1 Main Street",
                "city": city,
                "state": state,
                "zip": zip_code,
                "country": country,
                "country_iso2": "US",
                "phone": phone,
                "email": email,
            },
        }
        with self._lock:
            self.orders[order_id] = order
            self.order_lines[order_id] = rows
        return order

    def _line_row(self, order_id: int, line: Line, tax_inclusive: bool) -> dict[str, Any]:
        line_id = self._next_line_id
        self._next_line_id += 1
        base = line.product.price
        price_inc = base * (1 + self.tax_rate)
        discounts = []
        if line.discount:
            discounts.append(
                {
                    "id": "coupon" if line.coupon else "promo",
                    "amount": money(line.discount),
                    "name": line.coupon or "Sale",
                    "code": line.coupon,
                    "target": "product",
                }
            )
        return {
            "id": line_id,
            "order_id": order_id,
            "product_id": line.product.id,
            "variant_id": line.product.id * 10,
            "name": line.product.name,
            "sku": line.product.sku,
            "type": "physical",
            "quantity": line.quantity,
            "base_price": money(price_inc if tax_inclusive else base),
            "price_ex_tax": money(base),
            "price_inc_tax": money(price_inc),
            "price_tax": money(price_inc - base),
            "base_cost_price": money(line.product.cost),
            "cost_price_ex_tax": money(line.product.cost),
            "cost_price_inc_tax": money(line.product.cost * (1 + self.tax_rate)),
            "brand": line.product.brand,
            "applied_discounts": discounts,
            "product_options": [{"display_name": name, "display_value": value} for name, value in line.options.items()],
            "quantity_shipped": 0,
            "quantity_refunded": 0,
        }

    def set_status(self, order_id: int, status_id: int, *, at: datetime, shipped: bool = False) -> None:
        with self._lock:
            order = self.orders[order_id]
            order["status_id"] = status_id
            order["status"] = STATUS_NAMES[status_id]
            order["date_modified"] = rfc2822(at)
            if shipped:
                order["date_shipped"] = rfc2822(at)
                order["items_shipped"] = order["items_total"]

    def refund(self, order_id: int, amount: Decimal, *, at: datetime, reason: str = "") -> int:
        with self._lock:
            refund_id = self._next_refund_id
            self._next_refund_id += 1
            self.refunds.setdefault(order_id, []).append(
                {
                    "id": refund_id,
                    "order_id": order_id,
                    "user_id": 1,
                    "created": at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
                    "reason": reason,
                    "total_amount": float(amount),
                    "total_tax": 0,
                    "items": [],
                    "payments": [],
                }
            )
            return refund_id

    # ------------------------------------------------------------------ hooks
    def add_hook(
        self, scope: str, destination: str, *, headers: dict[str, str] | None = None, active: bool = True
    ) -> dict[str, Any]:
        with self._lock:
            hook_id = max(self.hooks, default=0) + 1
            now = int(self.clock().timestamp())
            self.hooks[hook_id] = {
                "id": hook_id,
                "client_id": "sandbox-app",
                "store_hash": self.store_hash,
                "scope": scope,
                "destination": destination,
                "headers": headers,
                "is_active": active,
                "created_at": now,
                "updated_at": now,
            }
            return self.hooks[hook_id]

    def deactivate_hook(self, hook_id: int, *, at: datetime) -> None:
        """What BigCommerce does after ~48 h of failed retries."""
        with self._lock:
            self.hooks[hook_id].update(is_active=False, updated_at=int(at.timestamp()))

    # ------------------------------------------------------------------ faults
    def enforce_quota(self, limit: int, window_seconds: float, clock: Callable[[], float] = time.monotonic) -> Quota:
        """From now on answer 429 beyond `limit` requests per window, with honest headers."""
        self.quota = Quota(limit, window_seconds, clock)
        return self.quota

    def fail_next(
        self, path_pattern: str, status: int, *, times: int = 1, headers: dict[str, str] | None = None
    ) -> None:
        """The next `times` requests whose path matches answer `status` (429, 500, ...)."""
        self._faults.append(Fault(path_pattern, status, headers or {}, times))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if re.search(fault.path_pattern, path):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    # ------------------------------------------------------------------ API
    def answer(
        self, path: str, query: dict[str, str], token: str | None, *, method: str = "GET", body: Any = None
    ) -> Answer:
        """The status, JSON body and headers BigCommerce would answer (rate-limit headers included)."""
        self.requests.append(path)
        rate_headers = STATIC_RATE_HEADERS
        if self.quota is not None:
            with self._lock:
                allowed, rate_headers = self.quota.take()
            if not allowed:
                return 429, {"status": 429, "title": "Too many requests"}, rate_headers
        status, payload, headers = self._answer(method, path, query, token, body)
        return status, payload, {**rate_headers, **headers}

    def _answer(self, method: str, path: str, query: dict[str, str], token: str | None, body: Any) -> Answer:
        fault = self._take_fault(path)
        if fault:
            return fault.status, {"title": "injected fault"}, fault.headers
        if token != self.access_token:
            return 401, {"status": 401, "title": "Unauthorized"}, {}
        prefix = f"/stores/{self.store_hash}"
        if not path.startswith(prefix):
            return 404, {"title": "store not found"}, {}
        writes = self._hooks_api(method, path.removeprefix(prefix), query, body)
        writes = writes or self._carts_api(method, path.removeprefix(prefix), body)
        writes = writes or self._scripts_api(method, path.removeprefix(prefix), query, body)
        if writes is not None or method != "GET":
            return writes or (405, {"title": f"{method} is not served here"}, {})
        return self._route(path.removeprefix(prefix), query)

    def _scripts_api(self, method: str, path: str, query: dict[str, str], body: Any) -> Answer | None:
        """`/v3/content/scripts`: list, create (`script_Post`: a name; `html` for `script_tag`) and
        update by uuid; each answers `script_Full`."""
        if path == "/v3/content/scripts" and method == "GET":
            return 200, v3_page(list(self.scripts.values()), query), {}
        if path == "/v3/content/scripts" and method == "POST":
            if not isinstance(body, dict) or not body.get("name"):
                return 422, {"status": 422, "title": "name is required"}, {}
            if body.get("kind") == "script_tag" and str(body.get("html", "")).count("<script") != 1:
                return 422, {"status": 422, "title": "html must hold exactly one script tag"}, {}
            script_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.secure_url}/scripts/{len(self.scripts) + 1}"))
            stamp = self.clock().strftime("%Y-%m-%dT%H:%M:%SZ")
            self.scripts[script_id] = {
                **body,
                "uuid": script_id,
                "enabled": True,
                "channel_id": 1,
                "date_created": stamp,
                "date_modified": stamp,
            }
            return 200, {"data": self.scripts[script_id], "meta": {}}, {}
        if (match := re.fullmatch(r"/v3/content/scripts/([0-9a-f-]+)", path)) and method == "PUT":
            found = self.scripts.get(match[1])
            if found is None:
                return 404, {"status": 404, "title": "script not found"}, {}
            found.update({**(body or {}), "date_modified": self.clock().strftime("%Y-%m-%dT%H:%M:%SZ")})
            return 200, {"data": found, "meta": {}}, {}
        return None

    def _carts_api(self, method: str, path: str, body: Any) -> Answer | None:
        """`POST /v3/carts` (`CartCreatePostData`: catalog lines by product and variant) and
        `POST /v3/carts/{id}/redirect_urls`, which BigCommerce serves only for carts made so."""
        if path == "/v3/carts" and method == "POST":
            lines = []
            for row in (body or {}).get("line_items") or []:
                product = self.products.get(row.get("product_id"))
                if product is None or row.get("variant_id", product.id * 10) != product.id * 10:
                    return 422, {"status": 422, "title": f"product {row.get('product_id')} cannot be added"}, {}
                if not isinstance(row.get("quantity"), int) or row["quantity"] < 1:
                    return 422, {"status": 422, "title": "quantity must be a positive integer"}, {}
                lines.append(Line(product, row["quantity"]))
            if not lines:
                return 422, {"status": 422, "title": "line_items are required"}, {}
            # Ids in order of creation, so a test can name the cart the API will make next.
            cart_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.secure_url}/carts/{len(self.api_carts) + 1}"))
            self.create_cart(cart_id, lines, at=self.clock(), customer_id=(body or {}).get("customer_id") or 0)
            self.api_carts.add(cart_id)
            return 201, {"data": self._cart_full(cart_id), "meta": {}}, {}
        if (match := re.fullmatch(r"/v3/carts/([0-9a-f-]+)/redirect_urls", path)) and method == "POST":
            if match[1] not in self.api_carts:
                return 404, {"status": 404, "title": "Cart not found"}, {}
            query = f"id={match[1]}&token={hashlib.sha256(match[1].encode()).hexdigest()}"
            urls = {
                "cart_url": f"{self.secure_url}/cart.php?action=load&{query}",
                "checkout_url": f"{self.secure_url}/cart.php?action=loadInCheckout&{query}",
                "embedded_checkout_url": f"{self.secure_url}/cart.php?embedded=1&action=loadInCheckout&{query}",
            }
            return 201, {"data": urls, "meta": {}}, {}
        return None

    def _route(self, path: str, query: dict[str, str]) -> Answer:
        for api in (self._collections_api, self._orders_api, self._catalog_api, self._shoppers_api):
            answer = api(path, query)
            if answer is not None:
                return answer
        return 404, {"title": f"no such endpoint {path}"}, {}

    def _orders_api(self, path: str, query: dict[str, str]) -> Answer | None:
        if match := re.fullmatch(r"/v2/orders/(\d+)", path):
            if int(match[1]) not in self.orders:
                return 404, [{"status": 404, "message": "The requested resource was not found."}], {}
            return 200, self._order_body(int(match[1]), query), {}
        if match := re.fullmatch(r"/v2/orders/(\d+)/products", path):
            return v2_answer(page_of(self.order_lines.get(int(match[1]), []), query))
        if match := re.fullmatch(r"/v2/orders/(\d+)/coupons", path):
            return v2_answer(page_of(self._order_coupons(int(match[1])), query))
        if match := re.fullmatch(r"/v3/orders/(\d+)/payment_actions/refunds", path):
            return 200, refunds_page(self.refunds.get(int(match[1]), []), query), {}
        if path == "/v2/store":
            return 200, self._store_body(), {}
        return None

    def _order_coupons(self, order_id: int) -> list[dict[str, Any]]:
        """`/v2/orders/{id}/coupons`: one row per coupon code the order's lines used."""
        amounts: dict[str, Decimal] = {}
        for row in self.order_lines.get(order_id, []):
            for discount in row["applied_discounts"]:
                if discount["code"]:
                    amounts[discount["code"]] = amounts.get(discount["code"], Decimal(0)) + Decimal(discount["amount"])
        return [
            {
                "id": order_id * 100 + index,
                "coupon_id": index,
                "order_id": order_id,
                "code": code,
                "amount": _number(amount),
                "type": 0,
                "discount": _number(amount),
            }
            for index, (code, amount) in enumerate(sorted(amounts.items()), start=1)
        ]

    def _store_body(self) -> dict[str, Any]:
        """`/v2/store`: bcsync reads `secure_url` and `timezone`."""
        return {
            "id": self.store_hash,
            "domain": self.secure_url.removeprefix("https://"),
            "secure_url": self.secure_url,
            "name": "Sandbox Store",
            "timezone": {
                "name": "Etc/UTC",
                "raw_offset": 0,
                "dst_offset": 0,
                "dst_correction": False,
                "date_format": {"display": "M jS Y", "export": "M jS Y", "extended_display": "M jS Y @ g:i A"},
            },
            "currency": "USD",
        }

    def _catalog_api(self, path: str, query: dict[str, str]) -> Answer | None:
        ids = {int(value) for key in ("id:in", "category_id:in") for value in query.get(key, "").split(",") if value}
        if path == "/v3/catalog/products":
            rows = [self._product_row(p, query) for p in self.products.values() if p.id in ids]
            return 200, v3_page(rows, query), {}
        if path == "/v3/catalog/trees/categories":
            rows = [self._category_row(cid, name) for cid, name in self.categories.items() if cid in ids]
            return 200, v3_page(rows, query), {}
        if path == "/v3/catalog/brands":
            brands = {self.brand_id(p.brand): p.brand for p in self.products.values()}
            return 200, v3_page([{"id": bid, "name": name} for bid, name in brands.items() if bid in ids], query), {}
        return None

    def _shoppers_api(self, path: str, query: dict[str, str]) -> Answer | None:
        if match := re.fullmatch(r"/v3/checkouts/([0-9a-zA-Z-]+)", path):
            if match[1] not in self.checkouts:
                return 404, {"status": 404, "title": "Cart not found"}, {}
            return 200, {"data": self._checkout_body(match[1]), "meta": {}}, {}
        if path == "/v3/customers":
            ids = {int(value) for value in query.get("id:in", "").split(",") if value}
            rows = [customer_view(row, query) for cid, row in self.customers.items() if cid in ids]
            return 200, v3_page(rows, query), {}
        if match := re.fullmatch(r"/v2/customer_groups/(\d+)", path):
            name = self.customer_groups.get(int(match[1]))
            return (200, {"id": int(match[1]), "name": name}, {}) if name else (404, [{"status": 404}], {})
        if match := re.fullmatch(r"/v3/customers/subscribers/(\d+)", path):
            row = self.subscribers.get(int(match[1]))
            return (200, {"data": row, "meta": {}}, {}) if row else (404, {"status": 404, "title": "Not found"}, {})
        if path == "/v3/customers/subscribers":
            email = query.get("email", "").lower()
            return 200, v3_page([row for row in self.subscribers.values() if row["email"].lower() == email], query), {}
        return None

    def _category_row(self, category_id: int, name: str) -> dict[str, Any]:
        """A row of the category tree API (keyed `category_id`; the deprecated API says `id`)."""
        slug = name.lower().replace(" ", "-")
        return {
            "category_id": category_id,
            "category_uuid": f"00000000-0000-4000-8000-{category_id:012d}",
            "parent_id": 0,
            "tree_id": 1,
            "name": name,
            "description": "",
            "views": 0,
            "sort_order": 0,
            "page_title": "",
            "meta_keywords": [],
            "meta_description": "",
            "layout_file": "category.html",
            "image_url": "",
            "is_visible": True,
            "search_keywords": "",
            "default_product_sort": "use_store_settings",
            "url": {"path": f"/{slug}/", "is_customized": False},
        }

    def _order_body(self, order_id: int, query: dict[str, str]) -> dict[str, Any]:
        body = dict(self.orders[order_id])
        if "consignments.line_items" in query.get("include", ""):
            body["consignments"] = self._consignments(order_id)
        return body

    def _consignments(self, order_id: int) -> dict[str, Any]:
        rows = self.order_lines.get(order_id, [])
        shipping: dict[str, Any] = {"id": order_id * 10, "line_items": rows[:EMBED_CAP]}
        if len(rows) > EMBED_CAP:
            shipping["__warning__"] = {
                "message": "Not all line items of this consignment are returned with this response, only 50 are "
                "included. Please use the `/v2/orders/{order_id}/products` endpoint to fetch all line items."
            }
        return {"pickups": [], "shipping": [shipping], "downloads": [], "email": {"gift_certificates": []}}

    def _product_row(self, product: Product, query: dict[str, str]) -> dict[str, Any]:
        """A `product_Full`; `primary_image` only when asked for with `include=primary_image`."""
        row: dict[str, Any] = {
            "id": product.id,
            "name": product.name,
            "type": "physical",
            "sku": product.sku,
            "price": float(product.price),
            "cost_price": float(product.cost),
            "retail_price": 0,
            "sale_price": float(product.sale_price),
            "calculated_price": float(product.sale_price or product.price),
            "categories": product.categories,
            "brand_id": self.brand_id(product.brand),
            "inventory_level": product.inventory_level,
            "inventory_tracking": "product",
            "is_visible": product.is_visible,
            "custom_url": {"url": product.path, "is_customized": False},
            "date_created": _iso(product.created),
            "date_modified": _iso(product.modified),
        }
        if "primary_image" in query.get("include", "").split(","):
            image = f"https://cdn.example.com/{product.sku.lower()}.jpg"
            row["primary_image"] = {
                "id": product.id * 100,
                "product_id": product.id,
                "is_thumbnail": True,
                "sort_order": 0,
                "description": "",
                "url_zoom": image,
                "url_standard": image,
                "url_thumbnail": image,
                "url_tiny": image,
                "date_modified": _iso(product.modified),
            }
        return row


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


class SandboxServer(LoopbackServer):
    """Serves a SandboxStore on 127.0.0.1 in a background thread."""

    def __init__(self, store: SandboxStore, port: int = 0) -> None:
        self.store = store
        super().__init__(_handler_for(store), port=port, name="sandbox-bigcommerce")

    @property
    def url(self) -> str:
        return self.origin


def _handler_for(store: SandboxStore) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            parts = urlsplit(self.path)
            query = {key: values[0] for key, values in parse_qs(parts.query).items()}
            length = int(self.headers.get("Content-Length") or 0)
            try:
                sent = json.loads(self.rfile.read(length)) if length else None
            except ValueError:
                sent = None
            status, body, headers = store.answer(
                parts.path, query, self.headers.get("X-Auth-Token"), method=self.command, body=sent
            )
            payload = b"" if status == 204 or body is None else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = _handle

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the store's request log is `store.requests`."""

    return Handler
