"""The sandbox's catalog and store profile."""

from __future__ import annotations

from typing import Any

from bcsync_ops.sandbox.paging import v3_page
from bcsync_ops.sandbox.shapes import Answer, Product, iso, whole_second
from bcsync_ops.sandbox.state import StoreState


class CatalogApi(StoreState):
    """Products, categories, brands and the store's profile: `/v3/catalog/*`, `/v2/store`."""

    def add_category(self, category_id: int, name: str) -> None:
        self.categories[category_id] = name

    def add_product(self, product: Product) -> Product:
        product.path = product.path or f"/{product.name.lower().replace(' ', '-')}/"
        self.products[product.id] = product
        return product

    def update_product(self, product_id: int, **changes: Any) -> Product:
        product = self.products[product_id]
        changes.setdefault("modified", whole_second())
        for name, value in changes.items():
            setattr(product, name, value)
        return product

    def delete_product(self, product_id: int) -> None:
        self.products.pop(product_id, None)

    def take_stock(self, product_id: int, quantity: int, *, variant: bool = False) -> tuple[str, dict[str, Any]]:
        """An order took `quantity` from stock; returns the scope and `data` BigCommerce's hook
        carries: `inventory{product_id, method, value}` (the change), the SKU's id when the
        product tracks inventory by variant."""
        product = self.update_product(product_id, inventory_level=self.products[product_id].inventory_level - quantity)
        inventory: dict[str, Any] = {"product_id": product.id, "method": "relative", "value": -quantity}
        if variant:
            inventory["variant_id"] = product.id * 10
            return "store/sku/inventory/order/updated", {"type": "sku", "id": product.id * 100, "inventory": inventory}
        return "store/product/inventory/order/updated", {"type": "product", "id": product.id, "inventory": inventory}

    def brand_id(self, name: str) -> int:
        """Brands get ids in order of first appearance, as a store's brand list would have them."""
        names = list(dict.fromkeys(product.brand for product in self.products.values()))
        return names.index(name) + 1 if name in names else 0

    def _catalog_api(self, path: str, query: dict[str, str]) -> Answer | None:
        ids = {int(value) for key in ("id:in", "category_id:in") for value in query.get(key, "").split(",") if value}
        if path == "/v3/catalog/products":
            rows = [self._product_row(p, query) for p in self.products.values() if p.id in ids]
            return 200, v3_page(rows, query), {}
        if path == "/v3/catalog/trees/categories":
            rows = [self._category_row(cid, name) for cid, name in self.categories.items() if cid in ids]
            return 200, v3_page(rows, query), {}
        if path == "/v3/catalog/brands":
            brands = {self.brand_id(p.brand): p.brand for p in self.products.values()}
            return 200, v3_page([{"id": bid, "name": name} for bid, name in brands.items() if bid in ids], query), {}
        return None

    def _category_row(self, category_id: int, name: str) -> dict[str, Any]:
        """A row of the category tree API (keyed `category_id`; the deprecated API says `id`)."""
        slug = name.lower().replace(" ", "-")
        return {
            "category_id": category_id,
            "category_uuid": f"00000000-0000-4000-8000-{category_id:012d}",
            "parent_id": 0,
            "tree_id": 1,
            "name": name,
            "description": "",
            "views": 0,
            "sort_order": 0,
            "page_title": "",
            "meta_keywords": [],
            "meta_description": "",
            "layout_file": "category.html",
            "image_url": "",
            "is_visible": True,
            "search_keywords": "",
            "default_product_sort": "use_store_settings",
            "url": {"path": f"/{slug}/", "is_customized": False},
        }

    def _product_row(self, product: Product, query: dict[str, str]) -> dict[str, Any]:
        """A `product_Full`; `primary_image` only when asked for with `include=primary_image`."""
        row: dict[str, Any] = {
            "id": product.id,
            "name": product.name,
            "type": "physical",
            "sku": product.sku,
            "price": float(product.price),
            "cost_price": float(product.cost),
            "retail_price": 0,
            "sale_price": float(product.sale_price),
            "calculated_price": float(product.sale_price or product.price),
            "categories": product.categories,
            "brand_id": self.brand_id(product.brand),
            "inventory_level": product.inventory_level,
            "inventory_tracking": product.inventory_tracking,
            "availability": product.availability,
            "is_visible": product.is_visible,
            "custom_url": {"url": product.path, "is_customized": False},
            "date_created": iso(product.created),
            "date_modified": iso(product.modified),
        }
        if "primary_image" in query.get("include", "").split(","):
            image = f"https://cdn.example.com/{product.sku.lower()}.jpg"
            row["primary_image"] = {
                "id": product.id * 100,
                "product_id": product.id,
                "is_thumbnail": True,
                "sort_order": 0,
                "description": "",
                "url_zoom": image,
                "url_standard": image,
                "url_thumbnail": image,
                "url_tiny": image,
                "date_modified": iso(product.modified),
            }
        return row

    def _store_body(self) -> dict[str, Any]:
        """`/v2/store`: bcsync reads `secure_url` and `timezone`."""
        return {
            "id": self.store_hash,
            "domain": self.secure_url.removeprefix("https://"),
            "secure_url": self.secure_url,
            "name": "Sandbox Store",
            "timezone": {
                "name": "Etc/UTC",
                "raw_offset": 0,
                "dst_offset": 0,
                "dst_correction": False,
                "date_format": {"display": "M jS Y", "export": "M jS Y", "extended_display": "M jS Y @ g:i A"},
            },
            "currency": "USD",
        }
