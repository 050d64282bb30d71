"""Profiles and identity: who an event belongs to, and what we know about them.

A profile is identified by its BigCommerce customer id (external id) when there is one, else by
email. Its id is fixed when it is first created and never changes, so a guest who later opens an
account keeps the id their events carry, and an account whose email changes keeps its events.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bcsync.domain.bigcommerce import Order

CUSTOMERS_LIST = "Customers"
SUBSCRIBERS_LIST = "Subscribers"
LOCATION_KEYS = ("City", "Region", "Zip", "Country")


def normalize_email(email: str | None) -> str | None:
    cleaned = (email or "").strip().lower()
    return cleaned if "@" in cleaned else None


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
    # When the order-derived properties were last taken: an older order never overwrites them.
    order_facts_as_of: str | None = None
    # Optimistic-concurrency counter kept by the repository.
    revision: int = 0

    def export(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={"order_facts_as_of", "revision"})


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
    cleaned = {key: value for key, value in properties.items() if value not in (None, "")}
    return OrderContact(
        email=email,
        customer_id=customer_id,
        as_of=order.date_modified or order.date_created or datetime.min,
        properties=cleaned,
    )


def apply_order_contact(
    profile: Profile | None, contact: OrderContact, *, profile_id: str, store_hash: str, now: str
) -> Profile:
    """Merge what a placed order says into the profile; an older order never overwrites a newer one."""
    if profile is None:
        profile = Profile(id=profile_id, store_hash=store_hash, created_at=now, updated_at=now)
    updated = profile.model_copy(deep=True)
    as_of = contact.as_of.isoformat()
    if updated.order_facts_as_of is None or as_of >= updated.order_facts_as_of:
        updated.properties = {**updated.properties, **contact.properties}
        updated.order_facts_as_of = as_of
        if contact.email:
            updated.email = contact.email
    if updated.email is None and contact.email:
        updated.email = contact.email
    if contact.customer_id and updated.external_id is None:
        updated.external_id = str(contact.customer_id)
        updated.properties["External ID"] = str(contact.customer_id)
    if CUSTOMERS_LIST not in updated.lists:
        updated.lists = sorted({*updated.lists, CUSTOMERS_LIST})
    if updated != profile:
        updated.updated_at = now
    return updated
