"""EventBridge schedules: the template's `rate(...)` rules fired at their pace (flow timers faster,
on the scaled clock, with `--time-scale`)."""

from __future__ import annotations

import logging
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bcsync_ops.local_stack.functions import LocalFunction
from bcsync_ops.template import LOCAL_ACCOUNT, LOCAL_REGION

# Schedules that drive flow delays: `--time-scale` makes them tick faster, on the scaled clock.
FLOW_TIMERS = frozenset({"FlowTimerFunction"})
# The fastest a scaled flow timer ticks, in real seconds.
MIN_TICK_SECONDS = 0.25


@dataclass
class Schedule:
    function: LocalFunction
    every_seconds: float
    # The clock its events are stamped with: the flow runner's (scaled) one for flow timers.
    clock: Callable[[], datetime] | None = None


def rate_seconds(expression: str) -> float:
    """`rate(1 hour)` and friends; cron expressions are not used by the template."""
    match = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", expression.strip())
    if not match:
        raise ValueError(f"unsupported schedule {expression!r}: only rate(N minutes|hours|days)")
    unit = {"minute": 60, "hour": 3600, "day": 86400}[match[2].rstrip("s")]
    return int(match[1]) * unit


def tick(schedule: Schedule, stopping: threading.Event) -> None:
    """Fire at the template's rate, first one period after start, as EventBridge does."""
    while not stopping.wait(schedule.every_seconds):
        fire(schedule, at=schedule.clock() if schedule.clock else None)


def fire(schedule: Schedule, at: datetime | None = None) -> Any:
    """One schedule event, as of `at` (default now): the demo compresses time with it."""
    now = at or datetime.now(UTC)
    event = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": LOCAL_ACCOUNT,
        "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": LOCAL_REGION,
        "resources": [f"arn:aws:events:{LOCAL_REGION}:{LOCAL_ACCOUNT}:rule/local-{schedule.function.logical_id}"],
        "detail": {},
    }
    try:
        return schedule.function.invoke(event)
    except Exception:
        logging.getLogger(__name__).exception("%s failed on its schedule", schedule.function.logical_id)
        return None
