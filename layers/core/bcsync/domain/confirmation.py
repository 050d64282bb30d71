"""Signed, expiring links and tokens (double opt-in confirmation, unsubscribe, cart recovery, onsite
click and visitor tokens):
`<payload>.<signature>`, both base64url.

The payload names the store, the link's subject (a profile, or the checkout event a cart is
restored from) and the expiry; the signature is HMAC-SHA256 keyed with
the store's client secret over a purpose prefix and the payload, so a token made for anything
else never verifies here. Reading the store from the payload before verifying is safe: it only
chooses which secret to check against.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bcsync.domain.refusals import Refusal, Refused
from bcsync.domain.stores import STORE_HASH

PURPOSE = b"bcsync.subscription-confirmation."
# An unsubscribe link is signed for its own purpose: neither kind of link ever works as the other.
UNSUBSCRIBE_PURPOSE = b"bcsync.unsubscribe."
CART_RECOVERY_PURPOSE = b"bcsync.cart-recovery."
# Onsite tracking: a click token (in flow emails' links) becomes a visitor token (a first-party
# cookie). The first lives as long as the email is worth opening, the second as a cookie usefully does.
CLICK_PURPOSE = b"bcsync.onsite-click."
VISITOR_PURPOSE = b"bcsync.onsite-visitor."
CLICK_TOKEN_LIFE = timedelta(days=30)
VISITOR_TOKEN_LIFE = timedelta(days=395)
MAX_TOKEN_CHARS = 512


class InvalidConfirmation(Refused):
    """A link we refuse; the message is shown to the person who clicked it."""


@dataclass(frozen=True)
class LinkClaims:
    store_hash: str
    subject: str
    expires_at: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: str, payload: str, purpose: bytes) -> str:
    return _b64(hmac.new(secret.encode(), purpose + payload.encode(), hashlib.sha256).digest())


def issue_token(secret: str, claims: LinkClaims, *, purpose: bytes = PURPOSE) -> str:
    body = {"s": claims.store_hash, "p": claims.subject, "x": int(claims.expires_at.timestamp())}
    payload = _b64(json.dumps(body, separators=(",", ":")).encode())
    return f"{payload}.{_signature(secret, payload, purpose)}"


def read_claims(token: str | None) -> LinkClaims:
    """The claims as written, not yet trusted: enough to find the store's secret."""
    if not token:
        raise InvalidConfirmation(Refusal.INVALID, "This link is incomplete: it has no token.")
    if len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
        raise InvalidConfirmation(Refusal.INVALID, "This link is not valid.")
    payload = token.split(".", 1)[0]
    try:
        body = json.loads(_unb64(payload))
        claims = LinkClaims(
            store_hash=str(body["s"]),
            subject=str(body["p"]),
            expires_at=datetime.fromtimestamp(int(body["x"]), tz=UTC),
        )
    except (binascii.Error, ValueError, KeyError, TypeError, OverflowError, OSError):
        raise InvalidConfirmation(Refusal.INVALID, "This link is not valid.") from None
    if not STORE_HASH.match(claims.store_hash):
        raise InvalidConfirmation(Refusal.INVALID, "This link is not valid.")
    return claims


def verify_token(token: str, secret: str, *, now: datetime, purpose: bytes = PURPOSE) -> LinkClaims:
    claims = read_claims(token)
    payload, signature = token.split(".", 1)
    if not hmac.compare_digest(signature.encode(), _signature(secret, payload, purpose).encode()):
        raise InvalidConfirmation(Refusal.INVALID, "This link is not valid.")
    if now >= claims.expires_at:
        raise InvalidConfirmation(
            Refusal.EXPIRED, "This confirmation link has expired. Subscribe again to get a new one."
        )
    return claims


def click_token(secret: str, store_hash: str, profile_id: str, now: datetime) -> str:
    """What a flow action adds to its store links (`?_bc=`)."""
    return issue_token(secret, LinkClaims(store_hash, profile_id, now + CLICK_TOKEN_LIFE), purpose=CLICK_PURPOSE)


def visitor_token(secret: str, store_hash: str, profile_id: str, now: datetime) -> str:
    """What the snippet keeps in its first-party cookie once a click token has been shown."""
    claims = LinkClaims(store_hash, profile_id, now + VISITOR_TOKEN_LIFE)
    return issue_token(secret, claims, purpose=VISITOR_PURPOSE)
