"""Whether a flow's conditions hold for a person now: trigger filters on the trigger event, flow
filters on the profile and their event counts, split conditions on either. Pure: the counts come
from a function the caller gives (the per-profile, per-metric counters kept with the event writes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from bcsync.domain.events import MarketingEvent
from bcsync.domain.flow_definitions import (
    ConsentIs,
    Days,
    EventCount,
    FlowDefinition,
    InList,
    MetricTrigger,
    PropertyCondition,
)
from bcsync.domain.profiles import Profile

# How many times the person did a metric at or after a moment (None: ever).
Counts = Callable[[str, datetime | None], int]
_MISSING = object()
# Event times are whole seconds: "since starting this flow" counts from the next one.
AFTER = timedelta(seconds=1)


@dataclass(frozen=True)
class Situation:
    """What conditions are checked against: the person now, the event that started the run (if
    a metric did), when the run started, and the time."""

    profile: Profile
    event: MarketingEvent | None
    counts: Counts
    now: datetime
    flow_started_at: datetime | None = None


def trigger_accepts(trigger: MetricTrigger, event: MarketingEvent) -> bool:
    """The trigger's metric, and every trigger filter true of the event."""
    return event.metric == trigger.metric and all(
        _compare(_event_value(event, f.property), f.op, f.value) for f in trigger.filters
    )


def qualifies(flow: FlowDefinition, situation: Situation) -> bool:
    """Every flow filter holds: checked at entry, before every action and after every delay."""
    return all(holds(condition, situation, default_on="profile") for condition in flow.filters)


def holds(
    condition: EventCount | ConsentIs | InList | PropertyCondition,
    situation: Situation,
    *,
    default_on: str = "split",
) -> bool:
    """A split reads the trigger event's property when the event has it, else the profile's."""
    if isinstance(condition, EventCount):
        return _compare(situation.counts(condition.metric, _since(condition, situation)), condition.op, condition.count)
    if isinstance(condition, ConsentIs):
        state = situation.profile.consent.email_marketing or "never_subscribed"
        return state == condition.consent
    if isinstance(condition, InList):
        return condition.list_name in situation.profile.lists
    on = condition.on or default_on
    value: Any = _MISSING
    if on in ("event", "split") and situation.event is not None:
        value = _event_value(situation.event, condition.property)
    if value is _MISSING and on in ("profile", "split"):
        value = situation.profile.properties.get(condition.property, _MISSING)
    return _compare(value, condition.op, condition.value)


def _since(condition: EventCount, situation: Situation) -> datetime | None:
    if isinstance(condition.since, Days):
        return situation.now - timedelta(days=condition.since.days)
    if condition.since == "flow_start":
        # After the run started: the event that started it is not one of them (a winback's order).
        return (situation.flow_started_at or situation.now) + AFTER
    return None


def _event_value(event: MarketingEvent, name: str) -> Any:
    if name == "$value":
        return event.value
    return event.properties.get(name, _MISSING)


def _compare(actual: Any, op: str, expected: Any) -> bool:
    if op == "exists":
        return actual is not _MISSING and actual not in (None, "", [])
    if actual is _MISSING or actual is None:
        return op == "!="
    if op == "contains":
        if isinstance(actual, list | tuple | set):
            return any(_equal(item, expected) for item in actual)
        return str(expected).lower() in str(actual).lower()
    if op in ("=", "!="):
        return _equal(actual, expected) == (op == "=")
    left, right = _number(actual), _number(expected)
    if left is None or right is None:
        return False  # an order between a number and a word is no order at all
    return {">": left > right, ">=": left >= right, "<": left < right, "<=": left <= right}[op]


def _equal(actual: Any, expected: Any) -> bool:
    left, right = _number(actual), _number(expected)
    if left is not None and right is not None:
        return left == right
    if isinstance(actual, str) and isinstance(expected, str):
        return actual.casefold() == expected.casefold()
    return bool(actual == expected)


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value))
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except InvalidOperation:
            return None
    return None
