"""The sandbox's customers and subscribers."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bcsync_ops.sandbox.paging import customer_view, v3_page
from bcsync_ops.sandbox.shapes import Answer
from bcsync_ops.sandbox.state import StoreState


class CustomersApi(StoreState):
    """Customers, their groups and newsletter subscribers: `/v3/customers*`, `/v2/customer_groups`."""

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

    def _customers_api(self, path: str, query: dict[str, str]) -> Answer | None:
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
