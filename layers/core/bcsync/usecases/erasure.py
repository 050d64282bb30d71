"""Right to be forgotten: a person's profile, identities, events, triggers and cart links, gone."""

from __future__ import annotations

from bcsync.domain.profiles import normalize_email
from bcsync.observability import logger
from bcsync.usecases.ports import CartLedger, EventLedger, IdentityKind, ProfileRepository, TriggerLedger


class ProfileErasure:
    def __init__(
        self, repository: ProfileRepository, events: EventLedger, triggers: TriggerLedger, carts: CartLedger
    ) -> None:
        self._repository = repository
        self._events = events
        self._triggers = triggers
        self._carts = carts

    def erase(self, store_hash: str, email: str) -> dict[str, object] | None:
        """What was deleted, or None when no profile has this email. Safe to repeat. A person who
        still exists in BigCommerce comes back with the next webhook or reconciliation: erase them
        there first."""
        address = normalize_email(email)
        profile_id = self._repository.find(store_hash, "email", address) if address else None
        profile = self._repository.get(store_hash, profile_id) if profile_id else None
        if profile is None or address is None:
            return None
        addresses = {address, *profile.aliases}
        identities: list[tuple[IdentityKind, str]] = [(kind, a) for a in addresses for kind in ("email", "signup")]
        identities += [("subscriber", str(subscriber_id)) for subscriber_id in profile.subscriber_ids]
        if profile.external_id:
            identities.append(("customer", profile.external_id))
        counts = {
            "events": self._events.erase(store_hash, profile.id),
            "triggers": self._triggers.erase(store_hash, profile.id),
            "carts": self._carts.erase(store_hash, profile.id),
        }
        for kind, value in identities:
            self._repository.release(store_hash, kind, value, profile.id)
        self._repository.delete(store_hash, profile.id)
        logger.info("profile erased", extra={"profile_id": profile.id, **counts})
        return {"profile_id": profile.id, "identities": len(identities), **counts}
