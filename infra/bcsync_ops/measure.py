"""Counting AWS requests in-process: what the benchmarks report and the request-count tests pin."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any


@contextmanager
def aws_requests() -> Iterator[Counter[str]]:
    """Counts every AWS API call made inside, by operation, whichever client or session makes it
    (Powertools' own included)."""
    from botocore.client import BaseClient

    counted: Counter[str] = Counter()
    original = BaseClient._make_api_call  # type: ignore[attr-defined]  # the one door every API call takes

    def counting(self: Any, operation_name: str, api_params: Any) -> Any:
        counted[operation_name] += 1
        return original(self, operation_name, api_params)

    BaseClient._make_api_call = counting  # type: ignore[attr-defined]
    try:
        yield counted
    finally:
        BaseClient._make_api_call = original  # type: ignore[attr-defined]


# The orders the request counts are measured on: one naming every product (it warms the catalog
# cache, as a running store has it), one of 3 lines and one of 24.
WARMING_ORDER, SMALL_ORDER, LARGE_ORDER = 3000, 3001, 3002


def place_measured_orders(store: Any, created: datetime) -> None:
    from bcsync_ops.sandbox import Line

    products = list(store.products.values())
    for order_id, lines in ((WARMING_ORDER, len(products)), (SMALL_ORDER, 3), (LARGE_ORDER, 24)):
        store.place_order(
            order_id,
            email=f"buyer{order_id}@example.com",
            first_name="Buyer",
            last_name=str(order_id),
            lines=[Line(products[n % len(products)], 1) for n in range(lines)],
            created=created,
        )
