"""The catalog cache: items that order and cart enrichment read, kept current by catalog webhooks.

Enrichment fills gaps (one `id:in` products call for unknown products); catalog webhooks refresh
what changed and remove what was deleted. Category, brand and store URL lookups are cached too,
so a refresh usually costs one call.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence

from bcsync.domain.bigcommerce import CatalogProduct
from bcsync.domain.catalog import CatalogItem, catalog_item
from bcsync.domain.webhooks import CatalogWebhookData, WebhookEnvelope
from bcsync.observability import metrics
from bcsync.usecases.ingest import DeliveryContext, Work, webhook_data
from bcsync.usecases.ports import BigCommerceConnector, BigCommerceReader, CatalogRepository, NameKind

# A product BigCommerce no longer has is not asked for again this soon (a page of old orders
# naming a deleted product would otherwise cost one call per order).
ABSENT_PRODUCT_SECONDS = 600.0


class CatalogLookup:
    def __init__(self, repository: CatalogRepository, clock: Callable[[], float] = time.monotonic) -> None:
        self._repository = repository
        self._clock = clock
        self._absent: dict[tuple[str, int], float] = {}

    def items_for(
        self,
        store_hash: str,
        product_ids: Iterable[int],
        reader: BigCommerceReader,
        *,
        cached: Mapping[int, CatalogItem] | None = None,
    ) -> dict[int, CatalogItem]:
        """Cached items (`cached` when the caller read them already), fetching only the missing."""
        wanted = sorted({pid for pid in product_ids if pid > 0})
        items = dict(cached) if cached is not None else self._repository.get_items(store_hash, wanted)
        now = self._clock()
        missing = [pid for pid in wanted if pid not in items and self._absent.get((store_hash, pid), 0) <= now]
        if missing:
            fetched = {item.product_id: item for item in self._fetch(store_hash, missing, reader)}
            items.update(fetched)
            for pid in set(missing) - fetched.keys():
                self._absent[(store_hash, pid)] = now + ABSENT_PRODUCT_SECONDS
        return items

    def refresh(
        self, store_hash: str, product_ids: Sequence[int], reader: BigCommerceReader, *, names_changed: bool
    ) -> tuple[list[CatalogItem], list[int]]:
        """Re-read the products: store what exists, delete what BigCommerce no longer has.
        `names_changed` re-reads category and brand names too (a product edit may move it)."""
        wanted = sorted({pid for pid in product_ids if pid > 0})
        fresh = self._fetch(store_hash, wanted, reader, refresh_names=names_changed)
        gone = sorted(set(wanted) - {item.product_id for item in fresh})
        if gone:
            self._repository.delete_items(store_hash, gone)
        metrics.add_metric(name="CatalogItemsRefreshed", unit="Count", value=len(fresh))
        metrics.add_metric(name="CatalogItemsRemoved", unit="Count", value=len(gone))
        return fresh, gone

    def store_products(
        self, store_hash: str, products: Sequence[CatalogProduct], reader: BigCommerceReader
    ) -> list[CatalogItem]:
        """Products already read (a page of them): build and cache their items."""
        return self._build(store_hash, products, reader, refresh_names=False)

    def _fetch(
        self, store_hash: str, product_ids: Sequence[int], reader: BigCommerceReader, *, refresh_names: bool = False
    ) -> list[CatalogItem]:
        if not product_ids:
            return []
        return self._build(store_hash, reader.get_products(product_ids), reader, refresh_names=refresh_names)

    def _build(
        self, store_hash: str, products: Sequence[CatalogProduct], reader: BigCommerceReader, *, refresh_names: bool
    ) -> list[CatalogItem]:
        categories = self._names(
            store_hash, "category", {c for p in products for c in p.categories}, reader, refresh_names
        )
        brands = self._names(store_hash, "brand", {p.brand_id for p in products if p.brand_id}, reader, refresh_names)
        store = self._repository.get_store_info(store_hash)
        if store is None:
            store = reader.get_store_info()
            self._repository.put_store_info(store_hash, store)
        fresh = [catalog_item(product, categories, store.secure_url, brands) for product in products]
        self._repository.put_items(store_hash, fresh)
        return fresh

    def _names(
        self,
        store_hash: str,
        kind: NameKind,
        ids: set[int],
        reader: BigCommerceReader,
        refresh: bool,
    ) -> dict[int, str]:
        wanted = sorted(ids)
        known = {} if refresh else self._repository.get_names(store_hash, kind, wanted)
        unknown = [i for i in wanted if i not in known]
        if unknown:
            rows = reader.get_categories(unknown) if kind == "category" else reader.get_brands(unknown)
            fetched = {row.id: row.name for row in rows}
            self._repository.put_names(store_hash, kind, fetched)
            known.update(fetched)
        return known


class CatalogDeliveries:
    """store/product/* and store/sku/* deliveries: refresh the product they name."""

    def __init__(self, catalog: CatalogLookup, connector: BigCommerceConnector) -> None:
        self._catalog = catalog
        self._connector = connector

    def prepare(self, envelope: WebhookEnvelope, context: DeliveryContext) -> Work:
        data = webhook_data(CatalogWebhookData, envelope, types=("product", "sku"))
        # Inventory scopes fire on every order: they reuse cached category and brand names.
        names_changed = envelope.scope in NAME_CHANGING_SCOPES

        def work(budget_seconds: float) -> dict[str, object]:
            reader = self._connector.reader(envelope.store_hash, budget_seconds=budget_seconds)
            fresh, gone = self._catalog.refresh(
                envelope.store_hash, [data.product_id], reader, names_changed=names_changed
            )
            status = "removed" if gone else "refreshed"
            return {"product_id": data.product_id, "status": status, "items": len(fresh)}

        return work


NAME_CHANGING_SCOPES = frozenset({"store/product/created", "store/product/updated"})
