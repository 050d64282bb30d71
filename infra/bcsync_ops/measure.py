"""Counting AWS requests in-process: what the benchmarks report and the request-count tests pin."""

from __future__ import annotations

import copy
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class AwsCall:
    client: Any
    operation: str
    params: dict[str, Any]
    seconds: float
    # Time spent copying the parameters (a timing of the caller should leave it out).
    copying: float
    # What AWS answered (None when the call raised).
    response: Any = None


@contextmanager
def aws_calls() -> Iterator[list[AwsCall]]:
    """Every AWS API call made inside, whichever client or session makes it (Powertools' own
    included), with its parameters and the time it took."""
    from botocore.client import BaseClient

    calls: list[AwsCall] = []
    original = BaseClient._make_api_call  # type: ignore[attr-defined]  # the one door every API call takes

    def recording(self: Any, operation_name: str, api_params: Any) -> Any:
        copying = time.perf_counter()
        params = copy.deepcopy(api_params)  # as given: the DynamoDB resource serializes them in place
        started = time.perf_counter()
        response = None
        try:
            response = original(self, operation_name, api_params)
            return response
        finally:
            ended = time.perf_counter()
            calls.append(AwsCall(self, operation_name, params, ended - started, started - copying, response))

    BaseClient._make_api_call = recording  # type: ignore[attr-defined]
    try:
        yield calls
    finally:
        BaseClient._make_api_call = original  # type: ignore[attr-defined]


@contextmanager
def aws_requests() -> Iterator[Counter[str]]:
    """The calls made inside, counted by operation."""
    counted: Counter[str] = Counter()
    with aws_calls() as calls:
        yield counted
    counted.update(call.operation for call in calls)


# The orders the request counts are measured on: one naming every product (it warms the catalog
# cache, as a running store has it), one of 3 lines and one of 24.
WARMING_ORDER, SMALL_ORDER, LARGE_ORDER = 3000, 3001, 3002


def place_measured_orders(store: Any, created: datetime) -> None:
    for order_id, lines in ((WARMING_ORDER, len(store.products)), (SMALL_ORDER, 3), (LARGE_ORDER, 24)):
        place_order(store, order_id, lines, created)


def place_order(store: Any, order_id: int, lines: int, created: datetime) -> None:
    """An order of a new buyer, one unit of each of `lines` products (the catalog's, in turn)."""
    from bcsync_ops.sandbox import Line

    products = list(store.products.values())
    store.place_order(
        order_id,
        email=f"buyer{order_id}@example.com",
        first_name="Buyer",
        last_name=str(order_id),
        lines=[Line(products[n % len(products)], 1) for n in range(lines)],
        created=created,
    )
