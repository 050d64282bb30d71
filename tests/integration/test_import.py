"""`bcsync import events` under moto: every good row once (a second run changes nothing), every bad
row reported with its line, no flow started, and the imported history visible to what depends on
history (profile activity for flow filters, counters, verify-counts' own side, back-population);
a stopped import resumes; the CSV export reads back as it was."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from bcsync import wiring
from bcsync.domain.profiles import Profile, activity_counts
from bcsync.usecases import imports
from bcsync.usecases.recording import EventRecorder
from bcsync_ops import history
from bcsync_ops.flows import backpopulate, load
from bcsync_ops.local_stack import PROJECT_ROOT
from tests.integration.conftest import STORE_HASH, webhook_event
from tests.integration.test_orders_webhook import place_ada

EXAMPLES = Path(__file__).parents[2] / "examples" / "import"
SHOPIFY_CSV, SHOPIFY_MAP = EXAMPLES / "shopify-placed-orders.csv", EXAMPLES / "shopify-map.yaml"


def run_import(stack, file: Path, *, store: str = STORE_HASH, **options) -> tuple[int, str, str]:
    handle = stack.handle(store)
    args = SimpleNamespace(
        **{"file": str(file), "format": None, "map": None, "metric": None, "dry_run": False, **options}
    )
    out, err = io.StringIO(), io.StringIO()
    code = history.import_events(handle, args, out, err)
    return code, out.getvalue(), err.getvalue()


def imported(stack) -> list[dict]:
    return sorted((e for e in stack.events().values() if e["source"] == "import"), key=lambda e: e["time"])


def tables(stack) -> list[list[dict]]:
    """The events, counters and profiles, each in key order."""
    return [
        sorted(stack.table(name), key=lambda item: (item["pk"], item.get("sk", "")))
        for name in ("EventsTable", "CountersTable", "ProfilesTable")
    ]


def profile(stack, email: str) -> Profile:
    return Profile.model_validate(next(p for p in stack.profiles() if p["email"] == email))


def test_good_rows_once_bad_rows_reported_no_flow_and_a_second_run_changes_nothing(stack):
    code, out, err = run_import(stack, SHOPIFY_CSV, map=str(SHOPIFY_MAP))
    assert code == 1  # some rows were refused; the rest are in
    assert "4 new events, 1 already there, 3 rows refused; no flow started" in out
    assert err.splitlines() == [
        "line 6: email: not an email address",
        "line 7: value: not a number",
        "line 8: time: 2099-01-01T00:00:00Z is not between 2000 and now",
    ]
    events = imported(stack)
    assert [(e["metric"], e["source_id"], e["value"]) for e in events] == [
        ("Placed Order", "shopify-order-4101", 58),
        ("Placed Order", "shopify-order-4187", 40),
        ("Placed Order", "shopify-order-4302", 18),
        ("Placed Order", "shopify-order-4522", 12),
    ]
    assert all(e["backfill"] and e["original_metric"] == "Placed Order (Shopify)" for e in events)
    assert events[1]["properties"] == {
        "Items": ["Linen Shirt"],
        "Item Count": 1,
        "Coupons": ["SPRING10"],
        "Source Name": "web",
    }
    assert stack.triggers() == []
    before = tables(stack)
    code, out, _ = run_import(stack, SHOPIFY_CSV, map=str(SHOPIFY_MAP))
    assert "0 new events, 5 already there, 3 rows refused" in out
    assert tables(stack) == before and stack.triggers() == []


def test_what_depends_on_history_sees_the_imported_orders(stack):
    run_import(stack, SHOPIFY_CSV, map=str(SHOPIFY_MAP))
    # A "Placed Order zero times over all time" filter reads the profile's activity.
    assert activity_counts(profile(stack, "grace@example.org"))("Placed Order", None) == 2
    app = wiring.container()
    totals = {m.metric: m.all_time.count for m in app.read_model.metrics(STORE_HASH)}
    assert totals["Placed Order"] == 4
    times = app.events.placed_order_times(STORE_HASH, datetime(2024, 1, 1, tzinfo=UTC), datetime.now(UTC))
    assert len(times) == 4  # verify-counts' own side
    # Ada, imported, then orders through BigCommerce: one person, both orders, and her live order
    # is not her first (First Order does not start).
    place_ada(stack)
    assert stack.deliver(webhook_event("store/order/created", {"type": "order", "id": 1001}))["statusCode"] == 200
    ada = profile(stack, "ada@example.com")
    assert activity_counts(ada)("Placed Order", None) == 2 and ada.external_id == "7"
    assert "First Order" not in {trigger["flow"] for trigger in stack.triggers()}
    # Winback back-population counts imported customers.
    app.flow_library.apply(STORE_HASH, load(PROJECT_ROOT / "flows" / "default.yaml"))
    out = io.StringIO()
    dry_run = SimpleNamespace(flow="Customer Winback", since=None, dry_run=True)
    assert backpopulate(app.flow_runner, stack.reader(), STORE_HASH, dry_run, out=out, err=out) == 0
    # Grace's and Alan's latest orders are imported ones, long ago: their runs are done; Ada's is
    # her live order of today, waiting at the first delay.
    assert "Customer Winback: 3 people would enter" in out.getvalue()
    assert "done (its steps due now): 2" in out.getvalue() and "waiting at step 0: 1" in out.getvalue()


def test_custom_metrics_keep_their_names_and_people_known_only_by_account_are_matched(stack, tmp_path):
    place_ada(stack)
    stack.deliver(webhook_event("store/order/created", {"type": "order", "id": 1001}))
    jsonl = EXAMPLES / "klaviyo-custom-events.jsonl"
    extra = tmp_path / "by-account.jsonl"
    extra.write_text(
        '{"metric": "Opened Email", "time": "2024-06-04T08:00:00Z", "external_id": "7", "source_id": "ev-9"}\n'
        '{"metric": "Opened Email", "time": "2024-06-04T08:00:00Z", "external_id": "999", "source_id": "ev-10"}\n'
    )
    assert run_import(stack, jsonl)[0] == 0
    code, _, err = run_import(stack, extra)
    assert code == 1 and err.strip() == "line 2: external id 999: no customer bcsync knows (give an email)"
    opened = [e for e in imported(stack) if e["metric"] == "Opened Email"]
    ada = profile(stack, "ada@example.com")
    assert len(opened) == 3 and {e["original_metric"] for e in opened} == {"Opened Email"}
    assert [e["profile_id"] for e in opened if e["source_id"] == "ev-9"] == [ada.id]
    clicked = [e for e in imported(stack) if e["metric"] == "Clicked Email"]
    assert len(clicked) == 1 and clicked[0]["source_id"].startswith("sha256:")  # no id of its own: a digest
    totals = {m.metric: m.all_time.count for m in wiring.container().read_model.metrics(STORE_HASH)}
    assert (totals["Opened Email"], totals["Clicked Email"]) == (3, 1)


def test_a_stopped_import_resumes_after_its_last_saved_batch(stack, monkeypatch):
    monkeypatch.setattr(imports, "BATCH_ROWS", 2)
    real = EventRecorder.record_many
    calls = {"n": 0}

    def crash_on_the_third_batch(self, sightings, known=None):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # the operator's Ctrl-C, or a lost connection
        return real(self, sightings, known)

    monkeypatch.setattr(EventRecorder, "record_many", crash_on_the_third_batch)
    with pytest.raises(KeyboardInterrupt):
        run_import(stack, SHOPIFY_CSV, map=str(SHOPIFY_MAP))
    assert len(imported(stack)) == 3  # lines 2 to 5 were saved in two batches
    code, out, err = run_import(stack, SHOPIFY_CSV, map=str(SHOPIFY_MAP))
    assert code == 1 and "resumed after line 5" in out and "4 new events, 1 already there, 3 rows refused" in out
    assert len(imported(stack)) == 4 and len(err.splitlines()) == 3


def test_dry_run_checks_every_row_and_writes_nothing(stack):
    handle_args = SimpleNamespace(file=str(SHOPIFY_CSV), format=None, map=str(SHOPIFY_MAP), metric=None, dry_run=True)
    out = io.StringIO()
    assert history.import_events(None, handle_args, out, io.StringIO()) == 1
    assert "Placed Order (from Placed Order (Shopify)): 5 rows would be imported" in out.getvalue()
    assert "line 6: email: not an email address" in out.getvalue()
    assert imported(stack) == [] and stack.profiles() == []


def test_a_file_or_map_that_cannot_be_read_imports_nothing(stack, tmp_path):
    bad_map = tmp_path / "map.yaml"
    bad_map.write_text("source: Not Allowed!\n")
    code, _, err = run_import(stack, SHOPIFY_CSV, map=str(bad_map))
    assert code == 2 and "the map" in err and "source" in err
    code, _, err = run_import(stack, SHOPIFY_CSV)  # one metric a CSV: which?
    assert code == 2 and "--metric" in err
    code, _, err = run_import(stack, tmp_path / "missing.csv", metric="Placed Order")
    assert code == 2 and "no such file" in err
    assert imported(stack) == []


def test_the_csv_export_imports_into_another_store_and_exports_the_same(stack, tmp_path, capsys):
    place_ada(stack)
    stack.deliver(webhook_event("store/order/created", {"type": "order", "id": 1001}))
    run_import(stack, SHOPIFY_CSV, map=str(SHOPIFY_MAP))
    tables = stack.reader()
    first = io.StringIO()
    assert history.export_csv(tables, STORE_HASH, "Placed Order", first) == 5
    exported = tmp_path / "placed-order.csv"
    exported.write_text(first.getvalue())
    code, out, _ = run_import(stack, exported, store="otherstore", metric="Placed Order")
    assert code == 0 and "5 new events" in out
    second = io.StringIO()
    history.export_csv(tables, "otherstore", "Placed Order", second)
    # The same events, people and properties; an External ID names a BigCommerce customer of the
    # exporting store, which the other store does not know.
    assert second.getvalue() == first.getvalue().replace(",ada@example.com,7,", ",ada@example.com,,")
