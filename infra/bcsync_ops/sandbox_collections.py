"""The sandbox store's collection endpoints (what reconciliation, backfill and verify-counts page
through) and its hooks API, with BigCommerce's filters, paging and empty answers."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bcsync.domain.bigcommerce import parse_datetime

if TYPE_CHECKING:
    from bcsync_ops.sandbox import Answer, Product


def _date(value: str | None) -> datetime | None:
    return parse_datetime(value) if value else None


def _within(moment: Any, low: str | None, high: str | None) -> bool:
    at = parse_datetime(moment)
    if at is None:
        return False
    start, end = _date(low), _date(high)
    return (start is None or at >= start) and (end is None or at <= end)


def _ids(query: dict[str, str], key: str) -> set[int] | None:
    raw = query.get(key)
    return {int(value) for value in raw.split(",") if value} if raw is not None else None


def page_of(rows: list[Any], query: dict[str, str]) -> list[Any]:
    """The rows of the `page` asked for, `limit` a page (50 unless asked)."""
    page, limit = int(query.get("page", 1)), int(query.get("limit", 50))
    return rows[(page - 1) * limit : page * limit]


def v2_answer(chunk: list[Any]) -> Answer:
    """v2 collections are bare arrays; an empty page is 204 No Content."""
    return (200, chunk, {}) if chunk else (204, None, {})


def v3_page(rows: list[dict[str, Any]], query: dict[str, str]) -> dict[str, Any]:
    page, limit = int(query.get("page", 1)), int(query.get("limit", 50))
    total_pages = (len(rows) + limit - 1) // limit
    chunk = page_of(rows, query)
    return {
        "data": chunk,
        "meta": {
            "pagination": {
                "total": len(rows),
                "count": len(chunk),
                "per_page": limit,
                "current_page": page,
                "total_pages": total_pages,
            }
        },
    }


def refunds_page(rows: list[dict[str, Any]], query: dict[str, str]) -> dict[str, Any]:
    """Refund lists page by `page`/`limit` but answer `meta: {}`: no pagination is promised."""
    return {"data": page_of(rows, query), "meta": {}}


# The customer fields `/v3/customers` answers only with their `include=` value.
CUSTOMER_INCLUDES = {"addresses": "addresses", "store_credit_amounts": "storecredit"}


def customer_view(row: dict[str, Any], query: dict[str, str]) -> dict[str, Any]:
    """A customer as `/v3/customers` answers it: addresses and store credit only when included."""
    included = set(query.get("include", "").split(","))
    return {key: value for key, value in row.items() if CUSTOMER_INCLUDES.get(key) in (None, *included)}


class CollectionsApi:
    """Mixed into SandboxStore: reads its orders, refunds, customers, subscribers, products."""

    orders: dict[int, dict[str, Any]]
    refunds: dict[int, list[dict[str, Any]]]
    customers: dict[int, dict[str, Any]]
    subscribers: dict[int, dict[str, Any]]
    products: dict[int, Product]
    hooks: dict[int, dict[str, Any]]
    clock: Callable[[], datetime]

    def _order_body(self, order_id: int, query: dict[str, str]) -> dict[str, Any]:
        raise NotImplementedError

    def _product_row(self, product: Product, query: dict[str, str]) -> dict[str, Any]:
        raise NotImplementedError

    def add_hook(
        self, scope: str, destination: str, *, headers: dict[str, str] | None = None, active: bool = True
    ) -> dict[str, Any]:
        raise NotImplementedError

    def _collections_api(self, path: str, query: dict[str, str]) -> Answer | None:
        if path == "/v2/orders":
            rows = page_of(self._orders_matching(query), query)
            return v2_answer([self._order_body(row["id"], query) for row in rows])
        if path == "/v2/orders/count":
            rows = self._orders_matching(query)
            statuses: dict[int, dict[str, Any]] = {}
            for row in rows:
                entry = statuses.setdefault(
                    row["status_id"], {"id": row["status_id"], "name": row["status"], "count": 0}
                )
                entry["count"] += 1
            return 200, {"count": len(rows), "statuses": list(statuses.values())}, {}
        if path == "/v3/orders/payment_actions/refunds":
            order_ids = _ids(query, "order_id:in")
            refunds = sorted(itertools.chain.from_iterable(self.refunds.values()), key=lambda r: r["id"])
            rows = [
                refund
                for refund in refunds
                if (order_ids is None or refund["order_id"] in order_ids)
                and _within(refund["created"], query.get("created:min"), query.get("created:max"))
            ]
            return 200, refunds_page(rows, query), {}
        if path == "/v3/customers" and "id:in" not in query:
            rows = [customer_view(row, query) for _, row in sorted(self.customers.items()) if self._dated(row, query)]
            rows.sort(key=lambda row: parse_datetime(row["date_modified"]) or datetime.min.replace(tzinfo=UTC))
            return 200, v3_page(rows, query), {}
        if path == "/v3/customers/subscribers" and "email" not in query:
            rows = [row for _, row in sorted(self.subscribers.items()) if self._dated(row, query)]
            return 200, v3_page(rows, query), {}
        if path == "/v3/catalog/products" and "id:in" not in query:
            products = sorted(self.products.values(), key=lambda product: (product.modified, product.id))
            rows = [
                self._product_row(product, query)
                for product in products
                if _within(product.modified, query.get("date_modified:min"), query.get("date_modified:max"))
            ]
            return 200, v3_page(rows, query), {}
        return None

    def _orders_matching(self, query: dict[str, str]) -> list[dict[str, Any]]:
        min_id = int(query.get("min_id", 0))
        rows = [
            row
            for order_id, row in sorted(self.orders.items())
            if order_id >= min_id
            and _within(row["date_modified"], query.get("min_date_modified"), query.get("max_date_modified"))
            and _within(row["date_created"], query.get("min_date_created"), query.get("max_date_created"))
        ]
        if query.get("sort", "id:asc") == "date_modified:asc":
            rows.sort(key=lambda row: (parse_datetime(row["date_modified"]), row["id"]))
        return rows

    @staticmethod
    def _dated(row: dict[str, Any], query: dict[str, str]) -> bool:
        return _within(row["date_modified"], query.get("date_modified:min"), query.get("date_modified:max")) and (
            _within(row["date_created"], query.get("date_created:min"), query.get("date_created:max"))
        )

    # ------------------------------------------------------------------ /v3/hooks
    def _hooks_api(self, method: str, path: str, query: dict[str, str], body: Any) -> Answer | None:
        if path == "/v3/hooks" and method == "GET":
            return 200, v3_page([dict(hook) for _, hook in sorted(self.hooks.items())], query), {}
        if path == "/v3/hooks" and method == "POST":
            if not isinstance(body, dict) or not body.get("scope") or not body.get("destination"):
                return 422, {"status": 422, "title": "scope and destination are required"}, {}
            if any(
                h["scope"] == body["scope"] and h["destination"] == body["destination"] for h in self.hooks.values()
            ):
                return 422, {"status": 422, "title": "a hook for this scope and destination exists"}, {}
            hook = self.add_hook(body["scope"], body["destination"], headers=body.get("headers"))
            return 200, {"data": dict(hook), "meta": {}}, {}
        if path.startswith("/v3/hooks/") and method == "PUT":
            found = self.hooks.get(int(path.rsplit("/", 1)[1]))
            if found is None:
                return 404, {"status": 404, "title": "hook not found"}, {}
            changes = {key: body[key] for key in ("is_active", "headers", "destination") if key in (body or {})}
            found.update(changes, updated_at=int(self.clock().timestamp()))
            return 200, {"data": dict(found), "meta": {}}, {}
        return None
