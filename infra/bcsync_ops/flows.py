"""`bcsync flows ...`: the operator's flow file, checked before anything is stored."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

import yaml

from bcsync.domain.flow_definitions import Every, FlowFile, FlowFileInvalid, MetricTrigger, parse_flow_file
from bcsync.usecases.ports import FlowLibrary


def load(path: Path) -> FlowFile:
    """The file's flows; FlowFileInvalid names every fault (a YAML one by its line)."""
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
