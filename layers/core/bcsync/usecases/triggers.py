"""Flow triggers: each recorded once, then sent; a crash in between re-sends with the same key.

Order of work: reserve the dedup key (conditional write), publish to the FIFO queue with the key
as its deduplication id, then stamp sent_at. A retry after a crash finds the reservation without
sent_at and publishes again, which SQS drops inside its 5-minute window and consumers can drop by
`dedup_key` after it. Losing a trigger is never an option; a duplicate is made as unlikely as the
platform allows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from bcsync.domain.events import MarketingEvent, Metric
from bcsync.domain.flows import Flow, TriggerIntent, first_order_trigger, metric_triggers
from bcsync.domain.profiles import Profile
from bcsync.observability import logger, metrics
from bcsync.usecases.clock import utc_now
from bcsync.usecases.ports import EventLedger, TriggerLedger, TriggerPublisher


class TriggerDispatcher:
    def __init__(
        self,
        ledger: TriggerLedger,
        publisher: TriggerPublisher,
        events: EventLedger,
        enabled: frozenset[Flow],
    ) -> None:
        self._ledger = ledger
        self._publisher = publisher
        self._events = events
        self._enabled = enabled

    def plan(self, stored: Sequence[MarketingEvent]) -> list[TriggerIntent]:
        intents = [intent for event in stored for intent in metric_triggers(event, self._enabled)]
        if Flow.FIRST_ORDER in self._enabled:
            intents += [
                first_order_trigger(event)
                for event in stored
                if event.metric == Metric.PLACED_ORDER and self._is_first_order(event)
            ]
        return intents

    def _is_first_order(self, event: MarketingEvent) -> bool:
        """First by date_created among the profile's orders known now (backfilled ones included)."""
        if event.backfill or event.profile_id is None:
            return False
        known = self._events.placed_orders_of(event.store_hash, event.profile_id)
        return not any(other.id != event.id and other.time <= event.time for other in known)

    def dispatch(
        self,
        intents: Iterable[TriggerIntent],
        profile: Profile | None,
        events_by_id: Mapping[str, MarketingEvent],
    ) -> int:
        sent = 0
        for intent in intents:
            if intent.flow not in self._enabled:
                continue
            stored, sent_at = self._ledger.reserve(intent)
            if sent_at is not None or stored.event_id != intent.event_id:
                continue  # already sent, or another event holds this once-per-profile trigger
            event = events_by_id.get(intent.event_id) if intent.event_id else None
            self._publisher.publish(intent, profile, event)
            self._ledger.mark_sent(intent, utc_now())
            logger.info("flow trigger sent", extra={"flow": intent.flow.value, "dedup_key": intent.dedup_key})
            sent += 1
        if sent:
            metrics.add_metric(name="FlowTriggersSent", unit="Count", value=sent)
        return sent
