"""What every benchmark shares: a quiet environment, the stack provisioned from template.yaml in
moto (in-process) against a sandbox store on loopback; `aws_requests` (bcsync_ops.measure) counts
the AWS requests made."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from moto import mock_aws


def quiet_environment() -> None:
    """Set before bcsync is imported: Powertools reads these once."""
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "ERROR",
            "POWERTOOLS_METRICS_NAMESPACE": "bcsync",
        }
    )
    os.environ.pop("AWS_ENDPOINT_URL", None)


@contextmanager
def stack(store, **environment: str) -> Iterator[dict[str, str]]:
    """The template's tables, queues and the store's secret in moto, the functions' environment
    (with `environment` over it); yields logical -> physical ids."""
    quiet_environment()
    from bcsync import observability, settings, wiring
    from bcsync_ops.local_stack import PROJECT_ROOT, StoreConfig, function_environment, provision
    from bcsync_ops.moto_fixes import fix_moto_dynamodb
    from bcsync_ops.sandbox import SandboxServer
    from bcsync_ops.template import Resolver, load_template, parameter_defaults

    server = SandboxServer(store).start()
    template = load_template(PROJECT_ROOT / "template.yaml")
    resolver = Resolver(refs={**parameter_defaults(template), "BigCommerceApiUrl": server.url})
    try:
        fix_moto_dynamodb()
        with mock_aws():
            config = StoreConfig(store.store_hash, store.access_token, "secret", None, server.url)
            physical = provision(template, resolver, config)
            os.environ.update({**function_environment(template, resolver), **environment})
            wiring.container.cache_clear()
            settings.settings.cache_clear()
            # Not measured here, and Powertools would print them to stdout every 100.
            observability.metrics.add_metric = lambda **_: None  # type: ignore[method-assign]
            yield physical
    finally:
        server.stop()
