"""Marketing events: the metric vocabulary and the event record every path produces."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict


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
        return metric_slug(self)


def known_metric(name: object) -> object:
    """bcsync's own metric for its name; any other name (an imported custom metric) stays a string."""
    if isinstance(name, str) and not isinstance(name, Metric):
        try:
            return Metric(name)
        except ValueError:
            return name
    return name


# A metric: one of bcsync's, or a custom one an import brought under its own name.
MetricName = Annotated[Metric | str, BeforeValidator(known_metric)]


def metric_slug(metric: str) -> str:
    return str(metric).lower().replace(" ", "-")


def event_id(store_hash: str, metric: str, basis: str) -> str:
    """Deterministic id from business identity: the same state always yields the same id."""
    return f"{store_hash}:{metric_slug(metric)}:{basis}"


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class MarketingEvent(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    store_hash: str
    metric: MetricName
    profile_id: str | None
    time: datetime
    value: Decimal
    currency: str
    properties: dict[str, Any]
    source: Literal["bigcommerce", "onsite", "import"] = "bigcommerce"
    source_id: str
    backfill: bool = False
    # An imported event: the metric's name on the platform it came from.
    original_metric: str | None = None

    def export(self) -> dict[str, Any]:
        """The record as DESIGN.md names its fields (time as ISO 8601 UTC)."""
        record = self.model_dump(mode="python")
        record["metric"] = str(self.metric)
        if self.original_metric is None:
            del record["original_metric"]  # only imported events have one
        record["time"] = iso_utc(self.time)
        return record
