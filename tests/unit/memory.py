"""In-memory stand-ins for the persistence ports, holding DynamoDB's conditions: a change is
written whole or not at all, and says which condition failed."""

from __future__ import annotations

from bcsync.domain.profiles import Profile
from bcsync.domain.sync import ReconcileState, SyncControl
from bcsync.usecases.ports import Change, ChangeConflict, Known, Lookup, ReservationsTaken


class MemoryStore:
    """ProfileRepository, ChangeStore and EventLedger over dicts."""

    def __init__(self):
        self.identities, self.profiles, self.pointers = {}, {}, {}
        self.recorded, self.triggers = {}, {}
        self.commits = 0

    # ProfileRepository
    def find(self, store_hash, kind, value):
        return self.identities.get((kind, value))

    def claim(self, store_hash, kind, value, profile_id):
        return self.identities.setdefault((kind, value), profile_id)

    def point(self, store_hash, kind, value, profile_id):
        self.identities[(kind, value)] = profile_id

    def release(self, store_hash, kind, value, profile_id):
        if self.identities.get((kind, value)) == profile_id:
            del self.identities[(kind, value)]

    def get(self, store_hash, profile_id):
        while profile_id in self.pointers:
            profile_id = self.pointers[profile_id]
        found = self.profiles.get(profile_id)
        return found.model_copy(deep=True) if found else None

    def retire(self, store_hash, profile_id, *, merged_into, revision):
        current = self.profiles.get(profile_id)
        if current is not None and current.revision != revision:
            raise ChangeConflict(profile_id)
        self.profiles.pop(profile_id, None)
        self.pointers[profile_id] = merged_into

    def profiles_of(self, store_hash):
        return iter([p for p in self.profiles.values() if p.store_hash == store_hash])

    def put_profile(self, profile: Profile) -> None:
        """A profile as another writer left it (tests arrange state with this)."""
        self.profiles[profile.id] = profile.model_copy(update={"revision": profile.revision + 1})

    # ChangeStore
    def read(self, lookup: Lookup) -> Known:
        return Known(
            identities={i: self.identities[i] for i in lookup.identities if i in self.identities},
            profiles={p: self.profiles.get(p) for p in lookup.profile_ids if p not in self.pointers},
            events={e: self.recorded[e] for e in lookup.event_ids if e in self.recorded},
        )

    def commit(self, change: Change):
        self._check(change)
        self.commits += 1
        return self._apply(change)

    def commit_together(self, changes):
        for change in changes:
            self._check(change)
        self.commits += 1
        return [self._apply(change) for change in changes]

    def _check(self, change: Change) -> None:
        taken = frozenset(i.dedup_key for i in change.reservations if i.dedup_key in self.triggers)
        stale = any(e.id in self.recorded for e in change.events) or any(c in self.identities for c, _ in change.claims)
        if change.profile is not None:
            stored = self.profiles.get(change.profile.id)
            expected = change.previous.revision if change.previous else None
            stale |= (stored.revision if stored else None) != expected
        if stale:
            raise ChangeConflict("changed since read")
        if taken:
            raise ReservationsTaken(taken, frozenset(k for k in taken if self.triggers[k]["sent_at"]))

    def _apply(self, change: Change):
        expected = change.previous.revision if change.previous else None
        self.recorded.update({e.id: e for e in change.events})
        self.identities.update(dict(change.claims))
        self.triggers.update({i.dedup_key: {"intent": i, "sent_at": None} for i in change.reservations})
        if change.profile is None:
            return None
        saved = change.profile.model_copy(update={"revision": (expected or 0) + 1})
        self.profiles[saved.id] = saved
        return saved.model_copy(deep=True)

    def settle(self, profile, sent, sent_at):
        if self.profiles[profile.id].revision != profile.revision:
            return None
        keys = {i.dedup_key for i in sent}
        for intent in sent:
            self.triggers[intent.dedup_key] = {"intent": intent, "sent_at": sent_at}
        settled = profile.model_copy(
            update={"outbox": [i for i in profile.outbox if i.dedup_key not in keys], "revision": profile.revision + 1}
        )
        self.profiles[profile.id] = settled
        return settled.model_copy(deep=True)

    def events_of(self, store_hash, metric, since):
        return [e for e in self.recorded.values() if e.metric == metric and (since is None or e.time >= since)]

    def events(self, ids):
        return {i: self.recorded[i] for i in ids if i in self.recorded}

    # EventLedger
    def reassign(self, store_hash, from_profile, to_profile):
        moved = [e for e in self.recorded.values() if e.profile_id == from_profile]
        self.recorded.update({e.id: e.model_copy(update={"profile_id": to_profile}) for e in moved})
        return len(moved)


class Publisher:
    def __init__(self, fail=False):
        self.fail = fail
        self.sent = []

    def publish(self, intents, profile, events):
        if self.fail:
            raise ConnectionError("SQS unreachable")
        self.sent += [(i.dedup_key, events.get(i.event_id or "")) for i in intents]


class MemorySyncState:
    """SyncStateStore over dicts; each save is a copy, as a write to DynamoDB would be."""

    def __init__(self):
        self.controls, self.reconciles, self.backfills = {}, {}, {}
        self.saves = 0

    def control(self, store_hash):
        return self.controls.get(store_hash, SyncControl()).model_copy()

    def update_control(self, store_hash, **changes):
        self.controls[store_hash] = self.control(store_hash).model_copy(update=changes)
        return self.controls[store_hash]

    def reconcile(self, store_hash):
        return self.reconciles.get(store_hash, ReconcileState()).model_copy(deep=True)

    def save_reconcile(self, store_hash, state):
        self.saves += 1
        self.reconciles[store_hash] = state.model_copy(deep=True)

    def backfill(self, store_hash):
        found = self.backfills.get(store_hash)
        return found.model_copy(deep=True) if found else None

    def save_backfill(self, store_hash, state):
        self.saves += 1
        self.backfills[store_hash] = state.model_copy(deep=True)
