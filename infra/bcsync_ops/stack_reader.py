"""The operator's whole-table reads: exports, the demo's timeline, flow status and
back-population. They scan, so they run here with the operator's credentials; the functions'
repositories read by key and their policies grant no Scan."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Attr

from bcsync.adapters.dynamodb import event_from_item, plain, profile_key, scan_all
from bcsync.domain.events import MarketingEvent, iso_utc
from bcsync.domain.profiles import Profile
from bcsync.settings import Settings

if TYPE_CHECKING:
    from bcsync.domain.flow_runs import FlowRun


class StackReader:
    def __init__(self, dynamodb: Any, settings: Settings) -> None:
        self._events = dynamodb.Table(settings.require("events_table_name"))
        self._profiles = dynamodb.Table(settings.require("profiles_table_name"))
        self._triggers = dynamodb.Table(settings.require("triggers_table_name"))
        self._carts = dynamodb.Table(settings.require("carts_table_name"))
        self._runs = dynamodb.Table(settings.require("flow_runs_table_name"))

    # ------------------------------------------------------------------ every store (exports)
    def events(self) -> Iterator[MarketingEvent]:
        return (event_from_item(item) for item in scan_all(self._events))

    def profiles(self) -> Iterator[Profile]:
        found = scan_all(self._profiles, FilterExpression=Attr("entity").eq("profile"))
        return (Profile.model_validate(item["profile"]) for item in found)

    def triggers(self) -> Iterator[dict[str, Any]]:
        for item in scan_all(self._triggers):
            yield {
                "flow": item["flow"],
                "profile_id": item["profile_id"],
                "event_id": item.get("event_id"),
                "dedup_key": item["dedup_key"],
                "sent_at": item.get("sent_at"),
            }

    def carts(self) -> Iterator[dict[str, Any]]:
        for item in scan_all(self._carts):
            yield {
                "cart_id": item["cart_id"],
                "store_hash": item["store_hash"],
                "profile_id": item.get("profile_id"),
                "started_checkout_ids": sorted(item.get("started_checkout_ids") or []),
                "order_id": plain(item.get("order_id")),
                "converted_at": item.get("converted_at"),
            }

    def runs(self) -> Iterator[FlowRun]:
        return self._runs_where(Attr("body").exists())  # runs, not their guards

    # ------------------------------------------------------------------ one store
    def runs_of_store(self, store_hash: str) -> list[FlowRun]:
        condition = Attr("store_hash").eq(store_hash) & Attr("pk").begins_with(f"{store_hash}#run#")
        return list(self._runs_where(condition))

    def _runs_where(self, condition: Any) -> Iterator[FlowRun]:
        from bcsync.adapters.flow_runs import run_from_item  # late: only the flow commands read runs

        return (run_from_item(item) for item in scan_all(self._runs, FilterExpression=condition))

    def events_of(self, store_hash: str, metric: str, since: datetime | None) -> list[MarketingEvent]:
        condition = Attr("store_hash").eq(store_hash) & Attr("metric").eq(metric)
        if since is not None:
            condition = condition & Attr("time").gte(iso_utc(since))
        return [event_from_item(item) for item in scan_all(self._events, FilterExpression=condition)]

    def profiles_of(self, store_hash: str) -> Iterator[Profile]:
        found = Attr("entity").eq("profile") & Attr("pk").begins_with(profile_key(store_hash, ""))
        for item in scan_all(self._profiles, FilterExpression=found):
            yield Profile.model_validate(item["profile"])
