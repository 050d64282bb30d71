"""Where moto's DynamoDB falls short of DynamoDB in ways bcsync's write path meets, made good
wherever moto stands in for AWS (tests, benchmarks, the local stack):

- it is not safe under concurrent requests (a transaction deep-copies each table it touches while
  another thread writes to it), and reconciliation and backfill write several transactions at
  once: its DynamoDB answers one request at a time;
- a transaction deep-copies a table once per item it writes there (a 100-item transaction, 100
  copies of the whole table), which makes a backfill quadratic: each table is copied once.
"""

from __future__ import annotations

import copy
import threading
from types import SimpleNamespace
from typing import Any

_LOCK = threading.RLock()


def fix_moto_dynamodb() -> None:
    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoHandler

    if getattr(DynamoHandler.call_action, "fixed", False):
        return
    unlocked = DynamoHandler.call_action

    def call_action(self: Any) -> Any:
        with _LOCK:
            return unlocked(self)

    copying_per_item = models.DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        copies: dict[int, Table] = {}

        def deepcopy(value: Any, memo: Any = None) -> Any:
            if not isinstance(value, Table):
                return copy.deepcopy(value, memo)
            if id(value) not in copies:
                copies[id(value)] = copy.deepcopy(value)
            return copies[id(value)]

        models.copy = SimpleNamespace(deepcopy=deepcopy)  # type: ignore[attr-defined,assignment]
        try:
            copying_per_item(self, transact_items)
        finally:
            models.copy = copy  # type: ignore[attr-defined]

    call_action.fixed = True  # type: ignore[attr-defined]
    DynamoHandler.call_action = call_action  # type: ignore[method-assign]
    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
