"""The flow runner on in-memory ports under a fake clock: entering, waking, goals, duplicates,
and each action sent once even when the send fails after the state was saved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import yaml

from bcsync.domain.events import MarketingEvent, Metric
from bcsync.domain.flow_definitions import parse_flow_file
from bcsync.domain.flow_runs import RunStatus, flow_status
from bcsync.domain.flows import Flow, profile_trigger
from bcsync.domain.profiles import blank_profile, note_activity
from bcsync.usecases.changes import ChangeWriter
from bcsync.usecases.flow_runner import FlowRunner
from bcsync.usecases.profiles import ProfileBook
from bcsync.usecases.triggers import TriggerCourier
from tests.unit.memory import MemoryStore, Publisher

T0 = datetime(2026, 11, 27, 10, tzinfo=UTC)
FLOWS = """
flows:
  - name: Abandoned Cart
    trigger: {metric: Started Checkout}
    filters: [{metric: Placed Order, count: 0, since: flow_start}]
    steps:
      - delay: {hours: 4}
      - action: {template: abandoned-cart}
      - update: {property: Abandoned Cart Stage, value: 1}
  - name: Welcome Series
    trigger: {profile: subscribed}
    reentry: once
    steps:
      - action: {template: welcome}
"""


class MemoryRuns:
    def __init__(self):
        self.runs, self.sent = {}, {}

    def runs_of(self, store_hash, profile_id):
        return [run for run in self.runs.values() if run.profile_id == profile_id]

    def due(self, store_hash, now, limit):
        def ready(run):
            return run.outbox or (run.status is RunStatus.WAITING and run.wake_at <= now)

        return sorted((r for r in self.runs.values() if ready(r)), key=lambda r: r.wake_at or r.entered_at)[:limit]

    def create(self, run):
        if run.run_id in self.runs:
            return None
        self.runs[run.run_id] = run.model_copy(update={"revision": 1})
        return self.runs[run.run_id]

    def save(self, run, *, previous, sent=None):
        if self.runs[run.run_id].revision != previous.revision:
            return None
        self.runs[run.run_id] = run.model_copy(update={"revision": previous.revision + 1})
        self.sent.setdefault(run.profile_id, {}).update(sent or {})
        return self.runs[run.run_id]

    def last_sent(self, store_hash, profile_id):
        return dict(self.sent.get(profile_id, {}))


class Outbox:
    def __init__(self):
        self.messages, self.fail = [], False

    def publish(self, messages):
        if self.fail:
            raise ConnectionError("SQS unreachable")
        self.messages += messages


class Library:
    def __init__(self, text=FLOWS):
        self.applied = parse_flow_file(yaml.safe_load(text))

    def flows(self, store_hash):
        return self.applied


def unsubscribe_link(profile, now):
    return f"https://shop.example/subscriptions/unsubscribe?token=for-{profile.id}"


def recovery_link(event, now):
    return f"https://shop.example/carts/recover?token=for-{event.id}" if event else None


@pytest.fixture
def world():
    store, runs, outbox = MemoryStore(), MemoryRuns(), Outbox()
    writer = ChangeWriter(store, TriggerCourier(store, store, Publisher()), frozenset(Flow))
    profiles = ProfileBook(store, store, writer)
    profile = blank_profile("p", "s", "t")
    profile.email = "ada@example.com"
    profile.consent.email_marketing = "subscribed"
    store.put_profile(profile)
    runner = FlowRunner(
        Library(),
        runs,
        profiles,
        store,
        outbox,
        zone_of=lambda store_hash: UTC,
        unsubscribe_link=unsubscribe_link,
        recovery_link=recovery_link,
        click_token=lambda profile, now: f"click-{profile.id}",
    )
    return runner, store, runs, outbox


def event(metric=Metric.STARTED_CHECKOUT, source="cart:c1", at=T0):
    return MarketingEvent(
        id=f"s:{metric.slug}:{source}",
        store_hash="s",
        metric=metric,
        profile_id="p",
        time=at,
        value=Decimal(40),
        currency="USD",
        properties={
            "Items Detail": [
                {"Name": "Mug", "ImageURL": "https://img/mug", "ProductURL": "https://shop.example/mug/", "Price": 8}
            ]
        },
        source_id=source,
    )


def order_placed(store, at):
    """An order recorded for the person (its event, and what the profile counts)."""
    placed = event(Metric.PLACED_ORDER, source="order:1", at=at)
    profile = store.get("s", "p")
    note_activity(profile, [placed])
    store.put_profile(profile.model_copy(update={"revision": profile.revision}))
    return placed


def test_an_abandoned_cart_waits_then_sends_once_with_its_items(world):
    runner, store, runs, outbox = world
    checkout = event()
    store.recorded[checkout.id] = checkout
    [run] = runner.on_event(checkout, T0)
    assert (run.status, run.wake_at) == (RunStatus.WAITING, T0 + timedelta(hours=4))
    assert runner.wake("s", T0 + timedelta(hours=3)) == 0 and outbox.messages == []
    assert runner.wake("s", T0 + timedelta(hours=4)) == 1
    [(dedup_key, message)] = outbox.messages
    assert dedup_key == f"{run.run_id}:1" and message["template"] == "abandoned-cart"
    assert message["profile"]["email"] == "ada@example.com" and message["event"]["id"] == checkout.id
    assert message["context"]["unsubscribe_url"] == "https://shop.example/subscriptions/unsubscribe?token=for-p"
    assert message["context"]["cart_recovery_url"] == f"https://shop.example/carts/recover?token=for-{checkout.id}"
    assert message["context"]["items"] == [  # a store link that makes the visit a known browser's
        {
            "name": "Mug",
            "image_url": "https://img/mug",
            "product_url": "https://shop.example/mug/?_bc=click-p",
            "price": 8,
        }
    ]
    assert message["context"]["click_token"] == "click-p"
    assert store.get("s", "p").properties["Abandoned Cart Stage"] == 1
    assert runner.wake("s", T0 + timedelta(hours=5)) == 0 and len(outbox.messages) == 1
    assert runs.runs[run.run_id].status is RunStatus.DONE


def test_a_duplicate_trigger_makes_no_second_run(world):
    runner, _, runs, _ = world
    runner.on_event(event(), T0)
    assert runner.on_event(event(), T0 + timedelta(minutes=1)) == []
    assert len(runs.runs) == 1


def test_an_order_inside_the_delay_ends_the_run_at_once(world):
    runner, store, runs, outbox = world
    [run] = runner.on_event(event(), T0)
    placed = order_placed(store, T0 + timedelta(hours=1))
    runner.on_event(placed, T0 + timedelta(hours=1))
    assert runs.runs[run.run_id].exit_reason == "goal reached"
    assert runner.wake("s", T0 + timedelta(hours=4)) == 0 and outbox.messages == []


def test_a_send_that_fails_after_the_state_was_saved_is_sent_at_the_next_wake_up_once(world):
    runner, _, runs, outbox = world
    [run] = runner.on_event(event(), T0)
    outbox.fail = True
    assert runner.wake("s", T0 + timedelta(hours=4)) == 0  # logged and left, not raised
    owed = runs.runs[run.run_id]
    assert owed.status is RunStatus.DONE and [p.step for p in owed.outbox] == [1]  # step taken, action owed
    assert (owed.errors, owed.last_error) == (1, "ConnectionError")
    status = flow_status(list(runs.runs.values()))["Abandoned Cart"]
    assert (status.errors, status.owed, status.sent) == (1, 1, 0)
    outbox.fail = False
    assert runner.wake("s", T0 + timedelta(hours=4, minutes=1)) == 1
    assert [key for key, _ in outbox.messages] == [f"{run.run_id}:1"]
    assert runs.runs[run.run_id].outbox == []
    assert runner.wake("s", T0 + timedelta(hours=5)) == 0 and len(outbox.messages) == 1


def test_a_profile_trigger_enters_once_and_sends_at_once(world):
    runner, _, _, outbox = world
    welcome = profile_trigger(Flow.WELCOME_SERIES, "s", "p", "2026-11-27")
    [run] = runner.on_profile_trigger(welcome, T0)
    assert run.status is RunStatus.DONE and [m["template"] for _, m in outbox.messages] == ["welcome"]
    again = profile_trigger(Flow.WELCOME_SERIES, "s", "p", "2026-12-01")
    assert runner.on_profile_trigger(again, T0 + timedelta(days=4)) == []  # re-entry: once


def test_backfilled_events_start_no_run(world):
    runner, _, runs, _ = world
    assert runner.on_event(event().model_copy(update={"backfill": True}), T0) == [] and runs.runs == {}


def test_a_checkout_reaching_the_runner_after_its_order_starts_no_run(world):
    runner, store, runs, outbox = world
    order_placed(store, T0 + timedelta(minutes=5))  # the order's stream record came first
    assert runner.on_event(event(at=T0), T0 + timedelta(minutes=10)) == []
    assert runs.runs == {} and outbox.messages == []


WINBACK = """
flows:
  - name: Winback
    trigger: {metric: Placed Order}
    filters: [{metric: Placed Order, count: 0, since: flow_start}]
    steps:
"""


def winback_runner(world, steps: str) -> FlowRunner:
    return runner_for(world, WINBACK + steps)


def runner_for(world, flows: str) -> FlowRunner:
    _, store, runs, outbox = world
    return FlowRunner(
        Library(flows),
        runs,
        ProfileBook(store, store, None),
        store,
        outbox,
        zone_of=lambda _: UTC,
        unsubscribe_link=unsubscribe_link,
        recovery_link=recovery_link,
    )


def test_the_order_that_starts_a_winback_is_not_counted_against_it(world):
    _, store, runs, _ = world
    runner = winback_runner(world, "      - delay: {days: 180}\n      - action: {template: winback}\n")
    placed = order_placed(store, T0)  # recorded, and counted on the profile, before the runner sees it
    [run] = runner.on_event(placed, T0 + timedelta(minutes=1))
    assert run.status is RunStatus.WAITING
    order_placed(store, T0 + timedelta(days=30))  # a newer order: this run's goal
    runner.on_event(event(Metric.PLACED_ORDER, source="order:2", at=T0 + timedelta(days=30)), T0 + timedelta(days=30))
    assert runs.runs[run.run_id].exit_reason == "goal reached"


def test_back_population_enters_past_people_where_they_would_be_now_and_never_twice(world):
    _, store, runs, outbox = world
    steps = [
        "action: {template: thanks}",
        "delay: {days: 180}",
        "action: {template: winback}",
        "delay: {days: 30}",
        "action: {template: last}",
    ]
    runner = winback_runner(world, "".join(f"      - {step}\n" for step in steps))
    ordered = order_placed(store, T0 - timedelta(days=200))  # the last order, 200 days ago, none since
    store.recorded[ordered.id] = ordered
    now = T0
    assert runner.backpopulate("s", "Winback", store, since=None, now=now, dry_run=True) == {"waiting at step 3": 1}
    assert runs.runs == {} and outbox.messages == []  # a dry run writes and sends nothing
    assert runner.backpopulate("s", "Winback", store, since=None, now=now, dry_run=False) == {"waiting at step 3": 1}
    assert [m["template"] for _, m in outbox.messages] == ["winback"]  # due 20 days ago: sent now
    [run] = runs.runs.values()
    assert run.wake_at == T0 - timedelta(days=20) + timedelta(days=30)  # the next wait ends as it would have
    assert [r.outcome for r in run.history][:1] == ["skipped: back-population"]  # "thanks" was due long ago
    assert runner.backpopulate("s", "Winback", store, since=None, now=now, dry_run=False) == {"not qualifying now": 1}
    assert len(outbox.messages) == 1


def test_one_wake_up_takes_page_after_page_of_due_runs(world, monkeypatch):
    runner, _, runs, outbox = world
    monkeypatch.setattr("bcsync.usecases.flow_runner.WAKE_BATCH", 2)
    for number in range(5):  # five carts of one person
        runner.on_event(event(source=f"cart:c{number}"), T0)
    assert runner.wake("s", T0 + timedelta(hours=4)) == 5
    assert all(run.status is RunStatus.DONE for run in runs.runs.values())
    # One email; smart sending skips the other four, which came within 16 hours of it.
    outcomes = sorted(record.outcome for run in runs.runs.values() for record in run.history if record.step == 1)
    assert (len(outbox.messages), outcomes) == (1, ["sent", *["skipped: smart sending"] * 4])


WELCOME = """
flows:
  - name: Welcome
    trigger: {profile: subscribed}
    reentry: once
    steps:
      - action: {template: welcome-1}
      - delay: {days: 3}
      - action: {template: welcome-2}
"""


def test_a_profile_change_flow_back_populates_from_when_the_change_happened_and_only_once(world):
    _, store, runs, outbox = world
    subscribed_at = (T0 - timedelta(days=2)).isoformat()
    store.put_profile(store.get("s", "p").model_copy(update={"subscribed_at": subscribed_at}))
    never = blank_profile("q", "s", "t")  # on the store, never subscribed
    store.put_profile(never)
    runner = runner_for(world, WELCOME)
    assert runner.backpopulate("s", "Welcome", store, since=None, now=T0, dry_run=True) == {"waiting at step 1": 1}
    assert outbox.messages == [] and runs.runs == {}
    assert runner.backpopulate("s", "Welcome", store, since=T0 - timedelta(days=1), now=T0, dry_run=True) == {}
    runner.backpopulate("s", "Welcome", store, since=None, now=T0, dry_run=False)
    [run] = runs.runs.values()
    assert [m["template"] for _, m in outbox.messages] == ["welcome-1"]  # sent now; welcome-2 when due
    assert (run.entered_at, run.wake_at) == (T0 - timedelta(days=2), T0 + timedelta(days=1))
    # The live trigger for the same subscription, arriving after, finds the run; so does a rerun.
    live = profile_trigger(Flow.WELCOME_SERIES, "s", "p", subscribed_at)
    assert runner.on_profile_trigger(live, T0) == []
    runner.backpopulate("s", "Welcome", store, since=None, now=T0, dry_run=False)
    assert len(outbox.messages) == 1 and len(runs.runs) == 1
    assert runner.wake("s", T0 + timedelta(days=1)) == 1
    assert [m["template"] for _, m in outbox.messages] == ["welcome-1", "welcome-2"]


def test_a_browse_abandonment_action_carries_the_viewed_product_as_its_item(world):
    browse = "{name: Browse, kind: transactional, trigger: {metric: Viewed Product}, steps: [{action: {template: b}}]}"
    runner = runner_for(world, f"flows: [{browse}]")
    _, store, _, outbox = world
    viewed = event(Metric.VIEWED_PRODUCT, source="onsite:p:product:101:1").model_copy(
        update={
            "properties": {
                "Name": "Linen Shirt",
                "ImageURL": "https://img/shirt",
                "URL": "https://shop.example/linen-shirt/",
                "Price": 40,
            }
        }
    )
    store.recorded[viewed.id] = viewed
    runner.on_event(viewed, T0)
    [(_, message)] = outbox.messages
    assert message["context"]["items"] == [
        {
            "name": "Linen Shirt",
            "image_url": "https://img/shirt",
            "product_url": "https://shop.example/linen-shirt/",
            "price": 40,
        }
    ]
