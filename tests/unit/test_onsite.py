"""Onsite beacons: what a body may say, which browsers are known, when two views are one, bursts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from bcsync.domain.confirmation import click_token, visitor_token
from bcsync.domain.onsite import (
    BeaconRefused,
    TokenBuckets,
    check_customer_jwt,
    check_token,
    dedupe_basis,
    is_bot,
    parse_beacon,
    signup_claim,
)
from bcsync.domain.profiles import email_digest
from bcsync.domain.refusals import Refusal
from bcsync.domain.signups import SignupLink

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
SECRET = "an-app-client-secret-of-forty-characters"


def refused(body: str) -> Refusal:
    with pytest.raises(BeaconRefused) as error:
        parse_beacon(body)
    return error.value.reason


def test_a_beacon_is_small_json_naming_a_metric_and_for_a_view_a_product():
    beacon = parse_beacon(
        json.dumps({"metric": "Viewed Product", "token": "t", "product_id": 101, "url": "https://s.example/p"})
    )
    assert (beacon.metric, beacon.product_id) == ("Viewed Product", 101)
    assert parse_beacon('{"metric": "Active on Site", "name": "ignored"}').product_id is None
    assert refused("x" * 4097) is Refusal.TOO_LARGE
    for body in (
        "not json",
        "[1]",
        '{"metric": "Bought Stuff"}',
        '{"metric": "Viewed Product"}',
        '{"metric": "Viewed Product", "product_id": -1}',
        '{"metric": "Active on Site", "url": "javascript:x"}',
        "[" * 5000,
    ):
        assert refused(body) in (Refusal.INVALID, Refusal.TOO_LARGE), body


def test_click_and_visitor_tokens_name_a_person_of_this_store_and_nothing_else_passes():
    click = check_token(click_token(SECRET, "s", "p", NOW), SECRET, "s", NOW + timedelta(days=1))
    assert (click.visitor.profile_id, click.exchange) == ("p", True)
    kept = check_token(visitor_token(SECRET, "s", "p", NOW), SECRET, "s", NOW + timedelta(days=300))
    assert (kept.visitor.profile_id, kept.exchange) == ("p", False)
    for token, store, at in (
        (click_token(SECRET, "s", "p", NOW), "s", NOW + timedelta(days=31)),  # expired
        (click_token("another-app-client-secret-forty-characters", "s", "p", NOW), "s", NOW),  # forged
        (click_token(SECRET, "other", "p", NOW), "s", NOW),  # another store's
        ("garbage", "s", NOW),
    ):
        with pytest.raises(BeaconRefused) as error:
            check_token(token, SECRET, store, at)
        assert error.value.reason is Refusal.UNAUTHENTICATED


def customer_jwt(secret=SECRET, **claims):
    payload = {
        "customer": {"id": 7, "email": "ada@example.com", "group_id": "1"},
        "iss": "bc/apps",
        "sub": "s",
        "iat": int(NOW.timestamp()),
        "exp": int((NOW + timedelta(minutes=15)).timestamp()),
        "version": 1,
        "aud": "app-client-id",
        "application_id": "app",
        "store_hash": "s",
        "operation": "current_customer",
        **claims,
    }
    return jwt.encode(payload, secret, algorithm="HS256")


def test_a_signed_in_shoppers_jwt_verifies_with_the_apps_secret_for_this_store_only():
    visitor = check_customer_jwt(customer_jwt(), SECRET, "s", NOW)
    assert (visitor.customer_id, visitor.email) == (7, "ada@example.com")
    for token in (
        customer_jwt("another-app-client-secret-forty-characters"),
        customer_jwt(store_hash="other", sub="other"),
        customer_jwt(operation="something_else"),
        customer_jwt(exp=int((NOW - timedelta(hours=1)).timestamp())),
        jwt.encode({"customer": {"id": 7}, "store_hash": "s"}, SECRET, algorithm="HS256"),  # no exp
        customer_jwt().rsplit(".", 1)[0] + ".",  # unsigned
    ):
        with pytest.raises(BeaconRefused) as error:
            check_customer_jwt(token, SECRET, "s", NOW)
        assert error.value.reason is Refusal.UNAUTHENTICATED


def test_views_inside_one_half_hour_are_one_event_and_each_product_counts_apart():
    first = dedupe_basis("Viewed Product", "p", 101, NOW)
    assert dedupe_basis("Viewed Product", "p", 101, NOW + timedelta(minutes=29)) == first
    assert dedupe_basis("Viewed Product", "p", 101, NOW + timedelta(minutes=30)) != first
    assert dedupe_basis("Viewed Product", "p", 102, NOW) != first
    assert dedupe_basis("Active on Site", "p", 101, NOW) == dedupe_basis("Active on Site", "p", None, NOW)


def test_declared_crawlers_are_bots_and_browsers_are_not():
    assert is_bot("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")
    assert is_bot("facebookexternalhit/1.1") and is_bot(None) and is_bot("")
    assert not is_bot(
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
    )


def test_a_token_bucket_allows_a_burst_then_the_refill_rate():
    buckets = TokenBuckets(capacity=3, per_second=1)
    assert [buckets.take("ip", 0.0) for _ in range(4)] == [True, True, True, False]
    assert buckets.take("ip", 0.5) is False and buckets.take("ip", 1.2) is True
    assert buckets.take("other", 0.0) is True  # each key its own bucket


def test_a_views_id_is_known_before_its_product_is_read():
    from bcsync.domain.catalog import CatalogItem
    from bcsync.domain.onsite import onsite_event

    beacon = parse_beacon('{"metric": "Viewed Product", "product_id": 101}')
    item = CatalogItem(product_id=101, name="Linen Shirt", price=40, product_url="https://s.example/linen-shirt/")
    before = onsite_event("s", beacon, profile_id=None, item=None, at=NOW, dedupe_for="p")
    after = onsite_event("s", beacon, profile_id="p", item=item, at=NOW, dedupe_for="p")
    assert before.id == after.id == f"s:viewed-product:{dedupe_basis('Viewed Product', 'p', 101, NOW)}"
    assert (after.properties["Name"], after.properties["URL"], after.source) == (
        "Linen Shirt",
        "https://s.example/linen-shirt/",
        "onsite",
    )


def test_the_click_token_never_stays_in_a_recorded_url():
    from bcsync.domain.onsite import onsite_event, without_token

    assert (
        without_token("https://s.example/?_bc=secret-token&utm_source=email") == "https://s.example/?utm_source=email"
    )
    assert without_token("https://s.example/p") == "https://s.example/p"
    beacon = parse_beacon('{"metric": "Active on Site", "url": "https://s.example/?_bc=secret-token"}')
    event = onsite_event("s", beacon, profile_id="p", item=None, at=NOW, dedupe_for="p")
    assert "secret-token" not in str(event.properties)


def test_a_kept_view_is_dated_when_it_was_kept_within_14_days():
    def kept(days: float, metric: str = "Viewed Product"):
        at = int((NOW - timedelta(days=days)).timestamp() * 1000)
        return parse_beacon(json.dumps({"metric": metric, "product_id": 101, "viewed_at": at}))

    assert kept(3).seen_at(NOW) == NOW - timedelta(days=3)
    assert parse_beacon('{"metric": "Viewed Product", "product_id": 101}').seen_at(NOW) == NOW
    with pytest.raises(BeaconRefused):
        kept(15).seen_at(NOW)
    assert refused(json.dumps({"metric": "Active on Site", "viewed_at": 1})) is Refusal.INVALID


def test_a_sign_up_claim_names_the_subscriber_created_about_when_its_form_was_sent_and_for_a_day():
    beacon = parse_beacon(json.dumps({"metric": "Active on Site", "claim": "c" * 32, "signup_email": " Lin@X.org "}))
    claim = signup_claim(beacon, NOW)
    assert claim is not None and claim.email_digest == email_digest("lin@x.org")  # as the webhook's address
    assert signup_claim(parse_beacon(json.dumps({"metric": "Active on Site", "claim": "c" * 32})), NOW) is None

    def names(subscribed_at: datetime, now: datetime = NOW) -> str | None:
        return claim.identifies(SignupLink("lin", subscribed_at), now)

    assert names(NOW + timedelta(seconds=5)) == "lin"
    assert names(NOW - timedelta(minutes=1)) == "lin"  # the form's post outran the beacon
    assert names(NOW + timedelta(minutes=9)) == "lin"
    assert names(NOW - timedelta(minutes=3)) is None  # subscribed before: someone typed a known address
    assert names(NOW + timedelta(minutes=11)) is None  # another sign-up later
    assert names(NOW, now=NOW + timedelta(days=1, seconds=1)) is None  # the claim has lapsed
    assert claim.identifies(None, NOW) is None
    for body in (
        {"metric": "Active on Site", "signup_email": "lin@x.org"},  # an address with no claim
        {"metric": "Active on Site", "claim": "c" * 32, "signup_email": "nobody"},
        {"metric": "Active on Site", "claim": "c" * 21},
        {"metric": "Active on Site", "claim": "c" * 31 + "!"},
    ):
        assert refused(json.dumps(body)) is Refusal.INVALID, body
