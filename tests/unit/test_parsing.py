"""BigCommerce's wire formats: RFC 2822 and ISO dates, money strings, envelopes."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from bcsync.domain.bigcommerce import CartLineItem, CheckoutCart, parse_datetime, parse_money
from bcsync.domain.refusals import Refusal
from bcsync.domain.stores import Family
from bcsync.domain.webhooks import CartWebhookData, CatalogWebhookData, WebhookEnvelope, WebhookRejected, store_hash_of


def test_rfc2822_dates_become_utc():
    assert parse_datetime("Tue, 05 Mar 2019 21:40:11 +0000") == datetime(2019, 3, 5, 21, 40, 11, tzinfo=UTC)
    assert parse_datetime("Thu, 20 Apr 2017 11:32:00 -0400") == datetime(2017, 4, 20, 15, 32, tzinfo=UTC)


def test_iso_dates_become_utc():
    assert parse_datetime("2024-05-14T09:34:00Z") == datetime(2024, 5, 14, 9, 34, tzinfo=UTC)
    assert parse_datetime("2024-05-14T11:34:00+02:00") == datetime(2024, 5, 14, 9, 34, tzinfo=UTC)


def test_empty_date_is_none_and_garbage_is_an_error():
    assert parse_datetime("") is None
    with pytest.raises(ValueError):
        parse_datetime("yesterday")


def test_a_timestamp_beyond_the_platforms_range_is_a_value_error_not_a_crash():
    assert parse_datetime(1_700_000_000) == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    for huge in (9.223372036854776e18, -(10**20), float("nan")):
        with pytest.raises(ValueError, match="not a timestamp"):
            parse_datetime(huge)


def test_money_strings_are_exact_decimals():
    assert parse_money("62.6793") == Decimal("62.6793")
    assert parse_money(5.1) == Decimal("5.1")
    assert parse_money("") == Decimal(0)
    with pytest.raises(ValueError):
        parse_money("ten")


def envelope(**overrides):
    body = {
        "scope": "store/order/created",
        "store_id": "1025646",
        "data": {"type": "order", "id": 250},
        "hash": "7ee67cd1cf2ca60bc1aa9e5fe957d2de373be4ca",
        "created_at": 1561479335,
        "producer": "stores/abc123",
    }
    body.update(overrides)
    return body


def test_envelope_names_store_and_family():
    parsed = WebhookEnvelope.model_validate(envelope())
    assert parsed.store_hash == "abc123"
    assert parsed.family() is Family.ORDERS
    assert WebhookEnvelope.model_validate(envelope(scope="store/sku/inventory/updated")).family() is Family.CATALOG


@pytest.mark.parametrize("producer", [None, "abc123", "stores/", "stores/ABC!", "stores/../x"])
def test_producer_must_name_a_store(producer):
    with pytest.raises(WebhookRejected) as rejected:
        store_hash_of(envelope(producer=producer))
    assert rejected.value.reason is Refusal.INVALID


# Webhook `data` as BigCommerce's callbacks carry it (docs/webhooks/callbacks/data/*.json).
@pytest.mark.parametrize(
    ("data", "product_id"),
    [
        ({"type": "product", "id": 205}, 205),  # store/product/updated
        ({"type": "product", "id": 167, "inventory": {"product_id": 167, "method": "absolute", "value": 2}}, 167),
        (
            {
                "type": "sku",
                "id": 461,
                "inventory": {"product_id": 206, "method": "relative", "value": -3, "variant_id": 509},
            },
            206,
        ),  # store/sku/inventory/updated: no `sku` object
        ({"type": "sku", "id": 461, "sku": {"product_id": 206, "variant_id": 509}}, 206),  # store/sku/updated
    ],
    ids=["product", "product-inventory", "sku-inventory", "sku"],
)
def test_a_catalog_delivery_names_its_product_never_the_sku(data, product_id):
    assert CatalogWebhookData.model_validate(data).product_id == product_id


def test_a_sku_delivery_that_names_no_product_is_refused():
    with pytest.raises(ValidationError, match=r"sku\.product_id or inventory\.product_id"):
        CatalogWebhookData.model_validate({"type": "sku", "id": 461})


@pytest.mark.parametrize("line_item_type", ["cart_line_item", "cart"])
def test_a_line_item_delivery_names_its_cart_whatever_its_type(line_item_type):
    data = {"type": line_item_type, "id": "743bfd94-d5dd-47c5-9c19-6eec32ca6119", "cartId": "b0386708-fef3"}
    assert CartWebhookData.model_validate(data).cart == "b0386708-fef3"
    assert CartWebhookData.model_validate({"type": "cart", "id": "b0386708-fef3"}).cart == "b0386708-fef3"


def test_a_guest_or_custom_item_reads_as_id_zero_whether_sent_as_0_or_null():
    assert CheckoutCart.model_validate({"id": "c", "customer_id": None}).customer_id == 0
    assert CheckoutCart.model_validate({"id": "c", "customer_id": 0}).customer_id == 0
    assert CartLineItem.model_validate({"id": "l", "product_id": None, "quantity": 1}).product_id == 0
    assert CartLineItem.model_validate({"id": "l", "quantity": 1}).product_id == 0
