"""One moto stack per test process, emptied between tests. Provisioning template.yaml's tables,
queues and the store's secret costs some 35 AWS calls (~65 ms); emptying what a test left in them
costs none, and some 180 tests use a stack.

Emptying reaches into moto's backends (the pinned version's): DynamoDB and SQS have no call that
empties a table or forgets a FIFO queue's deduplication ids. test_provisioned.py checks that an
emptied stack is what a fresh one is, so a moto upgrade that moves these attributes fails there."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import boto3
from moto import mock_aws
from moto.core.models import MockAWS
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.table import StreamShard
from moto.secretsmanager.models import secretsmanager_backends
from moto.sqs.models import sqs_backends

from bcsync_ops.local_stack import StoreConfig, function_environment, provision
from bcsync_ops.template import LOCAL_REGION, Resolver, parameter_defaults


@dataclass
class ProvisionedStack:
    """template.yaml's resources in moto's in-process backends, for one store."""

    template: dict[str, Any]
    store: StoreConfig
    physical: dict[str, str] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)
    _account: str = ""
    _provisioned: dict[str, Any] = field(default_factory=dict)

    def enter(self) -> MockAWS:
        """moto, started without wiping its backends, holding this stack as freshly provisioned:
        emptied if only its contents changed, provisioned again if another test's mock_aws wiped
        it or a test replaced a table, a queue or the store's secret (attributes set on a table or
        queue are not compared: no test sets any). The caller stops it with
        `stop(remove_data=False)`."""
        mock = mock_aws()
        mock.start(reset=False)
        if self._provisioned and self._unchanged(self._snapshot()):
            self._empty()
        else:
            self._provision()
        return mock

    def _provision(self) -> None:
        for backends in (dynamodb_backends, sqs_backends, secretsmanager_backends):
            for regions in backends.values():
                for backend in regions.values():
                    backend.reset()
        resolver = Resolver(refs={**parameter_defaults(self.template), "BigCommerceApiUrl": self.store.api_url})
        self.physical = provision(self.template, resolver, self.store, max_delay_seconds=0)
        self.environment = function_environment(self.template, resolver)
        self._account = boto3.client("sts").get_caller_identity()["Account"]
        self._provisioned = self._snapshot()

    def _backends(self) -> tuple[Any, Any, Any]:
        return (
            dynamodb_backends[self._account][LOCAL_REGION],
            sqs_backends[self._account][LOCAL_REGION],
            secretsmanager_backends[self._account][LOCAL_REGION],
        )

    def _snapshot(self) -> dict[str, Any]:
        """The moto objects holding the stack (a wiped backend holds new ones; holding these keeps
        their identity theirs), and each secret's version (a test may have put a new one)."""
        dynamodb, sqs, secretsmanager = self._backends()
        secrets = dict(dict.items(secretsmanager.secrets))
        return {
            "backends": {"dynamodb": dynamodb, "sqs": sqs, "secretsmanager": secretsmanager},
            "tables": dict(dynamodb.tables),
            "queues": dict(sqs.queues),
            "secrets": secrets,
            "versions": {name: secret.default_version_id for name, secret in secrets.items()},
        }

    def _unchanged(self, now: dict[str, Any]) -> bool:
        """Only contents differ from what provisioning made (a secret added is dropped later)."""
        then = self._provisioned
        return (
            _same_objects(then["backends"], now["backends"])
            and _same_objects(then["tables"], now["tables"])
            and _same_objects(then["queues"], now["queues"])
            and _same_objects(then["secrets"], {name: now["secrets"].get(name) for name in then["secrets"]})
            and all(now["versions"][name] == version for name, version in then["versions"].items())
        )

    def _empty(self) -> None:
        """What the test wrote, gone: items and stream records, messages (and the deduplication
        ids they carry), secrets other than the store's."""
        dynamodb, sqs, secretsmanager = self._backends()
        for table in dynamodb.tables.values():
            table.items.clear()
            if table.stream_shard is not None:
                table.stream_shard = StreamShard(table.account_id, table)
        for queue in sqs.queues.values():
            queue._messages = []
            queue._pending_messages = set()
            queue.deleted_messages = set()
        for name in set(dict.keys(secretsmanager.secrets)) - set(self._provisioned["secrets"]):
            dict.pop(secretsmanager.secrets, name)


def _same_objects(then: dict[str, Any], now: dict[str, Any]) -> bool:
    return then.keys() == now.keys() and all(now[name] is value for name, value in then.items())
