"""One Logger, Tracer and Metrics for the whole package (Powertools reads its POWERTOOLS_* env).

Metrics gets the template's namespace as a default: the local stack and the tests import this
module before they set the functions' environment, and Powertools flushes on its own every 100
metrics, which fails without a namespace (a reconcile or backfill adds more than that in one run).

The Tracer loads the X-Ray SDK even when tracing is off (it makes the SDK's recorder its provider,
and the recorder builds its own botocore clients). Off, it gets a provider that records nothing
instead, so tracing costs nothing; on, it patches only what bcsync calls out with: botocore for
AWS and http.client, which urllib3 (BigCommerce) sends through.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import AsyncGenerator, Generator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.shared.functions import resolve_truthy_env_var_choice
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment

TRACED_MODULES = ("botocore", "httplib")


class _Unrecorded(BaseSegment):
    def close(self, end_time: int | None = None) -> None: ...
    def add_subsegment(self, subsegment: Any) -> None: ...
    def remove_subsegment(self, subsegment: Any) -> None: ...
    def put_annotation(self, key: str, value: Any) -> None: ...
    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None: ...
    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None: ...


class NoTracing(BaseProvider):
    """The Tracer's provider when tracing is off: every call is a no-op, and no SDK is loaded."""

    @contextmanager
    def in_subsegment(self, name: Any = None, **kwargs: Any) -> Generator[BaseSegment, None, None]:
        yield _Unrecorded()

    @asynccontextmanager
    async def in_subsegment_async(self, name: Any = None, **kwargs: Any) -> AsyncGenerator[BaseSegment, None]:
        yield _Unrecorded()

    def put_annotation(self, key: str, value: Any) -> None: ...
    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None: ...
    def patch(self, modules: Any) -> None: ...
    def patch_all(self) -> None: ...


def tracing_enabled() -> bool:
    """As Powertools decides: off by POWERTOOLS_TRACE_DISABLED, or outside Lambda (or SAM local)."""
    if resolve_truthy_env_var_choice(env=os.getenv("POWERTOOLS_TRACE_DISABLED", "false")):
        return False
    return bool(os.getenv("LAMBDA_TASK_ROOT")) and not os.getenv("AWS_SAM_LOCAL")


logger = Logger()
# Off, Powertools is not told so: the provider already records nothing, and switching the SDK off
# is what would load it.
tracer = (
    Tracer(patch_modules=TRACED_MODULES)
    if tracing_enabled()
    else Tracer(provider=NoTracing(), disabled=False, auto_patch=False)
)
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "bcsync"))
# Many invocations rightly count nothing (a duplicate delivery, an ignored scope, a quiet minute
# tick): Powertools would log a warning for each.
warnings.filterwarnings("ignore", message="No application metrics to publish")


def flow_metric(name: str, flow: str, value: float = 1) -> None:
    """A count of one flow's, with the flow as its dimension (the shared `metrics` holds one
    dimension set per invocation, and one invocation moves runs of many flows)."""
    from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

    emf = AmazonCloudWatchEMFProvider(namespace=metrics.namespace)
    emf.add_dimension(name="flow", value=flow)
    emf.add_metric(name=name, unit="Count", value=value)
    emf.flush_metrics()
