"""No personal data in logs, on the failure paths too: a BigCommerce answer that does not fit its
published shape (an address where a string belongs), BigCommerce failing, a malformed beacon and
a bad import row; every line the functions log is read, and no email, phone or street is in it."""

from __future__ import annotations

import json

import pytest

from tests.integration.conftest import webhook_event
from tests.integration.test_orders_webhook import place_ada

EMAIL, PHONE, STREET = "ada@example.com", "+44 20 7946 0018", "12 Analytical Row"


def assert_private(text: str) -> None:
    for secret in (EMAIL, PHONE, STREET, "Analytical", "7946"):
        assert secret.lower() not in text.lower(), secret


def test_an_answer_out_of_shape_is_logged_without_the_person_in_it(stack, logs, monkeypatch):
    place_ada(stack)
    answer = stack.store.answer

    def out_of_shape(path, query, token, **kwargs):
        status, payload, headers = answer(path, query, token, **kwargs)
        if path.endswith("/v2/orders/1001") and isinstance(payload, dict):
            payload = {
                **payload,
                "billing_address": {
                    **payload["billing_address"],
                    "phone": [PHONE],
                    "street_1": {"line": STREET},
                    "email": [EMAIL],
                },
            }
        return status, payload, headers

    monkeypatch.setattr(stack.store, "answer", out_of_shape)
    response = stack.deliver(webhook_event("store/order/created", {"type": "order", "id": 1001}))
    assert response["statusCode"] in (200, 202, 503), response
    text = logs.getvalue()
    assert "billing_address" in text  # the failure is logged, naming the field
    assert_private(text)


def test_bigcommerce_failing_and_bad_input_are_logged_without_personal_data(stack, logs):
    place_ada(stack)
    stack.store.fail_next("/v2/orders/1001", 500, times=10)
    stack.deliver(webhook_event("store/order/created", {"type": "order", "id": 1001}))
    from bcsync.domain.onsite import BeaconRefused, parse_beacon

    with pytest.raises(BeaconRefused) as refused:
        parse_beacon(json.dumps({"metric": "Active on Site", "claim": "c" * 32, "signup_email": ["x", EMAIL]}))
    assert EMAIL not in refused.value.message  # the answer's error names the field, not the value
    assert_private(logs.getvalue())
