"""The sandbox store's state, and what every endpoint shares: the access token, the rate limit
and the faults a test injects."""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bcsync_ops.sandbox.shapes import Product


@dataclass
class Quota:
    """BigCommerce's rate limit: `limit` requests per fixed window, shared by every client."""

    limit: int
    window_seconds: float
    # The clients' clock: a test that lets them sleep in virtual time lets the windows pass in it.
    clock: Callable[[], float] = time.monotonic
    started: float = -1.0
    used: int = 0
    window_index: int = 0
    served_at: list[float] = field(default_factory=list)
    rejected: int = 0

    def __post_init__(self) -> None:
        self.started = self.clock()

    def take(self) -> tuple[bool, dict[str, str]]:
        elapsed = self.clock() - self.started
        index = int(elapsed // self.window_seconds)
        if index != self.window_index:
            self.window_index, self.used = index, 0
        reset_ms = max(1, int(((index + 1) * self.window_seconds - elapsed) * 1000))
        allowed = self.used < self.limit
        if allowed:
            self.used += 1
            self.served_at.append(elapsed)
        else:
            self.rejected += 1
        return allowed, {
            "X-Rate-Limit-Time-Window-Ms": str(int(self.window_seconds * 1000)),
            "X-Rate-Limit-Time-Reset-Ms": str(reset_ms),
            "X-Rate-Limit-Requests-Quota": str(self.limit),
            "X-Rate-Limit-Requests-Left": str(self.limit - self.used),
        }


STATIC_RATE_HEADERS = {
    "X-Rate-Limit-Time-Window-Ms": "30000",
    "X-Rate-Limit-Time-Reset-Ms": "15000",
    "X-Rate-Limit-Requests-Quota": "150",
    "X-Rate-Limit-Requests-Left": "149",
}


@dataclass
class Fault:
    path_pattern: str
    status: int
    headers: dict[str, str]
    remaining: int


class StoreState:
    """In-memory store state; the demo and tests mutate it, then send webhooks about it."""

    def __init__(self, store_hash: str, access_token: str, *, tax_rate: Decimal = Decimal("0.1")) -> None:
        self.store_hash = store_hash
        self.access_token = access_token
        self.tax_rate = tax_rate
        self.secure_url = f"https://{store_hash}.example.com"
        self.categories: dict[int, str] = {}
        self.products: dict[int, Product] = {}
        self.orders: dict[int, dict[str, Any]] = {}
        self.order_lines: dict[int, list[dict[str, Any]]] = {}
        self.refunds: dict[int, list[dict[str, Any]]] = {}
        self.checkouts: dict[str, dict[str, Any]] = {}
        self.customers: dict[int, dict[str, Any]] = {}
        self.customer_groups: dict[int, str] = {}
        self.subscribers: dict[int, dict[str, Any]] = {}
        self.hooks: dict[int, dict[str, Any]] = {}
        self.scripts: dict[str, dict[str, Any]] = {}
        # Carts made with `POST /v3/carts`: only these get redirect URLs.
        self.api_carts: set[str] = set()
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)  # what stamps hooks
        self.requests: list[str] = []
        self.quota: Quota | None = None
        self._faults: deque[Fault] = deque()
        self._lock = threading.Lock()
        self._next_line_id = 1
        self._next_refund_id = 1

    def enforce_quota(self, limit: int, window_seconds: float, clock: Callable[[], float] = time.monotonic) -> Quota:
        """From now on answer 429 beyond `limit` requests per window, with honest headers."""
        self.quota = Quota(limit, window_seconds, clock)
        return self.quota

    def fail_next(
        self, path_pattern: str, status: int, *, times: int = 1, headers: dict[str, str] | None = None
    ) -> None:
        """The next `times` requests whose path matches answer `status` (429, 500, ...)."""
        self._faults.append(Fault(path_pattern, status, headers or {}, times))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if re.search(fault.path_pattern, path):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None
