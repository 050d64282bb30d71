"""BigCommerce REST client: the calls bcsync makes, with the platform's rate-limit rules.

Built on urllib3, which the Lambda runtime already carries (botocore depends on it), so the cold
path loads no extra HTTP stack. Every wait (a 429's reset, 5xx backoff) is bounded by a time budget:
the webhook path has seconds before it parks the delivery instead; the retry path has longer.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import urllib3

from bcsync.domain.bigcommerce import (
    Brand,
    CatalogProduct,
    Category,
    Checkout,
    Customer,
    CustomerGroup,
    Order,
    OrderLine,
    Refund,
    StoreInfo,
    Subscriber,
)
from bcsync.usecases.ports import CredentialStore, DownstreamFault

PAGE_LIMIT = 250
SERVER_ERROR_ATTEMPTS = 4
BACKOFF_BASE_SECONDS = 0.5
# A webhook must answer within API Gateway's 30 s: budget (8 s) + one slow request stay under it.
DEFAULT_TIMEOUT = urllib3.Timeout(connect=3.05, read=10.0)


class BigCommerceUnavailable(DownstreamFault):
    """5xx, timeouts or connection failures that outlasted the retries or the budget."""


class BigCommerceRateLimited(DownstreamFault):
    """The store's quota is spent for longer than the caller's budget allows waiting."""


class BigCommerceRejected(DownstreamFault):
    """A 4xx other than 404/429 (a revoked token, a missing scope): retried later, then dead-lettered."""


@dataclass
class RateLimitState:
    """The latest X-Rate-Limit-* headers, for callers that pace themselves (backfill)."""

    window_ms: int | None = None
    reset_ms: int | None = None
    quota: int | None = None
    left: int | None = None
    requests: int = 0


class BigCommerceClient:
    def __init__(
        self,
        *,
        api_url: str,
        store_hash: str,
        access_token: str,
        http: urllib3.PoolManager,
        budget_seconds: float,
        timeout: urllib3.Timeout = DEFAULT_TIMEOUT,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._base = f"{api_url.rstrip('/')}/stores/{store_hash}"
        self._headers = {"X-Auth-Token": access_token, "Accept": "application/json"}
        self._http = http
        self._timeout = timeout
        self._sleep = sleep
        self._clock = clock
        self._deadline = clock() + budget_seconds
        self.rate_limit = RateLimitState()

    # ------------------------------------------------------------------ orders
    def get_order(self, order_id: int) -> Order | None:
        body = self._get(
            f"/v2/orders/{order_id}",
            {"include": "consignments.line_items", "consignment_structure": "object"},
        )
        return Order.model_validate(body) if body else None

    def get_order_products(self, order_id: int) -> list[OrderLine]:
        return [OrderLine.model_validate(row) for row in self._v2_pages(f"/v2/orders/{order_id}/products")]

    def get_order_coupon_codes(self, order_id: int) -> list[str]:
        rows = self._v2_pages(f"/v2/orders/{order_id}/coupons")
        return [str(row["code"]) for row in rows if row.get("code")]

    def get_order_refunds(self, order_id: int) -> list[Refund]:
        rows = self._v3_pages(f"/v3/orders/{order_id}/payment_actions/refunds", {})
        return [Refund.model_validate(row) for row in rows]

    # ------------------------------------------------------------------ catalog
    def get_products(self, product_ids: Sequence[int]) -> list[CatalogProduct]:
        products: list[CatalogProduct] = []
        for chunk in _chunks(product_ids, PAGE_LIMIT):
            params = {"id:in": ",".join(map(str, chunk)), "include": "primary_image"}
            products += [CatalogProduct.model_validate(row) for row in self._v3_pages("/v3/catalog/products", params)]
        return products

    def get_categories(self, category_ids: Sequence[int]) -> list[Category]:
        """From the category tree API; stores (or doubles) without it get the deprecated
        `/v3/catalog/categories`, which knows the same ids and names."""
        categories: list[Category] = []
        for chunk in _chunks(category_ids, PAGE_LIMIT):
            ids = ",".join(map(str, chunk))
            tree = self._get("/v3/catalog/trees/categories", {"category_id:in": ids, "limit": PAGE_LIMIT})
            if tree is None:
                rows = list(self._v3_pages("/v3/catalog/categories", {"id:in": ids}))
            else:
                rows = list(tree.get("data") or [])
                if len(rows) >= PAGE_LIMIT:
                    params = {"category_id:in": ids}
                    rows = list(self._v3_pages("/v3/catalog/trees/categories", params))
            categories += [Category.model_validate(row) for row in rows]
        return categories

    def get_brands(self, brand_ids: Sequence[int]) -> list[Brand]:
        brands: list[Brand] = []
        for chunk in _chunks(brand_ids, PAGE_LIMIT):
            rows = self._v3_pages("/v3/catalog/brands", {"id:in": ",".join(map(str, chunk))})
            brands += [Brand.model_validate(row) for row in rows]
        return brands

    def get_store_info(self) -> StoreInfo:
        return StoreInfo.model_validate(self._get("/v2/store", {}) or {})

    # ------------------------------------------------------------------ carts, customers, subscribers
    def get_checkout(self, checkout_id: str) -> Checkout | None:
        """The cart and what the shopper entered; None once the cart is converted or deleted."""
        body = self._get(f"/v3/checkouts/{quote(checkout_id, safe='')}", {})
        return Checkout.model_validate(body["data"]) if body and body.get("data") else None

    def get_customer(self, customer_id: int) -> Customer | None:
        params = {"id:in": customer_id, "include": "addresses,storecredit"}
        rows = (self._get("/v3/customers", params) or {}).get("data") or []
        return Customer.model_validate(rows[0]) if rows else None

    def get_customer_group(self, group_id: int) -> CustomerGroup | None:
        body = self._get(f"/v2/customer_groups/{group_id}", {})
        return CustomerGroup.model_validate(body) if body else None

    def get_subscriber(self, subscriber_id: int) -> Subscriber | None:
        body = self._get(f"/v3/customers/subscribers/{subscriber_id}", {})
        return Subscriber.model_validate(body["data"]) if body and body.get("data") else None

    def find_subscriber(self, email: str) -> Subscriber | None:
        rows = (self._get("/v3/customers/subscribers", {"email": email}) or {}).get("data") or []
        return Subscriber.model_validate(rows[0]) if rows else None

    # ------------------------------------------------------------------ paging
    def _v2_pages(self, path: str) -> Iterator[dict[str, Any]]:
        """v2 collections are bare arrays; 204 or a short page ends them."""
        page = 1
        while True:
            rows = self._get(path, {"page": page, "limit": PAGE_LIMIT}) or []
            yield from rows
            if len(rows) < PAGE_LIMIT:
                return
            page += 1

    def _v3_pages(self, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        page = 1
        while True:
            body = self._get(path, {**params, "page": page, "limit": PAGE_LIMIT}) or {}
            rows = body.get("data") or []
            yield from rows
            total_pages = (body.get("meta") or {}).get("pagination", {}).get("total_pages", page)
            if not rows or page >= total_pages:
                return
            page += 1

    # ------------------------------------------------------------------ transport
    def _get(self, path: str, params: dict[str, Any]) -> Any:
        """Parsed JSON; None for 404 and for 204 (BigCommerce's empty collection)."""
        url = f"{self._base}{path}"
        if params:
            url += "?" + urlencode(params, safe=":,")
        server_errors = 0
        while True:
            try:
                response = self._http.request("GET", url, headers=self._headers, timeout=self._timeout, retries=False)
            except urllib3.exceptions.HTTPError as exc:
                server_errors += 1
                self._backoff(server_errors, f"GET {path} failed: {type(exc).__name__}")
                continue
            self._note_rate_limit(response)
            status = response.status
            if status == 200:
                return json.loads(response.data or b"null")
            if status in (204, 404):
                return None
            if status == 429:
                self._wait_for_quota(response, path)
                continue
            if status >= 500:
                server_errors += 1
                self._backoff(server_errors, f"GET {path} answered {status}")
                continue
            raise BigCommerceRejected(f"GET {path} answered {status}")

    def _note_rate_limit(self, response: urllib3.BaseHTTPResponse) -> None:
        headers = response.headers
        state = self.rate_limit
        state.requests += 1
        state.window_ms = _int_header(headers, "X-Rate-Limit-Time-Window-Ms", state.window_ms)
        state.reset_ms = _int_header(headers, "X-Rate-Limit-Time-Reset-Ms", state.reset_ms)
        state.quota = _int_header(headers, "X-Rate-Limit-Requests-Quota", state.quota)
        state.left = _int_header(headers, "X-Rate-Limit-Requests-Left", state.left)

    def _wait_for_quota(self, response: urllib3.BaseHTTPResponse, path: str) -> None:
        """Wait X-Rate-Limit-Time-Reset-Ms, or X-Retry-After if longer; with neither header the
        429 means platform load, so back off like a server error."""
        reset_ms = _int_header(response.headers, "X-Rate-Limit-Time-Reset-Ms", None)
        retry_after = _int_header(response.headers, "X-Retry-After", None)
        if reset_ms is None and retry_after is None:
            self._backoff(1, f"GET {path} answered 429 without rate-limit headers")
            return
        wait = max((reset_ms or 0) / 1000, float(retry_after or 0))
        if wait > self._remaining():
            raise BigCommerceRateLimited(f"GET {path}: quota resets in {wait:.1f}s, beyond the time budget")
        self._sleep(wait)

    def _backoff(self, attempt: int, reason: str) -> None:
        wait = BACKOFF_BASE_SECONDS * 2 ** (attempt - 1)
        if attempt >= SERVER_ERROR_ATTEMPTS or wait > self._remaining():
            raise BigCommerceUnavailable(f"{reason} (after {attempt} attempts)")
        self._sleep(wait)

    def _remaining(self) -> float:
        return self._deadline - self._clock()


def _int_header(headers: Any, name: str, default: int | None) -> int | None:
    value = headers.get(name)
    try:
        return int(float(value)) if value is not None else default
    except ValueError:
        return default


def _chunks(values: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


class BigCommerceConnector:
    """Hands out per-store clients sharing one connection pool."""

    def __init__(self, api_url: str, credentials: CredentialStore) -> None:
        self._api_url = api_url
        self._credentials = credentials
        self._http = urllib3.PoolManager(maxsize=4)

    def reader(self, store_hash: str, *, budget_seconds: float) -> BigCommerceClient:
        return BigCommerceClient(
            api_url=self._api_url,
            store_hash=store_hash,
            access_token=self._credentials.credentials(store_hash).access_token,
            http=self._http,
            budget_seconds=budget_seconds,
        )
