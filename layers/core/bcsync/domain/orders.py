"""Order state to marketing events: DESIGN.md's metric table and value rules, as one pure function.

The webhook path, the retry path, reconciliation and backfill all call `normalize_order` with the
order's current state, so a duplicate, a replay or a reordered delivery yields the same events
with the same ids, and writing them is idempotent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import IntEnum
from typing import Any

from bcsync.domain.bigcommerce import Order, OrderLine, Refund
from bcsync.domain.catalog import CatalogItem
from bcsync.domain.events import MarketingEvent, Metric, event_id


class OrderStatus(IntEnum):
    INCOMPLETE = 0
    PENDING = 1
    SHIPPED = 2
    PARTIALLY_SHIPPED = 3
    REFUNDED = 4
    CANCELLED = 5
    DECLINED = 6
    AWAITING_PAYMENT = 7
    AWAITING_PICKUP = 8
    AWAITING_SHIPMENT = 9
    COMPLETED = 10
    AWAITING_FULFILLMENT = 11
    MANUAL_VERIFICATION_REQUIRED = 12
    DISPUTED = 13
    PARTIALLY_REFUNDED = 14


# Nothing was bought yet (or payment was refused): no Placed Order, and nothing follows from it.
UNPLACED_STATUSES = frozenset(
    {OrderStatus.INCOMPLETE, OrderStatus.PENDING, OrderStatus.DECLINED, OrderStatus.AWAITING_PAYMENT}
)
FULFILLED_STATUSES = frozenset({OrderStatus.SHIPPED, OrderStatus.COMPLETED})
REFUND_STATUSES = frozenset({OrderStatus.REFUNDED, OrderStatus.PARTIALLY_REFUNDED})


def is_placed(order: Order) -> bool:
    return order.status_id not in UNPLACED_STATUSES


def is_fulfilled(order: Order) -> bool:
    """Shipped or Completed; a Refunded or Partially Refunded order that shipped first counts too."""
    if order.status_id in FULFILLED_STATUSES:
        return True
    return order.status_id in REFUND_STATUSES and order.date_shipped is not None


# How long a change to Refunded may wait for its refund record before it counts as a manual refund.
REFUND_RECORD_GRACE = timedelta(minutes=10)


def needs_refunds(order: Order, *, refund_announced: bool) -> bool:
    """Read the refunds endpoint only when a refund can exist and matter: saves a call per order."""
    return is_placed(order) and (refund_announced or order.status_id in REFUND_STATUSES)


@dataclass(frozen=True)
class RefundListing:
    """Every refund created from `start` until `listed_at`, by order: what one read of the refunds
    stream (`created:min/max`) proves. A refund is created after its order and changes it, so for
    an order created since `start` and last changed before `listed_at`, the listing holds all of
    its refunds, and no refund at all means none exists (a manual change to Refunded)."""

    start: datetime | None
    listed_at: datetime
    by_order: Mapping[int, tuple[Refund, ...]]

    @classmethod
    def of(cls, refunds: Iterable[Refund], *, start: datetime | None, listed_at: datetime) -> RefundListing:
        by_order: dict[int, list[Refund]] = {}
        for refund in refunds:
            by_order.setdefault(refund.order_id, []).append(refund)
        return cls(start, listed_at, {order_id: tuple(found) for order_id, found in by_order.items()})

    def refunds_of(self, order: Order) -> tuple[Refund, ...] | None:
        """The order's refunds, or None when the listing cannot say that it has none: the order
        is older than `start` (a refund may predate it) or changed after the listing was read."""
        known = self.by_order.get(order.id)
        if known:
            return known
        older = self.start is not None and (order.date_created is None or order.date_created < self.start)
        changed_since = order.date_modified is not None and order.date_modified > self.listed_at
        return None if older or changed_since else ()


@dataclass(frozen=True)
class OrderSnapshot:
    """Everything the normalizer needs about one order, as BigCommerce says it is now.

    `refunds` is None when they were not read (no refund can matter); an empty tuple means read and
    none exist, which is how a manual status change to Refunded is told apart.
    """

    store_hash: str
    order: Order
    lines: tuple[OrderLine, ...]
    catalog: Mapping[int, CatalogItem]
    refunds: tuple[Refund, ...] | None = None
    coupon_codes: tuple[str, ...] = ()
    # When the order was read; None: long after any change (a test's, or history's).
    observed_at: datetime | None = None

    @property
    def tax_inclusive(self) -> bool:
        return self.order.is_tax_inclusive_pricing


def coupon_codes_from_lines(lines: Iterable[OrderLine]) -> tuple[str, ...]:
    return tuple(sorted({d.code for line in lines for d in line.applied_discounts if d.code}))


def order_value(order: Order) -> Decimal:
    """(subtotal + shipping) - (discount_amount + coupon_discount), in the order's tax basis."""
    if order.is_tax_inclusive_pricing:
        gross = order.subtotal_inc_tax + order.shipping_cost_inc_tax
    else:
        gross = order.subtotal_ex_tax + order.shipping_cost_ex_tax
    return gross - (order.discount_amount + order.coupon_discount)


def unit_price(line: OrderLine, *, tax_inclusive: bool) -> Decimal:
    return line.price_inc_tax if tax_inclusive else line.price_ex_tax


def unit_cost(line: OrderLine, *, tax_inclusive: bool) -> Decimal:
    cost = line.cost_price_inc_tax if tax_inclusive else line.cost_price_ex_tax
    return cost or line.base_cost_price


def line_discount(line: OrderLine) -> Decimal:
    return sum((d.amount for d in line.applied_discounts), Decimal(0))


def line_value(line: OrderLine, *, tax_inclusive: bool) -> Decimal:
    """The line's price x quantity minus its applied discounts."""
    return unit_price(line, tax_inclusive=tax_inclusive) * line.quantity - line_discount(line)


def is_discounted(snapshot: OrderSnapshot) -> bool:
    order = snapshot.order
    return (
        order.discount_amount + order.coupon_discount > 0
        or bool(snapshot.coupon_codes)
        or any(line_discount(line) > 0 for line in snapshot.lines)
    )


def _categories(snapshot: OrderSnapshot, line: OrderLine) -> list[str]:
    item = snapshot.catalog.get(line.product_id)
    return list(item.category_names) if item else []


def order_properties(snapshot: OrderSnapshot) -> dict[str, Any]:
    """Items, Item Count, Item Categories, Discounted, Coupons and Items Detail."""
    tax_inclusive = snapshot.tax_inclusive
    details = []
    for line in snapshot.lines:
        item = snapshot.catalog.get(line.product_id)
        details.append(
            {
                "Name": line.name,
                "SKU": line.sku,
                "ProductID": line.product_id,
                "Quantity": line.quantity,
                "Price": unit_price(line, tax_inclusive=tax_inclusive),
                "ImageURL": item.image_url if item else "",
                "ProductURL": item.product_url if item else "",
            }
        )
    return {
        "Items": [line.name for line in snapshot.lines],
        "Item Count": sum(line.quantity for line in snapshot.lines),
        "Item Categories": sorted({c for line in snapshot.lines for c in _categories(snapshot, line)}),
        "Discounted": is_discounted(snapshot),
        "Coupons": list(snapshot.coupon_codes),
        "Items Detail": details,
    }


def ordered_product_properties(snapshot: OrderSnapshot, line: OrderLine) -> dict[str, Any]:
    tax_inclusive = snapshot.tax_inclusive
    return {
        "Name": line.name,
        "SKU": line.sku,
        "ProductID": line.product_id,
        "Quantity": line.quantity,
        "Product Price": unit_price(line, tax_inclusive=tax_inclusive),
        "Product Cost": unit_cost(line, tax_inclusive=tax_inclusive),
        "Price": order_value(snapshot.order),
        "Categories": _categories(snapshot, line),
        "Discounted": line_discount(line) > 0,
        "Options": {option.display_name: option.display_value for option in line.product_options},
        "Brand": line.brand or "",
    }


def refunded_order_properties(snapshot: OrderSnapshot) -> dict[str, Any]:
    """Describe the whole order, as Klaviyo's do, plus brands and the status when seen."""
    properties = order_properties(snapshot)
    properties["Item Brands"] = sorted({line.brand for line in snapshot.lines if line.brand})
    properties["Status"] = snapshot.order.status
    return properties


def normalize_order(snapshot: OrderSnapshot, *, profile_id: str | None, backfill: bool = False) -> list[MarketingEvent]:
    """Every event the order's current state implies, each with its deterministic id."""
    order = snapshot.order
    if not is_placed(order) or order.date_created is None:
        return []
    store = snapshot.store_hash
    source_id = f"order:{order.id}"
    changed_at = order.date_modified or order.date_created
    value = order_value(order)
    common = {
        "store_hash": store,
        "profile_id": profile_id,
        "currency": order.transaction_currency,
        "backfill": backfill,
    }

    def order_event(metric: Metric, time: datetime, properties: dict[str, Any]) -> MarketingEvent:
        return MarketingEvent(
            id=event_id(store, metric, source_id),
            metric=metric,
            time=time,
            value=value,
            properties=properties,
            source_id=source_id,
            **common,
        )

    summary = order_properties(snapshot)
    events = [order_event(Metric.PLACED_ORDER, order.date_created, summary)]
    events += [
        MarketingEvent(
            id=event_id(store, Metric.ORDERED_PRODUCT, f"{source_id}:product:{line.id}"),
            metric=Metric.ORDERED_PRODUCT,
            time=order.date_created,
            value=line_value(line, tax_inclusive=snapshot.tax_inclusive),
            properties=ordered_product_properties(snapshot, line),
            source_id=source_id,
            **common,
        )
        for line in snapshot.lines
    ]
    if is_fulfilled(order):
        events.append(order_event(Metric.FULFILLED_ORDER, order.date_shipped or changed_at, summary))
    if order.status_id == OrderStatus.CANCELLED:
        events.append(order_event(Metric.CANCELLED_ORDER, changed_at, summary))
    events += _refund_events(snapshot, changed_at=changed_at, common=common)
    return events


def _refund_events(snapshot: OrderSnapshot, *, changed_at: datetime, common: dict[str, Any]) -> list[MarketingEvent]:
    """One per refund record; a manual change to Refunded with no record counts once, but only
    once the change is REFUND_RECORD_GRACE old: BigCommerce may show the status before it has
    created the refund record that follows (its own webhook), and the record must not double a
    manual event already written. Reconciliation, whose windows overlap by at least the grace,
    sees the order again and writes the manual one if no record came."""
    if snapshot.refunds is None:
        return []
    order = snapshot.order
    properties = refunded_order_properties(snapshot)
    events = [
        MarketingEvent(
            id=event_id(snapshot.store_hash, Metric.REFUNDED_ORDER, f"refund:{refund.id}"),
            metric=Metric.REFUNDED_ORDER,
            time=refund.created or changed_at,
            value=refund.total_amount,
            properties=properties,
            source_id=f"refund:{refund.id}",
            **common,
        )
        for refund in sorted(snapshot.refunds, key=lambda refund: refund.id)
        if refund.order_id == order.id
    ]
    settled = snapshot.observed_at is None or snapshot.observed_at - changed_at >= REFUND_RECORD_GRACE
    if not events and order.status_id == OrderStatus.REFUNDED and settled:
        events.append(
            MarketingEvent(
                id=event_id(snapshot.store_hash, Metric.REFUNDED_ORDER, f"order:{order.id}"),
                metric=Metric.REFUNDED_ORDER,
                time=changed_at,
                value=order_value(order),
                properties=properties,
                source_id=f"order:{order.id}",
                **common,
            )
        )
    return events
