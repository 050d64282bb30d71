"""Onsite tracking, the pure part: what a beacon may say, who sent it, and when two views are one.

Only known browsers are tracked: one that followed a signed click link from a flow email (its
click token is exchanged for a longer-lived visitor token the snippet keeps in a first-party
cookie), a signed-in shopper whose BigCommerce current-customer JWT verifies with the app's
client secret, or a browser whose newsletter form created a subscriber (its random claim, made
as the form was submitted, is honoured once the subscriber webhook links the address). Anything
else is acknowledged and forgotten. Product facts never come from the
browser: a beacon names a product id, the catalog says the rest.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import jwt
from pydantic import BaseModel, ConfigDict, Field, PositiveInt, ValidationError

from bcsync.domain.catalog import CatalogItem
from bcsync.domain.confirmation import (
    CLICK_PURPOSE,
    VISITOR_PURPOSE,
    InvalidConfirmation,
    verify_token,
)
from bcsync.domain.events import MarketingEvent, Metric, event_id
from bcsync.domain.profiles import email_digest, normalize_email
from bcsync.domain.refusals import Refusal, Refused
from bcsync.domain.signups import SignupClaim

MAX_BEACON_BYTES = 4096
# Active on Site at most once a person per window; Viewed Product once a person and product.
DEDUPE_WINDOW = timedelta(minutes=30)
# How long a browser may keep an anonymous visitor's views (the opt-in setting) before sending them.
KEPT_VIEW_LIFE = timedelta(days=14)
# Crawlers that say what they are; a browser that hides it is rate-limited instead.
BOT_AGENTS = re.compile(
    r"bot\b|bot/|crawl|spider|slurp|bingpreview|facebookexternalhit|mediapartners|adsbot|googleother|"
    r"lighthouse|pingdom|uptimerobot|statuscake|headless\s?shell",
    re.IGNORECASE,
)

OnsiteMetric = Literal["Viewed Product", "Active on Site"]


class BeaconRefused(Refused):
    """A beacon answered with a 4xx: nothing is written."""


class Beacon(BaseModel):
    """A beacon's body (DESIGN.md): `text/plain` JSON, so the browser sends it without a preflight."""

    model_config = ConfigDict(extra="ignore", frozen=True, hide_input_in_errors=True)

    metric: OnsiteMetric
    token: str | None = Field(default=None, max_length=1024)
    customer_jwt: str | None = Field(default=None, max_length=4096)
    product_id: PositiveInt | None = None
    url: str = Field(default="", max_length=2048)
    # A view the browser kept while its visitor was anonymous (the opt-in setting), in epoch ms.
    viewed_at: PositiveInt | None = None
    # A random secret the browser made when a newsletter form was submitted, and (on that beacon
    # only) the address it was submitted with.
    claim: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{22,64}$")
    signup_email: str | None = Field(default=None, max_length=254)

    def seen_at(self, now: datetime) -> datetime:
        """When the view happened: now, or (a kept view) when it was kept, within 14 days."""
        if self.viewed_at is None:
            return now
        at = datetime.fromtimestamp(self.viewed_at / 1000, tz=UTC)
        if not now - KEPT_VIEW_LIFE <= at <= now + timedelta(minutes=5):
            raise BeaconRefused(Refusal.INVALID, "viewed_at: within the last 14 days")
        return min(at, now)


def parse_beacon(body: str) -> Beacon:
    if len(body.encode()) > MAX_BEACON_BYTES:
        raise BeaconRefused(Refusal.TOO_LARGE, f"beacon larger than {MAX_BEACON_BYTES} bytes")
    try:
        raw = json.loads(body)
    except (json.JSONDecodeError, RecursionError):
        raise BeaconRefused(Refusal.INVALID, "beacon is not JSON") from None
    if not isinstance(raw, dict):
        raise BeaconRefused(Refusal.INVALID, "beacon must be a JSON object")
    try:
        beacon = Beacon.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"]) or "beacon"
        raise BeaconRefused(Refusal.INVALID, f"{where}: {error['msg']}") from None
    if beacon.metric == "Viewed Product" and beacon.product_id is None:
        raise BeaconRefused(Refusal.INVALID, "product_id: required for Viewed Product")
    if beacon.url and not re.match(r"^https?://", beacon.url):
        raise BeaconRefused(Refusal.INVALID, "url: must be http(s)")
    if beacon.viewed_at is not None and beacon.metric != "Viewed Product":
        raise BeaconRefused(Refusal.INVALID, "viewed_at: only for a kept Viewed Product")
    if beacon.signup_email is not None and (beacon.claim is None or normalize_email(beacon.signup_email) is None):
        raise BeaconRefused(Refusal.INVALID, "signup_email: an email address, sent with the claim it is for")
    return beacon


def is_bot(user_agent: str | None) -> bool:
    return not user_agent or bool(BOT_AGENTS.search(user_agent))


# ---------------------------------------------------------------------- who is browsing
@dataclass(frozen=True)
class Visitor:
    """A known browser: the profile it is, or the account it is signed in to."""

    profile_id: str | None = None
    customer_id: int | None = None
    email: str | None = None


@dataclass(frozen=True)
class TokenCheck:
    visitor: Visitor
    # A click token was shown: the browser gets a visitor token for its cookie.
    exchange: bool = False


def check_token(token: str, secret: str, store_hash: str, now: datetime) -> TokenCheck:
    """A click or visitor token of this store; 401 for anything else (forged, expired, another
    store's, another kind of link's)."""
    for purpose, exchange in ((VISITOR_PURPOSE, False), (CLICK_PURPOSE, True)):
        try:
            claims = verify_token(token, secret, now=now, purpose=purpose)
        except InvalidConfirmation:
            continue
        if claims.store_hash == store_hash:
            return TokenCheck(Visitor(profile_id=claims.subject), exchange=exchange)
    raise BeaconRefused(Refusal.UNAUTHENTICATED, "token is not valid")


def check_customer_jwt(token: str, secret: str, store_hash: str, now: datetime) -> Visitor:
    """BigCommerce's current-customer JWT (`/customer/current.jwt?app_client_id=`): HS256 with the
    app's client secret, for this store, not expired; 401 otherwise."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            # Expiry is judged against `now` below (the clock is passed in, as for webhooks).
            options={"require": ["exp", "iat"], "verify_aud": False, "verify_exp": False, "verify_iat": False},
        )
    except jwt.PyJWTError:
        raise BeaconRefused(Refusal.UNAUTHENTICATED, "customer_jwt is not valid") from None
    customer = claims.get("customer") or {}
    ours = claims.get("store_hash", claims.get("sub")) == store_hash and claims.get("operation") == "current_customer"
    if not ours or not isinstance(customer.get("id"), int):
        raise BeaconRefused(Refusal.UNAUTHENTICATED, "customer_jwt is not for this store")
    if datetime.fromtimestamp(int(claims["exp"]), tz=UTC) < now - timedelta(seconds=30):
        raise BeaconRefused(Refusal.UNAUTHENTICATED, "customer_jwt has expired")
    if not customer.get("email"):
        raise BeaconRefused(Refusal.UNAUTHENTICATED, "customer_jwt names no email")
    return Visitor(customer_id=customer["id"], email=str(customer["email"]))


def claim_digest(claim: str) -> str:
    return hashlib.sha256(claim.encode()).hexdigest()


def signup_claim(beacon: Beacon, now: datetime) -> SignupClaim | None:
    """The claim a form-submit beacon makes; None for any other beacon."""
    if beacon.claim is None or beacon.signup_email is None:
        return None
    return SignupClaim(claim_digest(beacon.claim), email_digest(beacon.signup_email), now)


# ---------------------------------------------------------------------- one view or two
def dedupe_basis(metric: OnsiteMetric, profile_id: str, product_id: int | None, at: datetime) -> str:
    """The part of the event id that makes views inside one 30-minute window one event: replays
    and quick reloads write nothing new."""
    window = int(at.timestamp() // DEDUPE_WINDOW.total_seconds())
    subject = f"product:{product_id}" if metric == "Viewed Product" else "site"
    return f"onsite:{profile_id}:{subject}:{window}"


# ---------------------------------------------------------------------- bursts
@dataclass
class TokenBuckets:
    """A token bucket per key (a visitor token, an IP): `capacity` at once, `per_second` after."""

    capacity: float
    per_second: float
    _state: dict[str, tuple[float, float]] = field(default_factory=dict)
    max_keys: int = 10_000

    def take(self, key: str, now: float) -> bool:
        tokens, at = self._state.get(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - at) * self.per_second)
        allowed = tokens >= 1
        self._state[key] = (tokens - 1 if allowed else tokens, now)
        if len(self._state) > self.max_keys:  # a function instance forgets its oldest keys
            for stale in list(self._state)[: len(self._state) // 2]:
                del self._state[stale]
        return allowed


def without_token(url: str) -> str:
    """The page's URL without the click token a link brought: a credential is not a property."""
    parts = urlsplit(url)
    kept = [(name, value) for name, value in parse_qsl(parts.query, keep_blank_values=True) if name != "_bc"]
    return urlunsplit(parts._replace(query=urlencode(kept)))


# ---------------------------------------------------------------------- the event
def onsite_event(
    store_hash: str,
    beacon: Beacon,
    *,
    profile_id: str | None,
    item: CatalogItem | None,
    at: datetime,
    dedupe_for: str,
) -> MarketingEvent:
    """Viewed Product carries the product as the catalog knows it (never as the browser says);
    Active on Site the page. `dedupe_for` is the person the window is kept for."""
    metric = Metric(beacon.metric)
    properties: dict[str, Any] = {"URL": without_token(beacon.url)}
    value = Decimal(0)
    if item is not None:
        price = item.sale_price or item.price
        value = price
        properties = {
            "Name": item.name,
            "ProductID": item.product_id,
            "SKU": item.sku,
            "Price": price,
            "Categories": item.category_names,
            "Brand": item.brand_name,
            "ImageURL": item.image_url,
            "URL": item.product_url,
        }
    basis = dedupe_basis(beacon.metric, dedupe_for, beacon.product_id, at)  # the same before the item is read
    return MarketingEvent(
        id=event_id(store_hash, metric, basis),
        store_hash=store_hash,
        metric=metric,
        profile_id=profile_id,
        time=at,
        value=value,
        currency="",
        properties=properties,
        source="onsite",
        source_id=basis,
    )
