"""Subscriber webhooks: consent as BigCommerce last said it, lists, Welcome Series, double opt-in."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from bcsync.domain.confirmation import LinkClaims, issue_token
from bcsync_ops.demo import CLIENT_SECRET
from tests.integration.conftest import ago, load_event, sqs_event, use_settings, webhook_event


def subscriber_event(scope: str, subscriber_id: int = 5):
    return webhook_event(f"store/subscriber/{scope}", {"type": "subscriber", "id": subscriber_id})


def only_profile(stack):
    (profile,) = stack.profiles()
    return profile


def confirm_event(token: str):
    event = load_event("subscription_confirm.json")
    event["rawQueryString"] = f"token={token}"
    event["queryStringParameters"] = {"token": token}
    return event


@pytest.fixture
def double_opt_in(stack, monkeypatch, tmp_path):
    use_settings(monkeypatch, tmp_path, {"stores": {"sandbox": {"double_opt_in": True}}})
    return stack


def test_subscriber_created_event_file_subscribes_and_starts_the_welcome_series_once(stack):
    subscribed_at = ago(hours=1)
    stack.store.subscribe(5, email="Lin@Example.com", first_name="Lin", at=subscribed_at)
    assert stack.deliver(load_event("subscriber_created.json"))["statusCode"] == 200
    profile = only_profile(stack)
    assert profile["email"] == "lin@example.com"
    assert profile["consent"]["email_marketing"] == "subscribed"
    assert profile["consent"]["consents"] == ["marketing_newsletter"]
    assert profile["consent"]["source"] == "storefront"
    assert profile["consent"]["updated_at"] == subscribed_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert profile["lists"] == ["Subscribers"]
    (trigger,) = stack.triggers()
    assert trigger["flow"] == "Welcome Series"
    assert trigger["event"] is None
    assert trigger["profile"]["consent"]["email_marketing"] == "subscribed"
    stack.deliver(subscriber_event("updated"))
    stack.deliver(load_event("subscriber_created.json"))
    assert stack.triggers() == []


def test_a_record_without_the_newsletter_consent_or_a_deleted_one_means_unsubscribed(stack):
    stack.store.subscribe(5, email="lin@example.com", at=ago(hours=3))
    stack.deliver(subscriber_event("created"))
    stack.store.set_consents(5, ("abandoned_cart",), at=ago(hours=2))
    stack.deliver(subscriber_event("updated"))
    profile = only_profile(stack)
    assert profile["consent"]["email_marketing"] == "unsubscribed"
    assert profile["consent"]["consents"] == ["abandoned_cart"]
    assert profile["lists"] == []
    stack.store.set_consents(5, ("marketing_newsletter",), at=ago(hours=1))
    stack.deliver(subscriber_event("updated"))
    assert only_profile(stack)["consent"]["email_marketing"] == "subscribed"
    stack.store.unsubscribe_record(5)
    stack.deliver(load_event("subscriber_deleted.json"))
    profile = only_profile(stack)
    assert profile["consent"]["email_marketing"] == "unsubscribed"
    assert profile["consent"]["consents"] == []
    # Subscribed twice, so two Welcome Series episodes; unsubscribing sends nothing.
    assert [t["flow"] for t in stack.triggers()] == ["Welcome Series", "Welcome Series"]


def test_a_customer_who_subscribes_is_one_profile_on_both_lists(stack):
    stack.store.add_customer(7, email="ada@example.com", first_name="Ada", last_name="Lovelace", at=ago(days=1))
    stack.deliver(webhook_event("store/customer/created", {"type": "customer", "id": 7}))
    stack.store.subscribe(5, email="ada@example.com", at=ago(hours=1))
    stack.deliver(subscriber_event("created"))
    profile = only_profile(stack)
    assert profile["lists"] == ["Customers", "Subscribers"]
    assert profile["external_id"] == "7"


def test_a_deleted_record_whose_address_subscribed_again_stays_subscribed(stack):
    stack.store.subscribe(5, email="lin@example.com", at=ago(hours=3))
    stack.deliver(subscriber_event("created"))
    stack.store.unsubscribe_record(5)
    stack.store.subscribe(6, email="lin@example.com", at=ago(hours=1))
    stack.deliver(subscriber_event("deleted"))
    assert only_profile(stack)["consent"]["email_marketing"] == "subscribed"


def test_double_opt_in_makes_a_new_subscriber_pending_with_a_signed_link(double_opt_in):
    stack = double_opt_in
    stack.store.subscribe(5, email="lin@example.com", at=ago(minutes=5))
    stack.deliver(subscriber_event("created"))
    profile = only_profile(stack)
    assert profile["consent"]["email_marketing"] == "pending"
    assert profile["lists"] == []
    (trigger,) = stack.triggers()
    assert trigger["flow"] == "Confirm Subscription"
    url = trigger["details"]["confirmation_url"]
    assert url.startswith("https://local/subscriptions/confirm?token=")  # the domain the webhook came in on
    token = parse_qs(urlsplit(url).query)["token"][0]

    response = stack.invoke("ConfirmSubscriptionFunction", confirm_event(token))
    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"].startswith("text/html")
    assert "subscribed" in response["body"]
    profile = only_profile(stack)
    assert profile["consent"]["email_marketing"] == "subscribed"
    assert profile["consent"]["source"] == "double opt-in confirmation"
    assert profile["lists"] == ["Subscribers"]
    (welcome,) = stack.triggers()
    assert welcome["flow"] == "Welcome Series"

    again = stack.invoke("ConfirmSubscriptionFunction", confirm_event(token))
    assert again["statusCode"] == 200
    stack.deliver(subscriber_event("updated"))  # BigCommerce still says subscribed: stays confirmed
    assert only_profile(stack)["consent"]["email_marketing"] == "subscribed"
    assert stack.triggers() == []


def test_bad_expired_and_withdrawn_confirmation_links_get_a_clear_4xx_page(double_opt_in):
    stack = double_opt_in
    stack.store.subscribe(5, email="lin@example.com", at=ago(minutes=5))
    stack.deliver(subscriber_event("created"))
    profile_id = only_profile(stack)["id"]
    expired = issue_token(CLIENT_SECRET, LinkClaims("sandbox", profile_id, datetime.now(UTC) - timedelta(minutes=1)))
    forged = issue_token("not-the-secret", LinkClaims("sandbox", profile_id, ago(hours=-1)))
    for token, status in (("garbage", 400), (forged, 400), (expired, 410), ("", 400)):
        response = stack.invoke("ConfirmSubscriptionFunction", confirm_event(token))
        assert response["statusCode"] == status, token
        assert "<h1>" in response["body"]
    assert only_profile(stack)["consent"]["email_marketing"] == "pending"

    stack.store.set_consents(5, (), at=ago(minutes=1))
    stack.deliver(subscriber_event("updated"))
    valid = issue_token(CLIENT_SECRET, LinkClaims("sandbox", profile_id, ago(hours=-1)))
    response = stack.invoke("ConfirmSubscriptionFunction", confirm_event(valid))
    assert response["statusCode"] == 409
    assert only_profile(stack)["consent"]["email_marketing"] == "unsubscribed"


def test_subscriber_webhooks_for_records_never_seen_and_deleted_are_acknowledged(stack):
    response = stack.deliver(subscriber_event("deleted", 99))
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["status"] == "unknown_subscriber"
    assert stack.profiles() == []


def test_a_welcome_lost_to_a_queue_fault_after_the_consent_was_saved_is_sent_once_on_retry(stack, monkeypatch):
    from bcsync.adapters.sqs import SqsTriggerPublisher

    send = SqsTriggerPublisher.publish
    calls = {"n": 0}

    def flaky(self, intent, profile, event):
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("SQS unreachable")
        return send(self, intent, profile, event)

    monkeypatch.setattr(SqsTriggerPublisher, "publish", flaky)
    stack.store.subscribe(5, email="lin@example.com", at=ago(hours=1))
    response = stack.deliver(load_event("subscriber_created.json"))
    assert json.loads(response["body"]) == {"status": "parked"}
    saved = only_profile(stack)
    assert saved["consent"]["email_marketing"] == "subscribed"  # saved before the send failed
    assert [intent["flow"] for intent in saved["outbox"]] == ["Welcome Series"]  # the promise is kept
    assert stack.triggers() == []
    assert stack.invoke_retry(sqs_event(stack.receive("RetryQueue"))) == {"batchItemFailures": []}
    assert [t["flow"] for t in stack.triggers()] == ["Welcome Series"]
    assert only_profile(stack)["outbox"] == []
    stack.deliver(subscriber_event("updated"))
    assert stack.triggers() == []
