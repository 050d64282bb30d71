"""The sandbox's orders and refunds."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bcsync_ops.sandbox.catalog import CatalogApi
from bcsync_ops.sandbox.paging import page_of, refunds_page, v2_answer
from bcsync_ops.sandbox.shapes import EMBED_CAP, STATUS_NAMES, Answer, Line, money, number, rfc2822


class OrdersApi(CatalogApi):
    """Orders, their lines, coupons and refunds: `/v2/orders/{id}*`, `/v3/orders/{id}/payment_actions/refunds`."""

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
                "amount": number(amount),
                "type": 0,
                "discount": number(amount),
            }
            for index, (code, amount) in enumerate(sorted(amounts.items()), start=1)
        ]

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
