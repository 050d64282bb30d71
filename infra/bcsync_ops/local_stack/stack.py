"""The local stack: moto, the template's resources on it, its functions in-process, and what
drives them as AWS would: HTTP routes, SQS pollers, DynamoDB stream pollers, schedules."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bcsync.usecases.clock import FlowClock
from bcsync_ops.local_stack import queues, schedules
from bcsync_ops.local_stack.functions import (
    PROJECT_ROOT,
    LocalFunction,
    function_environment,
    function_specs,
    load_handler,
)
from bcsync_ops.local_stack.http_api import HttpApi
from bcsync_ops.local_stack.moto_server import MotoServer
from bcsync_ops.local_stack.queues import SqsSource
from bcsync_ops.local_stack.resources import StoreConfig, provision
from bcsync_ops.local_stack.schedules import FLOW_TIMERS, MIN_TICK_SECONDS, Schedule, rate_seconds
from bcsync_ops.local_stack.state import clear_state, write_state
from bcsync_ops.local_stack.streams import StreamSource, poll_stream
from bcsync_ops.moto_fixes import fix_moto_dynamodb
from bcsync_ops.template import LOCAL_REGION, Resolver, load_template, parameter_defaults

# How long `stop` waits for the invocations in flight, all together.
STOP_SECONDS = 5.0


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
        self.template = load_template(template_path)
        fix_moto_dynamodb()
        self._moto = MotoServer(aws_port)
        self._log_level = log_level
        self.http = HttpApi()
        self.sources: list[SqsSource] = []
        self.streams: list[StreamSource] = []
        self.schedules: list[Schedule] = []
        self.physical: dict[str, str] = {}
        self._stopping = threading.Event()
        self._functions: list[LocalFunction] = []

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> LocalStack:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.aws_endpoint = self._moto.start().origin
        self._configure_environment()
        resolver = Resolver(refs=self._parameters())
        self.physical = provision(self.template, resolver, self.store)
        self._load_functions(resolver)
        self.http.serve(self.port)
        for source in self.sources:
            self._run(queues.poll, source, name=f"poll-{source.function.logical_id}")
        for stream in self.streams:
            self._run(poll_stream, stream, name=f"stream-{stream.function.logical_id}")
        for schedule in self.schedules:
            self._run(schedules.tick, schedule, name=f"schedule-{schedule.function.logical_id}")
        write_state(
            {
                "store_hash": self.store.store_hash,
                "aws_endpoint": self.aws_endpoint,
                "api_url": self.api_url,
                "api_token": self.api_token,
                "bigcommerce_api_url": self.store.api_url,
                "time_scale": self.flow_clock.scale,
                "physical": self.physical,
            }
        )
        return self

    def _run(self, loop: Callable[[Any, threading.Event], None], part: Any, *, name: str) -> None:
        threading.Thread(target=loop, args=(part, self._stopping), daemon=True, name=name).start()

    def stop(self) -> None:
        """An invocation in flight finishes (one wait for all, on each function's lock); a poller
        idle in an SQS long poll is not waited for: its thread is a daemon, and it invokes nothing
        once the stack is stopping."""
        self._stopping.set()
        deadline = time.monotonic() + STOP_SECONDS
        for function in self._functions:
            if function.lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
                function.lock.release()
        self.http.shutdown()
        self._moto.stop()
        clear_state()

    @property
    def api_url(self) -> str:
        return self.http.url

    @property
    def api_token(self) -> str:
        return self.http.api_token

    @property
    def routes(self) -> list[tuple[str, str]]:
        return list(self.http.routes)

    @property
    def console_url(self) -> str:
        """The console, handed the read API's token in the fragment (never sent to the server)."""
        return f"{self.api_url}/console#token={self.api_token}"

    # ------------------------------------------------------------------ resources and functions
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
            self._functions.append(function)
            for event in props.get("Events", {}).values():
                self._attach(function, event["Type"], event.get("Properties", {}), resolver)

    def _attach(self, function: LocalFunction, kind: str, spec: dict[str, Any], resolver: Resolver) -> None:
        """Wire one of the function's template events to what drives it locally."""
        if kind == "HttpApi":
            iam = (spec.get("Auth") or {}).get("Authorizer") == "AWS_IAM"
            self.http.add(spec["Method"], spec["Path"], function, iam=iam)
        elif kind == "Schedule":
            every = rate_seconds(spec["Schedule"])
            if function.logical_id in FLOW_TIMERS:
                every = max(every / self.flow_clock.scale, MIN_TICK_SECONDS)
                self.schedules.append(Schedule(function, every, self.flow_clock.now))
            else:
                self.schedules.append(Schedule(function, every))
        elif kind == "DynamoDB":
            self.streams.append(
                StreamSource(function, resolver.resolve(spec["Stream"]), int(spec.get("BatchSize", 100)))
            )
        elif kind == "SQS":
            arn = resolver.resolve(spec["Queue"])
            logical_queue = next(k for k, v in resolver.attributes.items() if v == arn and k[1] == "Arn")[0]
            self.sources.append(SqsSource(function, self.physical[logical_queue], arn, int(spec.get("BatchSize", 10))))

    # ------------------------------------------------------------------ driving it from a demo or a test
    def fire(self, schedule: Schedule, at: datetime | None = None) -> Any:
        """One schedule event, as of `at` (default now): the demo compresses time with it."""
        return schedules.fire(schedule, at)

    def wait_until_drained(self, timeout: float = 60.0) -> None:
        """Block until every polled queue is empty (parked deliveries retried), or raise."""
        deadline = time.monotonic() + timeout
        while any(queues.queue_depth(source.queue_url) for source in self.sources):
            if time.monotonic() > deadline:
                raise TimeoutError("parked deliveries are still waiting to be retried")
            time.sleep(0.2)

    def drain(self, logical_id: str) -> list[dict[str, Any]]:
        """Take every message off a queue no function consumes (the flow actions, for the demo)."""
        return queues.drain(self.physical[logical_id])
