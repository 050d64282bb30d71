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
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

import urllib3
from pydantic import ConfigDict, TypeAdapter

from bcsync.domain.bigcommerce import (
    BcModel,
    Brand,
    CartRedirectUrls,
    CatalogProduct,
    Category,
    Checkout,
    CreatedCart,
    Customer,
    CustomerGroup,
    Hook,
    Order,
    OrderCount,
    OrderLine,
    Refund,
    StorefrontScript,
    StoreInfo,
    Subscriber,
)
from bcsync.usecases.ports import CredentialStore, DownstreamFault, Page

if TYPE_CHECKING:
    from bcsync.domain.sync import Window

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


# The envelopes around BigCommerce's records, so an answer of another shape (a list where an
# object belongs, `meta` as a string) fails as a ValidationError naming where, like a record does.
class _Pagination(BcModel):
    total: int | None = None
    total_pages: int | None = None


class _Meta(BcModel):
    pagination: _Pagination | None = None


class _V3Record(BcModel):
    """`{"data": {...}}`: one record (absent or null when there is none)."""

    data: dict[str, Any] | None = None


class _V3List(BcModel):
    """`{"data": [...], "meta": {"pagination": ...}}`: a page of a collection."""

    data: list[dict[str, Any]] | None = None
    meta: _Meta | None = None

    @property
    def rows(self) -> list[dict[str, Any]]:
        return self.data or []

    @property
    def pagination(self) -> _Pagination:
        return (self.meta.pagination if self.meta else None) or _Pagination()


# A v2 collection: a bare array of records (or nothing: 204).
_V2_LIST: TypeAdapter[list[dict[str, Any]] | None] = TypeAdapter(
    list[dict[str, Any]] | None, config=ConfigDict(hide_input_in_errors=True)
)


def _v3_record(answer: Any) -> dict[str, Any] | None:
    return _V3Record.model_validate(answer or {}).data


def _v3_list(answer: Any) -> _V3List:
    return _V3List.model_validate(answer or {})


def _v2_list(answer: Any) -> list[dict[str, Any]]:
    return _V2_LIST.validate_python(answer) or []


@dataclass
class RateLimitState:
    """The latest X-Rate-Limit-* headers, for callers that pace themselves (backfill)."""

    window_ms: int | None = None
    reset_ms: int | None = None
    quota: int | None = None
    left: int | None = None
    requests: int = 0


class QuotaPacer:
    """Keeps one client within `share` of the store's quota, which every app on the store shares.

    Each response says how many requests the window allows and how long until it resets; once
    this client has made its share in the current window it sleeps until the reset. Spending the
    share at once and then waiting keeps throughput at the share (the windows are fixed).
    """

    def __init__(self, share: float, clock: Callable[[], float], sleep: Callable[[float], None]) -> None:
        if not 0 < share <= 1:
            raise ValueError("the quota share must be in (0, 1]")
        self.share = share
        self._clock = clock
        self._sleep = sleep
        self._window_ends_at: float | None = None
        self._used = 0
        self._allowance: int | None = None

    def before_request(self) -> None:
        if self._allowance is None or self._window_ends_at is None or self._used < self._allowance:
            return
        wait = self._window_ends_at - self._clock()
        if wait > 0:
            self._sleep(wait)
        self._used = 0
        self._window_ends_at = None

    def after_response(self, state: RateLimitState, *, fresh: bool) -> None:
        """`fresh`: the response carried the headers (an unlimited plan sends none)."""
        if not fresh or state.quota is None or state.reset_ms is None:
            self._allowance = None
            return
        # Late by the response's latency, never early (the header is whole milliseconds, rounded down).
        ends_at = self._clock() + (state.reset_ms + 1) / 1000
        half_window = (state.window_ms or 30_000) / 2000
        if self._window_ends_at is None or ends_at > self._window_ends_at + half_window:
            self._window_ends_at, self._used = ends_at, 0  # a new window: its end is a window later
        else:
            # The same window; a less delayed response dates its end more exactly.
            self._window_ends_at = min(self._window_ends_at, ends_at)
        self._used += 1
        self._allowance = max(1, int(state.quota * self.share))


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
        quota_share: float | None = None,
    ) -> None:
        self._base = f"{api_url.rstrip('/')}/stores/{store_hash}"
        self._headers = {"X-Auth-Token": access_token, "Accept": "application/json"}
        self._http = http
        self._timeout = timeout
        self._sleep = sleep
        self._clock = clock
        self._deadline = clock() + budget_seconds
        self.rate_limit = RateLimitState()
        self._pacer = QuotaPacer(quota_share, clock, sleep) if quota_share else None

    @property
    def requests_made(self) -> int:
        return self.rate_limit.requests

    @property
    def page_size(self) -> int:
        """Rows per collection page; a shorter page is the last."""
        return PAGE_LIMIT

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
                rows = _v3_list(tree).rows
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
        data = _v3_record(self._get(f"/v3/checkouts/{quote(checkout_id, safe='')}", {}))
        return Checkout.model_validate(data) if data else None

    def get_customer(self, customer_id: int) -> Customer | None:
        params = {"id:in": customer_id, "include": "addresses,storecredit"}
        rows = _v3_list(self._get("/v3/customers", params)).rows
        return Customer.model_validate(rows[0]) if rows else None

    def get_customer_group(self, group_id: int) -> CustomerGroup | None:
        body = self._get(f"/v2/customer_groups/{group_id}", {})
        return CustomerGroup.model_validate(body) if body else None

    def get_subscriber(self, subscriber_id: int) -> Subscriber | None:
        data = _v3_record(self._get(f"/v3/customers/subscribers/{subscriber_id}", {}))
        return Subscriber.model_validate(data) if data else None

    def find_subscriber(self, email: str) -> Subscriber | None:
        rows = _v3_list(self._get("/v3/customers/subscribers", {"email": email})).rows
        return Subscriber.model_validate(rows[0]) if rows else None

    # ------------------------------------------------------------------ polling: reconcile and backfill
    def orders_page(self, window: Window, *, after_id: int, with_lines: bool = True) -> list[Order]:
        """Up to 250 orders of the window with ids above `after_id`, ascending, line items
        embedded. Keyset paging by id: an order modified meanwhile leaves the window instead of
        shifting the pages, so none is skipped."""
        params: dict[str, Any] = {**_v2_window(window), "min_id": after_id + 1, "sort": "id:asc", "limit": PAGE_LIMIT}
        if with_lines:
            params |= {"include": "consignments.line_items", "consignment_structure": "object"}
        return [Order.model_validate(row) for row in _v2_list(self._get("/v2/orders", params))]

    def count_orders(self, window: Window) -> OrderCount:
        return OrderCount.model_validate(self._get("/v2/orders/count", _v2_window(window)) or {})

    def refunds_page(self, window: Window, *, page: int) -> Page[Refund]:
        params = {**_v3_window(window, "created"), "page": page, "limit": PAGE_LIMIT}
        return self._v3_page("/v3/orders/payment_actions/refunds", params, Refund)

    def customers_page(self, window: Window, *, page: int) -> Page[Customer]:
        params = {
            **_v3_window(window, f"date_{window.field}"),
            "include": "addresses,storecredit",
            "sort": "date_modified:asc",
            "page": page,
            "limit": PAGE_LIMIT,
        }
        return self._v3_page("/v3/customers", params, Customer)

    def subscribers_page(self, window: Window, *, page: int) -> Page[Subscriber]:
        params = {**_v3_window(window, f"date_{window.field}"), "page": page, "limit": PAGE_LIMIT}
        return self._v3_page("/v3/customers/subscribers", params, Subscriber)

    def products_page(self, window: Window, *, page: int) -> Page[CatalogProduct]:
        params = {
            **(_v3_window(window, "date_modified") if window.field == "modified" else {}),
            "include": "primary_image",
            "sort": "date_modified",
            "direction": "asc",
            "page": page,
            "limit": PAGE_LIMIT,
        }
        return self._v3_page("/v3/catalog/products", params, CatalogProduct)

    # ------------------------------------------------------------------ webhooks (/v3/hooks)
    def list_hooks(self) -> list[Hook]:
        return [Hook.model_validate(row) for row in self._v3_pages("/v3/hooks", {})]

    def create_hook(self, scope: str, destination: str, headers: dict[str, str] | None) -> Hook:
        body = {"scope": scope, "destination": destination, "is_active": True, "headers": headers}
        return Hook.model_validate(_v3_record(self._send("POST", "/v3/hooks", body)))

    def activate_hook(self, hook_id: int, headers: dict[str, str] | None) -> Hook:
        body: dict[str, Any] = {"is_active": True}
        if headers:
            body["headers"] = headers
        return Hook.model_validate(_v3_record(self._send("PUT", f"/v3/hooks/{hook_id}", body)))

    # ------------------------------------------------------------------ carts (/v3/carts)
    def create_cart(self, body: dict[str, Any]) -> CreatedCart:
        return CreatedCart.model_validate(_v3_record(self._send("POST", "/v3/carts", body)))

    def create_cart_redirect(self, cart_id: str) -> CartRedirectUrls:
        answer = self._send("POST", f"/v3/carts/{quote(cart_id, safe='')}/redirect_urls", {})
        return CartRedirectUrls.model_validate(_v3_record(answer))

    # ------------------------------------------------------------------ storefront scripts
    def list_scripts(self) -> list[StorefrontScript]:
        return [StorefrontScript.model_validate(row) for row in self._v3_pages("/v3/content/scripts", {})]

    def create_script(self, body: dict[str, Any]) -> StorefrontScript:
        return StorefrontScript.model_validate(_v3_record(self._send("POST", "/v3/content/scripts", body)))

    def update_script(self, uuid: str, body: dict[str, Any]) -> StorefrontScript:
        answer = self._send("PUT", f"/v3/content/scripts/{quote(uuid, safe='')}", body)
        return StorefrontScript.model_validate(_v3_record(answer))

    # ------------------------------------------------------------------ paging
    def _v3_page(self, path: str, params: dict[str, Any], model: type[Any]) -> Page[Any]:
        answer = _v3_list(self._get(path, params))
        rows = [model.model_validate(row) for row in answer.rows]
        return Page(rows=rows, total=answer.pagination.total, total_pages=answer.pagination.total_pages)

    def _v2_pages(self, path: str) -> Iterator[dict[str, Any]]:
        """v2 collections are bare arrays; 204 or a short page ends them."""
        page = 1
        while True:
            rows = _v2_list(self._get(path, {"page": page, "limit": PAGE_LIMIT}))
            yield from rows
            if len(rows) < PAGE_LIMIT:
                return
            page += 1

    def _v3_pages(self, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """v3 collections page by `meta.pagination`; those without it (refunds answer `meta: {}`)
        end at a short page."""
        page = 1
        while True:
            answer = _v3_list(self._get(path, {**params, "page": page, "limit": PAGE_LIMIT}))
            rows = answer.rows
            yield from rows
            total_pages = answer.pagination.total_pages
            last = page >= total_pages if total_pages is not None else len(rows) < PAGE_LIMIT
            if not rows or last:
                return
            page += 1

    # ------------------------------------------------------------------ transport
    def _get(self, path: str, params: dict[str, Any]) -> Any:
        """Parsed JSON; None for 404 and for 204 (BigCommerce's empty collection)."""
        url = f"{self._base}{path}"
        if params:
            url += "?" + urlencode(params, safe=":,")
        return self._request("GET", url, path, None)

    def _send(self, method: str, path: str, body: dict[str, Any]) -> Any:
        answer = self._request(method, f"{self._base}{path}", path, json.dumps(body).encode())
        if answer is None:
            raise BigCommerceRejected(f"{method} {path} found nothing to change")
        return answer

    def _request(self, method: str, url: str, path: str, body: bytes | None) -> Any:
        headers = self._headers if body is None else {**self._headers, "Content-Type": "application/json"}
        server_errors = 0
        while True:
            if self._pacer:
                self._pacer.before_request()
            try:
                response = self._http.request(
                    method, url, body=body, headers=headers, timeout=self._timeout, retries=False
                )
            except urllib3.exceptions.HTTPError as exc:
                server_errors += 1
                self._backoff(server_errors, f"{method} {path} failed: {type(exc).__name__}")
                continue
            self._note_rate_limit(response)
            status = response.status
            if status in (200, 201):
                return json.loads(response.data or b"null")
            if status in (204, 404):
                return None
            if status == 429:
                self._wait_for_quota(response, path)
                continue
            if status >= 500:
                server_errors += 1
                self._backoff(server_errors, f"{method} {path} answered {status}")
                continue
            raise BigCommerceRejected(f"{method} {path} answered {status}")

    def _note_rate_limit(self, response: urllib3.BaseHTTPResponse) -> None:
        headers = response.headers
        state = self.rate_limit
        state.requests += 1
        fresh = headers.get("X-Rate-Limit-Requests-Quota") is not None
        state.window_ms = _int_header(headers, "X-Rate-Limit-Time-Window-Ms", state.window_ms)
        state.reset_ms = _int_header(headers, "X-Rate-Limit-Time-Reset-Ms", state.reset_ms)
        state.quota = _int_header(headers, "X-Rate-Limit-Requests-Quota", state.quota)
        state.left = _int_header(headers, "X-Rate-Limit-Requests-Left", state.left)
        if self._pacer:
            self._pacer.after_response(state, fresh=fresh)

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


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _v2_window(window: Window) -> dict[str, str]:
    params = {f"max_date_{window.field}": _iso(window.end)}
    if window.start:
        params[f"min_date_{window.field}"] = _iso(window.start)
    return params


def _v3_window(window: Window, name: str) -> dict[str, str]:
    params = {f"{name}:max": _iso(window.end)}
    if window.start:
        params[f"{name}:min"] = _iso(window.start)
    return params


def _chunks(values: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


class BigCommerceConnector:
    """Hands out per-store clients sharing one connection pool."""

    def __init__(
        self,
        api_url: str,
        credentials: CredentialStore,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._api_url = api_url
        self._credentials = credentials
        self._http = urllib3.PoolManager(maxsize=4)
        self._clock = clock
        self._sleep = sleep

    def reader(self, store_hash: str, *, budget_seconds: float, quota_share: float | None = None) -> BigCommerceClient:
        """`quota_share` paces background work (reconcile, backfill) to that share of the quota."""
        return BigCommerceClient(
            api_url=self._api_url,
            store_hash=store_hash,
            access_token=self._credentials.credentials(store_hash).access_token,
            http=self._http,
            budget_seconds=budget_seconds,
            quota_share=quota_share,
            clock=self._clock,
            sleep=self._sleep,
        )
