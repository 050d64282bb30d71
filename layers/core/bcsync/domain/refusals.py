"""Refusals: a request bcsync will not act on, saying why and with a message safe to show.

The domain says why (`Refusal`); how that is answered (an HTTP status, a page) is the edge's
business (`bcsync.entrypoints.http`).
"""

from __future__ import annotations

from enum import StrEnum


class Refusal(StrEnum):
    INVALID = "invalid"  # the input is malformed or out of range
    UNAUTHENTICATED = "unauthenticated"  # no proof of who sent it, or a false one
    FORBIDDEN = "forbidden"  # a known sender that may not do this
    UNKNOWN = "unknown"  # names a store, person or metric that does not exist
    EXPIRED = "expired"  # was valid once, no longer
    TOO_LARGE = "too_large"
    TOO_FREQUENT = "too_frequent"
    BUSY = "busy"  # the same thing is being done right now; ask again later


class Refused(Exception):
    def __init__(self, reason: Refusal, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
