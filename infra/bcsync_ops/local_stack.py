"""The Docker-free local stack: template.yaml's resources on a moto server, its HTTP API routes
served by invoking the handlers in-process with API Gateway (payload 2.0) events, and its SQS
event sources polled into their functions, one invocation at a time per function as in Lambda.
"""

from __future__ import annotations

import base64
import functools
import importlib.util
import json
import logging
import os
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import boto3
from moto.server import ThreadedMotoServer

from bcsync.usecases.clock import FlowClock
from bcsync_ops.local_streams import StreamSource, poll_stream
from bcsync_ops.loopback import STOP_POLL_SECONDS
from bcsync_ops.moto_fixes import fix_moto_dynamodb
from bcsync_ops.template import (
    LOCAL_ACCOUNT,
    LOCAL_REGION,
    Resolver,
    load_template,
    parameter_defaults,
    resources_of,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
NAME_PREFIX = "bcsync-local-"
# Locally, parked deliveries should come back in seconds, not the deployed 30 s / 12 min.
LOCAL_MAX_QUEUE_DELAY_SECONDS = 1
LOCAL_MAX_VISIBILITY_SECONDS = 5


def state_file() -> Path:
    """Where a running local stack says how to reach it (read by the export commands)."""
    return Path(os.environ.get("BCSYNC_STATE_DIR", Path.home() / ".bcsync")) / "local-stack.json"


@dataclass
class StoreConfig:
    store_hash: str
    access_token: str
    client_secret: str
    webhook_token: str | None = None
    api_url: str = "https://api.bigcommerce.com"

    @classmethod
    def from_environ(cls) -> StoreConfig:
        missing = [
            name
            for name in ("BIGCOMMERCE_STORE_HASH", "BIGCOMMERCE_ACCESS_TOKEN", "BIGCOMMERCE_CLIENT_SECRET")
            if not os.environ.get(name)
        ]
        if missing:
            raise SystemExit(f"bcsync local needs these environment variables: {', '.join(missing)}")
        return cls(
            store_hash=os.environ["BIGCOMMERCE_STORE_HASH"],
            access_token=os.environ["BIGCOMMERCE_ACCESS_TOKEN"],
            client_secret=os.environ["BIGCOMMERCE_CLIENT_SECRET"],
            webhook_token=os.environ.get("BIGCOMMERCE_WEBHOOK_TOKEN") or None,
            api_url=os.environ.get("BIGCOMMERCE_API_URL", "https://api.bigcommerce.com"),
        )


@dataclass
class LocalFunction:
    logical_id: str
    module: ModuleType
    timeout: int
    lock: threading.Lock = field(default_factory=threading.Lock)

    def invoke(self, event: dict[str, Any]) -> Any:
        with self.lock:
            return self.module.lambda_handler(event, _LambdaContext(self.logical_id, self.timeout))


@dataclass
class _LambdaContext:
    function_name: str
    timeout: int
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{LOCAL_REGION}:{LOCAL_ACCOUNT}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(1, int((self.timeout - (time.monotonic() - self.started)) * 1000))


# Schedules that drive flow delays: `--time-scale` makes them tick faster, on the scaled clock.
FLOW_TIMERS = frozenset({"FlowTimerFunction"})
# How long `stop` waits for the pollers and tickers, all together.
STOP_SECONDS = 5.0
# The fastest a scaled flow timer ticks, in real seconds.
MIN_TICK_SECONDS = 0.25


@dataclass
class Schedule:
    function: LocalFunction
    every_seconds: float
    # The clock its events are stamped with: the flow runner's (scaled) one for flow timers.
    clock: Callable[[], datetime] | None = None


def rate_seconds(expression: str) -> float:
    """`rate(1 hour)` and friends; cron expressions are not used by the template."""
    match = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", expression.strip())
    if not match:
        raise ValueError(f"unsupported schedule {expression!r}: only rate(N minutes|hours|days)")
    unit = {"minute": 60, "hour": 3600, "day": 86400}[match[2].rstrip("s")]
    return int(match[1]) * unit


@dataclass
class SqsSource:
    function: LocalFunction
    queue_url: str
    queue_arn: str
    batch_size: int


class LocalStack:
    def __init__(
        self,
        store: StoreConfig,
        *,
        port: int = 3000,
        aws_port: int = 0,
        template_path: Path = PROJECT_ROOT / "template.yaml",
        log_level: str = "INFO",
        time_scale: float = 1.0,
    ) -> None:
        self.store = store
        self.port = port
        self.flow_clock = FlowClock(time_scale, datetime.now(UTC)) if time_scale != 1 else FlowClock()
        self.template_path = template_path
        self.template = load_template(template_path)
        fix_moto_dynamodb()
        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=aws_port, verbose=False)
        self._log_level = log_level
        self.routes: dict[tuple[str, str], LocalFunction] = {}
        # Routes AWS guards with IAM: locally they take `Authorization: Bearer <api_token>`.
        self.iam_routes: set[tuple[str, str]] = set()
        self.api_token = secrets.token_urlsafe(24)
        self.sources: list[SqsSource] = []
        self.streams: list[StreamSource] = []
        self.schedules: list[Schedule] = []
        self.physical: dict[str, str] = {}
        self._http: ThreadingHTTPServer | None = None
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> LocalStack:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._moto.start()
        host, port = self._moto.get_host_and_port()
        self.aws_endpoint = f"http://{host}:{port}"
        self._configure_environment()
        resolver = Resolver(refs=self._parameters())
        self.physical = provision(self.template, resolver, self.store)
        self._load_functions(resolver)
        self._serve_api()
        for source in self.sources:
            thread = threading.Thread(
                target=self._poll, args=(source,), daemon=True, name=f"poll-{source.function.logical_id}"
            )
            thread.start()
            self._threads.append(thread)
        for stream in self.streams:
            thread = threading.Thread(
                target=poll_stream,
                args=(stream, self._stopping),
                daemon=True,
                name=f"stream-{stream.function.logical_id}",
            )
            thread.start()
            self._threads.append(thread)
        for schedule in self.schedules:
            thread = threading.Thread(
                target=self._tick, args=(schedule,), daemon=True, name=f"schedule-{schedule.function.logical_id}"
            )
            thread.start()
            self._threads.append(thread)
        self._write_state()
        return self

    def stop(self) -> None:
        self._stopping.set()
        deadline = time.monotonic() + STOP_SECONDS  # one wait for all: a busy poller finishes its batch
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        if self._http:
            self._http.shutdown()
            self._http.server_close()
        self._moto.stop()
        path = state_file()
        if path.exists() and json.loads(path.read_text()).get("pid") == os.getpid():
            path.unlink()

    @property
    def api_url(self) -> str:
        assert self._http is not None
        return f"http://127.0.0.1:{self._http.server_address[1]}"

    # ------------------------------------------------------------------ resources
    def _configure_environment(self) -> None:
        os.environ.update(
            {
                "AWS_ENDPOINT_URL": self.aws_endpoint,
                "AWS_ACCESS_KEY_ID": "local",
                "AWS_SECRET_ACCESS_KEY": "local",
                "AWS_DEFAULT_REGION": LOCAL_REGION,
                "AWS_REGION": LOCAL_REGION,
                "POWERTOOLS_TRACE_DISABLED": "true",
                "POWERTOOLS_METRICS_DISABLED": "true",
            }
        )
        os.environ.pop("AWS_PROFILE", None)

    def _parameters(self) -> dict[str, Any]:
        parameters = parameter_defaults(self.template)
        parameters["BigCommerceApiUrl"] = self.store.api_url
        if "ENABLED_FLOWS" in os.environ:
            parameters["EnabledFlows"] = os.environ["ENABLED_FLOWS"]
        return parameters

    def _load_functions(self, resolver: Resolver) -> None:
        environment = function_environment(self.template, resolver)
        environment["POWERTOOLS_LOG_LEVEL"] = self._log_level
        if os.environ.get("SETTINGS_FILE"):  # a settings file of the user's own
            environment["SETTINGS_FILE"] = os.environ["SETTINGS_FILE"]
        if self.flow_clock.origin is not None:
            environment["FLOW_TIME_SCALE"] = str(self.flow_clock.scale)
            environment["FLOW_CLOCK_ORIGIN"] = self.flow_clock.origin.isoformat()
        os.environ.update(environment)
        for logical_id, props in function_specs(self.template).items():
            function = LocalFunction(
                logical_id=logical_id,
                module=load_handler(logical_id, props),
                timeout=int(props["Timeout"]),
            )
            for event in props.get("Events", {}).values():
                spec = event.get("Properties", {})
                if event["Type"] == "HttpApi":
                    route = (spec["Method"].upper(), spec["Path"])
                    self.routes[route] = function
                    if (spec.get("Auth") or {}).get("Authorizer") == "AWS_IAM":
                        self.iam_routes.add(route)
                elif event["Type"] == "Schedule":
                    every = rate_seconds(spec["Schedule"])
                    if logical_id in FLOW_TIMERS:
                        every = max(every / self.flow_clock.scale, MIN_TICK_SECONDS)
                        self.schedules.append(Schedule(function, every, self.flow_clock.now))
                    else:
                        self.schedules.append(Schedule(function, every))
                elif event["Type"] == "DynamoDB":
                    self.streams.append(
                        StreamSource(function, resolver.resolve(spec["Stream"]), int(spec.get("BatchSize", 100)))
                    )
                elif event["Type"] == "SQS":
                    arn = resolver.resolve(spec["Queue"])
                    logical_queue = next(k for k, v in resolver.attributes.items() if v == arn and k[1] == "Arn")[0]
                    self.sources.append(
                        SqsSource(function, self.physical[logical_queue], arn, int(spec.get("BatchSize", 10)))
                    )

    @property
    def console_url(self) -> str:
        """The console, handed the read API's token in the fragment (never sent to the server)."""
        return f"{self.api_url}/console#token={self.api_token}"

    # ------------------------------------------------------------------ HTTP API
    def route(self, method: str, path: str) -> tuple[tuple[str, str], dict[str, str]] | None:
        """The template route a request path takes, with its `{name}` parameters."""
        if (method, path) in self.routes:
            return (method, path), {}
        for route_method, template in self.routes:
            if route_method != method or "{" not in template:
                continue
            pattern = re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(template))
            if match := re.fullmatch(pattern, path):
                return (route_method, template), {k: unquote(v) for k, v in match.groupdict().items()}
        return None

    def _serve_api(self) -> None:
        stack = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                found = stack.route(self.command, parts.path)
                if found is None:
                    self._reply(404, {"content-type": "application/json"}, b'{"message":"Not Found"}')
                    return
                route, parameters = found
                if route in stack.iam_routes and self.headers.get("Authorization") != f"Bearer {stack.api_token}":
                    # Where AWS asks for a SigV4 signature, the local stack asks for its token.
                    self._reply(403, {"content-type": "application/json"}, b'{"message":"Forbidden"}')
                    return
                function = stack.routes[route]
                event = _http_api_event(
                    self.command, parts.path, parts.query, dict(self.headers), raw, source_ip=self.client_address[0]
                )
                event["routeKey"] = event["requestContext"]["routeKey"] = f"{route[0]} {route[1]}"
                if parameters:
                    event["pathParameters"] = parameters
                result = function.invoke(event)
                body = result.get("body") or ""
                payload = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
                self._reply(int(result.get("statusCode", 200)), result.get("headers") or {}, payload)

            def _reply(self, status: int, headers: dict[str, str], payload: bytes) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    if name.lower() != "content-length":
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

            def log_message(self, format: str, *args: Any) -> None:
                """Requests are visible in the function logs; keep the console for them."""

        self._http = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        thread = threading.Thread(
            target=self._http.serve_forever,
            kwargs={"poll_interval": STOP_POLL_SECONDS},  # so `stop` returns at once
            daemon=True,
            name="local-http-api",
        )
        thread.start()

    # ------------------------------------------------------------------ Schedule events
    def _tick(self, schedule: Schedule) -> None:
        """Fire at the template's rate, first one period after start, as EventBridge does."""
        while not self._stopping.wait(schedule.every_seconds):
            self.fire(schedule, at=schedule.clock() if schedule.clock else None)

    def fire(self, schedule: Schedule, at: datetime | None = None) -> Any:
        """One schedule event, as of `at` (default now): the demo compresses time with it."""
        now = at or datetime.now(UTC)
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": LOCAL_ACCOUNT,
            "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": LOCAL_REGION,
            "resources": [f"arn:aws:events:{LOCAL_REGION}:{LOCAL_ACCOUNT}:rule/local-{schedule.function.logical_id}"],
            "detail": {},
        }
        try:
            return schedule.function.invoke(event)
        except Exception:
            logging.getLogger(__name__).exception("%s failed on its schedule", schedule.function.logical_id)
            return None

    # ------------------------------------------------------------------ SQS event sources
    def _poll(self, source: SqsSource) -> None:
        client: Any = boto3.client("sqs")
        while not self._stopping.is_set():
            messages = client.receive_message(
                QueueUrl=source.queue_url,
                MaxNumberOfMessages=source.batch_size,
                WaitTimeSeconds=1,
                AttributeNames=["All"],
            ).get("Messages", [])
            if messages:
                self.deliver(source, client, messages)

    def deliver(self, source: SqsSource, client: Any, messages: list[dict[str, Any]]) -> None:
        event = {"Records": [_sqs_record(message, source.queue_arn) for message in messages]}
        try:
            response = source.function.invoke(event) or {}
        except Exception:  # the whole batch returns to the queue, as in Lambda
            logging.getLogger(__name__).exception(
                "%s failed; its batch returns to the queue", source.function.logical_id
            )
            return
        failed = {item["itemIdentifier"] for item in response.get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            client.delete_message_batch(
                QueueUrl=source.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )

    def wait_until_drained(self, timeout: float = 60.0) -> None:
        """Block until every polled queue is empty (parked deliveries retried), or raise."""
        deadline = time.monotonic() + timeout
        logical_ids = [k for k, url in self.physical.items() if any(s.queue_url == url for s in self.sources)]
        while any(self.queue_depth(logical_id) for logical_id in logical_ids):
            if time.monotonic() > deadline:
                raise TimeoutError("parked deliveries are still waiting to be retried")
            time.sleep(0.2)

    def drain(self, logical_id: str) -> list[dict[str, Any]]:
        """Take every message off a queue no function consumes (the flow actions, for the demo)."""
        sqs: Any = boto3.client("sqs")
        taken: list[dict[str, Any]] = []
        while batch := sqs.receive_message(QueueUrl=self.physical[logical_id], MaxNumberOfMessages=10).get("Messages"):
            taken += batch
            for message in batch:
                sqs.delete_message(QueueUrl=self.physical[logical_id], ReceiptHandle=message["ReceiptHandle"])
        return taken

    def queue_depth(self, logical_id: str) -> int:
        attributes = boto3.client("sqs").get_queue_attributes(
            QueueUrl=self.physical[logical_id],
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            ],
        )["Attributes"]
        return sum(int(value) for value in attributes.values())

    def _write_state(self) -> None:
        """Written whole, then moved into place: a reader never sees half of it."""
        path = state_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        partial.write_text(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "store_hash": self.store.store_hash,
                    "aws_endpoint": self.aws_endpoint,
                    "api_url": self.api_url,
                    "api_token": self.api_token,
                    "bigcommerce_api_url": self.store.api_url,
                    "time_scale": self.flow_clock.scale,
                    "physical": self.physical,
                },
                indent=2,
            )
        )
        partial.replace(path)


def _http_api_event(
    method: str, path: str, query: str, headers: dict[str, str], raw: bytes, *, source_ip: str
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload format 2.0) event, as the deployed route delivers it."""
    try:
        body, encoded = raw.decode(), False
    except UnicodeDecodeError:
        body, encoded = base64.b64encode(raw).decode(), True
    now = datetime.now(UTC)
    request_id = str(uuid.uuid4())
    return {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": query,
        # API Gateway tells the function how it was reached; locally that is plain HTTP.
        "headers": {"x-forwarded-proto": "http", **{name.lower(): value for name, value in headers.items()}},
        "queryStringParameters": {k: ",".join(v) for k, v in parse_qs(query).items()} or None,
        "requestContext": {
            "accountId": LOCAL_ACCOUNT,
            "apiId": "local",
            "domainName": "127.0.0.1",
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": headers.get("User-Agent", ""),
            },
            "requestId": request_id,
            "routeKey": f"{method} {path}",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "body": body,
        "isBase64Encoded": encoded,
    }


def _sqs_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {},
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": LOCAL_REGION,
    }


# ---------------------------------------------------------------------- provisioning
def provision(
    template: dict[str, Any],
    resolver: Resolver,
    store: StoreConfig,
    *,
    max_delay_seconds: int = LOCAL_MAX_QUEUE_DELAY_SECONDS,
) -> dict[str, str]:
    """Create the template's tables, queues and the store's secret in whatever AWS boto3 points at
    (the moto server, or moto's in-process mock in tests); return logical id -> physical id."""
    physical: dict[str, str] = {}
    _create_tables(template, resolver, physical)
    _create_queues(template, resolver, physical, max_delay_seconds)
    secret = {"access_token": store.access_token, "client_secret": store.client_secret}
    if store.webhook_token:
        secret["webhook_token"] = store.webhook_token
    _provisioning().client("secretsmanager").create_secret(
        Name=f"bcsync/stores/{store.store_hash}", SecretString=json.dumps(secret)
    )
    return physical


def function_specs(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each function's properties with the template's Globals applied."""
    globals_ = template.get("Globals", {}).get("Function", {})
    return {
        logical_id: {"Timeout": globals_.get("Timeout", 3), **props}
        for logical_id, props in resources_of(template, "AWS::Serverless::Function").items()
    }


def function_environment(template: dict[str, Any], resolver: Resolver) -> dict[str, str]:
    """The functions' environment, resolved; in-process functions share one, so they must agree."""
    globals_ = template.get("Globals", {}).get("Function", {})
    environment: dict[str, str] = {}
    for props in function_specs(template).values():
        merged = {
            **globals_.get("Environment", {}).get("Variables", {}),
            **props.get("Environment", {}).get("Variables", {}),
        }
        for key, value in resolver.resolve(merged).items():
            if environment.get(key, str(value)) != str(value):
                raise ValueError(f"functions disagree on {key}; the in-process stack shares one environment")
            environment[key] = str(value)
    return {key: _layer_path(template, value) for key, value in environment.items()}


def _layer_path(template: dict[str, Any], value: str) -> str:
    """Layers are mounted at /opt in Lambda; in process, a path there is the layer's source file."""
    if not value.startswith("/opt/"):
        return value
    relative = value.removeprefix("/opt/")
    for props in resources_of(template, "AWS::Serverless::LayerVersion").values():
        candidate = PROJECT_ROOT / props["ContentUri"] / relative
        if candidate.exists():
            return str(candidate)
    return value


def load_handler(logical_id: str, props: dict[str, Any]) -> ModuleType:
    """Import a function's handler module from its CodeUri, under a name unique to the function."""
    module_name = props["Handler"].rpartition(".")[0]
    path = PROJECT_ROOT / props["CodeUri"] / f"{module_name.replace('.', '/')}.py"
    spec = importlib.util.spec_from_file_location(f"bcsync_local_{logical_id}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path} for {logical_id}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@functools.lru_cache(maxsize=1)
def _provisioning() -> boto3.session.Session:
    """One session for provisioning: its service models are loaded once per process, not once
    per stack (the tests provision one each)."""
    return boto3.session.Session()


def _create_tables(template: dict[str, Any], resolver: Resolver, physical: dict[str, str]) -> None:
    client = _provisioning().client("dynamodb")
    for logical_id, props in resources_of(template, "AWS::DynamoDB::Table").items():
        name = f"{NAME_PREFIX}{logical_id}"
        request: dict[str, Any] = {
            "TableName": name,
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if props.get("GlobalSecondaryIndexes"):
            request["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        stream = props.get("StreamSpecification")
        if stream:
            request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
        created = client.create_table(**request)["TableDescription"]
        if stream:
            resolver.attributes[(logical_id, "StreamArn")] = created["LatestStreamArn"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl:
            client.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        resolver.refs[logical_id] = name
        resolver.attributes[(logical_id, "Arn")] = f"arn:aws:dynamodb:{LOCAL_REGION}:{LOCAL_ACCOUNT}:table/{name}"
        physical[logical_id] = name


def _create_queues(
    template: dict[str, Any], resolver: Resolver, physical: dict[str, str], max_delay_seconds: int
) -> None:
    client: Any = _provisioning().client("sqs")
    queues = resources_of(template, "AWS::SQS::Queue")
    for logical_id, props in queues.items():
        fifo = bool(props.get("FifoQueue"))
        name = f"{NAME_PREFIX}{logical_id}" + (".fifo" if fifo else "")
        attributes = {
            "VisibilityTimeout": str(min(int(props.get("VisibilityTimeout", 30)), LOCAL_MAX_VISIBILITY_SECONDS)),
            "DelaySeconds": str(min(int(props.get("DelaySeconds", 0)), max_delay_seconds)),
        }
        if fifo:
            attributes["FifoQueue"] = "true"
            attributes["ContentBasedDeduplication"] = str(bool(props.get("ContentBasedDeduplication"))).lower()
        url = client.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        resolver.refs[logical_id] = url
        resolver.attributes[(logical_id, "Arn")] = arn
        resolver.attributes[(logical_id, "QueueName")] = name
        physical[logical_id] = url
    for logical_id, props in queues.items():
        if "RedrivePolicy" in props:
            policy = resolver.resolve(props["RedrivePolicy"])
            client.set_queue_attributes(QueueUrl=physical[logical_id], Attributes={"RedrivePolicy": json.dumps(policy)})
