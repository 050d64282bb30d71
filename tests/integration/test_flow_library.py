"""`bcsync flows apply | list | show` against the stack's tables (moto): a store's flows are
stored as applied, read back the same, and a bad file stores nothing."""

from __future__ import annotations

import sys

import yaml

from bcsync.domain.flow_definitions import parse_flow_file
from bcsync_ops import flows
from bcsync_ops.local_stack import PROJECT_ROOT
from tests.integration.conftest import STORE_HASH

DEFAULT_FLOWS = PROJECT_ROOT / "flows" / "default.yaml"


def test_applied_flows_are_listed_and_shown_as_written(stack, capsys):
    library = stack.handle().container.flow_library
    assert flows.list_flows(library, STORE_HASH, sys.stdout) == 0
    assert "no flows applied" in capsys.readouterr().out
    assert flows.apply(library, STORE_HASH, DEFAULT_FLOWS, sys.stdout, sys.stderr) == 0
    assert "applied 7 flows to sandbox (version " in capsys.readouterr().out
    assert library.flows(STORE_HASH) == parse_flow_file(yaml.safe_load(DEFAULT_FLOWS.read_text()))
    flows.list_flows(library, STORE_HASH, sys.stdout)
    assert (
        capsys.readouterr().out.splitlines()[0]
        == "Abandoned Cart: marketing, on Started Checkout, 4 steps, re-entry always"
    )
    assert flows.show(library, STORE_HASH, "Welcome Series", sys.stdout, sys.stderr) == 0
    shown = yaml.safe_load(capsys.readouterr().out)
    assert shown["trigger"] == {"profile": "subscribed"} and shown["reentry"] == "once"
    assert parse_flow_file({"flows": [shown]}).flows[0] == library.flows(STORE_HASH).flows[4]


def test_a_bad_file_or_an_unknown_flow_is_an_error_and_stores_nothing(stack, tmp_path, capsys):
    library = stack.handle().container.flow_library
    bad = tmp_path / "flows.yaml"
    bad.write_text("flows: [{name: a, trigger: {metric: Placed Order}, steps: [{delay: {hourz: 1}}]}]")
    assert flows.apply(library, STORE_HASH, bad, sys.stdout, sys.stderr) == 1
    assert "flows[0].steps[0].delay.hourz: unknown unit" in capsys.readouterr().err
    assert library.flows(STORE_HASH) is None
    flows.apply(library, STORE_HASH, DEFAULT_FLOWS, sys.stdout, sys.stderr)
    assert flows.show(library, STORE_HASH, "Birthday", sys.stdout, sys.stderr) == 1
    assert "no flow named 'Birthday'" in capsys.readouterr().err
