"""Subscriber sync and double opt-in: BigCommerce's subscriber record sets the profile's consent.

With double opt-in on, a new subscription is pending and promises a Confirm Subscription trigger
carrying a signed, expiring link; following it (`GET /subscriptions/confirm?token=`) subscribes
the person and starts the Welcome Series.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bcsync.domain.bigcommerce import Subscriber
from bcsync.domain.confirmation import UNSUBSCRIBE_PURPOSE
from bcsync.domain.consent import (
    ConfirmOutcome,
    apply_subscriber_state,
    confirm_subscription,
    subscriber_state,
    unsubscribe_by_link,
)
from bcsync.domain.profiles import Profile, fill_gaps, normalize_email
from bcsync.domain.signups import SIGNUP_CLAIM_LIFE
from bcsync.domain.webhooks import SubscriberWebhookData, WebhookEnvelope
from bcsync.settings import StoreSettings
from bcsync.usecases.clock import utc_now
from bcsync.usecases.ingest import DeliveryContext, Work, webhook_data
from bcsync.usecases.links import ConfirmationLinks
from bcsync.usecases.ports import (
    BigCommerceConnector,
    BigCommerceReader,
    ProfileRepository,
    SignupClaims,
)
from bcsync.usecases.profiles import ProfileBook
from bcsync.usecases.recording import SyncResult


class SubscriberSync:
    def __init__(
        self,
        profiles: ProfileBook,
        repository: ProfileRepository,
        links: ConfirmationLinks,
        signups: SignupClaims,
        settings_for: Callable[[str], StoreSettings],
    ) -> None:
        self._profiles = profiles
        self._repository = repository
        self._links = links
        self._signups = signups
        self._settings_for = settings_for

    def sync(
        self,
        store_hash: str,
        subscriber_id: int,
        reader: BigCommerceReader,
        *,
        observed_at: datetime,
        origin: str | None,
        live: bool = True,
    ) -> SyncResult:
        subscriber = reader.get_subscriber(subscriber_id)
        if subscriber is not None:
            return self.record(store_hash, subscriber, observed_at=observed_at, origin=origin, live=live)
        owner = self._repository.find(store_hash, "subscriber", str(subscriber_id))
        if owner is None:
            return SyncResult(status="unknown_subscriber")
        # Deleted; but the address may have subscribed again under a new record since.
        known = self._repository.get(store_hash, owner)
        newer = reader.find_subscriber(known.email) if known and known.email else None
        return self._apply(store_hash, owner, newer, observed_at=observed_at, origin=origin, live=live)

    def record(
        self, store_hash: str, subscriber: Subscriber, *, observed_at: datetime, origin: str | None, live: bool
    ) -> SyncResult:
        """A subscriber record already read (by id, or in a page of them)."""
        owner = self._profiles.resolve(store_hash, customer_id=None, email=subscriber.email)
        if owner is None or normalize_email(subscriber.email) is None:
            return SyncResult(status="no_email")
        return self._apply(store_hash, owner, subscriber, observed_at=observed_at, origin=origin, live=live)

    def _apply(
        self,
        store_hash: str,
        profile_id: str,
        subscriber: Subscriber | None,
        *,
        observed_at: datetime,
        origin: str | None,
        live: bool,
    ) -> SyncResult:
        if subscriber is not None:
            if normalize_email(subscriber.email) is None:
                return SyncResult(status="no_email")
            self._repository.point(store_hash, "subscriber", str(subscriber.id), profile_id)
        state = subscriber_state(subscriber, deleted_at=observed_at)
        double_opt_in = self._settings_for(store_hash).double_opt_in

        def edit(current: Profile | None) -> Profile | None:
            if subscriber is not None:
                names = {"First Name": subscriber.first_name, "Last Name": subscriber.last_name}
                current = fill_gaps(
                    current,
                    email=normalize_email(subscriber.email) or "",
                    properties=names,
                    profile_id=profile_id,
                    store_hash=store_hash,
                    now=utc_now(),
                )
                if subscriber.id not in current.subscriber_ids:
                    current.subscriber_ids = sorted({*current.subscriber_ids, subscriber.id})
            if current is None:
                return None
            changed = apply_subscriber_state(current, state, double_opt_in=double_opt_in, live=live, now=utc_now())
            return self._links.attach(changed, origin=origin, now=observed_at)

        profile = self._profiles.change(store_hash, profile_id, edit)
        if profile is not None and subscriber is not None:
            self._link_signup(store_hash, profile.id, subscriber, observed_at)
        consent = profile.consent.email_marketing if profile else None
        return SyncResult(status=f"consent_{consent}" if consent else "synced")

    def _link_signup(self, store_hash: str, profile_id: str, subscriber: Subscriber, observed_at: datetime) -> None:
        """A subscriber the storefront's newsletter form just created names the browser that
        submitted it (onsite tracking): link the address, for that browser's claim."""
        created = subscriber.date_created
        if subscriber.source != "storefront" or created is None or observed_at - created > SIGNUP_CLAIM_LIFE:
            return
        self._signups.link(store_hash, subscriber.email, profile_id, created)

    def confirm(self, token: str | None, *, now: datetime) -> ConfirmOutcome:
        """InvalidConfirmation for a bad or expired link; otherwise what following it did."""
        claims = self._links.verify(token, now=now)
        outcome = ConfirmOutcome.NOT_PENDING

        def edit(current: Profile | None) -> Profile | None:
            nonlocal outcome
            if current is None:
                return None
            updated, outcome = confirm_subscription(current, at=now, now=utc_now())
            return updated

        self._profiles.change(claims.store_hash, claims.subject, edit)
        return outcome

    def unsubscribe(self, token: str | None, *, now: datetime) -> bool:
        """InvalidConfirmation for a bad link; whether the person was subscribed or pending before."""
        claims = self._links.verify(token, now=now, purpose=UNSUBSCRIBE_PURPOSE)
        before = self._repository.get(claims.store_hash, claims.subject)

        def edit(current: Profile | None) -> Profile | None:
            return unsubscribe_by_link(current, at=now, now=utc_now()) if current else None

        self._profiles.change(claims.store_hash, claims.subject, edit)
        return before is not None and before.consent.email_marketing != "unsubscribed"


class SubscriberDeliveries:
    def __init__(self, sync: SubscriberSync, connector: BigCommerceConnector) -> None:
        self._sync = sync
        self._connector = connector

    def prepare(self, envelope: WebhookEnvelope, context: DeliveryContext) -> Work:
        data = webhook_data(SubscriberWebhookData, envelope, types=("subscriber",))
        observed_at = context.event_time(envelope)  # a deleted record has no date of its own

        def work(budget_seconds: float) -> dict[str, object]:
            reader = self._connector.reader(envelope.store_hash, budget_seconds=budget_seconds)
            result = self._sync.sync(
                envelope.store_hash, data.id, reader, observed_at=observed_at, origin=context.origin
            )
            return {"subscriber_id": data.id, **result.as_dict()}

        return work
