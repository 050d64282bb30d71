"""Operating it: every dead-letter queue has an alarm, every alarm reaches the alarm topic, every
custom metric alarmed on is one the code emits, and the dashboard is valid JSON naming only the
template's own resources, with every function's errors."""

from __future__ import annotations

import json
import re
from typing import Any

from bcsync_ops.local_stack import PROJECT_ROOT, function_specs
from bcsync_ops.template import load_template

TEMPLATE = load_template(PROJECT_ROOT / "template.yaml")
RESOURCES: dict[str, dict[str, Any]] = TEMPLATE["Resources"]
ALARMS = {name: r["Properties"] for name, r in RESOURCES.items() if r["Type"] == "AWS::CloudWatch::Alarm"}


def _queue_of(value: Any) -> str | None:
    """The logical id in `!GetAtt X.Arn` / `.QueueName`."""
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return str(value["Fn::GetAtt"][0])
    return None


def dead_letter_queues() -> set[str]:
    targets = {
        _queue_of(r["Properties"]["RedrivePolicy"]["deadLetterTargetArn"])
        for r in RESOURCES.values()
        if r["Type"] == "AWS::SQS::Queue" and "RedrivePolicy" in r.get("Properties", {})
    }
    text = json.dumps(TEMPLATE, default=str)
    targets |= set(re.findall(r'"OnFailure": \{"Type": "SQS", "Destination": \{"Fn::GetAtt": \["(\w+)"', text))
    return {t for t in targets if t}


def test_every_dead_letter_queue_has_an_alarm_that_reaches_the_topic():
    watched = {
        _queue_of(dimension["Value"])
        for alarm in ALARMS.values()
        if alarm.get("MetricName") == "ApproximateNumberOfMessagesVisible"
        for dimension in alarm["Dimensions"]
    }
    assert dead_letter_queues() == {
        "RetryDeadLetterQueue",
        "FlowTriggerDeadLetterQueue",
        "FlowActionDeadLetterQueue",
        "SyncJobDeadLetterQueue",
        "FlowDeadLetterQueue",
    }
    assert dead_letter_queues() <= watched
    assert all(alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}] for alarm in ALARMS.values())
    assert all(alarm["AlarmDescription"] for alarm in ALARMS.values())


def test_the_custom_metrics_alarmed_on_are_emitted_by_the_code():
    code = "\n".join(path.read_text() for path in (PROJECT_ROOT / "layers" / "core" / "bcsync").rglob("*.py"))
    custom = {alarm["MetricName"] for alarm in ALARMS.values() if alarm.get("Namespace") == "bcsync"}
    assert custom == {"DeliveriesParked", "ReconcileDrift", "WebhookHealthProblems"}
    for metric in custom:
        assert f'name="{metric}"' in code, metric


def test_the_dashboard_is_json_naming_only_the_templates_resources_and_every_functions_errors():
    body = RESOURCES["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    assert set(re.findall(r"\$\{([A-Za-z]+)[.}]", body)) - {"AWS"} <= set(RESOURCES)
    dashboard = json.loads(re.sub(r"\$\{[^}]+\}", "x", body))
    assert dashboard["widgets"][0]["properties"]["title"] == "Alarms"
    assert set(re.findall(r"\$\{(\w+)\.Arn\}", body)) == set(ALARMS)  # every alarm, in the alarm widget
    assert {name for name in function_specs(TEMPLATE) if f"${{{name}}}" in body} == set(function_specs(TEMPLATE))
