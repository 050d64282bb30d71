"""Writing one change: its new events, the profile, identity claims and the triggers it promises,
in one transaction; then the promised triggers are sent.

A page of changes (reconciliation, backfill) is planned in memory, one change per person, and
written many to a transaction, several transactions at a time."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, tzinfo

from bcsync.domain.counters import Bucket, merged, tally
from bcsync.domain.events import MarketingEvent
from bcsync.domain.feeds import exclusion
from bcsync.domain.flows import Flow, TriggerIntent
from bcsync.domain.profiles import Profile, note_activity, promise_event_triggers
from bcsync.usecases.ports import Change, ChangeConflict, ChangeStore, Identity, ReservationsTaken
from bcsync.usecases.triggers import TriggerCourier

# DynamoDB takes 100 items a transaction; a few transactions at once keep a page's writes short
# without crowding a table's on-demand throughput.
TRANSACTION_ITEMS = 100
PARALLEL_TRANSACTIONS = 4


@dataclass(frozen=True)
class Applied:
    profile: Profile | None
    new_events: tuple[MarketingEvent, ...] = ()
    triggers: int = 0


@dataclass(frozen=True)
class Planned:
    """A change as it will be written, and the profile it leaves (with what it promised)."""

    change: Change
    after: Profile | None
    # The events the change names, stored or new: the triggers it sends carry them.
    events: Mapping[str, MarketingEvent]

    @property
    def counters(self) -> set[Bucket]:
        return set(merged(self.change.counts.values()))

    @property
    def items(self) -> int:
        """Items in a transaction of its own."""
        change = self.change
        others = len(change.events) + len(change.claims) + len(change.reservations) + (1 if change.profile else 0)
        return others + len(self.counters)

    @property
    def lane(self) -> frozenset[int]:
        """The shards of the store's counters it adds to (one: the person's)."""
        return frozenset(bucket.shard for bucket in self.counters if bucket.profile_id is None)


def _utc(store_hash: str) -> tzinfo:
    return UTC


class ChangeWriter:
    def __init__(
        self,
        store: ChangeStore,
        courier: TriggerCourier,
        enabled: frozenset[Flow],
        *,
        zone_of: Callable[[str], tzinfo] = _utc,
        excludes_returns: Callable[[str], bool] = lambda store_hash: False,
    ) -> None:
        """`zone_of`: the store's timezone, whose days the counters keep; `excludes_returns`:
        whether the store's feeds leave cancelled and refunded orders out."""
        self._store = store
        self._courier = courier
        self._enabled = enabled
        self._zone_of = zone_of
        self._excludes_returns = excludes_returns

    def plan(
        self,
        store_hash: str,
        *,
        before: Profile | None,
        after: Profile | None,
        events: Sequence[MarketingEvent] = (),
        stored_events: Mapping[str, MarketingEvent] | None = None,
        claims: Sequence[tuple[Identity, str]] = (),
    ) -> Planned:
        """`events` is everything the source implies now (one order's, one person's); those in
        `stored_events` exist and are left alone (the first write wins). New events promise their
        triggers in `after`."""
        stored_events = stored_events or {}
        new = tuple(event for event in events if event.id not in stored_events)
        zone = self._zone_of(store_hash) if new else UTC  # the store's zone costs a read
        counts = {event.id: tally([event], zone) for event in new}
        if new and self._excludes_returns(store_hash):
            as_stored = [stored_events.get(event.id, event) for event in events]
            for carrier, taken in exclusion(as_stored, counts, zone).items():
                counts[carrier] = merged([counts[carrier], taken])
        if after is not None:
            after = after.model_copy(deep=True)
            note_activity(after, new)
            promise_event_triggers(after, new, self._enabled)
            after.outbox = [intent for intent in after.outbox if intent.flow in self._enabled]
        held = {intent.dedup_key for intent in before.outbox} if before else set()
        change = Change(
            store_hash=store_hash,
            events=new,
            claims=tuple(claims),
            reservations=tuple(i for i in after.outbox if i.dedup_key not in held and _reserved(i)) if after else (),
            profile=after if after is not None and after != before else None,
            previous=before,
            counts=counts,
        )
        return Planned(change, after, {**stored_events, **{event.id: event for event in new}})

    def apply(self, planned: Planned) -> Applied:
        """Write one planned change and deliver what it promised. ChangeConflict when what was
        read has changed since."""
        before = planned.change.previous
        while True:
            try:
                committed = self._store.commit(planned.change) if not planned.change.empty else None
                break
            except ReservationsTaken as taken:  # promised by an earlier change: sent, or still owed
                planned = _without(planned, taken)
        saved = committed if committed is not None else before
        sent = self.deliver(saved, planned.events)
        return Applied(profile=saved, new_events=planned.change.events, triggers=sent)

    def deliver(self, profile: Profile | None, events: Mapping[str, MarketingEvent]) -> int:
        return self._courier.deliver(profile, events) if profile is not None and profile.outbox else 0

    def commit_many(self, planned: Sequence[Planned]) -> tuple[dict[int, Profile | None], list[int]]:
        """Write changes many to a transaction (one change per person: a transaction holds an
        item once), several transactions at a time. Returns the profiles as stored and the changes
        not written because a condition failed (a transaction is written whole or not at all;
        the caller redoes those one by one), both by position."""
        lanes: dict[frozenset[int], list[int]] = {}
        for n, change in enumerate(planned):
            if not change.change.empty:
                lanes.setdefault(change.lane, []).append(n)

        def write_lane(lane: list[int]) -> tuple[dict[int, Profile | None], list[int]]:
            """One lane's transactions in turn: they add to the store's counters of the same
            shard, which transactions running at once could not both update."""
            saved: dict[int, Profile | None] = {}
            failed: list[int] = []
            for group in _packed(planned, lane):
                try:
                    stored = self._store.commit_together([planned[n].change for n in group])
                    saved.update(zip(group, stored, strict=True))
                except (ChangeConflict, ReservationsTaken):
                    failed += group
            return saved, failed

        saved: dict[int, Profile | None] = {}
        failed: list[int] = []
        with ThreadPoolExecutor(max_workers=PARALLEL_TRANSACTIONS) as pool:
            for stored, refused in pool.map(write_lane, lanes.values()):
                saved.update(stored)
                failed += refused
        return saved, failed


def _packed(planned: Sequence[Planned], lane: list[int]) -> list[list[int]]:
    """First fit, largest first, a counter the changes share counted once."""
    groups: list[list[int]] = []
    used: list[int] = []
    buckets: list[set[Bucket]] = []
    for n in sorted(lane, key=lambda n: -planned[n].items):
        counters = planned[n].counters
        others = planned[n].items - len(counters)
        slot = next(
            (g for g in range(len(groups)) if used[g] + others + len(buckets[g] | counters) <= TRANSACTION_ITEMS),
            None,
        )
        if slot is None:
            groups.append([n])
            used.append(others)
            buckets.append(set(counters))
        else:
            groups[slot].append(n)
            used[slot] += others
            buckets[slot] |= counters
    return groups


def _reserved(intent: TriggerIntent) -> bool:
    """A metric's trigger needs no reservation: it is promised only by the write that creates its
    event, which can happen once (First Order, once per person, by the profile's marker). A
    profile trigger (New Customer, Welcome Series, Confirm Subscription) is promised again by a
    repeated delivery: its reservation is what keeps a second one from being sent."""
    return intent.event_id is None


def _without(planned: Planned, taken: ReservationsTaken) -> Planned:
    """The change without reserving what is reserved already; what was sent leaves the outbox,
    what is still owed (a merge carries an unsent promise over) stays in it, to be sent."""
    after = planned.after
    assert after is not None
    after = after.model_copy(update={"outbox": [i for i in after.outbox if i.dedup_key not in taken.sent]})
    change = planned.change
    reservations = tuple(i for i in change.reservations if i.dedup_key not in taken.dedup_keys)
    profile = after if change.profile is not None else None
    return Planned(replace(change, reservations=reservations, profile=profile), after, planned.events)


def combine(first: Planned, then: Planned) -> Planned:
    """Two changes to one person, planned one after the other, as one change."""
    a, b = first.change, then.change
    claims = dict(a.claims)
    claims.update(dict(b.claims))
    profile = then.after if (b.profile is not None or a.profile is not None) else None
    change = Change(
        a.store_hash,
        events=a.events + b.events,
        claims=tuple(claims.items()),
        reservations=a.reservations + b.reservations,
        profile=profile,
        previous=a.previous,
        counts={**a.counts, **b.counts},
    )
    return Planned(change, then.after, {**first.events, **then.events})
