"""Profile upserts: resolve who a contact is, then apply what we learned, safely under concurrency.

Identity rules. An account (customer id) outranks an email. An account's own email (from its
customer record) is authoritative: BigCommerce gives an address to one account at a time, so the
address follows the account, and a guest profile holding it is the same person and is merged in.
An email seen on an order or a checkout is not: it joins the account's profile if it is free and
never takes an address from another profile.

Changes are optimistic (revision-checked) and may promise flow triggers; the promises are saved
with the change and sent after it, then cleared, so a crash in between re-sends, never loses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bcsync.domain.profiles import (
    Profile,
    mask_email,
    merge_profiles,
    new_profile_id,
    normalize_email,
    survivor,
)
from bcsync.observability import logger, metrics
from bcsync.usecases.changes import ChangeWriter
from bcsync.usecases.clock import utc_now
from bcsync.usecases.ports import (
    ChangeConflict,
    DownstreamFault,
    EventLedger,
    Identity,
    IdentityKind,
    Known,
    Lookup,
    ProfileRepository,
)

SAVE_ATTEMPTS = 5

Edit = Callable[[Profile | None], Profile | None]


@dataclass(frozen=True)
class Identified:
    profile_id: str
    claims: tuple[tuple[Identity, str], ...] = ()


class ProfileBook:
    def __init__(self, repository: ProfileRepository, events: EventLedger, writer: ChangeWriter) -> None:
        self._repository = repository
        self._events = events
        self._writer = writer

    # ------------------------------------------------------------------ identity
    def resolve(
        self, store_hash: str, *, customer_id: int | None, email: str | None, authoritative: bool = False
    ) -> str | None:
        """The profile of this account and/or email, created or merged as the rules above say. A
        key another delivery claimed between our read and our claim (a guest's order landing as
        the account is created) is decided again from the keys as they now are."""
        email = normalize_email(email)
        if not customer_id and not email:
            return None
        for _ in range(SAVE_ATTEMPTS):
            resolved = self._resolve_once(store_hash, customer_id, email, authoritative)
            if resolved is not None:
                return resolved
        raise DownstreamFault("identity keys kept changing under us; retry later")

    def _resolve_once(
        self, store_hash: str, customer_id: int | None, email: str | None, authoritative: bool
    ) -> str | None:
        """None when a claim found the key taken meanwhile."""
        repo = self._repository
        by_customer = repo.find(store_hash, "customer", str(customer_id)) if customer_id else None
        by_email = repo.find(store_hash, "email", email) if email else None
        if by_customer:
            return self._account_of(
                store_hash,
                by_customer,
                customer_id=customer_id,
                email=email,
                by_email=by_email,
                authoritative=authoritative,
            )
        if by_email and customer_id:
            holder = repo.get(store_hash, by_email)
            if holder is None or holder.external_id in (None, str(customer_id)):
                owner = repo.claim(store_hash, "customer", str(customer_id), by_email)  # guest opens an account
                return owner if owner == by_email else None
            fresh = new_profile_id(store_hash, customer_id=customer_id, email=None)
            if repo.claim(store_hash, "customer", str(customer_id), fresh) != fresh:
                return None
            if authoritative:
                repo.point(store_hash, "email", email or "", fresh)
            return fresh
        if by_email:
            return by_email
        profile_id = new_profile_id(store_hash, customer_id=customer_id, email=email)
        if customer_id and repo.claim(store_hash, "customer", str(customer_id), profile_id) != profile_id:
            return None
        if email and repo.claim(store_hash, "email", email, profile_id) != profile_id:
            return None
        logger.info("new profile", extra={"profile_id": profile_id, "email": mask_email(email)})
        return profile_id

    def _account_of(
        self,
        store_hash: str,
        profile_id: str,
        *,
        customer_id: int | None,
        email: str | None,
        by_email: str | None,
        authoritative: bool,
    ) -> str | None:
        """The account's profile, taking the email if it is free (None if it was claimed
        meanwhile); the account's own email also brings a guest profile holding it in (a merge),
        or moves from another account."""
        repo = self._repository
        if not email or by_email == profile_id:
            return profile_id
        if by_email is None:
            return profile_id if repo.claim(store_hash, "email", email, profile_id) == profile_id else None
        if not authoritative:
            return profile_id
        holder = repo.get(store_hash, by_email)
        if holder is not None and holder.external_id in (None, str(customer_id)):
            merged = self.merge(store_hash, profile_id, holder.id)
            if merged != profile_id:  # the holder kept its id, or the account's key named no profile
                repo.point(store_hash, "customer", str(customer_id), merged)
            return merged
        repo.point(store_hash, "email", email, profile_id)  # moved accounts, or a dangling key
        return profile_id

    def merge(self, store_hash: str, first: str, second: str) -> str:
        """One person, two profiles: the older keeps its id and absorbs the other's facts, then
        its identities, events, promises and id (the other becomes a pointer). The absorbed facts
        are saved first with a note of what is still to follow, so the account's next change
        finishes an interrupted merge, even once the identity keys no longer tell the two apart."""
        if first == second:
            return first
        a, b = self._repository.get(store_hash, first), self._repository.get(store_hash, second)
        if a is None or b is None:
            return first if a is not None else second
        if a.id == b.id:  # already one (a pointer left by an earlier merge)
            return a.id
        keep, gone = survivor(a, b)

        def absorb(current: Profile | None) -> Profile:
            base = current or keep
            return base if gone.id in base.absorbing else merge_profiles(base, gone, now=utc_now())

        self.change(store_hash, keep.id, absorb)
        self.change(store_hash, keep.id, lambda current: current, finish_merges=True)
        return keep.id

    def _move_absorbed(self, store_hash: str, keep: Profile) -> list[str]:
        """Move what still names the profiles `keep` absorbed; returns the ids now fully merged."""
        for gone_id in keep.absorbing:
            self._retire_into(store_hash, gone_id, keep.id)
        return list(keep.absorbing)

    def _retire_into(self, store_hash: str, gone_id: str, keep_id: str) -> None:
        """Each step is repeatable, and the pointer that retires the profile is written last, and
        only if nothing wrote to the profile since it was read: an order that found it by keys
        read before they moved is moved too."""
        for _ in range(SAVE_ATTEMPTS):
            gone = self._repository.get(store_hash, gone_id)
            if gone is None or gone.id != gone_id:
                return  # retired already: the steps before it are done
            if gone.outbox:
                self._writer.deliver(gone, {})  # what it promised, before or since it was absorbed
                continue  # then read it as settled
            identities: list[tuple[IdentityKind, str]] = [("email", alias) for alias in gone.aliases]
            identities += [("subscriber", str(sid)) for sid in gone.subscriber_ids]
            if gone.external_id:
                identities.append(("customer", gone.external_id))
            for kind, value in identities:
                self._repository.point(store_hash, kind, value, keep_id)
            moved = self._events.reassign(store_hash, gone_id, keep_id)
            try:
                self._repository.retire(store_hash, gone_id, merged_into=keep_id, revision=gone.revision)
            except ChangeConflict:
                continue
            metrics.add_metric(name="ProfilesMerged", unit="Count", value=1)
            logger.info("profiles merged", extra={"kept": keep_id, "merged": gone_id, "events_moved": moved})
            return
        raise DownstreamFault(f"profile {gone_id} kept changing while it was merged; retry later")

    # ------------------------------------------------------------------ one read
    def lookup(
        self, store_hash: str, *, customer_id: int | None, email: str | None, event_ids: tuple[str, ...] = ()
    ) -> Lookup:
        """The identity keys of a sighting and the profiles they most likely lead to (the ids a
        first sighting derives), so the common case needs one read."""
        email = normalize_email(email)
        identities: list[Identity] = [("customer", str(customer_id))] if customer_id else []
        identities += [("email", email)] if email else []
        guesses = {new_profile_id(store_hash, customer_id=customer_id, email=None)} if customer_id else set()
        guesses |= {new_profile_id(store_hash, customer_id=None, email=email)} if email else set()
        return Lookup(store_hash, tuple(identities), tuple(sorted(guesses)), event_ids)

    def identify(
        self, store_hash: str, *, customer_id: int | None, email: str | None, known: Known
    ) -> Identified | None:
        """`resolve` for a sighting that is not the authority on the email (an order, a checkout),
        answered from what was read: claims are written with the change, not before it. Only a
        guest opening an account needs `resolve` itself (the email's holder decides)."""
        email = normalize_email(email)
        if not customer_id and not email:
            return None
        by_customer = known.identities.get(("customer", str(customer_id))) if customer_id else None
        by_email = known.identities.get(("email", email)) if email else None
        if by_customer:
            claims: tuple[tuple[Identity, str], ...] = ()
            if email and by_email is None:
                claims = ((("email", email), by_customer),)
            return Identified(by_customer, claims)
        if by_email and customer_id:
            resolved = self.resolve(store_hash, customer_id=customer_id, email=email)
            return Identified(resolved) if resolved else None
        if by_email:
            return Identified(by_email)
        profile_id = new_profile_id(store_hash, customer_id=customer_id, email=email)
        logger.info("new profile", extra={"profile_id": profile_id, "email": mask_email(email)})
        identities: list[Identity] = [("customer", str(customer_id))] if customer_id else []
        identities += [("email", email)] if email else []
        return Identified(profile_id, tuple((identity, profile_id) for identity in identities))

    def current(self, store_hash: str, profile_id: str, known: Known) -> Profile | None:
        """The profile as read with the sighting, or (merged, or not guessed) as it is now."""
        if profile_id in known.profiles:
            return known.profiles[profile_id]
        return self._repository.get(store_hash, profile_id)

    # ------------------------------------------------------------------ changes
    def change(self, store_hash: str, profile_id: str, edit: Edit, *, finish_merges: bool = False) -> Profile | None:
        """Apply `edit` to the current profile until it saves without a concurrent change in
        between, then send what it promised. With `finish_merges` (the account's own changes,
        whose functions may merge), a merge into the profile that a crash interrupted is
        finished first."""
        for _ in range(SAVE_ATTEMPTS):
            current = self._repository.get(store_hash, profile_id)
            merged = self._move_absorbed(store_hash, current) if finish_merges and current is not None else []
            updated = edit(current) or current
            if merged and updated is not None:
                updated = updated.model_copy(update={"absorbing": [i for i in updated.absorbing if i not in merged]})
            try:
                return self._writer.apply(self._writer.plan(store_hash, before=current, after=updated)).profile
            except ChangeConflict:
                continue
        raise DownstreamFault(f"profile {profile_id} kept changing under us; retry later")
