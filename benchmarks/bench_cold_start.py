"""Cold start per function, in a process laid out as Lambda's: a fresh interpreter, without
site-packages, sees the layer as `sam build` makes it (built here for that interpreter: its
dependencies as bytecode alone, bcsync with its caches) and the runtime's boto3 and its
dependencies, with their bytecode. It imports the handler and builds what its first request needs,
against a fresh interpreter importing only `boto3` and `aws_lambda_powertools` (the floor: what any
Powertools function in Python pays). Medians of several runs, each function's alternating with the
floor's so that both see the same load; a third column starts it from the layer's sources alone
(what a layer without bytecode costs: `/opt` is read-only, so every cold start compiles them).

The interpreter is BENCH_PYTHON, else `python3.13` (the runtime's) where it runs, else this one."""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path

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


def runtime_python() -> str:
    """The interpreter standing in for the runtime's (a version manager's shim may not run)."""
    for candidate in (os.environ.get("BENCH_PYTHON"), "python3.13"):
        if candidate and shutil.which(candidate):
            probe = [candidate, "-c", "import sys; print(sys.executable)"]
            found = subprocess.run(probe, capture_output=True, text=True, check=False)
            if found.returncode == 0:
                return found.stdout.strip()
    return sys.executable


def run(*command: str) -> str:
    """A build step's output, shown only if it fails (pip's and make's chatter would bury the table)."""
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def lay_out(python: str, root: Path) -> dict[str, Path]:
    """The layer as shipped and as sources alone (layers/core/Makefile), and the runtime's packages."""
    from bcsync_ops.local_stack import PROJECT_ROOT

    facts = "import sys, sysconfig; print('%d.%d' % sys.version_info[:2], sysconfig.get_config_var('EXT_SUFFIX'))"
    runtime_version, extension_suffix = run(python, "-c", facts).split()
    wheel_platform = f"manylinux2014_{platform.machine()}"
    make = (
        "make",
        "-C",
        str(PROJECT_ROOT / "layers" / "core"),
        f"PYTHON={sys.executable}",
        f"RUNTIME_VERSION={runtime_version}",
        f"WHEEL_PLATFORM={wheel_platform}",
        f"EXTENSION_SUFFIX={extension_suffix}",
        f"RUNTIME_PYTHON={python}",
    )
    layout = {name: root / name for name in ("shipped", "sources", "runtime")}
    run(*make, "build-CoreLayer", f"ARTIFACTS_DIR={layout['shipped']}")
    run(*make, "layer-sources", f"ARTIFACTS_DIR={layout['sources']}")
    pip = (sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile")
    wheels = ("--platform", wheel_platform, "--python-version", runtime_version, "--only-binary=:all:")
    run(*pip, *wheels, "--target", str(layout["runtime"]), f"boto3=={version('boto3')}")
    # The runtime's own packages come with their bytecode.
    run(python, "-m", "compileall", "-q", str(layout["runtime"]))
    return layout


def timed(python: str, code: str, environment: dict[str, str]) -> float:
    script = f"import time\nstarted = time.perf_counter()\n{code}\nprint(time.perf_counter() - started)"
    # -S: no site-packages, only the layer and the runtime's packages (PYTHONPATH); -B: /opt is read-only.
    result = subprocess.run(
        [python, "-S", "-B", "-c", script], env=environment, capture_output=True, text=True, check=True
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
    python = runtime_python()
    with tempfile.TemporaryDirectory(prefix="bcsync-cold-") as folder:
        layout = lay_out(python, Path(folder))
        shipped = {**environment, "PYTHONPATH": f"{layout['shipped'] / 'python'}:{layout['runtime']}"}
        sources = {**environment, "PYTHONPATH": f"{layout['sources'] / 'python'}:{layout['runtime']}"}
        untraced = {**shipped, "POWERTOOLS_TRACE_DISABLED": "true"}
        traced = {**shipped, "POWERTOOLS_TRACE_DISABLED": "false"}
        from_sources = {**sources, "POWERTOOLS_TRACE_DISABLED": "true"}
        floor = statistics.median(timed(python, FLOOR, untraced) for _ in range(RUNS))
        with_clients = statistics.median(timed(python, FLOOR_WITH_CLIENTS, untraced) for _ in range(RUNS))
        interpreter = subprocess.run([python, "-V"], capture_output=True, text=True, check=True).stdout.strip()
        print(f"Cold start on {interpreter}, imports + first wiring, median of {RUNS}")
        print(f"  (floor: {FLOOR}, {floor * 1000:.0f} ms; with a DynamoDB resource and client and an SQS")
        print(f"  client, {with_clients * 1000:.0f} ms). Each function's runs alternate with runs of the floor,")
        print("  whose median it is divided by; the last column starts it from the layer's sources alone:")
        print(
            f"  {'function':<30}{'floor':>9}{'tracing off':>13}{'x floor':>9}{'tracing on':>13}{'x floor':>9}"
            f"{'no bytecode':>13}{'x floor':>9}"
        )
        for logical_id, props in function_specs(template).items():
            path = str(PROJECT_ROOT / props["CodeUri"] / "app.py")
            code = FUNCTION.format(path=path, first_wiring=FIRST_WIRING[logical_id])
            runs = [
                (
                    timed(python, FLOOR, untraced),
                    timed(python, code, untraced),
                    timed(python, code, traced),
                    timed(python, code, from_sources),
                )
                for _ in range(RUNS)
            ]
            beside, off, on, compiling = (statistics.median(column) for column in zip(*runs, strict=True))
            print(
                f"  {logical_id:<30}{beside * 1000:>6.0f} ms{off * 1000:>10.0f} ms{off / beside:>9.2f}"
                f"{on * 1000:>10.0f} ms{on / beside:>9.2f}{compiling * 1000:>10.0f} ms{compiling / beside:>9.2f}"
            )


if __name__ == "__main__":
    main()
