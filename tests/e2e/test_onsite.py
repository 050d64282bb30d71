"""Onsite tracking in a real headless browser: a storefront page with `bcsync onsite snippet`, a
click-through link from a flow email, two product views; the events in `bcsync events export` are
the known visitor's, deduplicated, and an anonymous visitor leaves none; a newsletter sign-up
makes its browser known."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bcsync.domain.confirmation import click_token
from bcsync_ops.demo import CLIENT_SECRET, STORE_HASH
from bcsync_ops.sandbox import Line
from bcsync_ops.snippet import snippet
from bcsync_ops.storefront import Storefront
from tests.e2e.browser import CHROMIUM, browser
from tests.e2e.test_local_stack import export, local_aws, local_stack

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine (apt-get install -y chromium)"),
]


def onsite_events(state: dict) -> list[dict]:
    """The stack's onsite events, read from its events table directly (quicker than an export)."""
    table = local_aws().resource("dynamodb", endpoint_url=state["aws_endpoint"]).Table(state["physical"]["EventsTable"])
    return [item for item in table.scan()["Items"] if item.get("source") == "onsite"]


def wait_for_events(state: dict, count: int) -> list[dict]:
    deadline = time.monotonic() + 20
    while len(found := onsite_events(state)) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    return found


def test_a_clicked_through_visitor_is_tracked_and_an_anonymous_one_is_not(tmp_path: Path):
    with local_stack(tmp_path) as (store, sender, env), Storefront(store) as shop:
        # The demo's storefront: the store's pages, each with the snippet.
        store.secure_url = site = shop.url  # its pages may send beacons: they are the store's site
        store.place_order(
            1001,
            email="ada@example.com",
            first_name="Ada",
            last_name="Lovelace",
            lines=[Line(store.products[101], 1)],
            created=datetime.now(UTC) - timedelta(hours=1),
        )
        assert sender.send("orders", "store/order/created", {"type": "order", "id": 1001})[0] == 200
        state = json.loads((tmp_path / "local-stack.json").read_text())
        shop.script = snippet(state["api_url"], STORE_HASH)  # what `bcsync onsite snippet` prints
        ada = next(p["id"] for p in export("profiles", env) if p["email"] == "ada@example.com")
        token = click_token(CLIENT_SECRET, STORE_HASH, ada, datetime.now(UTC))  # `bcsync onsite token`
        with browser() as page:
            page.open(f"{site}/?_bc={token}")  # from a flow email
            page.wait_for("document.cookie.includes('_bcsync_v=')")  # the visitor token, kept
            for product, seen in ((101, 2), (102, 3)):
                page.open(f"{site}{store.products[product].path}")
                assert len(wait_for_events(state, seen)) == seen, product  # the mug is read from BigCommerce first
            page.open(f"{site}{store.products[101].path}")  # again, inside the half hour
            page.wait_for("document.querySelector('h1') !== null")
        time.sleep(1)
        events = onsite_events(state)
        assert sorted((e["metric"], e["properties"].get("ProductID")) for e in events) == [
            ("Active on Site", None),
            ("Viewed Product", 101),
            ("Viewed Product", 102),
        ]
        assert {e["profile_id"] for e in events} == {ada}
        with browser() as stranger:  # no link, no cookie: nothing leaves the page
            stranger.open(f"{site}{store.products[102].path}")
            stranger.wait_for("document.querySelector('h1') !== null")
            time.sleep(1)
        assert len(onsite_events(state)) == 3
        # A third visitor signs up for the newsletter: once BigCommerce's subscriber webhook links
        # the address, the browser that submitted the form is known.
        shop.forward_sign_ups(sender)
        with browser() as reader:
            reader.open(f"{site}/")
            reader.wait_for("document.querySelector('#nl_email') !== null")
            reader.evaluate(
                "document.querySelector('#nl_email').value = 'lin@example.com';"
                "document.querySelector('form').requestSubmit(); true"
            )
            reader.wait_for("document.cookie.includes('_bcsync_v=')")  # known: the visitor token, kept
            reader.open(f"{site}{store.products[102].path}")
            lin = wait_for_events(state, 5)
        lin_profile = next(p["id"] for p in export("profiles", env) if p["email"] == "lin@example.com")
        assert sorted(e["metric"] for e in lin if e["profile_id"] == lin_profile) == [
            "Active on Site",
            "Viewed Product",
        ]
