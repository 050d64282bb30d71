"""The one place use cases read the wall clock, as the ISO 8601 UTC strings records carry."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def utc_moment() -> datetime:
    """Now as a datetime, for windows and job bookkeeping."""
    return datetime.now(UTC)
