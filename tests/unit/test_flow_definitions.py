"""Flow files: DESIGN.md's format parsed to the field, every fault named by its path; the
conditions a run is checked against, evaluated as Klaviyo's filters read."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import yaml

from bcsync.domain.events import MarketingEvent, Metric
from bcsync.domain.flow_conditions import Situation, holds, qualifies, trigger_accepts
from bcsync.domain.flow_definitions import (
    ActionStep,
    DelayStep,
    Duration,
    FlowFileInvalid,
    MetricTrigger,
    SplitStep,
    UntilTime,
    parse_flow_file,
)
from bcsync.domain.profiles import blank_profile
from bcsync_ops.flows import validate
from bcsync_ops.local_stack import PROJECT_ROOT

DESIGN_EXAMPLE = """
flows:
  - name: Abandoned Cart
    kind: marketing
    trigger:
      metric: Started Checkout
      filters: [{property: "$value", op: ">=", value: 20}]
    filters:
      - {metric: Placed Order, count: 0, since: flow_start}
      - {consent: subscribed}
    reentry: {every: {days: 30}}
    smart_sending: true
    steps:
      - delay: {hours: 4}
      - action: {channel: email, template: abandoned-cart-1}
      - split:
          if: {property: "Item Count", op: ">=", value: 3}
          then: [{action: {channel: email, template: big-cart}}]
          else: []
      - update: {property: "Abandoned Cart Stage", value: 1}
"""
NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)


def faults(text: str) -> list[str]:
    with pytest.raises(FlowFileInvalid) as invalid:
        parse_flow_file(yaml.safe_load(text))
    return invalid.value.faults


def test_the_design_example_reads_as_written():
    flow = parse_flow_file(yaml.safe_load(DESIGN_EXAMPLE)).flows[0]
    assert isinstance(flow.trigger, MetricTrigger) and flow.trigger.filters[0].value == 20
    assert flow.reentry.every.length == timedelta(days=30)
    delay, action, split, _ = flow.steps
    assert (
        isinstance(delay, DelayStep) and isinstance(delay.delay, Duration) and delay.delay.length == timedelta(hours=4)
    )
    assert isinstance(action, ActionStep) and action.action.template == "abandoned-cart-1"
    assert isinstance(split, SplitStep) and split.split.condition.property == "Item Count"
    assert isinstance(split.split.then[0], ActionStep) and split.split.otherwise == []


def test_the_shipped_default_flows_are_valid_and_complete(capsys):
    assert validate(PROJECT_ROOT / "flows" / "default.yaml", sys.stdout, sys.stderr) == 0
    flows = parse_flow_file(yaml.safe_load((PROJECT_ROOT / "flows" / "default.yaml").read_text())).flows
    assert [f.name for f in flows] == [
        "Abandoned Cart",
        "Browse Abandonment",
        "Product Review / Cross Sell",
        "Customer Winback",
        "Welcome Series",
        "New Customer",
        "First Order",
    ]
    assert "7 flows, valid" in capsys.readouterr().out


def one_flow(extra: str = "", steps: str = "[{exit: true}]", trigger: str = "{metric: Placed Order}") -> str:
    return f"flows: [{{name: a, trigger: {trigger}, steps: {steps}{extra}}}]"


@pytest.mark.parametrize(
    ("text", "fault"),
    [
        (one_flow(steps="[{delay: {hourz: 1}}]"), "flows[0].steps[0].delay.hourz: unknown unit"),
        (one_flow(steps="[{wait: 1}]"), "flows[0].steps[0]: expected one of ['delay', 'action', 'split', 'update'"),
        (one_flow(steps="[{delay: {until: '9am'}}]"), "flows[0].steps[0].delay.until: a time of day is HH:MM"),
        (one_flow(steps="[{delay: {hours: 0}}]"), "flows[0].steps[0].delay: a delay of zero"),
        (one_flow(trigger="{metric: Placed Orders}"), "flows[0].trigger.metric: unknown metric"),
        (one_flow(trigger="{profile: birthday}"), "flows[0].trigger.profile: Input should be"),
        (one_flow(", filters: [{property: x, op: '>'}]"), "flows[0].filters[0]: op '>' needs a value"),
        (one_flow(", colour: red"), "flows[0].colour: unknown field"),
        (one_flow(steps="[]"), "flows[0].steps: List should have at least 1 item"),
        (
            one_flow(steps="[{split: {if: {list: VIP}, then: [{action: {}}]}}]"),
            "flows[0].steps[0].split.then[0].action.template: Field required",
        ),
        (
            "flows: [{name: a, trigger: {profile: subscribed}, steps: [{exit: true}]},"
            " {name: a, trigger: {metric: Placed Order}, steps: [{exit: true}]}]",
            "flows: two flows are named 'a' (flows[0] and flows[1])",
        ),
        (
            one_flow(steps="[{action: {template: t, feeds: [top-picks]}}]"),
            "flows[0].steps[0].action.feeds[0].name: Input should be 'best-sellers'",
        ),
        (
            one_flow(steps="[{action: {template: t, feeds: [{name: trending, days: 7}]}}]"),
            "flows[0].steps[0].action.feeds[0]: trending compares this week with those before",
        ),
        (
            one_flow(steps="[{action: {template: t, feeds: [{name: for-you, limit: 99}]}}]"),
            "flows[0].steps[0].action.feeds[0].limit: Input should be less than or equal to 50",
        ),
        (
            one_flow(steps="[{action: {template: t, feeds: [trending, {name: trending}]}}]"),
            "flows[0].steps[0].action.feeds: each feed at most once",
        ),
    ],
)
def test_each_fault_is_named_by_its_path(text, fault):
    assert any(found.startswith(fault) for found in faults(text)), faults(text)


def test_every_fault_of_a_file_is_reported_at_once():
    text = one_flow(steps="[{delay: {hourz: 1}}, {action: {template: x, channel: fax}}]").replace("name: a", "name: ''")
    assert len(faults(text)) == 3


def event(metric=Metric.STARTED_CHECKOUT, value="25.00", **properties):
    return MarketingEvent(
        id="s:e",
        store_hash="s",
        metric=metric,
        profile_id="p",
        time=NOW,
        value=Decimal(value),
        currency="USD",
        properties=properties,
        source_id="cart:1",
    )


def situation(counts=None, *, trigger_event=None, **properties):
    profile = blank_profile("p", "s", "t")
    profile.properties = properties
    profile.lists = ["Subscribers"]
    profile.consent.email_marketing = "subscribed"
    return Situation(
        profile=profile,
        event=trigger_event,
        counts=counts or (lambda metric, since: 0),
        now=NOW,
        flow_started_at=NOW - timedelta(hours=2),
    )


def condition(text):
    flow = parse_flow_file(
        yaml.safe_load(
            f"flows: [{{name: a, trigger: {{metric: Placed Order}}, filters: [{text}], steps: [{{exit: true}}]}}]"
        )
    )
    return flow.flows[0].filters[0]


def test_trigger_filters_read_the_event_value_and_properties():
    trigger = MetricTrigger(metric="Started Checkout", filters=[{"property": "$value", "op": ">=", "value": 20}])
    assert trigger_accepts(trigger, event(value="25"))
    assert not trigger_accepts(trigger, event(value="19.99"))
    assert not trigger_accepts(trigger, event(metric=Metric.PLACED_ORDER, value="25"))
    shoes = MetricTrigger(
        metric="Started Checkout", filters=[{"property": "Item Categories", "op": "contains", "value": "shoes"}]
    )
    assert trigger_accepts(shoes, event(**{"Item Categories": ["Hats", "Shoes"]}))
    assert not trigger_accepts(shoes, event(**{"Item Categories": ["Hats"]}))
    assert not trigger_accepts(shoes, event())  # a property the event lacks is not contained


def test_event_counts_since_the_run_started_over_all_time_and_in_recent_days():
    seen = []

    def counts(metric, since):
        seen.append((metric, since))
        return 1 if since is None else 0

    assert holds(condition("{metric: Placed Order, count: 0, since: flow_start}"), situation(counts))
    assert not holds(condition("{metric: Placed Order, count: 0, since: all_time}"), situation(counts))
    assert not holds(condition("{metric: Placed Order, count: 1, op: '>=', since: {days: 30}}"), situation(counts))
    assert seen == [
        ("Placed Order", NOW - timedelta(hours=2) + timedelta(seconds=1)),  # after the run began
        ("Placed Order", None),
        ("Placed Order", NOW - timedelta(days=30)),
    ]


def test_consent_lists_and_profile_properties():
    now = situation(City="Austin", Orders="3")
    assert holds(condition("{consent: subscribed}"), now)
    assert not holds(condition("{consent: unsubscribed}"), now)
    assert holds(condition("{list: Subscribers}"), now) and not holds(condition("{list: Customers}"), now)
    assert holds(condition("{property: City, op: '=', value: austin}"), now)  # as Klaviyo: case-blind
    assert holds(condition("{property: Orders, op: '>', value: 2}"), now)  # a number written as text
    assert not holds(condition("{property: City, op: '>', value: 2}"), now)  # a word is not more than 2
    assert holds(condition("{property: Phone, op: '!=', value: x}"), now)
    assert not holds(condition("{property: Phone, op: exists}"), now)


def test_a_split_reads_the_trigger_event_first_then_the_profile():
    split = condition("{property: Item Count, op: '>=', value: 3}")
    assert holds(split, situation(trigger_event=event(**{"Item Count": 4}), **{"Item Count": 1}))
    assert not holds(split, situation(trigger_event=event(**{"Item Count": 1}), **{"Item Count": 9}))
    assert holds(split, situation(trigger_event=event(), **{"Item Count": 9}))


def test_flow_filters_must_all_hold():
    flow = parse_flow_file(yaml.safe_load(DESIGN_EXAMPLE)).flows[0]
    assert qualifies(flow, situation())
    assert not qualifies(flow, situation(lambda metric, since: 1))  # ordered since the run began
    unsubscribed = situation()
    unsubscribed.profile.consent.email_marketing = "unsubscribed"
    assert not qualifies(flow, unsubscribed)


def test_a_weekday_wait_defaults_to_every_day():
    text = "flows: [{name: a, trigger: {metric: Placed Order}, steps: [{delay: {until: '09:00'}}]}]"
    wait = parse_flow_file(yaml.safe_load(text)).flows[0].steps[0].delay
    assert isinstance(wait, UntilTime) and wait.weekdays == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (one_flow(steps="[{delay: {hourz: 1}}]"), "flows[0].steps[0].delay.hourz: unknown unit\n"),
        ("flows: [\n", "line 2: not YAML"),
        (None, "No such file or directory"),
    ],
)
def test_validate_exits_1_naming_each_fault_and_prints_nothing_else(tmp_path, capsys, content, expected):
    path = tmp_path / "flows.yaml"
    if content is not None:
        path.write_text(content)
    assert validate(path, sys.stdout, sys.stderr) == 1
    out, err = capsys.readouterr()
    assert out == "" and expected in err


def test_an_action_names_feeds_by_name_or_with_options_and_one_naming_none_keeps_its_flows_version():
    from bcsync.domain.flow_runs import flow_version

    (flow,) = parse_flow_file(
        yaml.safe_load(one_flow(steps="[{action: {template: t, feeds: [trending, {name: for-you, limit: 2}]}}]"))
    ).flows
    action = flow.steps[0].action
    assert [(ref.name.value, ref.limit, ref.days) for ref in action.feeds] == [
        ("trending", 4, None),
        ("for-you", 2, None),
    ]
    (plain,) = parse_flow_file(yaml.safe_load(one_flow(steps="[{action: {template: t}}]"))).flows
    # a flow written before feeds existed dumps (and so hashes to its version) as it did then
    assert plain.steps[0].action.model_dump() == {"channel": "email", "template": "t"}
    assert flow_version(plain) != flow_version(flow)
