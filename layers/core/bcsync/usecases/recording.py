"""The last step every event source shares: store the events once, then send their flow triggers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bcsync.domain.events import MarketingEvent
from bcsync.domain.profiles import Profile
from bcsync.observability import logger, metrics
from bcsync.usecases.ports import EventLedger
from bcsync.usecases.triggers import TriggerDispatcher


@dataclass(frozen=True)
class SyncResult:
    status: str
    events: int = 0
    new_events: int = 0
    triggers: int = 0
    created_ids: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {
            "status": self.status,
            "events": self.events,
            "new_events": self.new_events,
            "triggers": self.triggers,
        }


class EventRecorder:
    def __init__(self, events: EventLedger, triggers: TriggerDispatcher) -> None:
        self._events = events
        self._triggers = triggers

    def record(self, events: Sequence[MarketingEvent], profile: Profile | None, *, source: str) -> SyncResult:
        """Write each event unless it exists (the stored one wins), then trigger from what is stored."""
        recorded = self._events.record(events)
        stored = [event for event, _ in recorded]
        new = [event for event, created in recorded if created]
        if new:
            metrics.add_metric(name="EventsCreated", unit="Count", value=len(new))
            logger.info("events created", extra={"source": source, "event_ids": [event.id for event in new]})
        intents = self._triggers.plan(stored)
        sent = self._triggers.dispatch(intents, profile, {event.id: event for event in stored})
        return SyncResult(
            status="synced",
            events=len(stored),
            new_events=len(new),
            triggers=sent,
            created_ids=tuple(event.id for event in new),
        )
