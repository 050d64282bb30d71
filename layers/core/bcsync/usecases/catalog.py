"""Catalog enrichment: the items an order needs, from DynamoDB, filling gaps in one call each."""

from __future__ import annotations

from collections.abc import Iterable

from bcsync.domain.catalog import CatalogItem, catalog_item
from bcsync.usecases.ports import BigCommerceReader, CatalogRepository


class CatalogLookup:
    def __init__(self, repository: CatalogRepository) -> None:
        self._repository = repository

    def items_for(
        self, store_hash: str, product_ids: Iterable[int], reader: BigCommerceReader
    ) -> dict[int, CatalogItem]:
        """Cached items, and for the missing ones: one `id:in` products call, one categories call
        for unknown category ids, and the store's URL once per store."""
        wanted = sorted({pid for pid in product_ids if pid > 0})
        items = self._repository.get_items(store_hash, wanted)
        missing = [pid for pid in wanted if pid not in items]
        if not missing:
            return items
        products = reader.get_products(missing)
        category_ids = sorted({cid for product in products for cid in product.categories})
        names = self._repository.get_category_names(store_hash, category_ids)
        unknown = [cid for cid in category_ids if cid not in names]
        if unknown:
            fetched = {category.id: category.name for category in reader.get_categories(unknown)}
            self._repository.put_category_names(store_hash, fetched)
            names.update(fetched)
        store = self._repository.get_store_info(store_hash)
        if store is None:
            store = reader.get_store_info()
            self._repository.put_store_info(store_hash, store)
        fresh = [catalog_item(product, names, store.secure_url) for product in products]
        self._repository.put_items(store_hash, fresh)
        items.update({item.product_id: item for item in fresh})
        return items
