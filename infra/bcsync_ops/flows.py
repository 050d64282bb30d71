"""`bcsync flows ...`: the operator's flow file, checked before anything is stored. The flow
models are imported by the commands that use them: every other `bcsync` command starts without."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol, TextIO

import yaml

from bcsync.domain.events import iso_utc

if TYPE_CHECKING:
    from bcsync.domain.flow_definitions import Every, FlowFile
    from bcsync.domain.flow_runs import FlowRun
    from bcsync.usecases.flow_runner import FlowRunner
    from bcsync.usecases.ports import FlowLibrary, StoreHistory


def load(path: Path) -> FlowFile:
    """The file's flows; FlowFileInvalid names every fault (a YAML one by its line)."""
    from bcsync.domain.flow_definitions import FlowFileInvalid, parse_flow_file

    try:
        document = yaml.safe_load(path.read_text())
    except OSError as error:
        raise FlowFileInvalid([f"{path}: {error.strerror}"]) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "file"
        raise FlowFileInvalid([f"{where}: not YAML ({getattr(error, 'problem', error)})"]) from None
    return parse_flow_file(document)


def _checked(path: Path, err: TextIO) -> FlowFile | None:
    """The file's flows, or None with every fault printed."""
    from bcsync.domain.flow_definitions import FlowFileInvalid

    try:
        return load(path)
    except FlowFileInvalid as invalid:
        for fault in invalid.faults:
            print(fault, file=err)
        return None


def validate(path: Path, out: TextIO, err: TextIO) -> int:
    flows = _checked(path, err)
    if flows is None:
        return 1
    _describe(flows, out)
    print(f"{len(flows.flows)} flows, valid", file=out)
    return 0


def _describe(flows: FlowFile, out: TextIO) -> None:
    from bcsync.domain.flow_definitions import MetricTrigger

    for flow in flows.flows:
        trigger = flow.trigger.metric if isinstance(flow.trigger, MetricTrigger) else f"profile {flow.trigger.profile}"
        steps = f"{len(flow.steps)} step{'s' if len(flow.steps) != 1 else ''}"
        print(f"{flow.name}: {flow.kind}, on {trigger}, {steps}, re-entry {_reentry(flow.reentry)}", file=out)


def _reentry(rule: str | Every) -> str:
    if isinstance(rule, str):
        return rule
    length = rule.every.length
    return f"every {length.days} days" if not length.seconds else f"every {length}"


def apply(library: FlowLibrary, store_hash: str, path: Path, out: TextIO, err: TextIO) -> int:
    """Validate, then store as the store's flows: a change needs no redeploy."""
    flows = _checked(path, err)
    if flows is None:
        return 1
    version = library.apply(store_hash, flows)
    print(f"applied {len(flows.flows)} flows to {store_hash} (version {version})", file=out)
    return 0


def list_flows(library: FlowLibrary, store_hash: str, out: TextIO) -> int:
    flows = library.flows(store_hash)
    if flows is None:
        print(f"no flows applied to {store_hash}: bcsync flows apply FILE", file=out)
        return 0
    _describe(flows, out)
    return 0


def show(library: FlowLibrary, store_hash: str, name: str, out: TextIO, err: TextIO) -> int:
    flows = library.flows(store_hash)
    found = next((flow for flow in flows.flows if flow.name == name), None) if flows else None
    if found is None:
        known = [flow.name for flow in flows.flows] if flows else []
        print(f"no flow named {name!r} on {store_hash}; applied: {known}", file=err)
        return 1
    yaml.safe_dump(found.model_dump(mode="json", by_alias=True, exclude_defaults=True), out, sort_keys=False)
    return 0


def status(runs: list[FlowRun], store_hash: str, out: TextIO) -> int:
    """Per flow: runs active and done, actions sent, skips and exits by reason, errors."""
    from bcsync.domain.flow_runs import flow_status

    by_flow = flow_status(runs)
    if not by_flow:
        print(f"no flow runs on {store_hash} yet", file=out)
        return 0
    for name, counts in sorted(by_flow.items()):
        skipped = ", ".join(f"{why} {n}" for why, n in sorted(counts.skipped.items())) or "none"
        exited = ", ".join(f"{why} {n}" for why, n in sorted(counts.exited.items())) or "none"
        print(
            f"{name}: {counts.active} active, {counts.done} done, {counts.sent} actions sent;"
            f" skipped: {skipped}; exited: {exited}; errors: {counts.errors}"
            + (f"; {counts.owed} runs with actions not sent yet" if counts.owed else ""),
            file=out,
        )
    return 0


def runs_of_person(
    runs: RunReader, profiles: ProfileFinder, store_hash: str, email: str, *, out: TextIO, err: TextIO
) -> int:
    """A person's runs, step by step, with times."""
    profile_id = profiles.find(store_hash, "email", email)
    if profile_id is None:
        print(f"no profile with that email on {store_hash}", file=err)
        return 1
    found = sorted(runs.runs_of(store_hash, profile_id), key=lambda run: run.entered_at)
    if not found:
        print("no flow runs for that person", file=out)
    for run in found:
        state = run.status.value + (f" ({run.exit_reason})" if run.exit_reason else "")
        waiting = f", wakes {iso_utc(run.wake_at)}" if run.wake_at else ""
        print(f"{run.flow}: entered {iso_utc(run.entered_at)} on {run.entry_key}, {state}{waiting}", file=out)
        for record in run.history:
            print(f"  step {record.step} at {iso_utc(record.at)}: {record.outcome}", file=out)
    return 0


class RunReader(Protocol):
    def runs_of(self, store_hash: str, profile_id: str) -> list[FlowRun]: ...


class ProfileFinder(Protocol):
    def find(self, store_hash: str, kind: Literal["customer", "email", "subscriber"], value: str) -> str | None: ...


def backpopulate(
    stack_runner: FlowRunner, history: StoreHistory, store_hash: str, args: BackfillArgs, *, out: TextIO, err: TextIO
) -> int:
    """Past qualifying people enter the flow where they would be now; `--dry-run` only counts."""
    from bcsync.usecases.flow_runner import UnknownFlow  # late: it brings the logger, set up by then

    try:
        where = stack_runner.backpopulate(
            store_hash, args.flow, history, since=args.since, now=datetime.now(UTC), dry_run=args.dry_run
        )
    except UnknownFlow as error:
        print(str(error), file=err)
        return 1
    verb = "would enter" if args.dry_run else "entered"
    entering = sum(n for place, n in where.items() if place != "not qualifying now")
    print(f"{args.flow}: {entering} people {verb}", file=out)
    for place, count in sorted(where.items()):
        print(f"  {place}: {count}", file=out)
    return 0


class BackfillArgs(Protocol):
    flow: str
    since: datetime | None
    dry_run: bool
