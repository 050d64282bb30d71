"""Cold start per function: a fresh interpreter imports the handler and builds what its first
request needs, against a fresh interpreter importing only `boto3` and `aws_lambda_powertools`
(the floor: what any Powertools function in Python pays). Medians of several runs, each function's
alternating with the floor's so that both see the same load.
`/opt` in Lambda is read-only, so the bytecode a layer ships is all a cold start gets: both sides
run with bytecode writing off and the caches the layer build would ship already in place."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys

from harness import quiet_environment

RUNS = 7
FLOOR = "import boto3, aws_lambda_powertools"
# The same floor with the clients any function writing to DynamoDB and SQS creates.
FLOOR_WITH_CLIENTS = (
    "import boto3, aws_lambda_powertools\n"
    "session = boto3.session.Session()\n"
    "session.resource('dynamodb'), session.client('dynamodb'), session.client('sqs')"
)
FUNCTION = """
import importlib.util
spec = importlib.util.spec_from_file_location("app", {path!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
from bcsync.domain.stores import Family
from bcsync.wiring import container
app = container()
{first_wiring}
"""
# What each function's first request builds (the entrypoints ask the container for these).
FIRST_WIRING = {
    "OrdersWebhookFunction": "app.dedupe, app.ingest, app.delivery_handler(Family.ORDERS)",
    "CartsWebhookFunction": "app.dedupe, app.ingest, app.delivery_handler(Family.CARTS)",
    "CustomersWebhookFunction": "app.dedupe, app.ingest, app.delivery_handler(Family.CUSTOMERS)",
    "SubscribersWebhookFunction": "app.dedupe, app.ingest, app.delivery_handler(Family.SUBSCRIBERS)",
    "CatalogWebhookFunction": "app.dedupe, app.ingest, app.delivery_handler(Family.CATALOG)",
    "RetryDeliveriesFunction": "app.dedupe, app.ingest, [app.delivery_handler(family) for family in Family]",
    "SyncJobsFunction": "app.stores, app.jobs, app.reconciler, app.backfill",
    "ConfirmSubscriptionFunction": "app.subscribers",
    "ReadApiFunction": "app.read_model",
    "TrackFunction": "app.onsite",
    "FlowEventsFunction": "app.flow_runner",
    "FlowTimerFunction": "app.stores, app.flow_runner",
}


def timed(code: str, environment: dict[str, str]) -> float:
    script = f"import time\nstarted = time.perf_counter()\n{code}\nprint(time.perf_counter() - started)"
    result = subprocess.run(
        [sys.executable, "-B", "-c", script], env=environment, capture_output=True, text=True, check=True
    )
    return float(result.stdout.strip().splitlines()[-1])


def main() -> None:
    quiet_environment()
    from bcsync_ops.local_stack import PROJECT_ROOT, function_environment, function_specs
    from bcsync_ops.template import Resolver, load_template, parameter_defaults

    template = load_template(PROJECT_ROOT / "template.yaml")
    names = {logical_id: f"bcsync-{logical_id}" for logical_id in template["Resources"]}
    resolver = Resolver(
        refs={**parameter_defaults(template), **names, "BigCommerceApiUrl": "https://api.bigcommerce.com"}
    )
    environment = {**os.environ, **function_environment(template, resolver)}
    environment.pop("POWERTOOLS_METRICS_DISABLED", None)
    # As in Lambda (LAMBDA_TASK_ROOT is how Powertools knows, AWS_LAMBDA_FUNCTION_NAME how bcsync
    # knows to pause the cyclic collector while it loads), with X-Ray tracing on and off.
    environment.update({"LAMBDA_TASK_ROOT": str(PROJECT_ROOT), "AWS_LAMBDA_FUNCTION_NAME": "bcsync-bench"})
    traced = {**environment, "POWERTOOLS_TRACE_DISABLED": "false"}
    untraced = {**environment, "POWERTOOLS_TRACE_DISABLED": "true"}
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(PROJECT_ROOT / "layers")], check=True)
    floor = statistics.median(timed(FLOOR, untraced) for _ in range(RUNS))
    with_clients = statistics.median(timed(FLOOR_WITH_CLIENTS, untraced) for _ in range(RUNS))
    print(f"Cold start, imports + first wiring, median of {RUNS} (floor: {FLOOR}, {floor * 1000:.0f} ms;")
    print(f"  with a DynamoDB resource and client and an SQS client, {with_clients * 1000:.0f} ms).")
    print("  Each function's runs alternate with runs of the floor, whose median it is divided by:")
    print(f"  {'function':<30}{'floor':>9}{'tracing off':>13}{'x floor':>9}{'tracing on':>13}{'x floor':>9}")
    for logical_id, props in function_specs(template).items():
        path = str(PROJECT_ROOT / props["CodeUri"] / "app.py")
        code = FUNCTION.format(path=path, first_wiring=FIRST_WIRING[logical_id])
        runs = [(timed(FLOOR, untraced), timed(code, untraced), timed(code, traced)) for _ in range(RUNS)]
        beside, off, on = (statistics.median(column) for column in zip(*runs, strict=True))
        print(
            f"  {logical_id:<30}{beside * 1000:>6.0f} ms{off * 1000:>10.0f} ms{off / beside:>9.2f}"
            f"{on * 1000:>10.0f} ms{on / beside:>9.2f}"
        )


if __name__ == "__main__":
    main()
