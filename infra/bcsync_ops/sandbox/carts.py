"""The sandbox's carts and checkouts."""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from bcsync_ops.sandbox.catalog import CatalogApi
from bcsync_ops.sandbox.shapes import BLANK_CHECKOUT_ADDRESS, Answer, Line, iso, number


class CartsApi(CatalogApi):
    """Carts and checkouts: what a shopper does, `/v3/checkouts/{id}`, `POST /v3/carts` and its redirect URLs."""

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
        created, updated = iso(cart["created"]), iso(cart["updated"])
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
                "base_amount": number(gross),
                "discount_amount": 0,
                "cart_amount_inc_tax": number(inc),
                "cart_amount_ex_tax": number(ex),
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
            "taxes": [{"name": "Tax", "amount": number(inc - ex)}],
            "coupons": [{"code": code} for code in coupons],
            "order_id": None,
            "shipping_cost_total_inc_tax": 0,
            "shipping_cost_total_ex_tax": 0,
            "handling_cost_total_inc_tax": 0,
            "handling_cost_total_ex_tax": 0,
            "tax_total": number(inc - ex),
            "subtotal_inc_tax": number(inc),
            "subtotal_ex_tax": number(ex),
            "grand_total": number(inc),
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
            "discount_amount": number(line.discount if not line.coupon else 0),
            "coupon_amount": number(line.discount if line.coupon else 0),
            "original_price": number(price),
            "list_price": number(price),
            "sale_price": number(price),
            "extended_list_price": number(price * line.quantity),
            "extended_sale_price": number(extended),
            "is_require_shipping": True,
            "is_mutable": True,
        }

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

    def _checkouts_api(self, path: str, query: dict[str, str]) -> Answer | None:
        if match := re.fullmatch(r"/v3/checkouts/([0-9a-zA-Z-]+)", path):
            if match[1] not in self.checkouts:
                return 404, {"status": 404, "title": "Cart not found"}, {}
            return 200, {"data": self._checkout_body(match[1]), "meta": {}}, {}
        return None
