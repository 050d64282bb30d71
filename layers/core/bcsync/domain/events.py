"""Marketing events: the metric vocabulary and the event record every path produces."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class Metric(StrEnum):
    STARTED_CHECKOUT = "Started Checkout"
    PLACED_ORDER = "Placed Order"
    ORDERED_PRODUCT = "Ordered Product"
    FULFILLED_ORDER = "Fulfilled Order"
    CANCELLED_ORDER = "Cancelled Order"
    REFUNDED_ORDER = "Refunded Order"
    # Onsite tracking: known browsers only (bcsync/domain/onsite.py).
    VIEWED_PRODUCT = "Viewed Product"
    ACTIVE_ON_SITE = "Active on Site"

    @property
    def slug(self) -> str:
        return self.value.lower().replace(" ", "-")


def event_id(store_hash: str, metric: Metric, basis: str) -> str:
    """Deterministic id from business identity: the same state always yields the same id."""
    return f"{store_hash}:{metric.slug}:{basis}"


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class MarketingEvent(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    store_hash: str
    metric: Metric
    profile_id: str | None
    time: datetime
    value: Decimal
    currency: str
    properties: dict[str, Any]
    source: Literal["bigcommerce", "onsite"] = "bigcommerce"
    source_id: str
    backfill: bool = False

    def export(self) -> dict[str, Any]:
        """The record as DESIGN.md names its fields (time as ISO 8601 UTC)."""
        record = self.model_dump(mode="python")
        record["metric"] = self.metric.value
        record["time"] = iso_utc(self.time)
        return record
