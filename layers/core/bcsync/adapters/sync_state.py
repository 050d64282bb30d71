"""Sync jobs' state in DynamoDB: one table, three items per store (see DynamoSyncState), and one
per imported file."""

from __future__ import annotations

from typing import Any

from bcsync.adapters.dynamodb import now_iso
from bcsync.domain.sync import BackfillState, ImportProgress, ReconcileState, SyncControl


class DynamoSyncState:
    """One table, three items per store: `<store>#control` (operator settings, plain attributes
        so each can be set alone), `<store>#reconcile` and `<store>#backfill` (job state as JSON); and
    `<store>#import#<key>` for each file `bcsync import events` has read (its progress, as JSON)."""

    def __init__(self, resource: Any, table_name: str) -> None:
        self._table = resource.Table(table_name)

    def control(self, store_hash: str) -> SyncControl:
        item = self._table.get_item(Key={"pk": f"{store_hash}#control"}, ConsistentRead=True).get("Item") or {}
        return SyncControl.model_validate({k: v for k, v in item.items() if k in SyncControl.model_fields})

    def update_control(self, store_hash: str, **changes: object) -> SyncControl:
        unknown = set(changes) - set(SyncControl.model_fields)
        if unknown:
            raise ValueError(f"not sync controls: {sorted(unknown)}")
        names = {f"#{name}": name for name in changes}
        values = {f":{name}": value for name, value in changes.items()}
        item = self._table.update_item(
            Key={"pk": f"{store_hash}#control"},
            UpdateExpression="SET " + ", ".join(f"#{name} = :{name}" for name in changes) + ", updated_at = :now",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={**values, ":now": now_iso()},
            ReturnValues="ALL_NEW",
        )["Attributes"]
        return SyncControl.model_validate({k: v for k, v in item.items() if k in SyncControl.model_fields})

    def reconcile(self, store_hash: str) -> ReconcileState:
        body = self._body(f"{store_hash}#reconcile")
        return ReconcileState.model_validate_json(body) if body else ReconcileState()

    def save_reconcile(self, store_hash: str, state: ReconcileState) -> None:
        self._put(f"{store_hash}#reconcile", store_hash, state.model_dump_json())

    def backfill(self, store_hash: str) -> BackfillState | None:
        body = self._body(f"{store_hash}#backfill")
        return BackfillState.model_validate_json(body) if body else None

    def save_backfill(self, store_hash: str, state: BackfillState) -> None:
        self._put(f"{store_hash}#backfill", store_hash, state.model_dump_json())

    def import_progress(self, store_hash: str, key: str) -> ImportProgress | None:
        body = self._body(f"{store_hash}#import#{key}")
        return ImportProgress.model_validate_json(body) if body else None

    def save_import_progress(self, store_hash: str, key: str, progress: ImportProgress) -> None:
        self._put(f"{store_hash}#import#{key}", store_hash, progress.model_dump_json())

    def _body(self, key: str) -> str | None:
        item = self._table.get_item(Key={"pk": key}, ConsistentRead=True).get("Item")
        return str(item["body"]) if item else None

    def _put(self, key: str, store_hash: str, body: str) -> None:
        self._table.put_item(Item={"pk": key, "store_hash": store_hash, "body": body, "updated_at": now_iso()})
