"""`bcsync reconcile | backfill | sync | webhooks | verify-counts`: operator commands against the
running local stack or a deployed one (`--stack-name`). Jobs are sent to the stack's sync-job
queue and run by its worker; the commands watch the job state until the work is done. Webhook
and count checks call BigCommerce from here, with the credentials the stack holds."""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

import boto3

from bcsync_ops.exports import deployed_names, local_state
from bcsync_ops.terminal import print_table, progress_bar

if TYPE_CHECKING:
    from bcsync.adapters.bigcommerce import BigCommerceClient
    from bcsync.domain.sync import HookHealth, HookPlan, RunReport
    from bcsync.settings import Settings
    from bcsync.wiring import Container
    from bcsync_ops.stack_reader import StackReader

POLL_SECONDS = 1.0
# The functions' settings, by the stack resource each names: an operation builds what the
# functions build, from the same composition root.
SETTINGS_RESOURCES = {
    "events_table_name": "EventsTable",
    "counters_table_name": "CountersTable",
    "profiles_table_name": "ProfilesTable",
    "triggers_table_name": "TriggersTable",
    "catalog_table_name": "CatalogTable",
    "deliveries_table_name": "DeliveriesTable",
    "carts_table_name": "CartsTable",
    "sync_state_table_name": "SyncStateTable",
    "flow_runs_table_name": "FlowRunsTable",
    "retry_queue_url": "RetryQueue",
    "flow_trigger_queue_url": "FlowTriggerQueue",
    "sync_job_queue_url": "SyncJobQueue",
    "flow_action_queue_url": "FlowActionQueue",
}


class OperationFailed(Exception):
    """The command could not do its work; the message says why and what to do."""


@dataclass
class StackHandle:
    """A stack an operator acts on: the functions' own composition root, built from the stack's
    resource names (and, for the local stack, its moto endpoint), and the store to act on."""

    container: Container
    named_store: str | None

    @classmethod
    def resolve(cls, stack_name: str | None, store: str | None, *, needs_store: bool = True) -> StackHandle:
        os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")  # stdout is for the command's output
        os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")  # EMF lines are for Lambda's logs
        from bcsync.settings import Settings  # late: the use cases' logger reads its level at import
        from bcsync.wiring import Container

        logical = tuple(sorted(set(SETTINGS_RESOURCES.values())))
        if stack_name:
            if needs_store and not store:
                raise OperationFailed("name the store with --store <store_hash>")
            names = deployed_names(stack_name, logical)
            api_url = os.environ.get("BIGCOMMERCE_API_URL", "https://api.bigcommerce.com")
            return cls(Container(_settings(Settings, names, api_url)), store)
        local = local_state()
        names = {name: local["physical"][name] for name in logical}
        session = boto3.session.Session(
            aws_access_key_id="local", aws_secret_access_key="local", region_name="us-east-1"
        )
        config = _settings(Settings, names, local["bigcommerce_api_url"])
        return cls(Container(config, session=session, endpoint_url=local["aws_endpoint"]), store or local["store_hash"])

    @property
    def store_hash(self) -> str:
        if not self.named_store:
            raise OperationFailed("name the store with --store <store_hash>")
        return self.named_store

    def reader(self) -> StackReader:
        from bcsync_ops.stack_reader import StackReader

        return StackReader(self.container.dynamodb, self.container.settings)

    def bigcommerce(self) -> BigCommerceClient:
        return self.container.connector.reader(self.store_hash, budget_seconds=120)


def _settings(settings: type[Settings], names: dict[str, str], api_url: str) -> Settings:
    return settings(bigcommerce_api_url=api_url, **{key: names[logical] for key, logical in SETTINGS_RESOURCES.items()})


# ---------------------------------------------------------------------- reconcile
def reconcile(stack: StackHandle, out: TextIO, *, timeout: float) -> int:
    """Run a reconciliation that starts after now, and wait for it."""
    requested_at = datetime.now(UTC)
    state, jobs = stack.container.sync_state, stack.container.jobs
    jobs.enqueue(stack.store_hash, "reconcile", dedup=f"cli:{requested_at.isoformat()}")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
        current = state.reconcile(stack.store_hash)
        run = current.run
        if run and run.failed_at and run.failed_at >= requested_at and run.error:
            raise OperationFailed(f"reconciliation failed (the worker will retry from its cursor): {run.error}")
        finished = current.last_finished
        if finished and finished.finished_at and finished.finished_at >= requested_at:
            if finished.started_at >= requested_at:
                _run_summary(out, finished, current.hooks)
                return 0
            # That run began before we asked; ask for one that begins after.
            jobs.enqueue(stack.store_hash, "reconcile", dedup=f"cli:{datetime.now(UTC).isoformat()}")
            requested_at = datetime.now(UTC)
    raise OperationFailed(f"no reconciliation finished within {timeout:.0f} s; see `bcsync sync status`")


def _run_summary(out: TextIO, run: RunReport, hooks: HookHealth | None) -> None:
    out.write(
        f"reconciled in {(run.finished_at or run.started_at) - run.started_at}; "
        f"{run.requests} BigCommerce requests; drift {run.drift} event(s) the webhooks had missed\n"
    )
    streams = ("products", "customers", "subscribers", "orders")
    rows = [(stream, run.seen.get(stream, 0), run.created.get(stream, 0)) for stream in streams]
    print_table(out, ("stream", "read", "recovered"), rows, right={"read", "recovered"})
    if hooks:
        out.write(_hooks_line(hooks) + "\n")


def _hooks_line(hooks: HookHealth) -> str:
    if hooks.problem:
        return f"webhooks: {hooks.problem}"
    active = sum(1 for hook in hooks.hooks if hook.is_active)
    repaired = (
        f"; created {len(hooks.created)}, re-enabled {len(hooks.reenabled)}" if hooks.created or hooks.reenabled else ""
    )
    return f"webhooks: {active}/{len(hooks.hooks)} active at {hooks.destination}{repaired}"


# ---------------------------------------------------------------------- backfill
def backfill(stack: StackHandle, out: TextIO, *, since: datetime | None, wait: bool) -> int:
    from bcsync.usecases.backfill import BackfillAlreadyRunning, BackfillRequests

    requests = BackfillRequests(stack.container.sync_state)
    try:
        started = requests.start(stack.store_hash, since=since)
    except BackfillAlreadyRunning as error:
        raise OperationFailed(str(error)) from None
    stack.container.jobs.enqueue(stack.store_hash, "backfill", dedup=f"cli:{datetime.now(UTC).isoformat()}")
    out.write(f"backfill since {started.since.date() if started.since else 'the beginning'} running\n")
    if not wait:
        return 0
    try:
        return _watch_backfill(stack, out)
    except KeyboardInterrupt:
        requests.request_stop(stack.store_hash)
        out.write("\nstopping after the current page...\n")
        _wait_for(stack, lambda s: s.status != "running", timeout=120)
        out.write("backfill stopped; run `bcsync backfill` again to resume where it stopped\n")
        return 130


def _watch_backfill(stack: StackHandle, out: TextIO) -> int:
    state = stack.container.sync_state
    with progress_bar(out) as bar:
        while True:
            current = state.backfill(stack.store_hash)
            if current is None:
                raise OperationFailed("the backfill state disappeared")
            done, total = current.progress
            bar.update(done, total, current.pending[0].value if current.pending else "done")
            if current.status in ("done", "stopped") or current.error:
                break
            time.sleep(POLL_SECONDS)
    if current.status == "done":
        out.write(f"backfill done: {json.dumps(current.done)}; {current.requests} BigCommerce requests\n")
        return 0
    if current.status == "stopped":
        out.write("backfill stopped; run `bcsync backfill` again to resume\n")
        return 1
    raise OperationFailed(f"backfill failed (the worker retries from its cursor): {current.error}")


def _wait_for(stack: StackHandle, condition: Any, *, timeout: float) -> None:
    state, deadline = stack.container.sync_state, time.monotonic() + timeout
    while time.monotonic() < deadline:
        current = state.backfill(stack.store_hash)
        if current is None or condition(current):
            return
        time.sleep(POLL_SECONDS)


# ---------------------------------------------------------------------- sync controls
def sync(stack: StackHandle, out: TextIO, action: str) -> int:
    state = stack.container.sync_state
    if action in ("on", "off"):
        state.update_control(stack.store_hash, enabled=action == "on")
        out.write(f"hourly sync {action} for store {stack.store_hash}\n")
    elif action == "now":
        stack.container.jobs.enqueue(stack.store_hash, "reconcile", dedup=f"now:{datetime.now(UTC).isoformat()}")
        out.write("reconciliation queued; `bcsync sync status` shows when it finished\n")
    else:
        out.write(status_text(stack) + "\n")
    return 0


def status_text(stack: StackHandle) -> str:
    state = stack.container.sync_state
    control = state.control(stack.store_hash)
    reconcile_state = state.reconcile(stack.store_hash)
    lines = [f"store {stack.store_hash}: hourly sync {'on' if control.enabled else 'off'}"]
    last = reconcile_state.last_finished
    if last and last.finished_at:
        lines.append(
            f"last reconcile: finished {last.finished_at.isoformat()}, read {sum(last.seen.values())}, "
            f"drift {last.drift}, {last.requests} requests"
        )
    else:
        lines.append("last reconcile: never")
    if reconcile_state.running and reconcile_state.run:
        run = reconcile_state.run
        lines.append(
            f"reconcile in progress since {run.started_at.isoformat()}: {', '.join(reconcile_state.pending)} left"
        )
        if run.error:
            lines.append(f"  last error: {run.error}")
    progress = state.backfill(stack.store_hash)
    if progress:
        done, total = progress.progress
        lines.append(f"backfill: {progress.status}, {done}/{total} records, {progress.requests} requests")
        if progress.error:
            lines.append(f"  last error: {progress.error}")
    else:
        lines.append("backfill: never run")
    lines.append(_hooks_line(reconcile_state.hooks) if reconcile_state.hooks else "webhooks: not checked yet")
    return "\n".join(lines)


# ---------------------------------------------------------------------- webhooks
def webhooks(stack: StackHandle, out: TextIO, *, destination: str | None, repair: bool) -> int:
    health, plan = stack.container.webhook_health.check(
        stack.store_hash, stack.bigcommerce(), now=datetime.now(UTC), repair=repair, destination=destination
    )
    hooks_table(out, health, plan, repaired=repair)
    if health.problem:
        raise OperationFailed(health.problem)
    return 0 if repair or not (plan.create or plan.reenable) else 1


def hooks_table(out: TextIO, health: HookHealth, plan: HookPlan, *, repaired: bool) -> None:
    rows = [(hook.scope, _hook_state(hook.is_active, hook.scope, health), hook.destination) for hook in health.hooks]
    if not repaired:
        rows += [(scope, "missing", target) for scope, target in plan.create]
    print_table(out, ("scope", "state", "destination"), sorted(rows))


def _hook_state(active: bool, scope: str, health: HookHealth) -> str:
    if scope in health.created:
        return "created"
    if scope in health.reenabled:
        return "re-enabled"
    return "active" if active else "deactivated"


# ---------------------------------------------------------------------- daily counts
def verify_counts(stack: StackHandle, out: TextIO, *, days: int) -> int:
    reader = stack.bigcommerce()
    rows = stack.container.daily_counts.compare(stack.store_hash, reader, days=days, now=datetime.now(UTC))
    table = [(row.day.isoformat(), row.bigcommerce, row.bcsync, "ok" if row.matches else "MISMATCH") for row in rows]
    print_table(out, ("day", "bigcommerce", "bcsync", "check"), table, right={"bigcommerce", "bcsync"})
    mismatched = [row for row in rows if not row.matches]
    if mismatched:
        out.write(f"{len(mismatched)} day(s) differ: run `bcsync reconcile`, then check again\n")
        return 1
    return 0


def fail(error: OperationFailed) -> int:
    print(f"bcsync: {error}", file=sys.stderr)
    return 1
