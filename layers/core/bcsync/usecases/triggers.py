"""Flow triggers: promised with the change that makes them, sent after it, then settled.

A change that records an event for the first time (or promises a profile trigger) puts the
trigger in the profile's outbox and reserves its dedup key, in the transaction that writes the
change, so a trigger exists exactly when its change does. After that commit the outbox is sent
(SendMessageBatch, the dedup key as deduplication id) and settled (taken out of the outbox, its
record stamped `sent_at`). A crash in between leaves the outbox as it was: the next change to the
profile sends it again, which SQS drops inside its 5-minute window and consumers can drop by
`dedup_key` after it. Losing a trigger is never an option; a duplicate is made as unlikely as the
platform allows.
"""

from __future__ import annotations

from collections.abc import Mapping

from bcsync.domain.events import MarketingEvent
from bcsync.domain.flows import TriggerIntent
from bcsync.domain.profiles import Profile
from bcsync.observability import logger, metrics
from bcsync.usecases.clock import utc_now
from bcsync.usecases.ports import ChangeStore, DownstreamFault, ProfileRepository, TriggerPublisher

SETTLE_ATTEMPTS = 5


class TriggerCourier:
    def __init__(self, store: ChangeStore, repository: ProfileRepository, publisher: TriggerPublisher) -> None:
        self._store = store
        self._repository = repository
        self._publisher = publisher

    def deliver(self, profile: Profile, events: Mapping[str, MarketingEvent]) -> int:
        """Send the profile's outbox, then settle it; return how many triggers were sent."""
        pending = list(profile.outbox)
        if not pending:
            return 0
        missing = [intent.event_id for intent in pending if intent.event_id and intent.event_id not in events]
        if missing:  # promised by an earlier change that did not get to send them
            events = {**events, **self._store.events(missing)}
        self._publisher.publish(pending, profile, events)
        sent_at = utc_now()
        current: Profile | None = profile
        for _ in range(SETTLE_ATTEMPTS):
            if current is None or not _owes_any(current, pending):
                break  # settled by another delivery of the same outbox, or merged away with it
            if self._store.settle(current, pending, sent_at) is not None:
                break
            current = self._repository.get(profile.store_hash, profile.id)  # changed meanwhile: settle that
        else:
            raise DownstreamFault(f"profile {profile.id} kept changing while its triggers were settled")
        metrics.add_metric(name="FlowTriggersSent", unit="Count", value=len(pending))
        logger.info("flow triggers sent", extra={"dedup_keys": [intent.dedup_key for intent in pending]})
        return len(pending)


def _owes_any(profile: Profile, sent: list[TriggerIntent]) -> bool:
    keys = {intent.dedup_key for intent in sent}
    return any(intent.dedup_key in keys for intent in profile.outbox)
