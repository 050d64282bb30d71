"""The signed links bcsync's messages carry: a subscription's confirmation, unsubscribing, and the
click-through token onsite tracking knows a browser by. Signed with the store's client secret, so
no extra secret has to be managed; the flow runner needs them without the subscriber pipeline."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from bcsync.domain.confirmation import PURPOSE as CONFIRMATION_PURPOSE
from bcsync.domain.confirmation import (
    UNSUBSCRIBE_PURPOSE,
    InvalidConfirmation,
    LinkClaims,
    click_token,
    issue_token,
    read_claims,
    verify_token,
)
from bcsync.domain.events import iso_utc
from bcsync.domain.flows import Flow
from bcsync.domain.profiles import Profile
from bcsync.domain.refusals import Refusal
from bcsync.settings import StoreSettings
from bcsync.usecases.ports import CredentialStore, UnknownStore

CONFIRM_PATH = "/subscriptions/confirm"
UNSUBSCRIBE_PATH = "/subscriptions/unsubscribe"
# An unsubscribe link lives in sent email: it must keep working long after.
UNSUBSCRIBE_LINK_LIFE = timedelta(days=5 * 365)


class ConfirmationLinks:
    """Signs links with the store's client secret, so no extra secret has to be managed."""

    def __init__(self, credentials: CredentialStore, settings_for: Callable[[str], StoreSettings]) -> None:
        self._credentials = credentials
        self._settings_for = settings_for

    def attach(self, profile: Profile, *, origin: str | None, now: datetime) -> Profile:
        """Give each promised Confirm Subscription trigger its link (once: retries resend it)."""
        unlinked = [i for i in profile.outbox if i.flow == Flow.CONFIRM_SUBSCRIPTION and not i.details]
        if not unlinked:
            return profile
        settings = self._settings_for(profile.store_hash)
        base = settings.public_url or origin
        if not base:
            raise ValueError("no public URL for confirmation links: set public_base_url in the settings file")
        expires_at = now + timedelta(hours=settings.confirmation_link_hours)
        secret = self._credentials.credentials(profile.store_hash).client_secret
        token = issue_token(secret, LinkClaims(profile.store_hash, profile.id, expires_at))
        details = {
            "confirmation_url": f"{base.rstrip('/')}{CONFIRM_PATH}?token={token}",
            "expires_at": iso_utc(expires_at),
        }
        linked = profile.model_copy(deep=True)
        linked.outbox = [
            intent.model_copy(update={"details": details}) if intent in unlinked else intent
            for intent in profile.outbox
        ]
        return linked

    def verify(self, token: str | None, *, now: datetime, purpose: bytes = CONFIRMATION_PURPOSE) -> LinkClaims:
        claims = read_claims(token)
        try:
            secret = self._credentials.credentials(claims.store_hash).client_secret
        except UnknownStore:
            raise InvalidConfirmation(Refusal.INVALID, "This link is not valid.") from None
        return verify_token(token or "", secret, now=now, purpose=purpose)

    def unsubscribe_link(self, profile: Profile, now: datetime) -> str | None:
        """The link every marketing message carries; None until the store has a public URL."""
        claims = LinkClaims(profile.store_hash, profile.id, now + UNSUBSCRIBE_LINK_LIFE)
        return self.public_link(UNSUBSCRIBE_PATH, claims, purpose=UNSUBSCRIBE_PURPOSE)

    def click_token(self, profile: Profile, now: datetime) -> str:
        """The `?_bc=` token flow emails add to store links (onsite tracking's known browsers)."""
        secret = self._credentials.credentials(profile.store_hash).client_secret
        return click_token(secret, profile.store_hash, profile.id, now)

    def public_link(self, path: str, claims: LinkClaims, *, purpose: bytes) -> str | None:
        """A link on the store's public URL carrying a token for `purpose`; None until it has one."""
        base = self._settings_for(claims.store_hash).public_url
        if not base:
            return None
        secret = self._credentials.credentials(claims.store_hash).client_secret
        return f"{base.rstrip('/')}{path}?token={issue_token(secret, claims, purpose=purpose)}"
