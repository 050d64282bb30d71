"""The last step every event source shares: who it is about, what it adds, one write, then triggers.

A sighting (an order, a checkout) names a person by account and/or email and implies events and a
profile edit. One read learns everything the write depends on (identities, the profile, which
events exist, and catalog items when asked); one transaction writes what is new. When a condition
fails, someone else wrote in between: read again and redo, never merge blindly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from bcsync.domain.events import MarketingEvent
from bcsync.domain.profiles import Profile, apply_checkout_contact, normalize_email
from bcsync.observability import logger, metrics
from bcsync.usecases.changes import ChangeWriter, Planned, combine
from bcsync.usecases.clock import utc_now
from bcsync.usecases.ports import ChangeConflict, ChangeStore, DownstreamFault, Known, Lookup
from bcsync.usecases.profiles import ProfileBook

ATTEMPTS = 5


@dataclass(frozen=True)
class SyncResult:
    status: str
    events: int = 0
    new_events: int = 0
    triggers: int = 0
    created_ids: tuple[str, ...] = ()
    event_ids: tuple[str, ...] = ()
    profile_id: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "status": self.status,
            "events": self.events,
            "new_events": self.new_events,
            "triggers": self.triggers,
        }


@dataclass(frozen=True)
class Sighting:
    """What a source says now: who (account and/or email), the events it implies for a profile
    id, and how it changes that profile."""

    store_hash: str
    customer_id: int | None
    email: str | None
    events: Callable[[str | None], list[MarketingEvent]]
    edit: Callable[[Profile | None, str], Profile]
    source: str


def checkout_contact(
    store_hash: str, *, email: str, customer_id: int | None, properties: Mapping[str, Any]
) -> Callable[[Profile | None, str], Profile]:
    """A Sighting's edit for what a shopper's own session says (a checkout, a signed-in page):
    it fills gaps, and names their account when they are signed in."""

    def edit(profile: Profile | None, profile_id: str) -> Profile:
        return apply_checkout_contact(
            profile,
            email=email,
            properties=properties,
            customer_id=customer_id,
            profile_id=profile_id,
            store_hash=store_hash,
            now=utc_now(),
        )

    return edit


class EventRecorder:
    def __init__(self, store: ChangeStore, profiles: ProfileBook, writer: ChangeWriter) -> None:
        self._store = store
        self._profiles = profiles
        self._writer = writer

    def read(self, sighting: Sighting, product_ids: Sequence[int] = ()) -> Known:
        """Everything recording the sighting depends on, with catalog items for `product_ids`."""
        return self.read_many([sighting], product_ids)

    def read_many(self, sightings: Sequence[Sighting], product_ids: Sequence[int] = ()) -> Known:
        """The same for a page of sightings, in one read (100 keys a request)."""
        lookups = [
            self._profiles.lookup(
                sighting.store_hash,
                customer_id=sighting.customer_id,
                email=sighting.email,
                event_ids=tuple(event.id for event in sighting.events(None)),
            )
            for sighting in sightings
        ]
        return self._store.read(
            Lookup(
                sightings[0].store_hash,
                identities=tuple(dict.fromkeys(i for lookup in lookups for i in lookup.identities)),
                profile_ids=tuple(dict.fromkeys(p for lookup in lookups for p in lookup.profile_ids)),
                event_ids=tuple(dict.fromkeys(e for lookup in lookups for e in lookup.event_ids)),
                product_ids=tuple(sorted(set(product_ids))),
            )
        )

    def record(self, sighting: Sighting, known: Known | None = None) -> SyncResult:
        """Store what is new (the stored events win), update the profile, send what they promise."""
        store_hash = sighting.store_hash
        for _ in range(ATTEMPTS):
            known = known or self.read(sighting)
            identity = self._profiles.identify(
                store_hash, customer_id=sighting.customer_id, email=sighting.email, known=known
            )
            before = self._profiles.current(store_hash, identity.profile_id, known) if identity else None
            profile_id = before.id if before else identity.profile_id if identity else None
            after = sighting.edit(before, profile_id) if profile_id else None
            events = sighting.events(profile_id)
            planned = self._writer.plan(
                store_hash,
                before=before,
                after=after,
                events=events,
                stored_events=known.events,
                claims=identity.claims if identity else (),
            )
            try:
                applied = self._writer.apply(planned)
            except ChangeConflict:
                known = None
                continue
            if applied.new_events:
                created = [event.id for event in applied.new_events]
                metrics.add_metric(name="EventsCreated", unit="Count", value=len(created))
                logger.info("events created", extra={"source": sighting.source, "event_ids": created})
            return SyncResult(
                status="synced",
                events=len(events),
                new_events=len(applied.new_events),
                triggers=applied.triggers,
                created_ids=tuple(event.id for event in applied.new_events),
                event_ids=tuple(event.id for event in events),
                profile_id=profile_id,
            )
        raise DownstreamFault(f"{sighting.source} kept changing under us; retry later")

    def record_many(self, sightings: Sequence[Sighting], known: Known | None = None) -> list[SyncResult]:
        """A page of sightings (reconciliation, backfill): one read, one change per person
        (their sightings applied in order, in memory), written many to a transaction. A change
        whose transaction lost a race is redone alone, sighting by sighting, from a fresh read."""
        if not sightings:
            return []
        store_hash = sightings[0].store_hash
        known = known or self.read_many(sightings)
        people: dict[str, Planned] = {}
        members: dict[str, list[int]] = {}
        current: dict[str, Profile | None] = {}
        aliases: dict[str, str] = {}
        stored_events = dict(known.events)
        results: list[SyncResult] = []
        for number, sighting in enumerate(sightings):
            if self._needs_resolve(sighting, known) and people:
                # A guest opening an account is resolved against what is stored: store the page so far.
                return self._write(people, members, sightings, results) + self.record_many(sightings[number:])
            identity = self._profiles.identify(
                store_hash, customer_id=sighting.customer_id, email=sighting.email, known=known
            )
            key = self._person(store_hash, identity.profile_id, known, current, aliases) if identity else None
            key = key or f"anonymous:{number}"
            before = current.get(key)
            profile_id = before.id if before else identity.profile_id if identity else None
            events = sighting.events(profile_id)
            planned = self._writer.plan(
                store_hash,
                before=before,
                after=sighting.edit(before, profile_id) if profile_id else None,
                events=events,
                stored_events=stored_events,
                claims=identity.claims if identity else (),
            )
            people[key] = combine(people[key], planned) if key in people else planned
            members.setdefault(key, []).append(number)
            current[key] = planned.after if planned.after is not None else before
            known.identities.update(dict(planned.change.claims))
            stored_events.update({event.id: event for event in planned.change.events})
            results.append(_synced(events, planned.change.events, profile_id))
        return self._write(people, members, sightings, results)

    def _person(
        self,
        store_hash: str,
        profile_id: str,
        known: Known,
        current: dict[str, Profile | None],
        aliases: dict[str, str],
    ) -> str:
        """The key of the person a profile id leads to, their profile tracked in `current`: an
        id a merge retired leads to the survivor, so one person is one change."""
        if profile_id in aliases:
            return aliases[profile_id]
        if profile_id not in current:
            before = self._profiles.current(store_hash, profile_id, known)
            person = before.id if before else profile_id
            current.setdefault(person, before)
            aliases[profile_id] = person
            return person
        return profile_id

    @staticmethod
    def _needs_resolve(sighting: Sighting, known: Known) -> bool:
        email = normalize_email(sighting.email)
        customer = ("customer", str(sighting.customer_id))
        return bool(
            sighting.customer_id and email and customer not in known.identities and ("email", email) in known.identities
        )

    def _write(
        self,
        people: dict[str, Planned],
        members: dict[str, list[int]],
        sightings: Sequence[Sighting],
        results: list[SyncResult],
    ) -> list[SyncResult]:
        keys = list(people)
        saved, failed = self._writer.commit_many([people[key] for key in keys])
        for position, key in enumerate(keys):
            if position in failed:
                continue
            # As stored; or, when nothing changed, as read (it may hold what a crash left unsent).
            profile = saved[position] if position in saved else people[key].after
            sent = self._writer.deliver(profile, people[key].events)
            if sent:
                last = members[key][-1]
                results[last] = replace(results[last], triggers=sent)
        for position in failed:
            for number in members[keys[position]]:
                results[number] = self.record(sightings[number])
        created = sum(result.new_events for result in results)
        if created:
            metrics.add_metric(name="EventsCreated", unit="Count", value=created)
        return results


def _synced(events: Sequence[MarketingEvent], new: Sequence[MarketingEvent], profile_id: str | None) -> SyncResult:
    return SyncResult(
        status="synced",
        events=len(events),
        new_events=len(new),
        created_ids=tuple(event.id for event in new),
        event_ids=tuple(event.id for event in events),
        profile_id=profile_id,
    )
