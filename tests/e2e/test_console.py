"""The console in a real headless browser against `bcsync local`: it shows the story's numbers next
to BigCommerce's, finds a person with their snapshot and timeline, and its "Sync now" runs a
reconciliation."""

from __future__ import annotations

import json
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bcsync_ops.sandbox import Line
from tests.e2e.browser import CHROMIUM, browser
from tests.e2e.test_local_stack import local_stack

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine (apt-get install -y chromium)"),
]


def read_api(state: dict, path: str) -> dict:
    request = urllib.request.Request(state["api_url"] + path, headers={"Authorization": f"Bearer {state['api_token']}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_the_console_shows_the_stores_numbers_finds_a_person_and_syncs_now(tmp_path: Path):
    with local_stack(tmp_path) as (store, sender, _):
        now = datetime.now(UTC).replace(microsecond=0)
        # Half an hour ago, but today still: the first row shown is today's, even just after midnight.
        placed_at = max(now - timedelta(minutes=30), now.replace(hour=0, minute=0, second=0))
        for order_id, email in ((801, "ada@example.com"), (802, "grace@example.org")):
            store.place_order(
                order_id,
                email=email,
                first_name="Ada",
                last_name="Lovelace",
                lines=[Line(store.products[101], 1), Line(store.products[102], 2)],
                created=placed_at,
            )
            assert sender.send("orders", "store/order/created", {"type": "order", "id": order_id})[0] == 200
        store.place_order(  # a webhook BigCommerce never delivered: the console shows the gap
            803,
            email="alan@example.net",
            first_name="Alan",
            last_name="Turing",
            lines=[Line(store.products[104], 1)],
            created=placed_at,
        )
        state = json.loads((tmp_path / "local-stack.json").read_text())
        today = placed_at.date().isoformat()
        with browser() as page:
            page.open(f"{state['api_url']}/console#token={state['api_token']}")
            page.wait_for("document.querySelectorAll('#days tbody tr').length === 30")
            first_row = page.evaluate(
                "[...document.querySelector('#days tbody tr').cells].map((cell) => cell.textContent)"
            )
            assert first_row[:3] == [today, "2", "3"] and first_row[4] == "MISMATCH"
            assert page.evaluate("document.querySelector('#days tbody tr').className") == "mismatch"
            assert "1 day(s) differ" in page.evaluate("document.getElementById('counts-note').textContent")
            assert page.evaluate("document.querySelectorAll('#chart rect').length") == 30
            assert page.wait_for("document.getElementById('sync').innerText").startswith("hourly sync\non")

            page.evaluate("document.getElementById('email').value = 'ada@example.com'")
            page.evaluate("document.getElementById('search').requestSubmit()")
            page.wait_for("!document.getElementById('profile').hidden")
            snapshot = page.evaluate(
                "Object.fromEntries([...document.querySelectorAll('#snapshot tbody tr')]"
                ".map((row) => [row.cells[0].textContent, row.cells[1].textContent]))"
            )
            assert snapshot["Placed Order"] == "1" and snapshot["Ordered Product"] == "2"
            assert page.evaluate("document.querySelectorAll('#timeline tbody tr').length") == 3

            page.evaluate("document.getElementById('sync-now').click()")
            page.wait_for("document.getElementById('sync-note').textContent === 'Reconciliation queued.'")
        deadline = time.monotonic() + 60
        while read_api(state, "/sync/status")["last_reconcile"] is None and time.monotonic() < deadline:
            time.sleep(0.5)
        assert read_api(state, "/sync/status")["last_reconcile"]["drift"] > 0  # it found order 803
        days = read_api(state, "/sync/daily-counts?days=1")
        assert days == [{"day": today, "bigcommerce": 3, "bcsync": 3, "matches": True}]
