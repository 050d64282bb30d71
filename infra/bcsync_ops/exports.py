"""JSON-lines exports of events, profiles and flow triggers from the local or a deployed stack."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TextIO

import boto3

from bcsync.adapters.counters import DynamoCounters
from bcsync.adapters.dynamodb import (
    DynamoCartLedger,
    DynamoCatalogRepository,
    DynamoEventLedger,
    DynamoProfileRepository,
    DynamoTriggerLedger,
)
from bcsync.adapters.flow_runs import DynamoRunStore
from bcsync.domain.flow_runs import action_decisions
from bcsync_ops.local_stack import state_file

if TYPE_CHECKING:
    from bcsync.usecases.erasure import ProfileErasure

TABLES = (
    "EventsTable",
    "ProfilesTable",
    "TriggersTable",
    "CartsTable",
    "FlowRunsTable",
    "CountersTable",
    "CatalogTable",
)


@dataclass(frozen=True)
class StackTables:
    resource: Any
    names: dict[str, str]

    def events(self) -> DynamoEventLedger:
        return DynamoEventLedger(self.resource, self.names["EventsTable"])

    def profiles(self) -> DynamoProfileRepository:
        return DynamoProfileRepository(self.resource, self.names["ProfilesTable"])

    def triggers(self) -> DynamoTriggerLedger:
        return DynamoTriggerLedger(self.resource, self.names["TriggersTable"])

    def carts(self) -> DynamoCartLedger:
        return DynamoCartLedger(self.resource, self.names["CartsTable"])

    def flow_runs(self) -> DynamoRunStore:
        return DynamoRunStore(self.resource, self.names["FlowRunsTable"])

    def counters(self) -> DynamoCounters:
        from bcsync.usecases.store_zones import StoreZones

        zones = StoreZones(DynamoCatalogRepository(self.resource, self.names["CatalogTable"]))
        return DynamoCounters(self.resource, self.names["CountersTable"], zones)

    def erasure(self) -> ProfileErasure:
        # Imported here: use cases bring the Powertools logger, whose level the local stack sets first.
        from bcsync.usecases.erasure import ProfileErasure

        events = DynamoEventLedger(self.resource, self.names["EventsTable"], self.counters())
        return ProfileErasure(self.profiles(), events, self.triggers(), self.carts())


def local_state() -> dict[str, Any]:
    """What the running local stack wrote about itself (endpoints, physical ids, store)."""
    path = state_file()
    if not path.exists():
        raise SystemExit("no running local stack found: start one with `bcsync local`")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    state: dict[str, Any] = json.loads(path.read_text())
    return state


def deployed_names(stack_name: str, logical_ids: Iterable[str]) -> dict[str, str]:
    cloudformation = boto3.client("cloudformation")
    return {
        logical: cloudformation.describe_stack_resource(StackName=stack_name, LogicalResourceId=logical)[
            "StackResourceDetail"
        ]["PhysicalResourceId"]
        for logical in logical_ids
    }


def local_tables() -> StackTables:
    state = local_state()
    resource = boto3.resource("dynamodb", endpoint_url=state["aws_endpoint"], region_name="us-east-1")
    return StackTables(resource, {name: state["physical"][name] for name in TABLES})


def deployed_tables(stack_name: str) -> StackTables:
    return StackTables(boto3.resource("dynamodb"), deployed_names(stack_name, TABLES))


def json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def event_records(tables: StackTables) -> Iterator[dict[str, Any]]:
    yield from (event.export() for event in sorted(tables.events().all(), key=lambda e: (e.time, e.id)))


def profile_records(tables: StackTables) -> Iterator[dict[str, Any]]:
    yield from (profile.export() for profile in sorted(tables.profiles().all(), key=lambda p: p.created_at + p.id))


def trigger_records(tables: StackTables) -> Iterator[dict[str, Any]]:
    yield from sorted(tables.triggers().all(), key=lambda t: (t["sent_at"] or "", t["dedup_key"]))


def cart_records(tables: StackTables) -> Iterator[dict[str, Any]]:
    yield from sorted(tables.carts().all(), key=lambda c: (c["store_hash"], c["cart_id"]))


def action_records(tables: StackTables) -> Iterator[dict[str, Any]]:
    """Every action decision of the flow runner, in the order they were made."""
    decisions = [decision for run in tables.flow_runs().all() for decision in action_decisions(run)]
    yield from sorted(decisions, key=lambda d: (d["at"], d["run_id"], d["step"]))


def local_store_hash() -> str | None:
    path = state_file()
    return json.loads(path.read_text()).get("store_hash") if path.exists() else None


def write_lines(records: Iterable[dict[str, Any]], out: TextIO) -> int:
    count = 0
    for record in records:
        out.write(json.dumps(record, default=json_default, sort_keys=False) + "\n")
        count += 1
    return count
