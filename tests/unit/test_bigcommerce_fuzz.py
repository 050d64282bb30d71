"""BigCommerce's answers fuzzed from their published shapes: whatever a value turns into (another
type, a missing key, a whole body of something else), the client gives back the model or says
the answer is out of shape with a ValidationError naming where (envelopes included); never a
TypeError, KeyError or AttributeError that would read as a bug of ours.
And an order that parses normalizes: events, or a clear refusal, never a crash."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import urllib3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from bcsync.adapters.bigcommerce import BigCommerceClient
from bcsync.domain.orders import OrderSnapshot, normalize_order
from bcsync.domain.sync import Window

PUBLISHED = Path(__file__).parents[1] / "contract" / "published"
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


def published(name: str) -> Any:
    return json.loads((PUBLISHED / name).read_text())


def paths(document: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(document, dict):
        for key, value in document.items():
            found += paths(value, (*prefix, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            found += paths(value, (*prefix, index))
    return found


@st.composite
def mutated(draw: st.DrawFn, document: Any) -> Any:
    """The document with up to three values replaced by any JSON, or their keys removed."""
    body = json.loads(json.dumps(document))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(paths(body)))
        if not path:
            return draw(JSON)
        parent = body
        for step in path[:-1]:
            parent = parent[step]
        if isinstance(parent, dict) and draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(JSON)
    return body


class OneAnswer:
    """A connection pool that answers every request with the same body."""

    def __init__(self, body: Any) -> None:
        self.data = json.dumps(body).encode()

    def request(self, method: str, url: str, **kwargs: Any) -> urllib3.HTTPResponse:
        return urllib3.HTTPResponse(body=self.data, status=200, headers={}, preload_content=True)


def client(body: Any) -> BigCommerceClient:
    return BigCommerceClient(
        api_url="https://api.example",
        store_hash="abc123",
        access_token="token",
        http=OneAnswer(body),
        budget_seconds=5.0,
        sleep=lambda _: None,
        clock=lambda: 0.0,
    )


WINDOW = Window(start=None, end=datetime(2026, 1, 1, tzinfo=UTC))
CALLS: dict[str, tuple[str, Callable[[BigCommerceClient], object]]] = {
    "order": ("orders/order_250.json", lambda api: api.get_order(250)),
    "orders page": ("orders/orders_list.json", lambda api: api.orders_page(WINDOW, after_id=0)),
    "order count": ("orders/orders_count.json", lambda api: api.count_orders(WINDOW)),
    "customer": ("customers/customer_32.json", lambda api: api.get_customer(32)),
    "customer group": ("customers/customer_group_1.json", lambda api: api.get_customer_group(1)),
    "subscriber": ("customers/subscriber_5.json", lambda api: api.get_subscriber(5)),
    "subscriber by email": ("customers/subscribers_by_email.json", lambda api: api.find_subscriber("a@b.c")),
    "checkout": ("checkouts/started_tax_inclusive.json", lambda api: api.get_checkout("c-1")),
    "store": ("store.json", lambda api: api.get_store_info()),
}


@pytest.mark.parametrize("call", sorted(CALLS))
def test_an_answer_out_of_shape_is_said_so_never_a_crash(call):
    name, read = CALLS[call]

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(body=mutated(published(name)))
    def answer(body: Any) -> None:
        with contextlib.suppress(ValidationError):
            read(client(body))

    answer()


@settings(max_examples=200, deadline=None)
@given(body=mutated(published("orders/order_250.json")))
def test_an_order_that_parses_normalizes(body):
    try:
        order = client(body).get_order(250)
        lines = order.embedded_lines() if order is not None else None
    except ValidationError:
        return
    if order is None or lines is None:
        return
    snapshot = OrderSnapshot(
        store_hash="abc123",
        order=order,
        lines=tuple(lines),
        catalog={},
        refunds=(),
        coupon_codes=(),
        observed_at=order.date_modified or order.date_created or WINDOW.end,
    )
    events = normalize_order(snapshot, profile_id="p-1", backfill=False)
    assert all(event.store_hash == "abc123" for event in events)
