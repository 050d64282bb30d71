"""Catalog webhooks keep the items enrichment reads current: refreshed, or removed when deleted."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from bcsync_ops.sandbox import Line
from tests.integration.conftest import ago, load_event, webhook_event


def catalog_items(stack):
    return {int(row["product_id"]): row["item"] for row in stack.table("CatalogTable") if "product_id" in row}


def test_product_updated_event_file_stores_the_item_with_names_and_urls(stack):
    stack.store.update_product(101, name="Linen Shirt II", price=Decimal("42"))
    assert stack.deliver(load_event("product_updated.json"))["statusCode"] == 200
    item = catalog_items(stack)[101]
    assert item["name"] == "Linen Shirt II"
    assert item["sku"] == "SHIRT-LIN"
    assert item["price"] == Decimal("42")
    assert item["category_names"] == ["Apparel", "Shirts"]
    assert item["brand_name"] == "Fog Linen"
    assert item["product_url"] == "https://sandbox.example.com/linen-shirt/"
    assert item["image_url"] == "https://cdn.example.com/shirt-lin.jpg"
    assert item["inventory_level"] == 100
    assert item["is_visible"] is True


def test_a_product_edit_reaches_later_orders_and_a_deletion_removes_the_item(stack):
    stack.deliver(load_event("product_updated.json"))
    stack.store.add_category(9, "Summer")
    stack.store.update_product(101, categories=[1, 2, 9])
    stack.deliver(webhook_event("store/product/updated", {"type": "product", "id": 101}))
    store = stack.store
    store.place_order(
        4001,
        email="ada@example.com",
        first_name="Ada",
        last_name="L",
        lines=[Line(store.products[101], 1)],
        created=ago(hours=1),
    )
    stack.deliver(webhook_event("store/order/created", {"type": "order", "id": 4001}))
    placed = stack.events()["sandbox:placed-order:order:4001"]
    assert placed["properties"]["Item Categories"] == ["Apparel", "Shirts", "Summer"]
    stack.deliver(webhook_event("store/product/updated", {"type": "product", "id": 104}))
    assert 104 in catalog_items(stack)
    stack.store.delete_product(104)
    response = stack.deliver(load_event("product_deleted.json"))
    assert json.loads(response["body"])["status"] == "removed"
    assert 104 not in catalog_items(stack)


def test_sku_inventory_webhooks_refresh_their_product_without_rereading_names(stack):
    stack.deliver(webhook_event("store/product/updated", {"type": "product", "id": 102}))
    stack.store.update_product(102, inventory_level=37)
    stack.store.requests.clear()
    response = stack.deliver(load_event("sku_inventory_updated.json"))  # SKU 461 of product 102
    assert json.loads(response["body"]) == {"product_id": 102, "status": "refreshed", "items": 1}
    assert stack.store.requests == ["/stores/sandbox/v3/catalog/products"]
    items = catalog_items(stack)
    assert items[102]["inventory_level"] == 37
    assert items[102]["name"] == "Ceramic Mug"
    assert 461 not in items


@pytest.mark.parametrize(
    ("event", "product_id"),
    [("product_inventory_updated.json", 104), ("sku_updated.json", 103)],
    ids=["product-inventory", "sku-updated"],
)
def test_each_catalog_body_shape_refreshes_the_product_it_names(stack, event, product_id):
    stack.store.update_product(product_id, inventory_level=3)
    response = stack.deliver(load_event(event))
    assert json.loads(response["body"])["status"] == "refreshed"
    assert set(catalog_items(stack)) == {product_id}
    assert catalog_items(stack)[product_id]["inventory_level"] == 3


@pytest.mark.parametrize(
    "data",
    [{"type": "sku", "id": "x"}, {"type": "sku", "id": 461}, {"type": "sku", "id": 461, "sku": {"variant_id": 509}}],
    ids=["bad-id", "no-product", "sku-without-product-id"],
)
def test_a_catalog_body_without_a_product_is_a_400_and_writes_nothing(stack, data):
    response = stack.deliver(webhook_event("store/sku/updated", data))
    assert response["statusCode"] == 400
    assert "data" in json.loads(response["body"])["error"]
    assert stack.table("CatalogTable") == []
    assert stack.store.requests == []
