"""The last step every event source shares: who it is about, what it adds, one write, then triggers.

A sighting (an order, a checkout) names a person by account and/or email and implies events and a
profile edit. One read learns everything the write depends on (identities, the profile, which
events exist, and catalog items when asked); one transaction writes what is new. When a condition
fails, someone else wrote in between: read again and redo, never merge blindly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from bcsync.domain.events import MarketingEvent
from bcsync.domain.profiles import Profile
from bcsync.observability import logger, metrics
from bcsync.usecases.changes import ChangeWriter
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


class EventRecorder:
    def __init__(self, store: ChangeStore, profiles: ProfileBook, writer: ChangeWriter) -> None:
        self._store = store
        self._profiles = profiles
        self._writer = writer

    def read(self, sighting: Sighting, product_ids: Sequence[int] = ()) -> Known:
        """Everything recording the sighting depends on, with catalog items for `product_ids`."""
        event_ids = tuple(event.id for event in sighting.events(None))
        lookup = self._profiles.lookup(
            sighting.store_hash, customer_id=sighting.customer_id, email=sighting.email, event_ids=event_ids
        )
        return self._store.read(lookup if not product_ids else _with_products(lookup, product_ids))

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
            try:
                applied = self._writer.apply(
                    store_hash,
                    before=before,
                    after=after,
                    events=events,
                    stored_events=known.events,
                    claims=identity.claims if identity else (),
                )
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


def _with_products(lookup: Lookup, product_ids: Sequence[int]) -> Lookup:
    return replace(lookup, product_ids=tuple(sorted(set(product_ids))))
