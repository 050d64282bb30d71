"""Catalog items as order and cart enrichment reads them (names resolved, URLs absolute)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from bcsync.domain.bigcommerce import CatalogProduct


class CatalogItem(BaseModel):
    model_config = ConfigDict(frozen=True)

    product_id: int
    name: str = ""
    sku: str = ""
    price: Decimal = Decimal(0)
    sale_price: Decimal = Decimal(0)
    category_names: list[str] = Field(default_factory=list)
    brand_name: str = ""
    image_url: str = ""
    product_url: str = ""
    inventory_level: int | None = None
    # Items cached before feeds knew these fields read as tracked nowhere, purchasable, undated.
    inventory_tracking: str = "none"
    availability: str = "available"
    is_visible: bool = True
    date_created: datetime | None = None


def catalog_item(
    product: CatalogProduct,
    category_names: dict[int, str],
    secure_url: str,
    brand_names: dict[int, str] | None = None,
) -> CatalogItem:
    path = product.custom_url.url if product.custom_url else ""
    return CatalogItem(
        product_id=product.id,
        name=product.name,
        sku=product.sku,
        price=product.price,
        sale_price=product.sale_price,
        category_names=sorted({category_names[c] for c in product.categories if c in category_names}),
        brand_name=(brand_names or {}).get(product.brand_id or 0, ""),
        image_url=product.image_url,
        product_url=f"{secure_url.rstrip('/')}{path}" if secure_url and path else path,
        inventory_level=product.inventory_level,
        inventory_tracking=product.inventory_tracking,
        availability=product.availability,
        is_visible=product.is_visible,
        date_created=product.date_created,
    )
