"""A run through a flow under a fake clock: delays, goal exits, re-checked filters, consent,
smart sending, re-entry, splits, and each action due once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import yaml

from bcsync.domain.events import MarketingEvent, Metric
from bcsync.domain.flow_conditions import Situation
from bcsync.domain.flow_definitions import parse_flow_file
from bcsync.domain.flow_runs import (
    Branch,
    End,
    FlowRun,
    Jump,
    RunStatus,
    Send,
    SetProperty,
    StepRecord,
    Wait,
    action_decisions,
    advance,
    compile_steps,
    flow_version,
    may_enter,
    past_profile_trigger,
    recheck,
    run_id,
    wake_time,
)
from bcsync.domain.flows import Flow, first_order_intent, profile_trigger
from bcsync.domain.profiles import blank_profile
from bcsync.usecases.clock import FlowClock

T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)  # a Friday
ABANDONED_CART = """
flows:
  - name: Abandoned Cart
    trigger: {metric: Started Checkout}
    filters: [{metric: Placed Order, count: 0, since: flow_start}]
    steps:
      - delay: {hours: 4}
      - split:
          if: {property: Item Count, op: ">=", value: 3}
          then: [{action: {template: big-cart}}]
          else: [{action: {template: small-cart}}]
      - update: {property: Abandoned Cart Stage, value: 1}
      - delay: {hours: 20}
      - action: {template: last-call}
"""


def flow_of(text=ABANDONED_CART, **changes):
    flow = parse_flow_file(yaml.safe_load(text)).flows[0]
    return flow.model_copy(update=changes)


class Person:
    """The person a run is about: their consent and what they ordered, when."""

    def __init__(self, consent="subscribed"):
        self.profile = blank_profile("p", "s", "t")
        self.profile.consent.email_marketing = consent
        self.orders: list[datetime] = []

    def counts(self, metric, since):
        return sum(1 for at in self.orders if since is None or at >= since) if metric == "Placed Order" else 0

    def at(self, now, event=None):
        return Situation(profile=self.profile, event=event, counts=self.counts, now=now, flow_started_at=T0)


def checkout(items=2):
    return MarketingEvent(
        id="s:started-checkout:cart:c1",
        store_hash="s",
        metric=Metric.STARTED_CHECKOUT,
        profile_id="p",
        time=T0,
        value=Decimal(40),
        currency="USD",
        properties={"Item Count": items},
        source_id="cart:c1",
    )


def entered(flow, event=None):
    event = event or checkout()
    return FlowRun(
        run_id=run_id("s", flow.name, "p", event.id),
        flow=flow.name,
        flow_version=flow_version(flow),
        store_hash="s",
        profile_id="p",
        entry_key=event.source_id,
        trigger_event_id=event.id,
        entered_at=T0,
    )


def step(run, flow, person, now, event=None, *, last_sent=None):
    return advance(run, flow, compile_steps(flow.steps), person.at(now, event), last_sent=last_sent or {}, zone=UTC)


def test_splits_compile_to_a_branch_and_a_jump():
    program = compile_steps(flow_of().steps)
    assert [type(i) for i in program] == [Wait, Branch, Send, Jump, Send, SetProperty, Wait, Send, End]
    assert program[1].otherwise == 4 and program[3].target == 5


def test_an_abandoned_cart_waits_then_sends_by_the_split_then_waits_again():
    flow, person, event = flow_of(), Person(), checkout(items=3)
    first = step(entered(flow, event), flow, person, T0, event)
    assert (first.run.status, first.run.wake_at, first.actions) == (RunStatus.WAITING, T0 + timedelta(hours=4), [])
    due = step(first.run, flow, person, T0 + timedelta(hours=4), event)
    assert [(a.action.template, a.dedup_key) for a in due.actions] == [("big-cart", f"{due.run.run_id}:2")]
    assert [u.property for u in due.updates] == ["Abandoned Cart Stage"]
    assert due.run.wake_at == T0 + timedelta(hours=24)
    last = step(due.run, flow, person, T0 + timedelta(hours=24), event)
    assert [a.action.template for a in last.actions] == ["last-call"]
    assert last.run.status is RunStatus.DONE


def test_a_small_cart_takes_the_else_branch():
    flow, person, event = flow_of(), Person(), checkout(items=1)
    waiting = step(entered(flow, event), flow, person, T0, event).run
    assert [a.action.template for a in step(waiting, flow, person, T0 + timedelta(hours=5), event).actions] == [
        "small-cart"
    ]


def test_an_order_inside_the_delay_ends_the_run_at_once_and_nothing_is_sent():
    flow, person = flow_of(), Person()
    waiting = step(entered(flow), flow, person, T0).run
    person.orders.append(T0 + timedelta(hours=1))
    exited = recheck(waiting, flow, person.at(T0 + timedelta(hours=1)))
    assert (exited.status, exited.exit_reason, exited.wake_at) == (RunStatus.EXITED, "goal reached", None)
    assert step(exited, flow, person, T0 + timedelta(hours=4)).actions == []


def test_a_missed_goal_is_still_caught_when_the_delay_ends():
    flow, person = flow_of(), Person()
    waiting = step(entered(flow), flow, person, T0).run
    person.orders.append(T0 + timedelta(hours=1))  # no recheck: the event reached us late
    woken = step(waiting, flow, person, T0 + timedelta(hours=4))
    assert woken.actions == [] and woken.run.exit_reason == "no longer qualifies"


def test_an_order_from_before_the_run_does_not_count_since_it_started():
    flow, person = flow_of(), Person()
    person.orders.append(T0 - timedelta(days=3))
    waiting = step(entered(flow), flow, person, T0).run
    assert len(step(waiting, flow, person, T0 + timedelta(hours=4)).actions) == 1


def test_an_early_or_repeated_wake_up_sends_nothing_twice():
    flow, person = flow_of(), Person()
    waiting = step(entered(flow), flow, person, T0).run
    assert step(waiting, flow, person, T0 + timedelta(hours=3)).run == waiting
    woken = step(waiting, flow, person, T0 + timedelta(hours=4))
    again = step(woken.run, flow, person, T0 + timedelta(hours=4, minutes=1))
    assert len(woken.actions) == 1 and again.actions == [] and again.run == woken.run


def test_marketing_goes_only_to_subscribed_people_transactional_to_everyone():
    person = Person(consent="unsubscribed")
    flow = flow_of()
    waiting = step(entered(flow), flow, person, T0).run
    skipped = step(waiting, flow, person, T0 + timedelta(hours=4))
    assert skipped.actions == []
    assert [(r.step, r.outcome) for r in skipped.run.history if r.outcome.startswith("skipped")] == [
        (4, "skipped: consent")
    ]
    transactional = flow_of(kind="transactional")
    waiting = step(entered(transactional), transactional, person, T0).run
    assert len(step(waiting, transactional, person, T0 + timedelta(hours=4)).actions) == 1


@pytest.mark.parametrize(("smart", "hours_ago", "sent"), [(True, 10, 0), (True, 17, 1), (False, 1, 1)])
def test_smart_sending_skips_within_16_hours_of_the_last_email(smart, hours_ago, sent):
    flow, person = flow_of(smart_sending=smart), Person()
    waiting = step(entered(flow), flow, person, T0).run
    now = T0 + timedelta(hours=4)
    woken = step(waiting, flow, person, now, last_sent={"email": now - timedelta(hours=hours_ago)})
    assert len(woken.actions) == sent
    if not sent:
        assert [r.outcome for r in woken.run.history if r.step == 4] == ["skipped: smart sending"]
        assert woken.run.status is RunStatus.WAITING  # skipped, not rescheduled: the run goes on


def test_reentry_rules_and_one_active_run_per_entry_key():
    flow = flow_of()
    run = entered(flow)
    assert not may_enter(flow, "cart:c1", [run], T0 + timedelta(days=1))  # that cart's run is active
    assert may_enter(flow, "cart:c2", [run], T0 + timedelta(days=1))  # another cart is another entry
    done = run.model_copy(update={"status": RunStatus.DONE})
    assert may_enter(flow, "cart:c1", [done], T0 + timedelta(days=1))
    assert not may_enter(flow_of(reentry="once"), "cart:c2", [done], T0 + timedelta(days=1))
    monthly = parse_flow_file(
        yaml.safe_load(ABANDONED_CART.replace("    steps:", "    reentry: {every: {days: 30}}\n    steps:"))
    ).flows[0]
    assert not may_enter(monthly, "cart:c2", [done], T0 + timedelta(days=29))
    assert may_enter(monthly, "cart:c2", [done], T0 + timedelta(days=30))


def test_a_duplicate_trigger_makes_the_same_run():
    assert run_id("s", "Abandoned Cart", "p", "e1") == run_id("s", "Abandoned Cart", "p", "e1")
    assert run_id("s", "Abandoned Cart", "p", "e1") != run_id("s", "Abandoned Cart", "p", "e2")


def test_waiting_until_a_time_of_day_on_weekdays_in_the_stores_timezone():
    flow = parse_flow_file(
        yaml.safe_load(
            "flows: [{name: a, trigger: {metric: Placed Order}, steps: "
            "[{delay: {until: '09:00', weekdays: [mon, tue, wed, thu, fri]}}]}]"
        )
    ).flows[0]
    delay = flow.steps[0].delay
    chicago = ZoneInfo("America/Chicago")
    friday_morning = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)  # 08:00 in Chicago
    assert wake_time(delay, friday_morning, chicago) == datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
    friday_noon = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)  # past 09:00: the next weekday is Monday
    assert wake_time(delay, friday_noon, chicago) == datetime(2026, 11, 30, 15, 0, tzinfo=UTC)


def test_a_past_profile_change_is_found_keyed_as_the_live_trigger_was():
    person = blank_profile("p", "s", "2026-01-01T00:00:00+00:00")
    assert [past_profile_trigger(person, change) for change in ("subscribed", "account_created", "first_order")] == [
        None,
        None,
        None,
    ]
    person.external_id, person.account_created_at = "7", "2025-06-01T09:00:00+00:00"
    person.first_order_event_id = "s:placed-order:order:1"
    person.consent.email_marketing, person.subscribed_at = "unsubscribed", "2025-07-01T00:00:00+00:00"
    assert past_profile_trigger(person, "subscribed") is None  # no longer subscribed: no Welcome now
    assert past_profile_trigger(person, "account_created") == (
        profile_trigger(Flow.NEW_CUSTOMER, "s", "p", "customer:7"),
        datetime(2025, 6, 1, 9, tzinfo=UTC),
    )
    assert past_profile_trigger(person, "first_order") == (first_order_intent("s", "p", "s:placed-order:order:1"), None)
    person.consent.email_marketing = "subscribed"
    intent, at = past_profile_trigger(person, "subscribed")
    assert intent == profile_trigger(Flow.WELCOME_SERIES, "s", "p", "2025-07-01T00:00:00+00:00")
    assert at == datetime(2025, 7, 1, tzinfo=UTC)


def test_each_sent_or_skipped_action_and_a_goal_or_filter_exit_is_an_exported_decision():
    run = FlowRun(
        run_id="r",
        flow="Cart",
        flow_version="v",
        store_hash="s",
        profile_id="p",
        entry_key="cart:1",
        trigger_event_id="e",
        entered_at=T0,
        history=[
            StepRecord(step=0, at=T0, outcome="waiting"),
            StepRecord(step=1, at=T0 + timedelta(hours=4), outcome="skipped: smart sending"),
            StepRecord(step=2, at=T0 + timedelta(hours=4), outcome="updated"),
            StepRecord(step=3, at=T0 + timedelta(hours=5), outcome="sent"),
            StepRecord(step=4, at=T0 + timedelta(hours=6), outcome="skipped: consent"),
            StepRecord(step=5, at=T0 + timedelta(hours=7), outcome="exited: goal reached"),
        ],
    )
    rows = action_decisions(run)
    assert [(r["step"], r["status"], r["reason"]) for r in rows] == [
        (1, "skipped", "smart_sending"),
        (3, "sent", None),
        (4, "skipped", "consent"),
        (5, "skipped", "goal"),
    ]
    assert rows[1] == {
        "flow": "Cart",
        "step": 3,
        "run_id": "r",
        "profile_id": "p",
        "event_id": "e",
        "status": "sent",
        "reason": None,
        "at": (T0 + timedelta(hours=5)).isoformat().replace("+00:00", "Z"),
    }
    ended = run.model_copy(update={"history": [StepRecord(step=1, at=T0, outcome="exited: no longer qualifies")]})
    assert [(r["status"], r["reason"]) for r in action_decisions(ended)] == [("skipped", "filter")]


def test_the_flow_clock_is_the_wall_clock_unless_scaled_from_an_origin():
    before = datetime.now(UTC)
    assert before <= FlowClock().now() <= datetime.now(UTC)
    origin = datetime.now(UTC) - timedelta(seconds=2)
    scaled = FlowClock(3600, origin).now()
    assert origin + timedelta(hours=2) <= scaled <= origin + timedelta(hours=3)  # 2-3 s elapsed, an hour a second
