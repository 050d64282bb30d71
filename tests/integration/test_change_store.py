"""The change store against DynamoDB (moto): a change is written whole or not at all, the
cancellation reasons tell taken triggers from a lost race, and a change too big for one
transaction still lands whole."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest

from bcsync.adapters.changes import ChangeTables, DynamoChangeStore
from bcsync.domain.events import MarketingEvent, Metric
from bcsync.domain.flows import Flow, profile_trigger
from bcsync.domain.profiles import blank_profile
from bcsync.usecases.ports import Change, ChangeConflict, Lookup, ReservationsTaken


@pytest.fixture
def store(stack):
    names = stack.physical
    tables = ChangeTables(
        names["EventsTable"],
        names["ProfilesTable"],
        names["TriggersTable"],
        names["CatalogTable"],
        names["CountersTable"],
    )
    return DynamoChangeStore(boto3.resource("dynamodb").meta.client, tables)


def event(n):
    return MarketingEvent(
        id=f"s:ordered-product:order:1:product:{n}",
        store_hash="s",
        metric=Metric.ORDERED_PRODUCT,
        profile_id="p",
        time=datetime(2026, 1, 1, tzinfo=UTC),
        value=n,
        currency="USD",
        properties={},
        source_id="order:1",
    )


def test_a_change_is_read_back_as_written(store):
    welcome = profile_trigger(Flow.NEW_CUSTOMER, "s", "p", "customer:7")
    profile = blank_profile("p", "s", "t")
    profile.promise(welcome)
    saved = store.commit(
        Change("s", events=(event(1),), claims=((("email", "a@x.com"), "p"),), reservations=(welcome,), profile=profile)
    )
    assert saved.revision == 1
    known = store.read(Lookup("s", (("email", "A@x.com".lower()),), ("p", "q"), (event(1).id, event(2).id)))
    assert known.identities == {("email", "a@x.com"): "p"}
    assert known.profiles == {"p": saved, "q": None}
    assert list(known.events) == [event(1).id]


def test_taken_reservations_alone_are_told_apart_and_nothing_is_written(store):
    welcome = profile_trigger(Flow.NEW_CUSTOMER, "s", "p", "customer:7")
    store.commit(Change("s", reservations=(welcome,)))
    with pytest.raises(ReservationsTaken) as taken:
        store.commit(Change("s", events=(event(1),), reservations=(welcome,), profile=blank_profile("p", "s", "t")))
    assert taken.value.dedup_keys == {welcome.dedup_key}
    assert store.read(Lookup("s", (), ("p",), (event(1).id,))).events == {}


def test_a_profile_changed_since_it_was_read_is_a_conflict(store):
    first = store.commit(Change("s", profile=blank_profile("p", "s", "t")))
    store.commit(Change("s", profile=first.model_copy(update={"email": "a@x.com"}), previous=first))
    with pytest.raises(ChangeConflict):
        store.commit(
            Change("s", events=(event(1),), profile=first.model_copy(update={"email": "b@x.com"}), previous=first)
        )
    assert store.read(Lookup("s", (), ("p",), (event(1).id,))).events == {}
    assert store.settle(first, [], "t") is None  # settling a stale profile is refused too


def test_a_change_over_one_transaction_lands_whole_even_past_an_earlier_partial_write(store):
    events = tuple(event(n) for n in range(150))
    # An earlier attempt crashed after writing some of what lies past the first transaction.
    store.commit(Change("s", events=events[110:120]))
    saved = store.commit(Change("s", events=events, profile=blank_profile("p", "s", "t")))
    assert saved.revision == 1
    assert len(store.read(Lookup("s", event_ids=tuple(e.id for e in events))).events) == 150


def test_a_taken_reservation_says_whether_its_trigger_was_sent(store):
    sent, owed = (profile_trigger(Flow.NEW_CUSTOMER, "s", "p", f"customer:{n}") for n in (7, 8))
    profile = blank_profile("p", "s", "t")
    profile.promise(sent)
    profile.promise(owed)
    saved = store.commit(Change("s", reservations=(sent, owed), profile=profile))
    store.settle(saved, [sent], "2026-11-29T00:00:00Z")
    with pytest.raises(ReservationsTaken) as taken:
        store.commit(Change("s", reservations=(sent, owed)))
    assert taken.value.dedup_keys == {sent.dedup_key, owed.dedup_key}
    assert taken.value.sent == {sent.dedup_key}
