"""Flow triggers are reserved, then sent, then stamped: a crash in between re-sends, never loses."""

from datetime import UTC, datetime

import pytest

from bcsync.domain.events import MarketingEvent, Metric
from bcsync.domain.flows import Flow
from bcsync.usecases.triggers import TriggerDispatcher


class MemoryLedger:
    def __init__(self):
        self.rows = {}

    def reserve(self, intent):
        if intent.dedup_key in self.rows:
            stored, sent_at = self.rows[intent.dedup_key]
            return stored, sent_at
        self.rows[intent.dedup_key] = (intent, None)
        return intent, None

    def mark_sent(self, intent, sent_at):
        self.rows[intent.dedup_key] = (self.rows[intent.dedup_key][0], sent_at)


class Publisher:
    def __init__(self, fail=False):
        self.fail = fail
        self.sent = []

    def publish(self, intent, profile, event):
        if self.fail:
            raise ConnectionError("SQS unreachable")
        self.sent.append(intent.dedup_key)


class Events:
    def __init__(self, placed):
        self.placed = placed

    def placed_orders_of(self, store_hash, profile_id):
        return self.placed


def placed(order_id, hour):
    return MarketingEvent(
        id=f"s:placed-order:order:{order_id}",
        store_hash="s",
        metric=Metric.PLACED_ORDER,
        profile_id="p",
        time=datetime(2026, 1, 1, hour, tzinfo=UTC),
        value=1,
        currency="USD",
        properties={},
        source_id=f"order:{order_id}",
    )


def dispatcher(ledger, publisher, known):
    return TriggerDispatcher(ledger, publisher, Events(known), frozenset(Flow))


def test_a_crash_between_reserve_and_send_resends_on_retry():
    ledger, event = MemoryLedger(), placed(1, 10)
    broken = dispatcher(ledger, Publisher(fail=True), [event])
    with pytest.raises(ConnectionError):
        broken.dispatch(broken.plan([event]), None, {event.id: event})
    working_publisher = Publisher()
    working = dispatcher(ledger, working_publisher, [event])
    assert working.dispatch(working.plan([event]), None, {event.id: event}) == 2
    assert sorted(working_publisher.sent) == [f"customer_winback:{event.id}", "first_order:s:p"]


def test_sent_triggers_are_never_sent_again():
    ledger, publisher, event = MemoryLedger(), Publisher(), placed(1, 10)
    once = dispatcher(ledger, publisher, [event])
    once.dispatch(once.plan([event]), None, {event.id: event})
    assert once.dispatch(once.plan([event]), None, {event.id: event}) == 0
    assert len(publisher.sent) == 2


def test_first_order_goes_to_the_earliest_known_order_only_once():
    ledger, publisher = MemoryLedger(), Publisher()
    later, earlier = placed(2, 12), placed(1, 9)
    first_seen = dispatcher(ledger, publisher, [later])
    first_seen.dispatch(first_seen.plan([later]), None, {later.id: later})
    both = dispatcher(ledger, publisher, [later, earlier])
    assert [i.flow for i in both.plan([later])] == [Flow.CUSTOMER_WINBACK]
    both.dispatch(both.plan([earlier]), None, {earlier.id: earlier})
    assert publisher.sent.count("first_order:s:p") == 1
