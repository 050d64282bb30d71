"""A function's environment names only the tables and queues it uses; asking for another fails
naming the variable to add, instead of a boto3 error about a table called None."""

from __future__ import annotations

import pytest

from bcsync.settings import MissingSetting, Settings


def test_a_named_table_is_given_and_an_unnamed_one_is_refused_by_its_variable():
    config = Settings.from_environ({"EVENTS_TABLE_NAME": "bcsync-Events", "ENABLED_FLOWS": "all"})
    assert config.require("events_table_name") == "bcsync-Events"
    with pytest.raises(MissingSetting, match="FLOW_RUNS_TABLE_NAME is not set"):
        config.require("flow_runs_table_name")
