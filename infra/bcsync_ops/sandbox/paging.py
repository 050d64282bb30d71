"""How BigCommerce pages and filters its collections: v2 bare arrays (204 when empty), v3 `data`
with `meta.pagination`, refunds with `meta: {}`, windows on dates and ids."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bcsync.domain.bigcommerce import parse_datetime
from bcsync_ops.sandbox.shapes import Answer


def date_of(value: str | None) -> datetime | None:
    return parse_datetime(value) if value else None


def within(moment: Any, low: str | None, high: str | None) -> bool:
    at = parse_datetime(moment)
    if at is None:
        return False
    start, end = date_of(low), date_of(high)
    return (start is None or at >= start) and (end is None or at <= end)


def ids_in(query: dict[str, str], key: str) -> set[int] | None:
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
