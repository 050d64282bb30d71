"""The client's rate-limit and fault rules, against a scripted connection pool (no sockets)."""

import json
from collections import deque

import pytest
import urllib3

from bcsync.adapters.bigcommerce import (
    BigCommerceClient,
    BigCommerceRateLimited,
    BigCommerceRejected,
    BigCommerceUnavailable,
)


class ScriptedPool:
    def __init__(self, *responses):
        self.responses = deque(responses)
        self.urls = []

    def request(self, method, url, **kwargs):
        self.urls.append(url)
        assert kwargs["headers"]["X-Auth-Token"] == "token"
        answer = self.responses.popleft()
        if isinstance(answer, Exception):
            raise answer
        status, body, headers = answer
        data = b"" if body is None else json.dumps(body).encode()
        return urllib3.HTTPResponse(body=data, status=status, headers=headers, preload_content=True)


class Clock:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def client(pool, budget=10.0):
    clock = Clock()
    api = BigCommerceClient(
        api_url="https://api.example",
        store_hash="abc123",
        access_token="token",
        http=pool,
        budget_seconds=budget,
        sleep=clock.sleep,
        clock=lambda: clock.now,
    )
    return api, clock


ORDER = {"id": 7, "status_id": 11, "date_created": "Tue, 05 Mar 2019 21:40:11 +0000"}


def test_order_is_read_with_embedded_line_items_in_one_call():
    pool = ScriptedPool((200, ORDER, {}))
    api, _ = client(pool)
    assert api.get_order(7).id == 7
    assert pool.urls == [
        "https://api.example/stores/abc123/v2/orders/7?include=consignments.line_items&consignment_structure=object"
    ]


def test_429_waits_the_reset_time_then_retries():
    pool = ScriptedPool((429, {}, {"X-Rate-Limit-Time-Reset-Ms": "2500"}), (200, ORDER, {}))
    api, clock = client(pool)
    assert api.get_order(7).id == 7
    assert clock.sleeps == [2.5]


def test_429_honours_the_longer_of_reset_and_retry_after():
    pool = ScriptedPool((429, {}, {"X-Rate-Limit-Time-Reset-Ms": "1000", "X-Retry-After": "3"}), (200, ORDER, {}))
    api, clock = client(pool)
    api.get_order(7)
    assert clock.sleeps == [3.0]


def test_429_beyond_the_budget_raises_instead_of_waiting():
    pool = ScriptedPool((429, {}, {"X-Rate-Limit-Time-Reset-Ms": "29000"}))
    api, clock = client(pool, budget=8)
    with pytest.raises(BigCommerceRateLimited):
        api.get_order(7)
    assert clock.sleeps == []


def test_5xx_backs_off_boundedly_then_succeeds():
    pool = ScriptedPool((502, None, {}), (503, None, {}), (200, ORDER, {}))
    api, clock = client(pool)
    assert api.get_order(7).id == 7
    assert clock.sleeps == [0.5, 1.0]


def test_persistent_5xx_raises_unavailable():
    pool = ScriptedPool(*[(500, None, {})] * 10)
    api, _ = client(pool, budget=60)
    with pytest.raises(BigCommerceUnavailable):
        api.get_order(7)
    assert len(pool.urls) == 4


def test_timeouts_are_retried_then_raise_unavailable():
    pool = ScriptedPool(*[urllib3.exceptions.ReadTimeoutError(None, "u", "timed out")] * 4)
    api, _ = client(pool, budget=60)
    with pytest.raises(BigCommerceUnavailable):
        api.get_order(7)


def test_404_is_none_and_other_4xx_is_a_fault_to_retry_later():
    api, _ = client(ScriptedPool((404, [{"status": 404}], {})))
    assert api.get_order(7) is None
    api, _ = client(ScriptedPool((401, {"title": "Unauthorized"}, {})))
    with pytest.raises(BigCommerceRejected):
        api.get_order(7)


def test_204_is_an_empty_v2_page():
    api, _ = client(ScriptedPool((204, None, {})))
    assert api.get_order_products(7) == []


def test_order_products_page_through_250_at_a_time():
    full = [{"id": n, "quantity": 1} for n in range(250)]
    pool = ScriptedPool((200, full, {}), (200, [{"id": 999, "quantity": 1}], {}))
    api, _ = client(pool)
    assert len(api.get_order_products(7)) == 251
    assert "page=2&limit=250" in pool.urls[1]


def test_products_are_fetched_in_one_id_in_call():
    pool = ScriptedPool((200, {"data": [{"id": 1}, {"id": 2}], "meta": {"pagination": {"total_pages": 1}}}, {}))
    api, _ = client(pool)
    assert [p.id for p in api.get_products([1, 2])] == [1, 2]
    assert pool.urls == [
        "https://api.example/stores/abc123/v3/catalog/products?id:in=1,2&include=primary_image&page=1&limit=250"
    ]


def test_rate_limit_headers_are_remembered():
    headers = {
        "X-Rate-Limit-Requests-Left": "42",
        "X-Rate-Limit-Requests-Quota": "150",
        "X-Rate-Limit-Time-Window-Ms": "30000",
    }
    api, _ = client(ScriptedPool((200, ORDER, headers)))
    api.get_order(7)
    assert (api.rate_limit.left, api.rate_limit.quota, api.rate_limit.requests) == (42, 150, 1)


def test_categories_come_from_the_tree_in_one_call():
    pool = ScriptedPool((200, {"data": [{"category_id": 5, "name": "Mugs"}], "meta": {}}, {}))
    api, _ = client(pool)
    assert [(c.id, c.name) for c in api.get_categories([5])] == [(5, "Mugs")]
    assert len(pool.urls) == 1


def test_categories_fall_back_to_the_legacy_endpoint_when_the_tree_is_missing():
    pool = ScriptedPool((404, {"title": "not found"}, {}), (200, {"data": [{"id": 5, "name": "Mugs"}], "meta": {}}, {}))
    api, _ = client(pool)
    assert [(c.id, c.name) for c in api.get_categories([5])] == [(5, "Mugs")]
    assert "/v3/catalog/categories?id:in=5" in pool.urls[1]
