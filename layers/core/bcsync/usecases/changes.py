"""Writing one change: its new events, the profile, identity claims and the triggers it promises,
in one transaction; then the promised triggers are sent."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bcsync.domain.events import MarketingEvent
from bcsync.domain.flows import Flow
from bcsync.domain.profiles import Profile, promise_event_triggers
from bcsync.usecases.ports import Change, ChangeStore, Identity, ReservationsTaken
from bcsync.usecases.triggers import TriggerCourier


@dataclass(frozen=True)
class Applied:
    profile: Profile | None
    new_events: tuple[MarketingEvent, ...] = ()
    triggers: int = 0


class ChangeWriter:
    def __init__(self, store: ChangeStore, courier: TriggerCourier, enabled: frozenset[Flow]) -> None:
        self._store = store
        self._courier = courier
        self._enabled = enabled

    def apply(
        self,
        store_hash: str,
        *,
        before: Profile | None,
        after: Profile | None,
        events: Sequence[MarketingEvent] = (),
        stored_events: Mapping[str, MarketingEvent] | None = None,
        claims: Sequence[tuple[Identity, str]] = (),
    ) -> Applied:
        """`events` is everything the source implies now; those in `stored_events` exist and are
        left alone (the first write wins). ChangeConflict when what was read has changed."""
        stored_events = stored_events or {}
        new = tuple(event for event in events if event.id not in stored_events)
        if after is not None:
            after = after.model_copy(deep=True)
            promise_event_triggers(after, new, self._enabled)
            after.outbox = [intent for intent in after.outbox if intent.flow in self._enabled]
        held = {intent.dedup_key for intent in before.outbox} if before else set()
        while True:
            change = Change(
                store_hash=store_hash,
                events=new,
                claims=tuple(claims),
                reservations=tuple(i for i in after.outbox if i.dedup_key not in held) if after else (),
                profile=after if after is not None and after != before else None,
                previous=before,
            )
            if change.empty:
                saved = before
                break
            try:
                saved = self._store.commit(change) or before
                break
            except ReservationsTaken as taken:  # promised and sent by an earlier change: not again
                assert after is not None
                after.outbox = [intent for intent in after.outbox if intent.dedup_key not in taken.dedup_keys]
        sent = 0
        if saved is not None and saved.outbox:
            sent = self._courier.deliver(saved, {**stored_events, **{event.id: event for event in new}})
        return Applied(profile=saved, new_events=new, triggers=sent)
