"""Onsite tracking in a real headless browser: a storefront page with `bcsync onsite snippet`, a
click-through link from a flow email, two product views; the events in `bcsync events export` are
the known visitor's, deduplicated, and an anonymous visitor leaves none."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bcsync.domain.confirmation import click_token
from bcsync_ops.demo import CLIENT_SECRET, STORE_HASH
from bcsync_ops.sandbox import Line
from bcsync_ops.snippet import snippet
from tests.e2e.browser import CHROMIUM, browser
from tests.e2e.test_local_stack import export, local_aws, local_stack

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine (apt-get install -y chromium)"),
]

PRODUCT_PAGES = {"/linen-shirt/": 101, "/ceramic-mug/": 102}


@contextmanager
def storefront(script: list[str]) -> Iterator[str]:
    """The store's pages on loopback, each with the snippet (filled in once the stack is up)."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            product = PRODUCT_PAGES.get(path)
            form = f'<form><input type="hidden" name="product_id" value="{product}"></form>' if product else ""
            page = f"<!doctype html><html><body><h1>{path}</h1>{form}{script[0]}</body></html>".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


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
    script = [""]
    with storefront(script) as site, local_stack(tmp_path) as (store, sender, env):
        store.secure_url = site  # the storefront's own address: its pages may send beacons
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
        script[0] = snippet(state["api_url"], STORE_HASH)  # what `bcsync onsite snippet` prints
        ada = next(p["id"] for p in export("profiles", env) if p["email"] == "ada@example.com")
        token = click_token(CLIENT_SECRET, STORE_HASH, ada, datetime.now(UTC))  # `bcsync onsite token`
        with browser() as page:
            page.open(f"{site}/?_bc={token}")  # from a flow email
            page.wait_for("document.cookie.includes('_bcsync_v=')")  # the visitor token, kept
            for path, seen in (("/linen-shirt/", 2), ("/ceramic-mug/", 3)):
                page.open(f"{site}{path}")
                assert len(wait_for_events(state, seen)) == seen, path  # the mug is read from BigCommerce first
            page.open(f"{site}/linen-shirt/")  # again, inside the half hour
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
            stranger.open(f"{site}/ceramic-mug/")
            stranger.wait_for("document.querySelector('h1') !== null")
            time.sleep(1)
        assert len(onsite_events(state)) == 3
