"""JSON-lines exports of events, profiles and flow triggers from the local or a deployed stack
(read by `StackReader`), and where a stack's resources are."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TextIO

import boto3

from bcsync_ops.local_stack.state import state_file

if TYPE_CHECKING:
    from bcsync_ops.stack_reader import StackReader


def local_state() -> dict[str, Any]:
    """What the running local stack wrote about itself (endpoints, physical ids, store)."""
    path = state_file()
    if not path.exists():
        raise SystemExit("no running local stack found: start one with `bcsync local`")
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


def json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def event_records(stack: StackReader) -> Iterator[dict[str, Any]]:
    yield from (event.export() for event in sorted(stack.events(), key=lambda e: (e.time, e.id)))


def profile_records(stack: StackReader) -> Iterator[dict[str, Any]]:
    yield from (profile.export() for profile in sorted(stack.profiles(), key=lambda p: p.created_at + p.id))


def trigger_records(stack: StackReader) -> Iterator[dict[str, Any]]:
    yield from sorted(stack.triggers(), key=lambda t: (t["sent_at"] or "", t["dedup_key"]))


def cart_records(stack: StackReader) -> Iterator[dict[str, Any]]:
    yield from sorted(stack.carts(), key=lambda c: (c["store_hash"], c["cart_id"]))


def action_records(stack: StackReader) -> Iterator[dict[str, Any]]:
    """Every action decision of the flow runner, in the order they were made."""
    from bcsync.domain.flow_runs import action_decisions  # late: the flow models only for this export

    decisions = [decision for run in stack.runs() for decision in action_decisions(run)]
    yield from sorted(decisions, key=lambda d: (d["at"], d["run_id"], d["step"]))


def write_lines(records: Iterable[dict[str, Any]], out: TextIO) -> int:
    count = 0
    for record in records:
        out.write(json.dumps(record, default=json_default, sort_keys=False) + "\n")
        count += 1
    return count
