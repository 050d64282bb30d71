"""The package's Powertools objects work before the functions' environment is set."""

import json

from bcsync.observability import flow_metric, metrics


def test_metrics_flush_on_their_own_without_the_functions_environment():
    """Powertools flushes every 100 metrics; without a namespace that flush raised mid-reconcile
    in the local stack and the tests, which import bcsync before setting POWERTOOLS_*."""
    try:
        for _ in range(101):
            metrics.add_metric(name="EventsCreated", unit="Count", value=1)  # raised at the 100th
    finally:
        metrics.clear_metrics()


def test_a_flow_metric_carries_its_flow_as_a_dimension(capsys, monkeypatch):
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    monkeypatch.delenv("POWERTOOLS_DEV", raising=False)
    flow_metric("FlowActionsSent", "Abandoned Cart", 2)
    emf = json.loads(capsys.readouterr().out)
    assert (emf["flow"], emf["FlowActionsSent"]) == ("Abandoned Cart", [2.0])
    assert emf["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["flow"]]
    assert emf["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "bcsync"


def test_a_flow_metric_prints_nothing_when_metrics_are_off(capsys, monkeypatch):
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    flow_metric("FlowActionsSent", "Abandoned Cart")
    assert capsys.readouterr().out == ""
