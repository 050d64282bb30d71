"""The one place use cases read the wall clock, as the ISO 8601 UTC strings records carry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def utc_moment() -> datetime:
    """Now as a datetime, for windows and job bookkeeping."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class FlowClock:
    """The flow runner's now: the wall clock, or (the local stack's `--time-scale`) one running
    `scale` times faster from `origin`, so a four-hour delay passes in seconds. Event times stay
    the wall clock's: a run enters when its trigger happened and its waits count from this now."""

    scale: float = 1.0
    origin: datetime | None = None

    def now(self) -> datetime:
        real = datetime.now(UTC)
        if self.origin is None or self.scale == 1:
            return real
        return self.origin + (real - self.origin) * self.scale
