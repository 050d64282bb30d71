"""Profile upserts: resolve who a contact is, then merge what we learned, safely under concurrency."""

from __future__ import annotations

from datetime import UTC, datetime

from bcsync.domain.profiles import OrderContact, Profile, apply_order_contact, mask_email, new_profile_id
from bcsync.observability import logger
from bcsync.usecases.ports import DownstreamFault, ProfileRepository

SAVE_ATTEMPTS = 5


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class ProfileBook:
    def __init__(self, repository: ProfileRepository) -> None:
        self._repository = repository

    def resolve(self, store_hash: str, *, customer_id: int | None, email: str | None) -> str | None:
        """The account's profile if known, else the email's, else a new one; identities linked."""
        if not customer_id and not email:
            return None
        known = (customer_id and self._repository.find_by_customer(store_hash, customer_id)) or (
            email and self._repository.find_by_email(store_hash, email)
        )
        profile_id = known or new_profile_id(store_hash, customer_id=customer_id, email=email)
        if not known:
            logger.info("new profile", extra={"profile_id": profile_id, "email": mask_email(email)})
        return self._repository.link(store_hash, profile_id, customer_id=customer_id, email=email)

    def record_order_contact(self, store_hash: str, contact: OrderContact) -> Profile | None:
        profile_id = self.resolve(store_hash, customer_id=contact.customer_id, email=contact.email)
        if profile_id is None:
            return None
        for _ in range(SAVE_ATTEMPTS):
            current = self._repository.get(store_hash, profile_id)
            updated = apply_order_contact(current, contact, profile_id=profile_id, store_hash=store_hash, now=utc_now())
            if updated == current or self._repository.save(updated, previous=current):
                return updated
        raise DownstreamFault(f"profile {profile_id} kept changing under us; retry later")
