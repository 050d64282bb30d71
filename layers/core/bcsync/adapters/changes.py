"""One change, one read and one write: a BatchGetItem across tables, then a TransactWriteItems.

Conditions replace locks: an event, an identity claim and a trigger reservation are written only
if absent, the profile only at the revision that was read. When any fails, DynamoDB writes
nothing, and the cancellation reasons say which: reservations alone (the triggers exist already)
or anything else (someone changed what was read).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from bcsync.adapters.counters import counter_updates
from bcsync.adapters.dynamodb import (
    event_from_item,
    event_item,
    identity_key,
    now_iso,
    plain,
    profile_from_item,
    profile_item,
    profile_key,
    trigger_item,
)
from bcsync.domain.catalog import CatalogItem
from bcsync.domain.counters import Amount, Bucket, merged
from bcsync.domain.events import MarketingEvent
from bcsync.domain.flows import TriggerIntent
from bcsync.domain.profiles import Profile
from bcsync.usecases.ports import Change, ChangeConflict, Known, Lookup, ReservationsTaken

BATCH_GET_KEYS = 100
TRANSACTION_ITEMS = 100
BATCH_WRITE_ITEMS = 25
_ABSENT = "attribute_not_exists(pk)"


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True)
class ChangeTables:
    events: str
    profiles: str
    triggers: str
    catalog: str
    counters: str


Counts = Mapping[Bucket, Amount]


def _fitting(
    events: Sequence[MarketingEvent], counts: Mapping[str, Counts], room: int
) -> tuple[tuple[MarketingEvent, ...], tuple[MarketingEvent, ...]]:
    """As many events from the start as fit in `room` items with their counters, and the rest."""
    buckets: set[Bucket] = set()
    for taken, event in enumerate(events):
        buckets |= set(counts.get(event.id, {}))
        if taken + 1 + len(buckets) > room:
            return tuple(events[:taken]), tuple(events[taken:])
    return tuple(events), ()


@dataclass(frozen=True)
class _Write:
    """One item of a transaction, and what a failed condition on it means."""

    operation: dict[str, Any]
    dedup_key: str | None = None  # set on trigger reservations


class DynamoChangeStore:
    """`client` is a DynamoDB resource's client (`resource.meta.client`): it takes and gives
    plain Python values, as the tables do."""

    def __init__(self, client: Any, tables: ChangeTables) -> None:
        self._client = client
        self._tables = tables

    # ------------------------------------------------------------------ read
    def read(self, lookup: Lookup) -> Known:
        store = lookup.store_hash
        identity_keys = {identity_key(store, kind, value): (kind, value) for kind, value in lookup.identities}
        profile_keys = {profile_key(store, profile_id) for profile_id in lookup.profile_ids}
        product_keys = {f"{store}#product#{pid}" for pid in lookup.product_ids if pid > 0}
        found = self._batch_get(
            [(self._tables.profiles, key) for key in sorted({*identity_keys, *profile_keys})]
            + [(self._tables.events, event_id) for event_id in sorted(set(lookup.event_ids))]
            + [(self._tables.catalog, key) for key in sorted(product_keys)]
        )
        known = Known(profiles=dict.fromkeys(lookup.profile_ids))
        for item in found.get(self._tables.profiles, []):
            if item["pk"] in identity_keys:
                known.identities[identity_keys[item["pk"]]] = str(item["profile_id"])
            elif isinstance(profile := profile_from_item(item), Profile):
                known.profiles[profile.id] = profile
            else:
                del known.profiles[item["pk"].rsplit("#", 1)[-1]]  # merged: the repository follows it
        for item in found.get(self._tables.events, []):
            known.events[item["pk"]] = event_from_item(item)
        for item in found.get(self._tables.catalog, []):
            known.catalog[int(item["product_id"])] = CatalogItem.model_validate(plain(item["item"]))
        return known

    def events(self, event_ids: Sequence[str]) -> dict[str, MarketingEvent]:
        items = self._batch_get([(self._tables.events, event_id) for event_id in sorted(set(event_ids))])
        return {item["pk"]: event_from_item(item) for item in items.get(self._tables.events, [])}

    def _batch_get(self, keys: Sequence[tuple[str, str]]) -> dict[str, list[dict[str, Any]]]:
        """Strongly consistent, 100 keys a request across tables, unprocessed keys asked again."""
        found: dict[str, list[dict[str, Any]]] = {}
        for chunk in _chunks(keys, BATCH_GET_KEYS):
            request: dict[str, Any] = {}
            for table, key in chunk:
                request.setdefault(table, {"Keys": [], "ConsistentRead": True})["Keys"].append({"pk": key})
            while request:
                response = self._client.batch_get_item(RequestItems=request)
                for table, items in response.get("Responses", {}).items():
                    found.setdefault(table, []).extend(items)
                request = response.get("UnprocessedKeys") or {}
        return found

    # ------------------------------------------------------------------ write
    def commit(self, change: Change) -> Profile | None:
        """The profile, claims and reservations go first, so when a change is too big for one
        transaction its first one still holds the outbox that makes the rest worth retrying. An
        event always shares its transaction with what it adds to the counters."""
        stored, writes = self._head(change)
        first, rest = _fitting(change.events, change.counts, TRANSACTION_ITEMS - len(writes))
        self._transact(writes + self._event_writes(first, change.counts))
        while rest:
            chunk, rest = _fitting(rest, change.counts, TRANSACTION_ITEMS)
            self._transact_absent(chunk, change.counts)
        return stored

    def commit_together(self, changes: Sequence[Change]) -> list[Profile | None]:
        if len(changes) == 1:
            return [self.commit(changes[0])]
        heads = [self._head(change) for change in changes]
        events = tuple(event for change in changes for event in change.events)
        counts = {event_id: counted for change in changes for event_id, counted in change.counts.items()}
        self._transact([write for _, writes in heads for write in writes] + self._event_writes(events, counts))
        return [stored for stored, _ in heads]

    def _head(self, change: Change) -> tuple[Profile | None, list[_Write]]:
        stored = None
        writes: list[_Write] = []
        if change.profile is not None:
            stored, write = self._profile_write(change.profile, change.previous)
            writes.append(write)
        writes += [self._claim_write(change.store_hash, identity, owner) for identity, owner in change.claims]
        writes += [self._reservation(intent) for intent in change.reservations]
        return stored, writes

    def _event_writes(self, events: Sequence[MarketingEvent], counts: Mapping[str, Counts]) -> list[_Write]:
        """The events (each only if absent) and, added up, what they count."""
        puts = [_Write(self._put(self._tables.events, event_item(event))) for event in events]
        counted = merged(counts.get(event.id, {}) for event in events)
        return puts + [_Write(update) for update in counter_updates(self._tables.counters, counted)]

    def settle(self, profile: Profile, sent: Sequence[TriggerIntent], sent_at: str) -> Profile | None:
        """Stamp the trigger records first: a crash before the outbox is cleared re-sends (and
        SQS drops it within its deduplication window), never loses."""
        keys = {intent.dedup_key for intent in sent}
        remaining = [intent for intent in profile.outbox if intent.dedup_key not in keys]
        settled = profile.model_copy(update={"outbox": remaining, "revision": profile.revision + 1})
        records = [
            self._put(self._tables.triggers, trigger_item(intent, sent_at=sent_at), if_absent=False) for intent in sent
        ]
        head, tail = records[: TRANSACTION_ITEMS - 1], records[TRANSACTION_ITEMS - 1 :]
        self._batch_put(tail)
        update = {
            "Update": {
                "TableName": self._tables.profiles,
                "Key": {"pk": profile_key(profile.store_hash, profile.id)},
                "UpdateExpression": "SET #p.outbox = :outbox, #p.revision = :next",
                "ConditionExpression": "#p.revision = :revision",
                "ExpressionAttributeNames": {"#p": "profile"},
                "ExpressionAttributeValues": {
                    ":outbox": [intent.model_dump() for intent in remaining],
                    ":next": settled.revision,
                    ":revision": profile.revision,
                },
            }
        }
        try:
            self._transact([_Write(update), *(_Write(record) for record in head)])
        except ChangeConflict:
            return None
        return settled

    def _profile_write(self, profile: Profile, previous: Profile | None) -> tuple[Profile, _Write]:
        stored = profile.model_copy(update={"revision": previous.revision + 1 if previous else 1})
        operation = self._put(self._tables.profiles, profile_item(stored))
        if previous is not None:
            operation["Put"]["ConditionExpression"] = "#p.revision = :revision"
            operation["Put"]["ExpressionAttributeNames"] = {"#p": "profile"}
            operation["Put"]["ExpressionAttributeValues"] = {":revision": previous.revision}
        return stored, _Write(operation)

    def _reservation(self, intent: TriggerIntent) -> _Write:
        operation = self._put(self._tables.triggers, trigger_item(intent, reserved_at=now_iso()))
        operation["Put"]["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"  # was it sent?
        return _Write(operation, intent.dedup_key)

    def _claim_write(self, store_hash: str, identity: tuple[Any, str], owner: str) -> _Write:
        kind, value = identity
        item = {"pk": identity_key(store_hash, kind, value), "profile_id": owner, "linked_at": now_iso()}
        return _Write(self._put(self._tables.profiles, item))

    @staticmethod
    def _put(table: str, item: dict[str, Any], *, if_absent: bool = True) -> dict[str, Any]:
        put: dict[str, Any] = {"TableName": table, "Item": (item)}
        if if_absent:
            put["ConditionExpression"] = _ABSENT
        return {"Put": put}

    def _transact(self, writes: Sequence[_Write]) -> None:
        if not writes:
            return
        try:
            self._client.transact_write_items(TransactItems=[write.operation for write in writes])
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            failed = _failed_conditions(error, writes)
            if failed and all(write.dedup_key for write, _ in failed):
                taken = frozenset(str(write.dedup_key) for write, _ in failed)
                sent = frozenset(str(write.dedup_key) for write, held in failed if "sent_at" in held)
                raise ReservationsTaken(taken, sent) from None
            raise ChangeConflict(str(error)) from None

    def _transact_absent(self, events: Sequence[MarketingEvent], counts: Mapping[str, Counts]) -> None:
        """Events past the first transaction: those already present are left as they are, and
        counted no more."""
        while events:
            try:
                self._transact(self._event_writes(events, counts))
                return
            except (ReservationsTaken, ChangeConflict):
                pass
            found = self._batch_get([(self._tables.events, event.id) for event in events])
            present = {item["pk"] for item in found.get(self._tables.events, [])}
            if not present:
                raise ChangeConflict("a write past the first transaction keeps conflicting")
            events = [event for event in events if event.id not in present]

    def _batch_put(self, operations: Sequence[dict[str, Any]]) -> None:
        """Unconditional puts (trigger records that only gain a stamp), 25 a request."""
        for chunk in _chunks(operations, BATCH_WRITE_ITEMS):
            request: dict[str, Any] = {}
            for operation in chunk:
                put = operation["Put"]
                request.setdefault(put["TableName"], []).append({"PutRequest": {"Item": put["Item"]}})
            while request:
                request = self._client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}


def _failed_conditions(error: ClientError, writes: Sequence[_Write]) -> list[tuple[_Write, dict[str, Any]]]:
    """The writes whose condition failed, each with the item that failed it (when asked for)."""
    reasons = error.response.get("CancellationReasons") or []
    codes = [reason.get("Code") for reason in reasons]
    if any(code not in (None, "None", "ConditionalCheckFailed") for code in codes):
        return []  # a transaction conflict or a throttled item: not a fact about the data
    return [
        (write, dict(reason.get("Item") or {}))
        for write, reason in zip(writes, reasons, strict=False)
        if reason.get("Code") == "ConditionalCheckFailed"
    ]
