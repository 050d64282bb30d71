"""Standard Webhooks verification and the shared-token fallback (pure, clock injected)."""

from datetime import UTC, datetime, timedelta

import pytest

from bcsync.domain.refusals import Refusal
from bcsync.domain.stores import StoreCredentials
from bcsync.domain.webhooks import WebhookRejected, authenticate, sign

SECRET = "client-secret-for-tests"
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
BODY = '{"scope":"store/order/created","data":{"type":"order","id":1}}'
CREDENTIALS = StoreCredentials(access_token="t", client_secret=SECRET, webhook_token="shared-token")


def signed(body: str = BODY, at: datetime = NOW, secret: str = SECRET) -> dict[str, str]:
    return sign(secret, "msg_1", at, body)


def test_valid_signature_passes():
    authenticate(signed(), BODY, CREDENTIALS, now=NOW)


def test_signature_matches_what_standardwebhooks_verify_accepts():
    """Our clock-injected check and the library's own verify agree on the same headers."""
    import base64
    import time

    from standardwebhooks import Webhook

    headers = sign(SECRET, "msg_9", datetime.fromtimestamp(int(time.time()), tz=UTC), BODY)
    Webhook(base64.b64encode(SECRET.encode()).decode()).verify(BODY, headers)


@pytest.mark.parametrize("tampered", [BODY.replace('"id":1', '"id":2'), BODY + " ", BODY.replace(":", ": ")])
def test_tampered_or_reserialised_body_is_rejected(tampered):
    assert tampered != BODY
    with pytest.raises(WebhookRejected) as rejected:
        authenticate(signed(), tampered, CREDENTIALS, now=NOW)
    assert rejected.value.reason is Refusal.UNAUTHENTICATED


def test_wrong_secret_is_rejected():
    with pytest.raises(WebhookRejected):
        authenticate(signed(secret="another"), BODY, CREDENTIALS, now=NOW)


@pytest.mark.parametrize("skew", [timedelta(minutes=5, seconds=1), -timedelta(minutes=5, seconds=1)])
def test_timestamps_outside_five_minutes_are_rejected(skew):
    with pytest.raises(WebhookRejected, match="tolerance"):
        authenticate(signed(at=NOW + skew), BODY, CREDENTIALS, now=NOW)


def test_timestamp_just_inside_the_window_passes():
    authenticate(signed(at=NOW - timedelta(minutes=4, seconds=59)), BODY, CREDENTIALS, now=NOW)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp"])
def test_missing_signature_headers_are_rejected(missing):
    headers = signed()
    del headers[missing]
    with pytest.raises(WebhookRejected) as rejected:
        authenticate(headers, BODY, CREDENTIALS, now=NOW)
    assert rejected.value.reason is Refusal.UNAUTHENTICATED


def test_no_credentials_at_all_is_rejected():
    with pytest.raises(WebhookRejected, match="missing"):
        authenticate({}, BODY, CREDENTIALS, now=NOW)


@pytest.mark.parametrize("bad", ["not-a-number", "", "1e99"])
def test_invalid_timestamp_is_rejected(bad):
    headers = {**signed(), "webhook-timestamp": bad}
    with pytest.raises(WebhookRejected):
        authenticate(headers, BODY, CREDENTIALS, now=NOW)


@pytest.mark.parametrize("signature", ["garbage", "v1,", "v2,abc", "v1,@@@"])
def test_malformed_signature_is_rejected_not_crashed(signature):
    headers = {**signed(), "webhook-signature": signature}
    with pytest.raises(WebhookRejected):
        authenticate(headers, BODY, CREDENTIALS, now=NOW)


def test_one_valid_signature_among_several_passes():
    good = signed()["webhook-signature"]
    headers = {**signed(), "webhook-signature": f"v1,b2xkLXNlY3JldA== {good}"}
    authenticate(headers, BODY, CREDENTIALS, now=NOW)


def test_shared_token_header_passes_and_wrong_token_fails():
    authenticate({"x-webhook-token": "shared-token"}, BODY, CREDENTIALS, now=NOW)
    with pytest.raises(WebhookRejected):
        authenticate({"x-webhook-token": "shared-tokeN"}, BODY, CREDENTIALS, now=NOW)


def test_token_is_refused_when_the_store_has_none_configured():
    without = StoreCredentials(access_token="t", client_secret=SECRET)
    with pytest.raises(WebhookRejected):
        authenticate({"x-webhook-token": "anything"}, BODY, without, now=NOW)
