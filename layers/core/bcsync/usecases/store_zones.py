"""Each store's timezone: the days its counters keep and its flows' "until 09:00" waits use."""

from __future__ import annotations

from datetime import UTC, tzinfo

from bcsync.usecases.ports import CatalogRepository


class StoreZones:
    """Read once per process from the store record the catalog keeps (`GET /v2/store`, cached
    with the first product looked up); a store not recorded yet is UTC until it is."""

    def __init__(self, catalog: CatalogRepository) -> None:
        self._catalog = catalog
        self._known: dict[str, tzinfo] = {}

    def __call__(self, store_hash: str) -> tzinfo:
        if store_hash not in self._known:
            info = self._catalog.get_store_info(store_hash)
            if info is None:
                return UTC
            self._known[store_hash] = info.zone()
        return self._known[store_hash]
