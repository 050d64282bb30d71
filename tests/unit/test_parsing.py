"""BigCommerce's wire formats: RFC 2822 and ISO dates, money strings, envelopes."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bcsync.domain.bigcommerce import parse_datetime, parse_money
from bcsync.domain.webhooks import Family, WebhookEnvelope, WebhookRejected, store_hash_of


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
    assert rejected.value.status_code == 400
