"""`POST /track`: a storefront beacon from a known browser becomes a Viewed Product or Active on
Site event, through the same recorder as every other event (identity, counters, flow triggers).

Order of refusals: a declared crawler is acknowledged and forgotten; an oversized or malformed
body is refused (413, 400) before anything else is read; a burst past the token bucket of its IP or
token is refused (429); a page from another site is refused (403); a token or JWT that does not
verify is refused (401). An anonymous visitor is acknowledged (202) and nothing is stored.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from bcsync.domain.catalog import CatalogItem
from bcsync.domain.confirmation import visitor_token
from bcsync.domain.events import MarketingEvent
from bcsync.domain.onsite import (
    Beacon,
    BeaconRefused,
    TokenBuckets,
    Visitor,
    check_customer_jwt,
    check_token,
    claim_digest,
    is_bot,
    onsite_event,
    parse_beacon,
    signup_claim,
)
from bcsync.domain.refusals import Refusal
from bcsync.observability import logger, metrics
from bcsync.usecases.ports import (
    CatalogRepository,
    CredentialStore,
    DownstreamFault,
    ProfileRepository,
    SignupClaims,
    UnknownStore,
)
from bcsync.usecases.recording import EventRecorder, Sighting, checkout_contact

# A person browses a few pages a minute; a burst beyond this, from one IP or one token, is not one.
BURST = 30
PER_SECOND = 1.0
SITE_CACHE_SECONDS = 300.0


@dataclass(frozen=True)
class TrackAnswer:
    status: str  # tracked | ignored
    reason: str | None = None
    # For the snippet's first-party cookie, when a click token was shown.
    visitor: str | None = None

    def body(self) -> dict[str, str]:
        answer = {"status": self.status}
        if self.reason:
            answer["reason"] = self.reason
        if self.visitor:
            answer["visitor"] = self.visitor
        return answer


@dataclass(frozen=True)
class BeaconContext:
    store_hash: str
    origin: str | None
    user_agent: str | None
    ip: str
    now: datetime


class OnsiteTracker:
    def __init__(
        self,
        credentials: CredentialStore,
        profiles: ProfileRepository,
        catalog: CatalogRepository,
        recorder: EventRecorder,
        signups: SignupClaims,
        *,
        product: Callable[[str, int], CatalogItem | None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`product(store, id)`: the catalog's item, fetched from BigCommerce (and cached) the
        first time a product is seen."""
        self._credentials = credentials
        self._profiles = profiles
        self._catalog = catalog
        self._recorder = recorder
        self._signups = signups
        self._product = product
        self._clock = clock
        self._buckets = TokenBuckets(BURST, PER_SECOND)
        self._sites: dict[str, tuple[float, str | None]] = {}

    def track(self, body: str, context: BeaconContext) -> TrackAnswer:
        if is_bot(context.user_agent):
            return TrackAnswer("ignored", "bot")
        beacon = parse_beacon(body)
        now = self._clock()
        keys = [f"ip:{context.ip}"] + ([f"token:{beacon.token[-24:]}"] if beacon.token else [])
        if not all(self._buckets.take(key, now) for key in keys):
            raise BeaconRefused(Refusal.TOO_FREQUENT, "too many beacons; slow down")
        try:
            secret = self._credentials.credentials(context.store_hash).client_secret
        except UnknownStore:
            raise BeaconRefused(Refusal.UNKNOWN, f"unknown store {context.store_hash}") from None
        self._check_origin(context)
        visitor, exchanged = self._visitor(beacon, secret, context)
        if visitor is None:
            return TrackAnswer("ignored", "anonymous")
        answer = self._record(beacon, visitor, context)
        if exchanged and visitor.profile_id:
            return TrackAnswer(
                answer.status, answer.reason, visitor_token(secret, context.store_hash, visitor.profile_id, context.now)
            )
        return answer

    def _check_origin(self, context: BeaconContext) -> None:
        """A browser names the page's site; it must be the store's (the storefront's secure URL,
        read once every few minutes per function instance)."""
        if not context.origin:
            return
        now = self._clock()
        read_at, allowed = self._sites.get(context.store_hash, (float("-inf"), None))
        if now - read_at >= SITE_CACHE_SECONDS:
            info = self._catalog.get_store_info(context.store_hash)
            allowed = urlsplit(info.secure_url).netloc if info and info.secure_url else None
            if allowed:  # a store whose address is not recorded yet is asked again next time
                self._sites[context.store_hash] = (now, allowed)
        if urlsplit(context.origin).netloc != allowed:
            raise BeaconRefused(Refusal.FORBIDDEN, "this site may not send beacons for the store")

    def _visitor(self, beacon: Beacon, secret: str, context: BeaconContext) -> tuple[Visitor | None, bool]:
        if beacon.customer_jwt:
            return check_customer_jwt(beacon.customer_jwt, secret, context.store_hash, context.now), False
        if beacon.token:
            checked = check_token(beacon.token, secret, context.store_hash, context.now)
            return checked.visitor, checked.exchange
        if beacon.claim:
            signed_up = self._signed_up(beacon, beacon.claim, context)
            return signed_up, signed_up is not None
        return None, False

    def _signed_up(self, beacon: Beacon, claim: str, context: BeaconContext) -> Visitor | None:
        """A browser whose newsletter form created a subscriber: the form's beacon leaves its claim;
        a later beacon presenting the claim is known once the subscriber webhook has linked the
        address (until then it is anonymous)."""
        held = signup_claim(beacon, context.now)
        if held is not None:
            self._signups.hold(context.store_hash, held)
            return None
        found = self._signups.find(context.store_hash, claim_digest(claim))
        if found is None:
            return None
        profile_id = found.identifies(self._signups.linked(context.store_hash, found.email_digest), context.now)
        return Visitor(profile_id=profile_id) if profile_id else None

    def _record(self, beacon: Beacon, visitor: Visitor, context: BeaconContext) -> TrackAnswer:
        """One read (the person, whether the event exists, the product's catalog item), then the
        recorder's write; a product not cached yet is read from BigCommerce first."""
        store_hash = context.store_hash
        beacon.seen_at(context.now)  # a kept view older than 14 days is refused before any read
        viewed: dict[str, CatalogItem] = {}
        sighting = self._sighting(beacon, visitor, context, viewed)
        if sighting is None:
            return TrackAnswer("ignored", "no such person")
        product_id = beacon.product_id if beacon.metric == "Viewed Product" else None
        known = self._recorder.read(sighting, [product_id] if product_id else [])
        if product_id is not None:
            try:
                item = known.catalog.get(product_id) or self._product(store_hash, product_id)
            except DownstreamFault:
                logger.warning("catalog unavailable; view not recorded", extra={"product_id": product_id})
                return TrackAnswer("ignored", "catalog unavailable")
            if item is None or not item.is_visible:
                return TrackAnswer("ignored", "unknown product")
            viewed["item"] = item
        result = self._recorder.record(sighting, known)
        metrics.add_metric(name="OnsiteEventsCreated", unit="Count", value=result.new_events)
        logger.info("beacon recorded", extra={"metric": beacon.metric, "new": result.new_events})
        return TrackAnswer("tracked")

    def _sighting(
        self, beacon: Beacon, visitor: Visitor, context: BeaconContext, viewed: dict[str, CatalogItem]
    ) -> Sighting | None:
        """The beacon as the recorder takes it; `viewed` holds the product once it is known."""
        store_hash = context.store_hash

        def events(dedupe_for: str) -> Callable[[str | None], list[MarketingEvent]]:
            return lambda profile_id: [
                onsite_event(
                    store_hash,
                    beacon,
                    profile_id=profile_id,
                    item=viewed.get("item"),
                    at=beacon.seen_at(context.now),
                    dedupe_for=dedupe_for,
                )
            ]

        customer_id, email = visitor.customer_id, visitor.email
        if customer_id is not None and email is not None:
            # A signed-in shopper: their account names them (as a signed-in checkout does).
            return Sighting(
                store_hash=store_hash,
                customer_id=customer_id,
                email=email,
                events=events(f"customer:{customer_id}"),
                edit=checkout_contact(store_hash, email=email, customer_id=customer_id, properties={}),
                source=f"onsite:customer:{customer_id}",
            )
        person = self._profiles.get(store_hash, visitor.profile_id or "")
        if person is None or not (person.email or person.external_id):
            return None
        return Sighting(
            store_hash=store_hash,
            customer_id=int(person.external_id) if person.external_id else None,
            email=person.email,
            events=events(person.id),
            edit=lambda profile, profile_id: profile or person,
            source=f"onsite:{person.id}",
        )
