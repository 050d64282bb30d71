"""Each store's timezone: the days its counters keep and its flows' "until 09:00" waits use."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, tzinfo

from bcsync.usecases.ports import CatalogRepository

# A store not recorded yet is asked again after this long, not on every event (an import's rows).
UNRECORDED_SECONDS = 60.0


class StoreZones:
    """Read once per process from the store record the catalog keeps (`GET /v2/store`, cached
    with the first product looked up); a store not recorded yet is UTC until it is."""

    def __init__(self, catalog: CatalogRepository, clock: Callable[[], float] = time.monotonic) -> None:
        self._catalog = catalog
        self._clock = clock
        self._known: dict[str, tzinfo] = {}
        self._unrecorded: dict[str, float] = {}

    def __call__(self, store_hash: str) -> tzinfo:
        if store_hash in self._known:
            return self._known[store_hash]
        if self._clock() - self._unrecorded.get(store_hash, float("-inf")) < UNRECORDED_SECONDS:
            return UTC
        info = self._catalog.get_store_info(store_hash)
        if info is None:
            self._unrecorded[store_hash] = self._clock()
            return UTC
        self._known[store_hash] = info.zone()
        return self._known[store_hash]
