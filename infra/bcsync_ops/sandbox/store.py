"""The sandbox store: every resource, behind one `answer`."""

from __future__ import annotations

from typing import Any

from bcsync_ops.sandbox.carts import CartsApi
from bcsync_ops.sandbox.collections import CollectionsApi
from bcsync_ops.sandbox.hooks import HooksApi
from bcsync_ops.sandbox.shapes import Answer
from bcsync_ops.sandbox.state import STATIC_RATE_HEADERS


class SandboxStore(CollectionsApi, CartsApi, HooksApi):
    """The whole fake store: checks the token, counts the quota, injects faults, routes a request
    to the resource that serves it."""

    def answer(
        self, path: str, query: dict[str, str], token: str | None, *, method: str = "GET", body: Any = None
    ) -> Answer:
        """The status, JSON body and headers BigCommerce would answer (rate-limit headers included)."""
        self.requests.append(path)
        rate_headers = STATIC_RATE_HEADERS
        if self.quota is not None:
            with self._lock:
                allowed, rate_headers = self.quota.take()
            if not allowed:
                return 429, {"status": 429, "title": "Too many requests"}, rate_headers
        status, payload, headers = self._answer(method, path, query, token, body)
        return status, payload, {**rate_headers, **headers}

    def _answer(self, method: str, path: str, query: dict[str, str], token: str | None, body: Any) -> Answer:
        fault = self._take_fault(path)
        if fault:
            return fault.status, {"title": "injected fault"}, fault.headers
        if token != self.access_token:
            return 401, {"status": 401, "title": "Unauthorized"}, {}
        prefix = f"/stores/{self.store_hash}"
        if not path.startswith(prefix):
            return 404, {"title": "store not found"}, {}
        writes = self._hooks_api(method, path.removeprefix(prefix), query, body)
        writes = writes or self._carts_api(method, path.removeprefix(prefix), body)
        writes = writes or self._scripts_api(method, path.removeprefix(prefix), query, body)
        if writes is not None or method != "GET":
            return writes or (405, {"title": f"{method} is not served here"}, {})
        return self._route(path.removeprefix(prefix), query)

    def _route(self, path: str, query: dict[str, str]) -> Answer:
        for api in (
            self._collections_api,
            self._orders_api,
            self._catalog_api,
            self._customers_api,
            self._checkouts_api,
        ):
            answer = api(path, query)
            if answer is not None:
                return answer
        return 404, {"title": f"no such endpoint {path}"}, {}
