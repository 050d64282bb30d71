"""SQS: the flow-trigger FIFO queue and the retry queue for parked deliveries."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from bcsync.domain.events import MarketingEvent
from bcsync.domain.flows import TriggerIntent
from bcsync.domain.profiles import Profile
from bcsync.usecases.clock import utc_now

if TYPE_CHECKING:  # the functions that only send triggers or jobs never load the webhook pipeline
    from bcsync.usecases.ingest import RawDelivery


def trigger_message(intent: TriggerIntent, profile: Profile | None, event: MarketingEvent | None) -> dict[str, Any]:
    """The contract consumers read: flow, profile (id, email, consent), the whole event, dedup key,
    and flow-specific details (Confirm Subscription's `confirmation_url` and `expires_at`)."""
    return {
        "flow": intent.flow.value,
        "store_hash": intent.store_hash,
        "dedup_key": intent.dedup_key,
        "profile": {
            "id": intent.profile_id,
            "email": profile.email if profile else None,
            "consent": profile.consent.model_dump(mode="json") if profile else None,
        },
        "event": event.export() if event else None,
        "details": dict(intent.details),
        "sent_at": utc_now(),
    }


SEND_BATCH = 10


class TriggersNotSent(Exception):
    """SQS refused some messages of a batch; the outbox keeps them for the next attempt."""


def send_batches(client: Any, queue_url: str, messages: Sequence[tuple[str, str, object]], *, what: str) -> None:
    """(dedup key, group, body) on a FIFO queue, 10 to a batch; raise unless all were taken. The
    deduplication id is the key's digest: SQS drops a re-send of it within 5 minutes (a crash
    between the send and the record of it)."""
    for start in range(0, len(messages), SEND_BATCH):
        entries = [
            {
                "Id": str(number),
                "MessageBody": json.dumps(body, default=str),
                "MessageGroupId": group,
                "MessageDeduplicationId": hashlib.sha256(dedup_key.encode()).hexdigest(),
            }
            for number, (dedup_key, group, body) in enumerate(messages[start : start + SEND_BATCH])
        ]
        failed = client.send_message_batch(QueueUrl=queue_url, Entries=entries).get("Failed")
        if failed:
            raise TriggersNotSent(f"{len(failed)} {what} refused: {[f.get('Code') for f in failed]}")


class SqsTriggerPublisher:
    def __init__(self, client: Any, queue_url: str) -> None:
        self._client = client
        self._queue_url = queue_url

    def publish(self, intents: Sequence[TriggerIntent], profile: Profile, events: Mapping[str, MarketingEvent]) -> None:
        messages = [
            (intent.dedup_key, intent.profile_id, trigger_message(intent, profile, events.get(intent.event_id or "")))
            for intent in intents
        ]
        send_batches(self._client, self._queue_url, messages, what="flow triggers")


class SqsDeliveryParker:
    def __init__(self, client: Any, queue_url: str) -> None:
        self._client = client
        self._queue_url = queue_url

    def park(self, delivery: RawDelivery) -> None:
        self._client.send_message(QueueUrl=self._queue_url, MessageBody=delivery.model_dump_json())


class SqsJobQueue:
    """Sync jobs on a FIFO queue: one message group per store and job runs them one at a time,
    and a continuation sent while a job runs is taken only after that run ends."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self._client = client
        self._queue_url = queue_url

    def enqueue(self, store_hash: str, job: Literal["reconcile", "backfill"], *, dedup: str) -> None:
        self._client.send_message(
            QueueUrl=self._queue_url,
            MessageBody=json.dumps({"job": job, "store_hash": store_hash}),
            MessageGroupId=f"{store_hash}:{job}",
            MessageDeduplicationId=hashlib.sha256(f"{store_hash}:{job}:{dedup}".encode()).hexdigest(),
        )


class SqsActionPublisher:
    """Flow actions on their FIFO queue, grouped by person, 10 to a batch."""

    def __init__(self, client: Any, queue_url: str) -> None:
        self._client = client
        self._queue_url = queue_url

    def publish(self, messages: Sequence[tuple[str, dict[str, object]]]) -> None:
        grouped = [(dedup_key, _person(message), message) for dedup_key, message in messages]
        send_batches(self._client, self._queue_url, grouped, what="flow actions")


def _person(message: dict[str, object]) -> str:
    """Actions are grouped by person: each one's messages are read in order."""
    profile = message.get("profile")
    return str(profile.get("id")) if isinstance(profile, dict) else "flows"
