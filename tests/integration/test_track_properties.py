"""Fuzzed beacons: whatever the body, the headers or the store, POST /track answers JSON with a
documented status (202, 400, 401, 403, 404, 413, 429), never a 5xx, and a refusal says why."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.test_track import BROWSER, STOREFRONT, beacon

JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "metric": st.sampled_from(["Viewed Product", "Active on Site", "Placed Order", ""]) | JSONISH,
        "token": st.text(max_size=80) | JSONISH,
        "customer_jwt": st.text(max_size=80) | JSONISH,
        "product_id": st.integers(min_value=-5, max_value=10**12) | JSONISH,
        "url": st.text(max_size=60) | st.just("https://x.example/p"),
    },
)
BODIES = st.one_of(FIELDS.map(json.dumps), JSONISH.map(json.dumps), st.text(max_size=300), st.just("x" * 5000))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=BODIES,
    store=st.sampled_from(["sandbox", "nosuchstore", "", "BAD STORE!"]),
    origin=st.sampled_from([STOREFRONT, None, "https://evil.example", "null"]),
    agent=st.sampled_from([BROWSER, "", "Googlebot/2.1"]),
)
def test_no_beacon_gets_a_5xx(stack, body, store, origin, agent):
    status, answer, _ = beacon(stack, body, store=store, origin=origin, agent=agent)
    assert status in (202, 400, 401, 403, 404, 413, 429), (body, store, origin, status, answer)
    assert isinstance(answer, dict)
    if status != 202:
        assert answer.get("error"), answer
