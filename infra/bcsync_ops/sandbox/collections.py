"""The collection endpoints reconciliation, backfill and verify-counts page through."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from bcsync.domain.bigcommerce import parse_datetime
from bcsync_ops.sandbox.customers import CustomersApi
from bcsync_ops.sandbox.orders import OrdersApi
from bcsync_ops.sandbox.paging import customer_view, ids_in, page_of, refunds_page, v2_answer, v3_page, within
from bcsync_ops.sandbox.shapes import Answer


class CollectionsApi(OrdersApi, CustomersApi):
    """What reconciliation, backfill and verify-counts page through, with BigCommerce's filters."""

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
            order_ids = ids_in(query, "order_id:in")
            refunds = sorted(itertools.chain.from_iterable(self.refunds.values()), key=lambda r: r["id"])
            rows = [
                refund
                for refund in refunds
                if (order_ids is None or refund["order_id"] in order_ids)
                and within(refund["created"], query.get("created:min"), query.get("created:max"))
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
                if within(product.modified, query.get("date_modified:min"), query.get("date_modified:max"))
            ]
            return 200, v3_page(rows, query), {}
        return None

    def _orders_matching(self, query: dict[str, str]) -> list[dict[str, Any]]:
        min_id = int(query.get("min_id", 0))
        rows = [
            row
            for order_id, row in sorted(self.orders.items())
            if order_id >= min_id
            and within(row["date_modified"], query.get("min_date_modified"), query.get("max_date_modified"))
            and within(row["date_created"], query.get("min_date_created"), query.get("max_date_created"))
        ]
        if query.get("sort", "id:asc") == "date_modified:asc":
            rows.sort(key=lambda row: (parse_datetime(row["date_modified"]), row["id"]))
        return rows

    @staticmethod
    def _dated(row: dict[str, Any], query: dict[str, str]) -> bool:
        return within(row["date_modified"], query.get("date_modified:min"), query.get("date_modified:max")) and (
            within(row["date_created"], query.get("date_created:min"), query.get("date_created:max"))
        )
