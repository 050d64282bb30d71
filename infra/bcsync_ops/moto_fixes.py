"""Where moto's DynamoDB falls short of DynamoDB in ways bcsync's write path meets, made good
wherever moto stands in for AWS (tests, benchmarks, the local stack):

- it is not safe under concurrent requests (a transaction deep-copies each table it touches while
  another thread writes to it), and reconciliation and backfill write several transactions at
  once: its DynamoDB answers one request at a time;
- a transaction deep-copies every table it touches, to roll back a failed condition: a backfill
  becomes quadratic in the tables' size. As DynamoDB does, every condition is checked against the
  items as they were before any is written, and only then are the writes made: a failed
  condition writes nothing and nothing is copied; only the items written are kept, to put back
  should moto reject a write half way.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

_LOCK = threading.RLock()
MAX_TRANSACTION_ITEMS = 100


def fix_moto_dynamodb() -> None:
    from moto.dynamodb import exceptions, models
    from moto.dynamodb.responses import DynamoHandler

    if getattr(DynamoHandler.call_action, "fixed", False):
        return
    unlocked = DynamoHandler.call_action

    def call_action(self: Any) -> Any:
        with _LOCK:
            return unlocked(self)

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        if len(transact_items) > MAX_TRANSACTION_ITEMS:
            raise exceptions.TooManyTransactionsException()
        checked = [_checked(self, entry) for entry in _single_targets(self, transact_items)]
        reasons = [reason for *_, reason in checked]
        if any(code is not None for code, _, _ in reasons):
            raise exceptions.TransactionCanceledException(reasons)
        _apply(self, [(kind, operation, name, key, before) for kind, operation, name, key, before, _ in checked])

    call_action.fixed = True  # type: ignore[attr-defined]
    DynamoHandler.call_action = call_action  # type: ignore[method-assign]
    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


Checked = tuple[str, dict[str, Any], str, dict[str, Any], Any, tuple[Any, Any, Any]]


def _single_targets(
    backend: Any, transact_items: list[dict[str, Any]]
) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """Each operation with its item's key; an item named twice is refused, as DynamoDB does."""
    from moto.dynamodb import exceptions

    targets: set[tuple[str, str]] = set()
    entries = []
    for entry in transact_items:
        if len(entry) > 1:
            raise exceptions.TransactWriteSingleOpException()
        kind, operation = next(iter(entry.items()))
        table = backend.get_table(operation["TableName"])
        if kind == "Put":
            key = {table.hash_key_attr: operation["Item"][table.hash_key_attr]}
            if table.range_key_attr is not None:
                key[table.range_key_attr] = operation["Item"][table.range_key_attr]
        else:
            key = operation["Key"]
        target = (operation["TableName"], str(sorted(key.items())))
        if target in targets:
            raise exceptions.MultipleTransactionsException()
        targets.add(target)
        entries.append((kind, operation, key))
    return entries


def _checked(backend: Any, entry: tuple[str, dict[str, Any], dict[str, Any]]) -> Checked:
    """The operation, its item as it is now, and its cancellation reason (all None: it holds)."""
    from moto.dynamodb.comparisons import get_filter_expression

    kind, operation, key = entry
    name = operation["TableName"]
    current = backend.get_item(name, key)
    condition = operation.get("ConditionExpression")
    holds = condition is None or get_filter_expression(
        condition, operation.get("ExpressionAttributeNames"), operation.get("ExpressionAttributeValues")
    ).expr(current)
    reason: tuple[Any, Any, Any] = (None, None, None)
    if not holds:
        wanted = operation.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current
        reason = (
            "ConditionalCheckFailed",
            "The conditional request failed",
            current.to_json()["Attributes"] if wanted else None,
        )
    return kind, operation, name, key, copy.deepcopy(current), reason


def _apply(backend: Any, checked: list[tuple[str, dict[str, Any], str, dict[str, Any], Any]]) -> None:
    """Every write, or (should moto reject one) none: the items written are put back."""
    written: list[tuple[str, dict[str, Any], Any]] = []
    try:
        for kind, operation, name, key, before in checked:
            written.append((name, key, before))
            if kind == "Put":
                backend.put_item(name, operation["Item"])
            elif kind == "Delete":
                backend.delete_item(name, key)
            elif kind == "Update":
                backend.update_item(
                    name,
                    key,
                    update_expression=operation["UpdateExpression"],
                    expression_attribute_names=operation.get("ExpressionAttributeNames"),
                    expression_attribute_values=operation.get("ExpressionAttributeValues"),
                )
    except Exception:
        for name, key, before in reversed(written):
            if before is None:
                backend.delete_item(name, key)
            else:
                backend.put_item(name, before.to_json()["Attributes"])
        raise
