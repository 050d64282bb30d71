"""Handlers invoked in-process with the files in events/, AWS under moto's mock_aws, provisioned
from template.yaml by the same code as the local stack (once per test process, emptied between
tests); BigCommerce is the sandbox on loopback."""

from __future__ import annotations

import contextlib
import functools
import io
import json
import logging
import os
import sys
import threading
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.utilities import parameters
from botocore.client import BaseClient

from bcsync import resume_collection, wiring
from bcsync import settings as settings_module
from bcsync.adapters.bigcommerce import BigCommerceConnector
from bcsync.adapters.dynamodb import scan_all
from bcsync.domain.webhooks import sign
from bcsync.observability import logger
from bcsync.settings import Settings
from bcsync_ops.demo import ACCESS_TOKEN, CLIENT_SECRET, STORE_HASH, sandbox_store
from bcsync_ops.local_stack import (
    PROJECT_ROOT,
    LambdaContext,
    StoreConfig,
    function_specs,
    load_handler,
    streams_client,
)
from bcsync_ops.moto_fixes import fix_moto_dynamodb
from bcsync_ops.operations import StackHandle
from bcsync_ops.sandbox import SandboxServer, SandboxStore
from bcsync_ops.stack_reader import StackReader
from bcsync_ops.template import load_template
from tests.factories import webhook_body
from tests.integration.iam import CallLog, environment_of, grants_of, refused
from tests.integration.provisioned import ProvisionedStack

EVENTS = PROJECT_ROOT / "events"
SCOPE_FAMILIES = {
    "orders": "store/order/",
    "carts": "store/cart/",
    "customers": "store/customer/",
    "subscribers": "store/subscriber/",
    "catalog": "store/",
}
WEBHOOK_TOKEN = "local-webhook-token"


FAMILY_FUNCTIONS = {
    "orders": "OrdersWebhookFunction",
    "carts": "CartsWebhookFunction",
    "customers": "CustomersWebhookFunction",
    "subscribers": "SubscribersWebhookFunction",
    "catalog": "CatalogWebhookFunction",
}
FAMILY_EXAMPLES = {
    "orders": "order_created.json",
    "carts": "cart_updated.json",
    "customers": "customer_created.json",
    "subscribers": "subscriber_created.json",
    "catalog": "product_updated.json",
}


class VirtualTime:
    """The BigCommerce client's clock and sleeper: a backoff or a quota wait passes at once, and
    the sandbox's quota windows pass with it. Budgets and paces are the same rules, untimed."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)
        self.slept += max(seconds, 0.0)


@dataclass
class Stack:
    store: SandboxStore
    physical: dict[str, str]
    handlers: dict[str, ModuleType]
    time: VirtualTime
    calls: CallLog
    _stream_positions: dict[tuple[str, str], str] = field(default_factory=dict)

    # What the test itself reads and sends with (not checked against any function's policy).
    @functools.cached_property
    def _dynamodb(self) -> Any:
        return boto3.resource("dynamodb")

    @functools.cached_property
    def _sqs(self) -> Any:
        return boto3.client("sqs")

    @functools.cached_property
    def _streams(self) -> Any:
        return streams_client()

    def invoke(self, logical_id: str, event: dict[str, Any], *, timeout: int = 30) -> dict[str, Any]:
        """The function's handler in its own execution environment (see FunctionContainers), its
        AWS calls checked against its policy (see iam.py)."""
        with ENVIRONMENTS.running(logical_id), self.calls.calling_as(logical_id):
            result: dict[str, Any] = self.handlers[logical_id].lambda_handler(event, LambdaContext(logical_id, timeout))
        return result

    def container_of(self, logical_id: str) -> wiring.Container:
        """The function's composition root, as its next invocation finds it."""
        with ENVIRONMENTS.running(logical_id):
            return ENVIRONMENTS.container()

    def deliver(self, event: dict[str, Any]) -> dict[str, Any]:
        """A webhook event to the function its route belongs to."""
        family = event["rawPath"].rsplit("/", 1)[-1]
        return self.invoke(FAMILY_FUNCTIONS[family], event)

    def invoke_orders(self, event: dict[str, Any]) -> dict[str, Any]:
        return self.invoke("OrdersWebhookFunction", event)

    def invoke_retry(self, event: dict[str, Any]) -> dict[str, Any]:
        return self.invoke("RetryDeliveriesFunction", event, timeout=120)

    # ------------------------------------------------------------------ flows
    def drain_streams(self, *, failures_expected: bool = False) -> int:
        """Hand the Events and Triggers tables' new stream records to the flow runner, as the
        template's stream event sources do (INSERTs only); how many were handed. A batch that
        reports failed records fails the test unless the test expects them."""
        streams, dynamodb = self._streams, self._dynamodb.meta.client
        handed = 0
        for logical_id in ("EventsTable", "TriggersTable"):
            arn = dynamodb.describe_table(TableName=self.physical[logical_id])["Table"]["LatestStreamArn"]
            for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
                position = (arn, shard["ShardId"])
                iterator = (
                    self._stream_positions.get(position)
                    or streams.get_shard_iterator(
                        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
                    )["ShardIterator"]
                )
                response = streams.get_records(ShardIterator=iterator)
                self._stream_positions[position] = response["NextShardIterator"]
                records = [{**r, "eventSourceARN": arn} for r in response["Records"] if r["eventName"] == "INSERT"]
                if records:
                    answer = self.invoke("FlowEventsFunction", {"Records": records})
                    assert failures_expected or not answer.get("batchItemFailures"), answer
                handed += len(records)
        return handed

    def handle(self, store: str = STORE_HASH) -> StackHandle:
        """What the CLI builds for this stack: the functions' composition root, and a store."""
        return StackHandle(wiring.container(), store)

    def reader(self) -> StackReader:
        return self.handle().reader()

    @property
    def store_url(self) -> str:
        return os.environ["BIGCOMMERCE_API_URL"]

    def tick(self, at: datetime) -> dict[str, Any]:
        """The flow timer's schedule, at a time of the test's choosing (a compressed clock)."""
        event = {"detail-type": "Scheduled Event", "source": "aws.events", "time": at.strftime("%Y-%m-%dT%H:%M:%SZ")}
        return self.invoke("FlowTimerFunction", event)

    def actions(self) -> list[dict[str, Any]]:
        return [json.loads(m["Body"]) for m in self.receive("FlowActionQueue")]

    def table(self, logical_id: str) -> list[dict[str, Any]]:
        return list(scan_all(self._dynamodb.Table(self.physical[logical_id])))

    def events(self) -> dict[str, dict[str, Any]]:
        return {item["pk"]: item for item in self.table("EventsTable")}

    def profiles(self) -> list[dict[str, Any]]:
        return [item["profile"] for item in self.table("ProfilesTable") if item.get("entity") == "profile"]

    def receive(self, logical_id: str) -> list[dict[str, Any]]:
        sqs = self._sqs
        messages: list[dict[str, Any]] = []
        while batch := sqs.receive_message(
            QueueUrl=self.physical[logical_id], MaxNumberOfMessages=10, VisibilityTimeout=0, WaitTimeSeconds=0
        ).get("Messages", []):
            messages += batch
            for message in batch:
                sqs.delete_message(QueueUrl=self.physical[logical_id], ReceiptHandle=message["ReceiptHandle"])
        return messages

    def triggers(self) -> list[dict[str, Any]]:
        return [json.loads(m["Body"]) for m in self.receive("FlowTriggerQueue")]

    # ------------------------------------------------------------------ sync jobs
    def schedule(self) -> dict[str, Any]:
        """What EventBridge's hourly rule sends the sync worker."""
        event = {"detail-type": "Scheduled Event", "source": "aws.events", "id": uuid.uuid4().hex, "detail": {}}
        return self.invoke("SyncJobsFunction", event)

    def run_jobs(self, *, timeout: int = 900, limit: int = 100) -> int:
        """Drain the sync-job queue through the worker, one message per invocation as the event
        source mapping does; a failed or killed invocation's message is made visible again.
        Returns invocations made."""
        sqs, url = self._sqs, self.physical["SyncJobQueue"]
        invocations = 0
        while invocations < limit:
            messages = sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=1, WaitTimeSeconds=0, AttributeNames=["All"]
            ).get("Messages", [])
            if not messages:
                return invocations
            invocations += 1
            try:
                response = self.invoke(
                    "SyncJobsFunction",
                    sqs_event(messages, "arn:aws:sqs:us-east-1:123456789012:sync.fifo"),
                    timeout=timeout,
                )
            except Killed:
                after_a_kill(self)
                response = {"batchItemFailures": [{"itemIdentifier": messages[0]["MessageId"]}]}
            except Exception:  # the invocation failed: Lambda returns the whole batch
                response = {"batchItemFailures": [{"itemIdentifier": messages[0]["MessageId"]}]}
            if response.get("batchItemFailures"):
                sqs.change_message_visibility(
                    QueueUrl=url, ReceiptHandle=messages[0]["ReceiptHandle"], VisibilityTimeout=0
                )
            else:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=messages[0]["ReceiptHandle"])
        raise AssertionError(f"the sync-job queue did not drain in {limit} invocations")

    def sync_state(self, kind: str) -> dict[str, Any]:
        table = self._dynamodb.Table(self.physical["SyncStateTable"])
        item = table.get_item(Key={"pk": f"{STORE_HASH}#{kind}"})["Item"]
        return json.loads(item["body"]) if "body" in item else item


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


def webhook_event(
    scope: str,
    data: dict[str, Any],
    *,
    store_hash: str = STORE_HASH,
    headers: dict[str, str] | None = None,
    body: str | None = None,
    webhook_id: str | None = None,
    family: str | None = None,
) -> dict[str, Any]:
    """An HTTP API event carrying a freshly signed delivery (or the given headers/body), on the
    route of the scope's family."""
    family = family or next((name for name, prefix in SCOPE_FAMILIES.items() if scope.startswith(prefix)), "orders")
    event = load_event(FAMILY_EXAMPLES[family])
    payload = body if body is not None else webhook_body(scope, data, store_hash=store_hash)
    event["body"] = payload
    event["headers"] = (
        headers
        if headers is not None
        else {
            "content-type": "application/json",
            **sign(CLIENT_SECRET, webhook_id or f"msg_{uuid.uuid4().hex}", datetime.now(UTC), payload),
        }
    )
    return event


def use_moto_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials and a region for moto; Powertools quiet."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "CRITICAL",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxServer]:
    """One sandbox BigCommerce per test process; each test gives it a fresh store."""
    server = SandboxServer(sandbox_store()).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def provisioned(sandbox_server: SandboxServer) -> ProvisionedStack:
    """template.yaml's resources in moto, provisioned once per test process (see provisioned.py)."""
    fix_moto_dynamodb()
    return ProvisionedStack(
        load_template(PROJECT_ROOT / "template.yaml"),
        StoreConfig(STORE_HASH, ACCESS_TOKEN, CLIENT_SECRET, WEBHOOK_TOKEN, sandbox_server.url),
    )


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch, sandbox_server: SandboxServer, provisioned: ProvisionedStack) -> Any:
    use_moto_environment(monkeypatch)
    store = sandbox_server.store = sandbox_store()
    template = provisioned.template
    mock = provisioned.enter()
    try:
        for name, value in provisioned.environment.items():
            monkeypatch.setenv(name, value)
        # Fewer seconds of patience so fault tests stay quick; the rules are the same.
        monkeypatch.setenv("WEBHOOK_BIGCOMMERCE_BUDGET_SECONDS", "2")
        monkeypatch.setenv("RETRY_BIGCOMMERCE_BUDGET_SECONDS", "2")
        virtual = VirtualTime()
        monkeypatch.setattr(
            wiring,
            "BigCommerceConnector",
            functools.partial(BigCommerceConnector, clock=virtual.monotonic, sleep=virtual.sleep),
        )
        _fresh_process_state()
        handlers = {
            logical_id: load_handler(logical_id, props) for logical_id, props in function_specs(template).items()
        }
        ENVIRONMENTS.serve(monkeypatch, [*list(sys.modules.values()), *handlers.values()])
        physical = dict(provisioned.physical)
        calls = CallLog(logical={physical_id: logical_id for logical_id, physical_id in physical.items()})
        monkeypatch.setattr(BaseClient, "_make_api_call", _recorded(calls, BaseClient._make_api_call))
        require = Settings.require

        def required(config: Settings, name: Any) -> str:
            calls.read_setting(name.upper())
            return require(config, name)

        monkeypatch.setattr(Settings, "require", required)
        yield Stack(store=store, physical=physical, handlers=handlers, time=virtual, calls=calls)
        _fresh_process_state()
    finally:
        mock.stop(remove_data=False)
    for function, uses in calls.uses.items():
        beyond = refused(uses, grants_of(template["Resources"][function]))
        assert not beyond, f"{function} calls what its policy does not allow: {sorted(map(str, beyond))}"
    for function, variables in calls.settings.items():
        untold = variables - environment_of(template, function)
        assert not untold, f"{function} reads settings its Environment does not set: {sorted(untold)}"


class Killed(BaseException):
    """The function's process died in the middle of an AWS call (a timeout, an out-of-memory
    kill): no handler of the function runs, what the call wrote (if it landed) stays."""


@dataclass
class Kills:
    """Kills armed for the next AWS call a function makes that matches: before the call, or
    after it landed (its answer lost); or another invocation's work, landing just before it."""

    stack: Stack
    armed: list[tuple[str, bool, Any]] = field(default_factory=list)
    interleaved: list[tuple[str, Any, Any]] = field(default_factory=list)

    def next(self, operation: str, *, landed: bool, where: Any = lambda params: True) -> None:
        self.armed.append((operation, landed, where))

    def meanwhile(self, operation: str, happens: Any, *, where: Any = lambda params: True) -> None:
        """No kill: `happens()` runs just before the next matching call, as a concurrent
        invocation's work landing between a function's read and its write."""
        self.interleaved.append((operation, where, happens))

    def wrap(self, make_api_call: Any) -> Any:
        def call(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
            for n, (name, where, happens) in enumerate(self.interleaved):
                if name == operation and self.stack.calls.current and where(params):
                    del self.interleaved[n]
                    happens()
                    break
            for n, (name, landed, where) in enumerate(self.armed):
                if name == operation and self.stack.calls.current and where(params):
                    del self.armed[n]
                    if landed:
                        make_api_call(client, operation, params)
                    raise Killed(operation)
            return make_api_call(client, operation, params)

        return call

    def deliver(self, event: dict[str, Any]) -> None:
        """The delivery, whose function is killed as armed; then, as after the invocation's
        timeout, a new execution environment and no delivery in progress."""
        with pytest.raises(Killed):
            self.stack.deliver(event)
        after_a_kill(self.stack)


def after_a_kill(stack: Stack) -> None:
    _fresh_process_state()
    table = stack._dynamodb.Table(stack.physical["DeliveriesTable"])
    for item in scan_all(table):
        if item.get("status") == "INPROGRESS":  # its invocation timed out long ago
            table.delete_item(Key={"id": item["id"]})


@pytest.fixture
def kills(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Kills:
    armed = Kills(stack)
    monkeypatch.setattr(BaseClient, "_make_api_call", armed.wrap(BaseClient._make_api_call))
    return armed


def _recorded(calls: CallLog, make_api_call: Any) -> Any:
    def recorded(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        calls.record(client.meta.service_model.service_name, operation, params)
        return make_api_call(client, operation, params)

    return recorded


def use_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, settings: dict[str, Any]) -> None:
    """Point the functions at a settings file of the test's own, as after a redeploy."""
    path = tmp_path / "bcsync-settings.json"
    path.write_text(json.dumps(settings))
    monkeypatch.setenv("SETTINGS_FILE", str(path))
    _fresh_process_state()


class SharedClients:
    """A boto3 session, as the composition root uses one, that makes each client or resource
    once: its environments share them (a client holds no AWS data, so sharing hides no read
    from the policy check, which follows the function running, not the client); making them per
    function cost a few percent of the suite. One per thread, as a session is not safe to share
    between threads."""

    def __init__(self) -> None:
        self._session = boto3.session.Session()
        self._made: dict[tuple[str, str, str | None], Any] = {}

    def client(self, service: str, endpoint_url: str | None = None) -> Any:
        key = ("client", service, endpoint_url)
        if key not in self._made:
            self._made[key] = self._session.client(service, endpoint_url=endpoint_url)  # type: ignore[call-overload]
        return self._made[key]

    def resource(self, service: str, endpoint_url: str | None = None) -> Any:
        key = ("resource", service, endpoint_url)
        if key not in self._made:
            self._made[key] = self._session.resource(service, endpoint_url=endpoint_url)  # type: ignore[call-overload]
        return self._made[key]


class FunctionContainers:
    """Each function's own composition root, as each runs in an execution environment of its own
    in Lambda: what one function read and cached (a store's secret, settings, the flow library)
    is not in another's, so each makes its own reads, checked against its own policy. A thread
    is an environment of its own too (a test may invoke functions concurrently). Outside an
    invocation, `container()` is the operator's (what the CLI builds)."""

    def __init__(self) -> None:
        self._built: dict[tuple[str | None, int], wiring.Container] = {}
        self._clients: dict[int, SharedClients] = {}
        self._running = threading.local()
        self._lock = threading.Lock()

    def container(self) -> wiring.Container:
        """What every module's `container()` answers while a stack is up."""
        resume_collection()  # as wiring.container() does: the cold start's loading is done
        thread = threading.get_ident()
        key = (getattr(self._running, "function", None), thread)
        with self._lock:
            if key not in self._built:
                clients: Any = self._clients.setdefault(thread, SharedClients())
                self._built[key] = wiring.Container(settings_module.settings(), session=clients)
            return self._built[key]

    @contextlib.contextmanager
    def running(self, logical_id: str) -> Iterator[None]:
        outer = getattr(self._running, "function", None)
        self._running.function = logical_id
        try:
            yield
        finally:
            self._running.function = outer

    def serve(self, monkeypatch: pytest.MonkeyPatch, modules: Iterable[ModuleType]) -> None:
        """Answer for `wiring.container` in every module holding it (the entrypoints bind it
        when imported, the handlers when loaded)."""
        for module in modules:
            if getattr(module, "__dict__", {}).get("container") is CONTAINER:
                monkeypatch.setattr(module, "container", self.container)

    def forget(self) -> None:
        with self._lock:
            self._built.clear()
            self._clients.clear()


CONTAINER = wiring.container
ENVIRONMENTS = FunctionContainers()


def _fresh_process_state() -> None:
    """What a new Lambda execution environment would start without (every function's)."""
    ENVIRONMENTS.forget()
    CONTAINER.cache_clear()
    settings_module.settings.cache_clear()
    parameters.clear_caches()


def sqs_event(
    messages: list[dict[str, Any]], queue_arn: str = "arn:aws:sqs:us-east-1:123456789012:retry"
) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "us-east-1",
            }
            for m in messages
        ]
    }


def ago(**delta: float) -> datetime:
    from datetime import timedelta

    return datetime.now(UTC).replace(microsecond=0) - timedelta(**delta)


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """Every line the functions log while the test runs (DEBUG and up), as Lambda would print it."""
    captured = io.StringIO()
    handler = logging.StreamHandler(captured)
    handler.setFormatter(LambdaPowertoolsFormatter())
    service_logger = logging.getLogger(logger.service)
    service_logger.addHandler(handler)
    logger.setLevel("DEBUG")
    try:
        yield captured
    finally:
        logger.setLevel("CRITICAL")
        service_logger.removeHandler(handler)
