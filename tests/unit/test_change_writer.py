"""One change, one transaction: what it promises is sent after it, exactly once, whatever crashes."""

from datetime import UTC, datetime

import pytest

from bcsync.domain.flows import Flow, profile_trigger
from bcsync.domain.profiles import RECENT_TIMES, MetricActivity, activity_counts, blank_profile
from bcsync.usecases.changes import ChangeWriter
from bcsync.usecases.ports import ChangeConflict
from bcsync.usecases.triggers import TriggerCourier
from tests.factories import placed_order_event
from tests.unit.memory import MemoryStore, Publisher


def placed(order_id, hour, *, backfill=False):
    return placed_order_event(order_id, hour, backfill=backfill)


def write(change_writer, store_hash, **change):
    """Plan a change and apply it, as the use cases do."""
    return change_writer.apply(change_writer.plan(store_hash, **change))


def writer(store, publisher):
    return ChangeWriter(store, TriggerCourier(store, store, publisher), frozenset(Flow))


def record(store, publisher, *events):
    """What the recorder does: read, change the profile, write what is new."""
    before = store.get("s", "p")
    after = (before or blank_profile("p", "s", "t")).model_copy(deep=True)
    return write(
        writer(store, publisher),
        "s",
        before=before,
        after=after,
        events=events,
        stored_events=store.events([e.id for e in events]),
    )


def test_new_events_and_their_triggers_are_one_write_then_one_send():
    store, publisher, event = MemoryStore(), Publisher(), placed(1, 10)
    applied = record(store, publisher, event)
    assert store.commits == 1
    assert applied.triggers == 2
    assert sorted(key for key, _ in publisher.sent) == [f"customer_winback:{event.id}", "first_order:s:p"]
    assert all(sent_event == event for _, sent_event in publisher.sent)  # each message carries its event
    assert store.get("s", "p").outbox == []
    assert all(row["sent_at"] for row in store.triggers.values())


def test_a_crash_between_the_write_and_the_send_sends_on_the_next_change():
    store, event = MemoryStore(), placed(1, 10)
    with pytest.raises(ConnectionError):
        record(store, Publisher(fail=True), event)
    assert len(store.get("s", "p").outbox) == 2  # promised, with the event, not yet sent
    assert store.triggers == {}  # none recorded as sent: their record is written when they are
    publisher = Publisher()
    record(store, publisher, event)  # the retry: the event exists now, its triggers are still owed
    assert sorted(key for key, _ in publisher.sent) == [f"customer_winback:{event.id}", "first_order:s:p"]
    assert all(sent_event == event for _, sent_event in publisher.sent)  # read back for the message
    assert store.get("s", "p").outbox == []


def test_recording_the_same_events_again_writes_and_sends_nothing():
    store, publisher, event = MemoryStore(), Publisher(), placed(1, 10)
    record(store, publisher, event)
    again = record(store, publisher, event)
    assert (again.new_events, again.triggers, store.commits, len(publisher.sent)) == ((), 0, 1, 2)


def test_first_order_once_per_profile_and_never_for_a_backfilled_history():
    store, publisher = MemoryStore(), Publisher()
    record(store, publisher, placed(1, 9, backfill=True))
    record(store, publisher, placed(2, 12))
    assert [key for key, _ in publisher.sent] == [f"customer_winback:{placed(2, 12).id}"]
    fresh, fresh_publisher = MemoryStore(), Publisher()
    record(fresh, fresh_publisher, placed(2, 12))
    record(fresh, fresh_publisher, placed(1, 9))  # an older order arriving late is not a second first
    assert [key for key, _ in fresh_publisher.sent].count("first_order:s:p") == 1
    assert fresh.get("s", "p").first_order_event_id == placed(2, 12).id


def test_a_profile_trigger_promised_again_after_it_was_sent_is_not_sent_again():
    store, publisher = MemoryStore(), Publisher()
    welcome = profile_trigger(Flow.NEW_CUSTOMER, "s", "p", "customer:7")
    for _ in range(2):  # a customer/created delivered twice, after the first was sent
        before = store.get("s", "p")
        after = (before or blank_profile("p", "s", "t")).model_copy(deep=True)
        after.promise(welcome)
        write(writer(store, publisher), "s", before=before, after=after)
    assert [key for key, _ in publisher.sent] == [welcome.dedup_key]
    assert store.get("s", "p").outbox == []


def test_a_profile_changed_since_it_was_read_is_a_conflict_and_nothing_is_written():
    store, publisher = MemoryStore(), Publisher()
    record(store, publisher, placed(1, 10))
    stale = store.get("s", "p")
    record(store, publisher, placed(2, 11))
    with pytest.raises(ChangeConflict):
        write(writer(store, publisher), "s", before=stale, after=stale.model_copy(update={"email": "a@x.com"}))
    assert store.get("s", "p").email is None


def test_triggers_of_disabled_flows_are_neither_reserved_nor_sent():
    store, publisher = MemoryStore(), Publisher()
    only_winback = ChangeWriter(store, TriggerCourier(store, store, publisher), frozenset({Flow.CUSTOMER_WINBACK}))
    event = placed(1, 10)
    write(only_winback, "s", before=None, after=blank_profile("p", "s", "t"), events=[event])
    assert [key for key, _ in publisher.sent] == [f"customer_winback:{event.id}"]
    assert list(store.triggers) == [f"customer_winback:{event.id}"]


def test_a_promise_carried_over_unsent_by_a_merge_is_sent_once_not_dropped():
    store, publisher = MemoryStore(), Publisher()
    welcome = profile_trigger(Flow.NEW_CUSTOMER, "s", "gone", "customer:7")
    absorbed = blank_profile("gone", "s", "t")
    absorbed.promise(welcome)
    with pytest.raises(ConnectionError):  # reserved and saved in its outbox, then the send failed
        write(writer(store, Publisher(fail=True)), "s", before=None, after=absorbed)
    survivor = blank_profile("p", "s", "t")
    survivor.promise(welcome.model_copy(update={"profile_id": "p"}))  # the same promise, made by another change
    write(writer(store, publisher), "s", before=None, after=survivor)
    assert [key for key, _ in publisher.sent] == [welcome.dedup_key]
    assert store.get("s", "p").outbox == []


def test_each_new_event_is_counted_on_the_profile_once_with_its_time():
    store, publisher = MemoryStore(), Publisher()
    record(store, publisher, placed(1, 9))
    record(store, publisher, placed(1, 9), placed(2, 12))  # the first again: counted once
    counts = activity_counts(store.get("s", "p"))
    assert counts("Placed Order", None) == 2
    assert counts("Placed Order", datetime(2026, 1, 1, 10, tzinfo=UTC)) == 1
    assert counts("Started Checkout", None) == 0


def test_only_the_latest_times_are_kept_and_counts_since_stay_exact_below_them():
    activity = MetricActivity().noted([datetime(2026, 1, day, tzinfo=UTC) for day in range(1, 16)])
    assert activity.count == 15 and len(activity.recent) == RECENT_TIMES
    assert activity.since(datetime(2026, 1, 10, tzinfo=UTC)) == 6
    merged = activity.joined(MetricActivity().noted([datetime(2026, 2, 1, tzinfo=UTC)]))
    assert merged.count == 16 and merged.since(datetime(2026, 1, 31, tzinfo=UTC)) == 1


def test_only_new_events_are_counted_in_the_change_that_writes_them():
    store, publisher = MemoryStore(), Publisher()
    first, second = placed(1, 10), placed(2, 11)
    record(store, publisher, first)
    before = store.get("s", "p")
    planned = writer(store, publisher).plan(
        "s", before=before, after=before, events=[first, second], stored_events=store.events([first.id, second.id])
    )
    assert set(planned.change.counts) == {second.id}  # the first is stored: counted when it was written
    counted = planned.change.counts[second.id]
    assert {(b.profile_id, b.day) for b in counted} >= {("p", None), (None, None)}


def test_an_outbox_another_delivery_settled_meanwhile_is_not_settled_again():
    store, event = MemoryStore(), placed(1, 10)
    with pytest.raises(ConnectionError):
        record(store, Publisher(fail=True), event)
    promised = store.get("s", "p")  # read by two deliveries (or a merge and a delivery) at once
    TriggerCourier(store, store, Publisher()).deliver(promised, {})
    settled = store.get("s", "p").revision
    TriggerCourier(store, store, Publisher()).deliver(promised, {})  # its settle finds it changed
    assert store.get("s", "p").revision == settled  # nothing left to settle: no write to race others
    assert store.get("s", "p").outbox == []
