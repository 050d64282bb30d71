"""The read API under moto, route by route: profiles and identities, a timeline paged by cursor,
snapshots and series from the counters (replays count once), sync status and controls, clear 4xx
answers, no other store's data, and an OpenAPI document that describes every route."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import urlencode

import boto3
import pytest

from bcsync.wiring import container
from bcsync_ops import reports
from tests.integration.conftest import STORE_HASH, load_event, webhook_event
from tests.integration.test_customers_webhook import add_ada, customer_event
from tests.integration.test_orders_webhook import place_ada
from tests.integration.test_reconcile import place


def call(stack, method: str, path: str, query: dict | None = None) -> tuple[int, object]:
    event = load_event("subscription_confirm.json")
    raw_query = urlencode(query or {})
    event.update(rawPath=path, rawQueryString=raw_query, queryStringParameters=dict(query or {}) or None)
    event["routeKey"] = f"{method} {path}"
    event["requestContext"]["http"].update(method=method, path=path)
    answer = stack.invoke("ReadApiFunction", event)
    body = answer.get("body") or ""
    return answer["statusCode"], json.loads(body) if answer["headers"].get("Content-Type", "").startswith(
        "application/json"
    ) else body


@pytest.fixture
def ada(stack):
    """Ada's account, one order (Placed Order and two Ordered Product), delivered twice."""
    add_ada(stack)
    stack.deliver(customer_event("created"))
    place_ada(stack)
    for _ in range(2):
        assert stack.deliver(webhook_event("store/order/created", {"type": "order", "id": 1001}))["statusCode"] == 200
    return next(p["id"] for p in stack.profiles() if p["email"] == "ada@example.com")


def test_a_profile_is_found_by_email_and_id_with_its_identities(stack, ada):
    status, found = call(stack, "GET", "/profiles", {"email": "ADA@example.com"})
    assert status == 200
    assert found["profile"]["id"] == ada and found["profile"]["email"] == "ada@example.com"
    assert {(i["kind"], i["value"]) for i in found["identities"]} == {("email", "ada@example.com"), ("customer", "7")}
    assert call(stack, "GET", f"/profiles/{ada}")[1] == found
    assert call(stack, "GET", "/profiles", {"email": "nobody@example.com"}) == (
        404,
        {"error": "no profile with that email"},
    )
    assert call(stack, "GET", "/profiles/prof_nope")[0] == 404
    assert call(stack, "GET", "/profiles", {"email": "x"})[0] == 400


def test_the_timeline_is_newest_first_and_paged_by_a_cursor_that_new_events_do_not_shift(stack, ada):
    status, first = call(stack, "GET", f"/profiles/{ada}/events", {"limit": "2"})
    assert status == 200 and len(first["events"]) == 2 and first["next"]
    place(stack, 1009, email="ada@example.com")  # a newer order arrives between the pages
    stack.deliver(webhook_event("store/order/created", {"type": "order", "id": 1009}))
    _, second = call(stack, "GET", f"/profiles/{ada}/events", {"limit": "2", "before": first["next"]})
    ids = [e["id"] for e in first["events"] + second["events"]]
    assert len(ids) == len(set(ids)) == 3 and second["next"] is None  # the three of order 1001, once each
    times = [e["time"] for e in first["events"] + second["events"]]
    assert times == sorted(times, reverse=True)
    _, placed = call(stack, "GET", f"/profiles/{ada}/events", {"metric": "Placed Order"})
    assert [e["source_id"] for e in placed["events"]] == ["order:1009", "order:1001"]
    for bad in ({"limit": "0"}, {"limit": "abc"}, {"before": "%%%"}):
        status, body = call(stack, "GET", f"/profiles/{ada}/events", bad)
        assert status == 400 and "error" in body, bad


def test_the_snapshot_and_the_store_series_come_from_the_counters_and_count_a_replay_once(stack, ada):
    _, snapshot = call(stack, "GET", f"/profiles/{ada}/metrics")
    by_metric = {m["metric"]: m for m in snapshot["metrics"]}
    [placed] = [e for e in stack.events().values() if e["metric"] == "Placed Order"]
    assert by_metric["Placed Order"]["all_time"]["count"] == 1
    assert by_metric["Placed Order"]["last_30_days"]["count"] == 1
    assert by_metric["Ordered Product"]["all_time"]["count"] == 2
    assert by_metric["Refunded Order"]["all_time"] == {"count": 0, "value": 0}
    assert Decimal(str(by_metric["Placed Order"]["all_time"]["value"])) == placed["value"]  # once, not twice
    _, totals = call(stack, "GET", "/metrics")
    assert {m["metric"]: m["all_time"]["count"] for m in totals}["Placed Order"] == 1
    status, series = call(stack, "GET", "/metrics/Placed%20Order/series", {"days": "7"})  # as API Gateway passes it
    assert status == 200 and len(series["days"]) == 7 and series["timezone"] == "UTC"
    today, placed_day = datetime.now(UTC).date().isoformat(), placed["time"][:10]  # yesterday, just after midnight
    assert series["days"][-1]["day"] == today and placed_day in [d["day"] for d in series["days"]]
    assert [d["count"] for d in series["days"]] == [int(d["day"] == placed_day) for d in series["days"]]
    assert call(stack, "GET", "/metrics/Nothing Like It/series")[0] == 404
    assert call(stack, "GET", "/metrics/Placed Order/series", {"days": "0"})[0] == 400
    assert call(stack, "GET", "/metrics/Placed Order/series", {"tz": "mars"})[0] == 400


def test_sync_status_and_controls(stack, ada):
    status, body = call(stack, "GET", "/sync/status")
    assert status == 200 and body["store"] == STORE_HASH and body["sync_enabled"] is True
    assert body["last_reconcile"] is None and body["backfill"] is None
    assert call(stack, "POST", "/sync/off")[1]["sync_enabled"] is False
    assert container().sync_state.control(STORE_HASH).enabled is False
    assert call(stack, "POST", "/sync/on")[1]["sync_enabled"] is True
    status, queued = call(stack, "POST", "/sync/now")
    assert (status, queued) == (202, {"queued": "reconcile", "store": STORE_HASH})
    stack.run_jobs()
    _, after = call(stack, "GET", "/sync/status")
    assert after["last_reconcile"]["finished_at"] and after["last_reconcile"]["drift"] == 0


def test_no_route_answers_for_another_store(stack, ada):
    assert call(stack, "GET", "/profiles", {"email": "ada@example.com", "store": "otherstore"}) == (
        404,
        {"error": "unknown store otherstore"},
    )
    secrets = boto3.client("secretsmanager")
    secrets.create_secret(
        Name="bcsync/stores/otherstore", SecretString=json.dumps({"access_token": "t", "client_secret": "s"})
    )
    # A new store: the function's cache of known stores is not waited out.
    stack.container_of("ReadApiFunction").read_model._known_stores = (float("-inf"), frozenset())
    assert call(stack, "GET", f"/profiles/{ada}", {"store": "otherstore"})[0] == 404
    assert call(stack, "GET", "/metrics", {"store": "otherstore"})[1][0]["all_time"]["count"] == 0
    assert call(stack, "GET", "/metrics")[0] == 400  # two stores now: which one must be said


def test_the_openapi_document_describes_every_route_with_its_parameters(stack):
    status, document = call(stack, "GET", "/openapi.json")
    assert status == 200 and document["openapi"].startswith("3.")
    paths = document["paths"]
    assert set(paths) == {
        "/profiles",
        "/profiles/{profile_id}",
        "/profiles/{profile_id}/events",
        "/profiles/{profile_id}/metrics",
        "/metrics",
        "/metrics/{metric}/series",
        "/sync/status",
        "/sync/daily-counts",
        "/sync/now",
        "/sync/on",
        "/sync/off",
        "/feeds/{name}",
    }
    events = {p["name"]: p for p in paths["/profiles/{profile_id}/events"]["get"]["parameters"]}
    assert events["limit"]["schema"]["maximum"] == 100 and events["profile_id"]["in"] == "path"
    feed = {p["name"]: p for p in paths["/feeds/{name}"]["get"]["parameters"]}
    assert {"name", "limit", "days", "product_id", "profile_id", "by", "store"} <= set(feed)
    assert feed["name"]["in"] == "path" and feed["limit"]["schema"]["maximum"] == 50
    assert {"Snapshot", "FeedView", "FeedItem"} <= set(document["components"]["schemas"])


def test_the_console_page_is_served_whole(stack):
    event = load_event("subscription_confirm.json")
    event.update(rawPath="/console", rawQueryString="", queryStringParameters=None)
    event["requestContext"]["http"]["path"] = "/console"
    answer = stack.invoke("ReadApiFunction", event)
    assert answer["statusCode"] == 200 and answer["headers"]["Content-Type"].startswith("text/html")
    assert "<script" in answer["body"] and "https://" not in answer["body"]  # nothing fetched from elsewhere
    assert "default-src 'none'" in answer["headers"]["Content-Security-Policy"]


def test_the_cli_prints_a_persons_snapshot_and_timeline_and_the_stores_metrics(stack, ada, capsys):
    handle = stack.handle()
    assert (
        reports.profile(handle.container.read_model, STORE_HASH, "Ada@Example.com", out=sys.stdout, err=sys.stderr) == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{ada}  ada@example.com"
    placed = next(line for line in lines if line.startswith("Placed Order ")).split()
    assert (placed[2], placed[4]) == ("1", "1")  # 30 days and all time
    assert sum(1 for line in lines if line[:4].isdigit()) == 3  # the three events, once each
    assert (
        reports.profile(handle.container.read_model, STORE_HASH, "nobody@example.com", out=sys.stdout, err=sys.stderr)
        == 1
    )
    assert capsys.readouterr().err == "no profile with that email\n"
    assert reports.metrics(handle.container.read_model, STORE_HASH, days=7, out=sys.stdout) == 0
    rows = {line[:18].strip(): line[18:].split() for line in capsys.readouterr().out.splitlines()[1:]}
    assert rows["Placed Order"][0] == "1" and rows["Ordered Product"][0] == "2" and rows["Refunded Order"][0] == "0"


def test_after_an_erasure_the_person_is_gone_and_the_stores_counts_drop(stack, ada):
    assert call(stack, "GET", "/metrics")[1][1]["all_time"]["count"] == 1  # Placed Order
    assert container().erasure.erase(STORE_HASH, "ada@example.com") is not None
    assert call(stack, "GET", f"/profiles/{ada}")[0] == 404
    assert call(stack, "GET", "/profiles", {"email": "ada@example.com"})[0] == 404
    _, totals = call(stack, "GET", "/metrics")
    assert {m["metric"]: m["all_time"]["count"] for m in totals}["Placed Order"] == 0
    _, series = call(stack, "GET", "/metrics/Placed%20Order/series", {"days": "3"})
    assert [d["count"] for d in series["days"]] == [0, 0, 0]
