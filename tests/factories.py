"""Builders for BigCommerce-shaped state in tests (documented field shapes, invented values)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bcsync.domain.bigcommerce import Order, OrderLine, Refund
from bcsync.domain.catalog import CatalogItem
from bcsync.domain.events import MarketingEvent, Metric
from bcsync.domain.orders import OrderSnapshot, coupon_codes_from_lines

CREATED = "Tue, 05 Mar 2019 21:40:11 +0000"
MODIFIED = "Wed, 06 Mar 2019 09:00:00 +0000"
SHIPPED = "Wed, 06 Mar 2019 08:30:00 +0000"


def line(
    line_id: int,
    product_id: int,
    *,
    price: str = "10.0000",
    qty: int = 1,
    discount: str | None = None,
    code: str | None = None,
    tax_rate: str = "0.1",
    brand: str = "Acme",
    options: dict[str, str] | None = None,
) -> OrderLine:
    price_ex = Decimal(price)
    discounts = [{"amount": discount, "code": code, "name": code or "Sale", "target": "product"}] if discount else []
    return OrderLine.model_validate(
        {
            "id": line_id,
            "product_id": product_id,
            "name": f"Product {product_id}",
            "sku": f"SKU-{product_id}",
            "quantity": qty,
            "price_ex_tax": str(price_ex),
            "price_inc_tax": str(price_ex * (1 + Decimal(tax_rate))),
            "cost_price_ex_tax": "4.0000",
            "cost_price_inc_tax": "4.4000",
            "brand": brand,
            "applied_discounts": discounts,
            "product_options": [{"display_name": k, "display_value": v} for k, v in (options or {}).items()],
        }
    )


def order(status_id: int = 11, **overrides: Any) -> Order:
    fields: dict[str, Any] = {
        "id": 250,
        "customer_id": 32,
        "status_id": status_id,
        "status": f"Status {status_id}",
        "date_created": CREATED,
        "date_modified": MODIFIED,
        "date_shipped": "",
        "subtotal_ex_tax": "30.0000",
        "subtotal_inc_tax": "33.0000",
        "shipping_cost_ex_tax": "5.0000",
        "shipping_cost_inc_tax": "5.5000",
        "discount_amount": "0.0000",
        "coupon_discount": "0.0000",
        "is_tax_inclusive_pricing": False,
        "currency_code": "EUR",
        "default_currency_code": "EUR",
        "items_total": 3,
        "billing_address": {
            "first_name": "Jane",
            "last_name": "Doe",
            "city": "Austin",
            "state": "Texas",
            "zip": "78751",
            "country": "United States",
            "phone": "555-0100",
            "email": "Jane@Example.com",
        },
    }
    fields.update(overrides)
    return Order.model_validate(fields)


def refund(refund_id: int, amount: str, created: str = "2019-03-07T10:00:00Z", order_id: int = 250) -> Refund:
    return Refund.model_validate({"id": refund_id, "order_id": order_id, "created": created, "total_amount": amount})


CATALOG = {
    1: CatalogItem(
        product_id=1,
        name="Product 1",
        category_names=["Shirts", "Sale"],
        image_url="https://img/1.jpg",
        product_url="https://shop.example.com/p1/",
    ),
    2: CatalogItem(
        product_id=2,
        name="Product 2",
        category_names=["Mugs"],
        image_url="https://img/2.jpg",
        product_url="https://shop.example.com/p2/",
    ),
}


def snapshot(
    the_order: Order | None = None, lines: list[OrderLine] | None = None, refunds: tuple[Refund, ...] | None = None
) -> OrderSnapshot:
    chosen = lines if lines is not None else [line(1, 1, price="10.0000"), line(2, 2, price="10.0000", qty=2)]
    return OrderSnapshot(
        store_hash="abc123",
        order=the_order or order(),
        lines=tuple(chosen),
        catalog=CATALOG,
        refunds=refunds,
        coupon_codes=coupon_codes_from_lines(chosen),
    )


def placed_order_event(
    order_id: int, hour: int, *, profile_id: str | None = "p", backfill: bool = False
) -> MarketingEvent:
    """A Placed Order event of store `s`, placed on 2026-01-01 at `hour`."""
    return MarketingEvent(
        id=f"s:placed-order:order:{order_id}",
        store_hash="s",
        metric=Metric.PLACED_ORDER,
        profile_id=profile_id,
        time=datetime(2026, 1, 1, hour, tzinfo=UTC),
        value=1,
        currency="USD",
        properties={},
        source_id=f"order:{order_id}",
        backfill=backfill,
    )


def webhook_body(scope: str, data: dict[str, Any], *, store_hash: str) -> str:
    """A webhook body as BigCommerce sends it: the envelope around the scope's `data`."""
    envelope = {
        "scope": scope,
        "store_id": "1",
        "data": data,
        "hash": "h",
        "created_at": 1,
        "producer": f"stores/{store_hash}",
    }
    return json.dumps(envelope)
