"""A page of sightings (reconciliation, backfill): one read, one change per person, changes
written together; a change that lost a race to a concurrent writer is redone alone."""

import pytest

from bcsync.domain.counters import shard_of
from bcsync.domain.flows import Flow
from bcsync.domain.profiles import apply_order_contact, contact_from_order
from bcsync.usecases.changes import ChangeWriter
from bcsync.usecases.profiles import ProfileBook
from bcsync.usecases.recording import EventRecorder, Sighting
from bcsync.usecases.triggers import TriggerCourier
from tests.factories import order, placed_order_event
from tests.unit.memory import MemoryStore, Publisher


def recorder(store, publisher):
    writer = ChangeWriter(store, TriggerCourier(store, store, publisher), frozenset(Flow))
    return EventRecorder(store, ProfileBook(store, store, writer), writer)


def sighting(order_id, email, hour, *, backfill=True):
    placed = order(id=order_id, customer_id=0, billing_address={"email": email, "first_name": "A", "city": "Austin"})
    contact = contact_from_order(placed)

    def events(profile_id):
        return [placed_order_event(order_id, hour, profile_id=profile_id, backfill=backfill)]

    return Sighting(
        store_hash="s",
        customer_id=None,
        email=email,
        events=events,
        edit=lambda profile, profile_id: apply_order_contact(
            profile, contact, profile_id=profile_id, store_hash="s", now="t"
        ),
        source=f"order:{order_id}",
    )


def test_a_page_is_one_read_and_a_write_per_counter_shard_with_one_change_per_person():
    store, publisher = MemoryStore(), Publisher()
    page = [sighting(1, "a@x.com", 9), sighting(2, "b@x.com", 10), sighting(3, "a@x.com", 11)]
    results = recorder(store, publisher).record_many(page)
    # One transaction per shard of the store's counters the page adds to (a person's is one).
    assert store.commits == len({shard_of(profile_id) for profile_id in store.profiles})
    assert [r.new_events for r in results] == [1, 1, 1]
    assert len(store.profiles) == 2
    first = store.get("s", store.identities[("email", "a@x.com")])
    assert first.first_order_event_id == "s:placed-order:order:1"
    assert {e.profile_id for e in store.recorded.values() if e.source_id in ("order:1", "order:3")} == {first.id}
    assert publisher.sent == []  # a backfill starts no flow


def test_a_live_page_sends_each_persons_triggers_after_the_write():
    store, publisher = MemoryStore(), Publisher()
    page = [sighting(1, "a@x.com", 9, backfill=False), sighting(2, "a@x.com", 10, backfill=False)]
    results = recorder(store, publisher).record_many(page)
    profile_id = store.identities[("email", "a@x.com")]
    keys = sorted(key for key, _ in publisher.sent)
    assert keys == sorted(
        [
            "customer_winback:s:placed-order:order:1",
            "customer_winback:s:placed-order:order:2",
            f"first_order:s:{profile_id}",
        ]
    )
    assert sum(r.triggers for r in results) == 3
    assert store.get("s", profile_id).outbox == []


def test_a_change_that_lost_a_race_is_redone_alone_and_nothing_is_doubled():
    store, publisher = MemoryStore(), Publisher()
    page = [sighting(1, "a@x.com", 9, backfill=False), sighting(2, "b@x.com", 10, backfill=False)]
    rec = recorder(store, publisher)
    known = rec.read_many(page)
    rec.record(page[0])  # a webhook for order 1 lands between the page's read and its write
    results = rec.record_many(page, known)
    assert sorted(store.recorded) == ["s:placed-order:order:1", "s:placed-order:order:2"]
    assert [r.new_events for r in results] == [0, 1]
    keys = [key for key, _ in publisher.sent]
    assert len(keys) == len(set(keys)) == 4  # winback and first order for each person, once


def test_a_page_that_adds_nothing_still_sends_what_a_crash_left_in_an_outbox():
    store = MemoryStore()
    live = [sighting(1, "a@x.com", 9, backfill=False)]
    with pytest.raises(ConnectionError):  # written, then the send failed: the promises wait in the outbox
        recorder(store, Publisher(fail=True)).record_many(live)
    publisher = Publisher()
    recorder(store, publisher).record_many(live)  # the page read again: nothing new
    assert len(publisher.sent) == 2
    assert store.get("s", store.identities[("email", "a@x.com")]).outbox == []
