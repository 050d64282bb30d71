"""Flow runs in DynamoDB: one item per run, found by person (RunsByProfile) and by when it needs
attention (DueRuns: a sparse index of runs that wait or owe actions, by time), a guard item per
(flow, person, entry key) while a run is active, and each person's last send per channel.

A run is created with its guard in one transaction, so two triggers at once cannot start two
runs for one cart (the by-person index is eventually consistent; the guard is not); a run that
ends releases its guard in the transaction that ends it. Every later write is conditional on the
revision that was read.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from bcsync.adapters.dynamodb import now_iso, query_all
from bcsync.domain.events import iso_utc
from bcsync.domain.flow_definitions import FlowFile, parse_flow_file
from bcsync.domain.flow_runs import FlowRun, RunStatus

RUNS_BY_PROFILE = "RunsByProfile"
DUE_RUNS = "DueRuns"
SENT_PREFIX = "sent_"  # the last send per channel: sent_email, sent_sms


def _run_key(store_hash: str, run_id: str) -> str:
    return f"{store_hash}#run#{run_id}"


def run_from_item(item: dict[str, Any]) -> FlowRun:
    return FlowRun.model_validate_json(str(item["body"]))


def _guard_key(run: FlowRun) -> str:
    digest = hashlib.sha256(f"{run.flow}|{run.profile_id}|{run.entry_key}".encode()).hexdigest()[:32]
    return f"{run.store_hash}#active#{digest}"


class DynamoRunStore:
    """`client` is a DynamoDB resource's client (plain Python values in and out)."""

    def __init__(self, resource: Any, table_name: str) -> None:
        self._table = resource.Table(table_name)
        self._client = resource.meta.client
        self._name = table_name

    # ------------------------------------------------------------------ reads
    def runs_of(self, store_hash: str, profile_id: str) -> list[FlowRun]:
        key = Key("profile_key").eq(f"{store_hash}#{profile_id}")
        return [
            run_from_item(item)
            for item in query_all(self._table, IndexName=RUNS_BY_PROFILE, KeyConditionExpression=key)
        ]

    def due(self, store_hash: str, now: datetime, limit: int) -> list[FlowRun]:
        """One page: the caller asks again for the next."""
        condition = Key("due_key").eq(f"{store_hash}#due") & Key("due_at").lte(iso_utc(now))
        page = self._table.query(IndexName=DUE_RUNS, KeyConditionExpression=condition, Limit=limit)
        return [run_from_item(item) for item in page.get("Items", [])]

    # ------------------------------------------------------------------ writes
    def create(self, run: FlowRun) -> FlowRun | None:
        stored = run.model_copy(update={"revision": 1})
        writes = [
            {
                "Put": {
                    "TableName": self._name,
                    "Item": self._item(stored),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        ]
        if stored.active:
            guard = {"pk": _guard_key(stored), "run_id": stored.run_id, "store_hash": stored.store_hash}
            writes.append(
                {"Put": {"TableName": self._name, "Item": guard, "ConditionExpression": "attribute_not_exists(pk)"}}
            )
        try:
            self._client.transact_write_items(TransactItems=writes)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "TransactionCanceledException":
                return None  # this run exists, or another is active for the same entry
            raise
        return stored

    def save(self, run: FlowRun, *, previous: FlowRun, sent: Mapping[str, datetime] | None = None) -> FlowRun | None:
        stored = run.model_copy(update={"revision": previous.revision + 1})
        writes: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self._name,
                    "Item": self._item(stored),
                    "ConditionExpression": "revision = :revision",
                    "ExpressionAttributeValues": {":revision": previous.revision},
                }
            }
        ]
        if previous.active and not stored.active:  # it ended: the next trigger may start another
            writes.append({"Delete": {"TableName": self._name, "Key": {"pk": _guard_key(stored)}}})
        if sent:
            names = {f"#c{n}": f"{SENT_PREFIX}{channel}" for n, channel in enumerate(sent)}
            writes.append(
                {
                    "Update": {
                        "TableName": self._name,
                        "Key": {"pk": f"{run.store_hash}#sent#{run.profile_id}"},
                        "UpdateExpression": "SET " + ", ".join(f"#c{n} = :c{n}" for n in range(len(sent))),
                        "ExpressionAttributeNames": names,
                        "ExpressionAttributeValues": {f":c{n}": iso_utc(at) for n, at in enumerate(sent.values())},
                    }
                }
            )
        try:
            self._client.transact_write_items(TransactItems=writes)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "TransactionCanceledException":
                return None
            raise
        return stored

    def last_sent(self, store_hash: str, profile_id: str) -> dict[str, datetime]:
        item = self._table.get_item(Key={"pk": f"{store_hash}#sent#{profile_id}"}, ConsistentRead=True).get("Item")
        return {
            name.removeprefix(SENT_PREFIX): datetime.fromisoformat(str(at).replace("Z", "+00:00"))
            for name, at in (item or {}).items()
            if name.startswith(SENT_PREFIX)
        }

    def _item(self, run: FlowRun) -> dict[str, Any]:
        item: dict[str, Any] = {
            "pk": _run_key(run.store_hash, run.run_id),
            "store_hash": run.store_hash,
            "profile_key": f"{run.store_hash}#{run.profile_id}",
            "entered_at": iso_utc(run.entered_at),
            "flow": run.flow,
            "status": run.status.value,
            "revision": run.revision,
            "body": run.model_dump_json(),
        }
        attention = run.entered_at if run.outbox else run.wake_at if run.status is RunStatus.WAITING else None
        if attention is not None:  # sparse: only runs that need attention are in DueRuns
            item["due_key"], item["due_at"] = f"{run.store_hash}#due", iso_utc(attention)
        return item


class DynamoFlowLibrary:
    """`<store>#flows` in the sync-state table: the store's flow file as applied, with its version."""

    def __init__(self, resource: Any, table_name: str) -> None:
        self._table = resource.Table(table_name)

    def flows(self, store_hash: str) -> FlowFile | None:
        item = self._table.get_item(Key={"pk": f"{store_hash}#flows"}, ConsistentRead=True).get("Item")
        return parse_flow_file(json.loads(str(item["body"]))) if item else None

    def apply(self, store_hash: str, flows: FlowFile) -> str:
        body = flows.model_dump_json(by_alias=True)
        version = hashlib.sha256(body.encode()).hexdigest()[:16]
        self._table.put_item(
            Item={
                "pk": f"{store_hash}#flows",
                "store_hash": store_hash,
                "body": body,
                "version": version,
                "applied_at": now_iso(),
            }
        )
        return version
