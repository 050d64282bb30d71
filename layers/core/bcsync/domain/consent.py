"""Email-marketing consent from BigCommerce subscriber records, with optional double opt-in.

BigCommerce's word is final: a subscriber record with the `marketing_newsletter` consent means
subscribed; a record without it, or a deleted record, means unsubscribed; never a subscriber
means no consent at all. With double opt-in, "subscribed" in BigCommerce makes the profile
pending until the person follows the confirmation link.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bcsync.domain.bigcommerce import Subscriber
from bcsync.domain.events import iso_utc
from bcsync.domain.flows import Flow, profile_trigger
from bcsync.domain.profiles import SUBSCRIBERS_LIST, Profile, touched

NEWSLETTER = "marketing_newsletter"


class EmailMarketing(StrEnum):
    SUBSCRIBED = "subscribed"
    UNSUBSCRIBED = "unsubscribed"
    PENDING = "pending"


@dataclass(frozen=True)
class SubscriberState:
    """What BigCommerce last said about one subscriber record."""

    subscribed: bool
    consents: tuple[str, ...]
    source: str
    as_of: datetime


def subscriber_state(subscriber: Subscriber | None, *, deleted_at: datetime) -> SubscriberState:
    if subscriber is None:
        return SubscriberState(subscribed=False, consents=(), source="deleted", as_of=deleted_at)
    return SubscriberState(
        subscribed=NEWSLETTER in subscriber.consents,
        consents=tuple(sorted(set(subscriber.consents))),
        source=subscriber.source or "bigcommerce",
        as_of=subscriber.date_modified or subscriber.date_created or deleted_at,
    )


def apply_subscriber_state(
    profile: Profile, state: SubscriberState, *, double_opt_in: bool, live: bool, now: str
) -> Profile:
    """Move the profile's consent to what BigCommerce says, promising the trigger a transition
    starts (Welcome Series on becoming subscribed, Confirm Subscription on becoming pending).
    An older record never overrides a newer one; backfill (`live=False`) promises nothing."""
    as_of = iso_utc(state.as_of)
    if profile.subscriber_as_of is not None and as_of < profile.subscriber_as_of:
        return profile
    updated = profile.model_copy(deep=True)
    updated.subscriber_as_of = as_of
    consent = updated.consent
    current = consent.email_marketing
    if not state.subscribed:
        target = EmailMarketing.UNSUBSCRIBED
    elif current == EmailMarketing.SUBSCRIBED or not double_opt_in:
        target = EmailMarketing.SUBSCRIBED
    else:
        target = EmailMarketing.PENDING
    if target != current:
        consent.email_marketing = target
        consent.updated_at = as_of
        consent.source = state.source
        if target == EmailMarketing.SUBSCRIBED:
            _start_subscription(updated, as_of, live=live)
        elif target == EmailMarketing.PENDING and live:
            updated.promise(profile_trigger(Flow.CONFIRM_SUBSCRIPTION, updated.store_hash, updated.id, as_of))
    if list(state.consents) != consent.consents:
        consent.consents = list(state.consents)
        consent.updated_at = as_of
    _sync_list(updated)
    return touched(profile, updated, now)


class ConfirmOutcome(StrEnum):
    CONFIRMED = "confirmed"
    ALREADY_CONFIRMED = "already_confirmed"
    NOT_PENDING = "not_pending"


def confirm_subscription(profile: Profile, *, at: datetime, now: str) -> tuple[Profile, ConfirmOutcome]:
    """The person followed their confirmation link: pending becomes subscribed. A link for a
    subscription that BigCommerce has since withdrawn confirms nothing."""
    status = profile.consent.email_marketing
    if status == EmailMarketing.SUBSCRIBED:
        return profile, ConfirmOutcome.ALREADY_CONFIRMED
    if status != EmailMarketing.PENDING:
        return profile, ConfirmOutcome.NOT_PENDING
    updated = profile.model_copy(deep=True)
    moment = iso_utc(at)
    updated.consent.email_marketing = EmailMarketing.SUBSCRIBED
    updated.consent.updated_at = moment
    updated.consent.source = "double opt-in confirmation"
    _start_subscription(updated, moment, live=True)
    _sync_list(updated)
    return touched(profile, updated, now), ConfirmOutcome.CONFIRMED


def unsubscribe_by_link(profile: Profile, *, at: datetime, now: str) -> Profile:
    """The person followed an unsubscribe link: unsubscribed as of that moment, so a BigCommerce
    subscriber record last changed before it does not subscribe them again (a later change does:
    the store's own record outranks an older click)."""
    if profile.consent.email_marketing == EmailMarketing.UNSUBSCRIBED:
        return profile  # a second click, or unsubscribed already
    moment = iso_utc(at)
    updated = profile.model_copy(deep=True)
    updated.consent.email_marketing = EmailMarketing.UNSUBSCRIBED
    updated.consent.updated_at = moment
    updated.consent.source = "unsubscribe link"
    updated.subscriber_as_of = max(profile.subscriber_as_of or moment, moment)
    _sync_list(updated)
    return touched(profile, updated, now)


def _start_subscription(profile: Profile, moment: str, *, live: bool) -> None:
    profile.subscribed_at = moment
    if live:
        profile.promise(profile_trigger(Flow.WELCOME_SERIES, profile.store_hash, profile.id, moment))


def _sync_list(profile: Profile) -> None:
    """The Subscribers list is the people marketing may be sent to."""
    if profile.consent.email_marketing == EmailMarketing.SUBSCRIBED:
        profile.join(SUBSCRIBERS_LIST)
    else:
        profile.leave(SUBSCRIBERS_LIST)
