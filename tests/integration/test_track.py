"""POST /track under moto: a known browser's views become deduplicated events with the catalog's
product facts and a Browse Abandonment trigger; anonymous visitors and bots leave nothing; forged,
oversized, foreign and bursting beacons are refused with a 4xx and write nothing."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import jwt
import pytest

from bcsync.domain.confirmation import click_token
from bcsync_ops import cli
from tests.integration.conftest import CLIENT_SECRET, STORE_HASH, load_event, webhook_event
from tests.integration.test_orders_webhook import place_ada

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
STOREFRONT = f"https://{STORE_HASH}.example.com"


def beacon(stack, body, *, store=STORE_HASH, origin=STOREFRONT, agent=BROWSER, ip="198.51.100.7"):
    event = load_event("subscription_confirm.json")
    query = f"store={store}" if store else ""
    event.update(
        rawPath="/track",
        rawQueryString=query,
        queryStringParameters={"store": store} if store else None,
        body=body if isinstance(body, str) else json.dumps(body),
        headers={
            "content-type": "text/plain;charset=UTF-8",
            "user-agent": agent,
            **({"origin": origin} if origin else {}),
        },
    )
    event["routeKey"] = "POST /track"
    event["requestContext"]["http"].update(method="POST", path="/track", sourceIp=ip)
    answer = stack.invoke("TrackFunction", event)
    return answer["statusCode"], json.loads(answer["body"]), answer.get("headers", {})


def onsite_events(stack):
    return sorted((e for e in stack.events().values() if e.get("source") == "onsite"), key=lambda e: e["metric"])


@pytest.fixture
def ada(stack):
    """Ada ordered (her profile, the catalog and the store's address are known); her click token."""
    place_ada(stack)
    assert stack.deliver(webhook_event("store/order/created", {"type": "order", "id": 1001}))["statusCode"] == 200
    stack.triggers()  # the order's own triggers, out of the way
    profile_id = next(p["id"] for p in stack.profiles() if p["email"] == "ada@example.com")
    return profile_id, click_token(CLIENT_SECRET, STORE_HASH, profile_id, datetime.now(UTC))


def test_a_clicked_through_visitor_s_views_are_events_once_with_the_catalogs_facts(stack, ada):
    profile_id, token = ada
    status, answer, headers = beacon(
        stack, {"metric": "Viewed Product", "token": token, "product_id": 101, "url": f"{STOREFRONT}/x"}
    )
    assert (status, answer["status"]) == (202, "tracked") and answer["visitor"]  # the cookie's token
    assert headers["Access-Control-Allow-Origin"] == STOREFRONT
    for _ in range(2):  # a reload and a replay, with the visitor token the snippet keeps
        assert beacon(stack, {"metric": "Viewed Product", "token": answer["visitor"], "product_id": 101})[0] == 202
    beacon(stack, {"metric": "Active on Site", "token": answer["visitor"], "url": f"{STOREFRONT}/"})
    beacon(stack, {"metric": "Active on Site", "token": answer["visitor"], "url": f"{STOREFRONT}/y"})
    active, viewed = onsite_events(stack)
    assert (active["metric"], viewed["metric"]) == ("Active on Site", "Viewed Product")
    assert viewed["profile_id"] == profile_id and viewed["properties"]["Name"] == "Linen Shirt"
    assert viewed["properties"]["URL"] == f"{STOREFRONT}/linen-shirt/"  # the catalog's, not the page's
    assert viewed["value"] == 40
    [trigger] = stack.triggers()
    assert (trigger["flow"], trigger["event"]["id"]) == ("Browse Abandonment", viewed["pk"])


def test_anonymous_visitors_bots_and_unknown_products_leave_nothing(stack, ada):
    _, token = ada
    assert beacon(stack, {"metric": "Viewed Product", "product_id": 101})[1] == {
        "status": "ignored",
        "reason": "anonymous",
    }
    googlebot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    assert (
        beacon(stack, {"metric": "Viewed Product", "token": token, "product_id": 101}, agent=googlebot)[1]["reason"]
        == "bot"
    )
    assert (
        beacon(stack, {"metric": "Viewed Product", "token": token, "product_id": 999})[1]["reason"] == "unknown product"
    )
    assert onsite_events(stack) == [] and stack.triggers() == []


@pytest.mark.parametrize(
    ("body", "options", "status"),
    [
        ("{", {}, 400),
        ({"metric": "Viewed Product", "token": "forged.token", "product_id": 101}, {}, 401),
        ({"metric": "Viewed Product", "product_id": 101, "url": "x" * 5000}, {}, 413),
        ({"metric": "Viewed Product", "product_id": 101}, {"origin": "https://evil.example"}, 403),
        ({"metric": "Active on Site"}, {"store": "nosuchstore"}, 404),
        ({"metric": "Active on Site"}, {"store": ""}, 400),
    ],
    ids=["malformed", "forged", "oversized", "foreign-origin", "unknown-store", "no-store"],
)
def test_bad_beacons_get_a_clear_4xx_and_write_nothing(stack, ada, body, options, status):
    got, answer, _ = beacon(stack, body, **options)
    assert got == status and answer["error"]
    assert onsite_events(stack) == []


def test_an_expired_click_token_and_another_stores_are_refused(stack, ada):
    profile_id, _ = ada
    old = click_token(CLIENT_SECRET, STORE_HASH, profile_id, datetime.now(UTC) - timedelta(days=31))
    other = click_token(CLIENT_SECRET, "otherstore", profile_id, datetime.now(UTC))
    for token in (old, other):
        assert beacon(stack, {"metric": "Active on Site", "token": token})[0] == 401
    assert onsite_events(stack) == []


def test_a_signed_in_shopper_is_known_by_bigcommerces_customer_jwt(stack, ada):
    profile_id, _ = ada
    now = datetime.now(UTC)
    claims = {
        "customer": {"id": 7, "email": "ada@example.com", "group_id": "1"},
        "iss": "bc/apps",
        "sub": STORE_HASH,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=15)).timestamp()),
        "store_hash": STORE_HASH,
        "operation": "current_customer",
    }
    signed = jwt.encode(claims, CLIENT_SECRET, algorithm="HS256")
    assert (
        beacon(stack, {"metric": "Viewed Product", "customer_jwt": signed, "product_id": 102})[1]["status"] == "tracked"
    )
    [viewed] = onsite_events(stack)
    assert (viewed["profile_id"], viewed["properties"]["Name"]) == (profile_id, "Ceramic Mug")
    forged = jwt.encode(claims, "not-the-apps-secret-but-long-enough-32b", algorithm="HS256")
    assert beacon(stack, {"metric": "Viewed Product", "customer_jwt": forged, "product_id": 101})[0] == 401


def test_a_burst_from_one_address_is_cut_off_with_429(stack, ada):
    _, token = ada
    statuses = [beacon(stack, {"metric": "Active on Site", "token": token}, ip="203.0.113.9")[0] for _ in range(40)]
    assert statuses.count(429) >= 5 and set(statuses) == {202, 429}
    # Another address has a bucket of its own (a beacon without a token counts against its IP only).
    assert beacon(stack, {"metric": "Active on Site"}, ip="203.0.113.10")[:2] == (
        202,
        {"status": "ignored", "reason": "anonymous"},
    )


def test_the_cli_mints_a_click_token_the_route_takes(stack, ada, capsys):
    handle = stack.handle()
    assert cli._onsite_token(handle, SimpleNamespace(email="Ada@example.com")) == 0
    token = capsys.readouterr().out.strip()
    assert beacon(stack, {"metric": "Active on Site", "token": token})[1]["status"] == "tracked"
    assert cli._onsite_token(handle, SimpleNamespace(email="nobody@example.com")) == 1


def test_install_puts_the_snippet_in_script_manager_once_as_analytics(stack):
    handle = stack.handle()
    endpoint = "https://abc.execute-api.us-east-1.amazonaws.com"
    args = SimpleNamespace(stack_name=None, endpoint=endpoint, client_id="app-1", store=None, keep_anonymous_views=True)
    assert cli._onsite_install(handle, args) == 0
    assert cli._onsite_install(handle, args) == 0  # again: the same script, updated
    [script] = stack.store.scripts.values()
    assert (script["name"], script["kind"], script["consent_category"], script["visibility"]) == (
        "bcsync onsite tracking",
        "script_tag",
        "analytics",
        "storefront",
    )
    assert 'endpoint: "https://abc.execute-api.us-east-1.amazonaws.com"' in script["html"]
    assert 'store: "sandbox"' in script["html"] and 'clientId: "app-1"' in script["html"]
    assert "keepAnonymous: true" in script["html"]


def test_a_view_kept_while_anonymous_is_recorded_at_its_own_time_once_the_visitor_is_known(stack, ada):
    _, token = ada
    three_days_ago = datetime.now(UTC).replace(microsecond=0) - timedelta(days=3)
    kept = {
        "metric": "Viewed Product",
        "token": token,
        "product_id": 102,
        "viewed_at": int(three_days_ago.timestamp() * 1000),
    }
    assert beacon(stack, kept)[1]["status"] == "tracked"
    [viewed] = onsite_events(stack)
    assert viewed["time"] == three_days_ago.strftime("%Y-%m-%dT%H:%M:%SZ")
    too_old = {**kept, "viewed_at": int((three_days_ago - timedelta(days=12)).timestamp() * 1000)}
    assert beacon(stack, too_old)[0] == 400


CLAIM = "a-random-claim-of-32-characters_"


def test_a_newsletter_sign_up_makes_the_browser_known_once_the_subscriber_webhook_links_it(stack, ada):
    submitted = {"metric": "Active on Site", "claim": CLAIM, "signup_email": "Lin@Example.com"}
    assert beacon(stack, submitted)[1] == {"status": "ignored", "reason": "anonymous"}  # kept, not yet known
    later = {"metric": "Viewed Product", "claim": CLAIM, "product_id": 101, "url": f"{STOREFRONT}/x"}
    assert beacon(stack, later)[1]["reason"] == "anonymous"  # no subscriber yet
    stack.store.subscribe(5, email="lin@example.com", at=datetime.now(UTC))  # the form's post
    assert (
        stack.deliver(webhook_event("store/subscriber/created", {"type": "subscriber", "id": 5}))["statusCode"] == 200
    )
    status, answer, _ = beacon(stack, later)
    assert (status, answer["status"]) == (202, "tracked") and answer["visitor"]  # the cookie's token from now on
    lin = next(p["id"] for p in stack.profiles() if p["email"] == "lin@example.com")
    [viewed] = onsite_events(stack)
    assert (viewed["metric"], viewed["profile_id"]) == ("Viewed Product", lin)
    again = beacon(stack, {"metric": "Viewed Product", "token": answer["visitor"], "product_id": 101})
    assert again[1]["status"] == "tracked" and len(onsite_events(stack)) == 1  # the same view, once
    # What the sign-up left holds digests only: neither the claim nor the address can be read back.
    signups = [item for item in stack.table("ProfilesTable") if "#signup" in item["pk"]]
    assert len(signups) == 2 and all(item["expires_at"] > time.time() for item in signups)
    assert not [i for i in signups if CLAIM in json.dumps(i, default=str) or "lin@" in json.dumps(i, default=str)]


def test_a_sign_up_names_no_one_for_an_address_typed_long_after_it_subscribed_or_another_claim(stack, ada):
    stack.store.subscribe(5, email="lin@example.com", at=datetime.now(UTC) - timedelta(minutes=30))
    stack.deliver(webhook_event("store/subscriber/created", {"type": "subscriber", "id": 5}))
    # Someone types Lin's address into the form half an hour after she subscribed: no link for them.
    beacon(stack, {"metric": "Active on Site", "claim": CLAIM, "signup_email": "lin@example.com"})
    assert beacon(stack, {"metric": "Active on Site", "claim": CLAIM})[1]["reason"] == "anonymous"
    assert beacon(stack, {"metric": "Active on Site", "claim": "x" * 32})[1]["reason"] == "anonymous"
    assert beacon(stack, {"metric": "Active on Site", "claim": "short"})[0] == 400
    assert beacon(stack, {"metric": "Active on Site", "claim": CLAIM, "signup_email": "not-an-address"})[0] == 400
    assert onsite_events(stack) == []
