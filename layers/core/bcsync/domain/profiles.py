"""Profiles and identity: who an event belongs to, and what we know about them.

A profile is identified by its BigCommerce customer id (external id) when there is one, else by
email. Its id is fixed when it is first created and never changes, so a guest who later opens an
account keeps the id their events carry, and an account whose email changes keeps its events.
Each source of facts (orders, the customer record, the subscriber record) keeps its own
"as of" time, so an older read never overwrites what a newer one said.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bcsync.domain.bigcommerce import Customer, Order
from bcsync.domain.events import MarketingEvent, Metric, iso_utc
from bcsync.domain.flows import Flow, TriggerIntent, first_order_trigger, metric_triggers, profile_trigger

CUSTOMERS_LIST = "Customers"
SUBSCRIBERS_LIST = "Subscribers"
LOCATION_KEYS = ("City", "Region", "Zip", "Country")
ACCOUNT_KEYS = ("External ID", "Customer Group", "Store Credit")
# Bookkeeping that the profile export leaves out.
INTERNAL_FIELDS = frozenset(
    {
        "aliases",
        "subscriber_ids",
        "order_facts_as_of",
        "customer_facts_as_of",
        "subscriber_as_of",
        "subscribed_at",
        "outbox",
        "first_order_event_id",
        "account_created_at",
        "activity",
        "absorbing",
        "revision",
    }
)


def normalize_email(email: str | None) -> str | None:
    cleaned = (email or "").strip().lower()
    return cleaned if "@" in cleaned else None


def email_digest(email: str) -> str:
    """How an address appears in a key or beside a browser's claim: never in the clear."""
    return hashlib.sha256((normalize_email(email) or email).encode()).hexdigest()


def mask_email(email: str | None) -> str:
    """For logs: enough to tell two addresses apart, not enough to read one."""
    if not email or "@" not in email:
        return "<none>"
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain[:1]}***"


def new_profile_id(store_hash: str, *, customer_id: int | None, email: str | None) -> str:
    """Derived from the first identity seen, so concurrent first sightings agree on one id."""
    identity = f"customer:{customer_id}" if customer_id else f"email:{normalize_email(email)}"
    digest = hashlib.sha256(f"{store_hash}|{identity}".encode()).hexdigest()
    return f"prof_{digest[:24]}"


RECENT_TIMES = 10


class MetricActivity(BaseModel):
    """How many times in all, and the latest times (epoch seconds, newest last, at most
    RECENT_TIMES): a count since a moment is exact while fewer than that fall after it."""

    count: int = 0
    recent: list[int] = Field(default_factory=list)

    def since(self, moment: datetime | None) -> int:
        if moment is None:
            return self.count
        cutoff = int(moment.timestamp())
        return sum(1 for at in self.recent if at >= cutoff)

    def noted(self, times: Sequence[datetime]) -> MetricActivity:
        recent = sorted([*self.recent, *(int(at.timestamp()) for at in times)])[-RECENT_TIMES:]
        return MetricActivity(count=self.count + len(times), recent=recent)

    def joined(self, other: MetricActivity) -> MetricActivity:
        return MetricActivity(
            count=self.count + other.count, recent=sorted([*self.recent, *other.recent])[-RECENT_TIMES:]
        )


class Consent(BaseModel):
    email_marketing: str | None = None
    consents: list[str] = Field(default_factory=list)
    updated_at: str | None = None
    source: str | None = None


class Profile(BaseModel):
    model_config = ConfigDict(validate_assignment=True)

    id: str
    store_hash: str
    email: str | None = None
    external_id: str | None = None
    properties: dict[str, Any] = Field(default_factory=dict)
    consent: Consent = Field(default_factory=Consent)
    lists: list[str] = Field(default_factory=list)
    created_at: str
    updated_at: str
    # Every email that identifies this profile (an account's old addresses, guest checkouts).
    aliases: list[str] = Field(default_factory=list)
    subscriber_ids: list[int] = Field(default_factory=list)
    order_facts_as_of: str | None = None
    customer_facts_as_of: str | None = None
    subscriber_as_of: str | None = None
    # When the current subscription began: the Welcome Series episode.
    subscribed_at: str | None = None
    # Flow triggers a change promised, saved with the change and sent after it (an outbox).
    outbox: list[TriggerIntent] = Field(default_factory=list)
    # The first Placed Order recorded for the person (backfilled ones too): First Order's marker.
    first_order_event_id: str | None = None
    # When their BigCommerce account was opened: when New Customer would have started.
    account_created_at: str | None = None
    # What the person did, by metric: kept with the event writes, so a flow filter ("Placed Order
    # zero times since starting this flow") reads the profile, never the timeline.
    activity: dict[str, MetricActivity] = Field(default_factory=dict)
    # Profiles merged into this one whose identities, events, promises and id have not all
    # followed yet: saved with the absorbed facts, so the account's next change finishes a merge
    # a crash interrupted.
    absorbing: list[str] = Field(default_factory=list)
    # Optimistic-concurrency counter kept by the repository.
    revision: int = 0

    def export(self) -> dict[str, Any]:
        record = self.model_dump(mode="json", exclude=set(INTERNAL_FIELDS))
        record["properties"] = dict(self.properties)  # numbers stay numbers (Store Credit)
        return record

    def promise(self, intent: TriggerIntent) -> None:
        if all(held.dedup_key != intent.dedup_key for held in self.outbox):
            self.outbox = [*self.outbox, intent]

    def add_alias(self, email: str | None) -> None:
        cleaned = normalize_email(email)
        if cleaned and cleaned not in self.aliases:
            self.aliases = sorted({*self.aliases, cleaned})

    def join(self, name: str) -> None:
        if name not in self.lists:
            self.lists = sorted({*self.lists, name})

    def leave(self, name: str) -> None:
        if name in self.lists:
            self.lists = [entry for entry in self.lists if entry != name]


def note_activity(profile: Profile, new_events: Sequence[MarketingEvent]) -> None:
    """Count what the events, recorded for the first time, say the person did."""
    by_metric: dict[str, list[datetime]] = {}
    for event in new_events:
        by_metric.setdefault(str(event.metric), []).append(event.time)
    for metric, times in by_metric.items():
        profile.activity = {**profile.activity, metric: profile.activity.get(metric, MetricActivity()).noted(times)}


def activity_counts(profile: Profile) -> Callable[[str, datetime | None], int]:
    """A flow filter's event counts, read from the profile."""
    return lambda metric, since: profile.activity[metric].since(since) if metric in profile.activity else 0


def promise_event_triggers(profile: Profile, new_events: Sequence[MarketingEvent], enabled: frozenset[Flow]) -> None:
    """What events recorded for the first time promise: their metric's flow, and First Order for
    a live Placed Order when the person had none before (the marker, never the timeline)."""
    for event in new_events:
        for intent in metric_triggers(event, enabled):
            profile.promise(intent)
    placed = sorted((e for e in new_events if e.metric is Metric.PLACED_ORDER), key=lambda e: (e.time, e.id))
    if placed and profile.first_order_event_id is None:
        first = placed[0]
        profile.first_order_event_id = first.id
        if Flow.FIRST_ORDER in enabled and not first.backfill:
            profile.promise(first_order_trigger(first))


def blank_profile(profile_id: str, store_hash: str, now: str) -> Profile:
    return Profile(id=profile_id, store_hash=store_hash, created_at=now, updated_at=now)


def touched(before: Profile | None, after: Profile, now: str) -> Profile:
    if after != before:
        after.updated_at = now
    return after


def _filled(properties: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in properties.items() if value not in (None, "")}


# ---------------------------------------------------------------------- orders
class OrderContact(BaseModel):
    """What a placed order tells us about the person who placed it."""

    model_config = ConfigDict(frozen=True)

    email: str | None
    customer_id: int | None
    as_of: datetime
    properties: dict[str, Any]


def contact_from_order(order: Order) -> OrderContact:
    billing = order.billing_address
    email = normalize_email(billing.email)
    customer_id = order.customer_id or None
    properties: dict[str, Any] = {
        "Email": email,
        "First Name": billing.first_name,
        "Last Name": billing.last_name,
        "Phone Number": billing.phone,
        "External ID": str(customer_id) if customer_id else None,
        # Location only once the person has placed an order, from its billing address.
        "City": billing.city,
        "Region": billing.state,
        "Zip": billing.zip,
        "Country": billing.country,
    }
    return OrderContact(
        email=email,
        customer_id=customer_id,
        # When the order was placed: the latest order holds the person's current details, and a
        # later status change to an older order neither reverts them nor rewrites the profile.
        as_of=order.date_created or datetime.min,
        properties=_filled(properties),
    )


def apply_order_contact(
    profile: Profile | None, contact: OrderContact, *, profile_id: str, store_hash: str, now: str
) -> Profile:
    """Merge what a placed order says into the profile; an older order never overwrites a newer
    one, and an account's own record (customer webhooks) outranks an order's billing details."""
    updated = (profile or blank_profile(profile_id, store_hash, now)).model_copy(deep=True)
    as_of = contact.as_of.isoformat()
    if updated.order_facts_as_of is None or as_of >= updated.order_facts_as_of:
        taken = contact.properties
        if updated.customer_facts_as_of is not None:
            owned = {"Email", "First Name", "Last Name", "Phone Number"}
            taken = {key: value for key, value in taken.items() if key not in owned or key not in updated.properties}
        updated.properties = {**updated.properties, **taken}
        updated.order_facts_as_of = as_of
        if contact.email and updated.customer_facts_as_of is None:
            updated.email = contact.email
    if updated.email is None and contact.email:
        updated.email = contact.email
    updated.add_alias(contact.email)
    if contact.customer_id:
        _link_account(updated, contact.customer_id)
    updated.join(CUSTOMERS_LIST)
    return touched(profile, updated, now)


def _link_account(profile: Profile, customer_id: int) -> None:
    """The person has this account: its id is their External ID (unless the account record set
    one already), and an account holder is in Customers."""
    if profile.external_id is None:
        profile.external_id = str(customer_id)
        profile.properties["External ID"] = str(customer_id)
    profile.join(CUSTOMERS_LIST)


# ---------------------------------------------------------------------- checkouts and subscribers
def fill_gaps(
    profile: Profile | None,
    *,
    email: str,
    properties: Mapping[str, Any],
    profile_id: str,
    store_hash: str,
    now: str,
) -> Profile:
    """A checkout or a subscriber record only fills gaps: it says less than an order or an account."""
    updated = (profile or blank_profile(profile_id, store_hash, now)).model_copy(deep=True)
    if updated.email is None:
        updated.email = email
        updated.properties.setdefault("Email", email)
    updated.add_alias(email)
    for key, value in _filled(properties).items():
        updated.properties.setdefault(key, value)
    return touched(profile, updated, now)


def apply_checkout_contact(
    profile: Profile | None,
    *,
    email: str,
    properties: Mapping[str, Any],
    customer_id: int | None,
    profile_id: str,
    store_hash: str,
    now: str,
) -> Profile:
    """A checkout fills gaps; a signed-in shopper's checkout (its cart has a customer id) also
    names their account, even one opened before bcsync was installed that never sent a webhook."""
    updated = fill_gaps(
        profile, email=email, properties=properties, profile_id=profile_id, store_hash=store_hash, now=now
    )
    if customer_id:
        _link_account(updated, customer_id)
    return touched(profile, updated, now)


# ---------------------------------------------------------------------- customers
def apply_customer(
    profile: Profile | None,
    customer: Customer,
    *,
    mapped: Mapping[str, Any],
    group_name: str | None,
    profile_id: str,
    store_hash: str,
    now: str,
    created: bool = False,
) -> Profile:
    """The account record is the authority on who the person is: email, names, group, credit.
    `mapped` holds the customer fields the store's field mapping syncs. On `created`, the New
    Customer trigger is promised (and kept in the outbox until sent)."""
    updated = (profile or blank_profile(profile_id, store_hash, now)).model_copy(deep=True)
    as_of = (customer.date_modified or customer.date_created or datetime.min).isoformat()
    if updated.customer_facts_as_of is None or as_of >= updated.customer_facts_as_of:
        email = normalize_email(customer.email)
        properties = {
            **mapped,
            "Email": email,
            "External ID": str(customer.id),
            "Customer Group": group_name,
            "Store Credit": customer.store_credit,
        }
        updated.properties = {**updated.properties, **_filled(properties)}
        if not group_name:
            updated.properties.pop("Customer Group", None)
        updated.customer_facts_as_of = as_of
        if email:
            updated.email = email
    updated.external_id = str(customer.id)
    if customer.date_created and updated.account_created_at is None:
        updated.account_created_at = customer.date_created.isoformat()
    updated.add_alias(customer.email)
    updated.join(CUSTOMERS_LIST)
    if created:
        updated.promise(profile_trigger(Flow.NEW_CUSTOMER, store_hash, updated.id, f"customer:{customer.id}"))
    return touched(profile, updated, now)


def unlink_account(profile: Profile, *, now: str) -> Profile:
    """The account was deleted: the person stays (with their marketing history) as a guest."""
    updated = profile.model_copy(deep=True)
    updated.external_id = None
    updated.customer_facts_as_of = None
    for key in ACCOUNT_KEYS:
        updated.properties.pop(key, None)
    if updated.order_facts_as_of is None:
        updated.leave(CUSTOMERS_LIST)  # never bought: they were a customer only by the account
    return touched(profile, updated, now)


# ---------------------------------------------------------------------- merges
def _latest(left: str | None, right: str | None) -> str | None:
    return max((value for value in (left, right) if value), default=None)


def merge_profiles(keep: Profile, gone: Profile, *, now: str) -> Profile:
    """Two profiles that are one person: `keep` absorbs `gone`. Its own facts win; the other's
    fill gaps; consent is whichever changed last; lists and aliases are united. Promises stay in
    `gone`'s outbox, which sends them before it is retired (`absorbing` says it is still due):
    it may be promised more until then."""
    merged = keep.model_copy(deep=True)
    merged.properties = {**gone.properties, **keep.properties}
    if gone.order_facts_as_of and (keep.order_facts_as_of or "") < gone.order_facts_as_of:
        merged.properties.update({key: gone.properties[key] for key in LOCATION_KEYS if key in gone.properties})
    merged.email = keep.email or gone.email
    merged.external_id = keep.external_id or gone.external_id
    if (gone.consent.updated_at or "") > (keep.consent.updated_at or ""):
        merged.consent = gone.consent.model_copy(deep=True)
        merged.subscribed_at = gone.subscribed_at
    merged.subscriber_as_of = _latest(keep.subscriber_as_of, gone.subscriber_as_of)
    merged.order_facts_as_of = _latest(keep.order_facts_as_of, gone.order_facts_as_of)
    merged.customer_facts_as_of = _latest(keep.customer_facts_as_of, gone.customer_facts_as_of)
    merged.lists = sorted({*keep.lists, *gone.lists})
    merged.aliases = sorted({*keep.aliases, *gone.aliases})
    merged.subscriber_ids = sorted({*keep.subscriber_ids, *gone.subscriber_ids})
    merged.created_at = min(keep.created_at, gone.created_at)
    merged.first_order_event_id = keep.first_order_event_id or gone.first_order_event_id
    for metric, done in gone.activity.items():
        merged.activity[metric] = merged.activity[metric].joined(done) if metric in merged.activity else done
    merged.absorbing = sorted({*keep.absorbing, gone.id})
    return touched(keep, merged, now)


def survivor(first: Profile, second: Profile) -> tuple[Profile, Profile]:
    """Which of two profiles keeps its id: the older one (a guest who opens an account keeps the
    id their events have); a tie goes to the smaller id, so every worker picks the same."""
    ordered = sorted((first, second), key=lambda profile: (profile.created_at, profile.id))
    return ordered[0], ordered[1]


def iso(moment: datetime | None) -> str | None:
    return iso_utc(moment) if moment else None
