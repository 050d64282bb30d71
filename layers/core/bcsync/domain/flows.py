"""Default flows and which events start them: the flow-trigger side of the contract."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from bcsync.domain.events import MarketingEvent, Metric


class Flow(StrEnum):
    ABANDONED_CART = "Abandoned Cart"
    BROWSE_ABANDONMENT = "Browse Abandonment"
    PRODUCT_REVIEW_CROSS_SELL = "Product Review / Cross Sell"
    CUSTOMER_WINBACK = "Customer Winback"
    WELCOME_SERIES = "Welcome Series"
    NEW_CUSTOMER = "New Customer"
    FIRST_ORDER = "First Order"
    CONFIRM_SUBSCRIPTION = "Confirm Subscription"


METRIC_FLOWS: dict[str, Flow] = {
    Metric.STARTED_CHECKOUT: Flow.ABANDONED_CART,
    Metric.VIEWED_PRODUCT: Flow.BROWSE_ABANDONMENT,
    Metric.ORDERED_PRODUCT: Flow.PRODUCT_REVIEW_CROSS_SELL,
    Metric.PLACED_ORDER: Flow.CUSTOMER_WINBACK,
}


def parse_enabled_flows(setting: str) -> frozenset[Flow]:
    """`all` or a comma-separated list of flow names; an unknown name is an error, not a skip."""
    if setting.strip().lower() in ("", "all"):
        return frozenset(Flow)
    names = [name.strip() for name in setting.split(",") if name.strip()]
    known = {flow.value.lower(): flow for flow in Flow}
    unknown = [name for name in names if name.lower() not in known]
    if unknown:
        raise ValueError(f"unknown flow names in ENABLED_FLOWS: {unknown}; known: {[f.value for f in Flow]}")
    return frozenset(known[name.lower()] for name in names)


class TriggerIntent(BaseModel):
    """A flow trigger to record once and send once; `dedup_key` is unique per message."""

    model_config = ConfigDict(frozen=True)

    flow: Flow
    store_hash: str
    profile_id: str
    event_id: str | None
    dedup_key: str
    # Flow-specific data for the message (the Confirm Subscription link and its expiry).
    details: dict[str, str] = Field(default_factory=dict)


def _owner(event: MarketingEvent) -> str:
    if event.profile_id is None:
        raise ValueError(f"event {event.id} has no profile; flows need someone to message")
    return event.profile_id


def trigger_for_event(flow: Flow, event: MarketingEvent) -> TriggerIntent:
    return TriggerIntent(
        flow=flow,
        store_hash=event.store_hash,
        profile_id=_owner(event),
        event_id=event.id,
        dedup_key=f"{flow.name.lower()}:{event.id}",
    )


def first_order_trigger(event: MarketingEvent) -> TriggerIntent:
    return first_order_intent(event.store_hash, _owner(event), event.id)


def first_order_intent(store_hash: str, profile_id: str, event_id: str) -> TriggerIntent:
    """Keyed on the profile alone: exactly one First Order per profile, whichever order wins."""
    return TriggerIntent(
        flow=Flow.FIRST_ORDER,
        store_hash=store_hash,
        profile_id=profile_id,
        event_id=event_id,
        dedup_key=f"first_order:{store_hash}:{profile_id}",
    )


def metric_triggers(event: MarketingEvent, enabled: frozenset[Flow]) -> list[TriggerIntent]:
    """Triggers a stored live event starts (First Order is decided with the profile's history)."""
    if event.backfill or event.profile_id is None:
        return []
    flow = METRIC_FLOWS.get(event.metric)
    return [trigger_for_event(flow, event)] if flow and flow in enabled else []


def profile_trigger(flow: Flow, store_hash: str, profile_id: str, episode: str) -> TriggerIntent:
    """A trigger no metric event starts (New Customer, Welcome Series, Confirm Subscription):
    keyed on the profile and the episode (customer id, subscription time), so replays agree."""
    return TriggerIntent(
        flow=flow,
        store_hash=store_hash,
        profile_id=profile_id,
        event_id=None,
        dedup_key=f"{flow.name.lower()}:{store_hash}:{profile_id}:{episode}",
    )
