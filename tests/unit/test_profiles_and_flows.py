"""Identity rules, order-derived profile properties and flow-trigger planning."""

from datetime import UTC, datetime

import pytest

from bcsync.domain.events import MarketingEvent, Metric
from bcsync.domain.flows import Flow, first_order_trigger, metric_triggers, parse_enabled_flows
from bcsync.domain.profiles import (
    activity_counts,
    apply_order_contact,
    blank_profile,
    contact_from_order,
    mask_email,
    merge_profiles,
    new_profile_id,
    note_activity,
)
from tests.factories import order, placed_order_event


def test_profile_ids_are_deterministic_per_first_identity():
    assert new_profile_id("s", customer_id=32, email="a@x.com") == new_profile_id("s", customer_id=32, email=None)
    assert new_profile_id("s", customer_id=None, email="A@X.com ") == new_profile_id(
        "s", customer_id=None, email="a@x.com"
    )
    assert new_profile_id("s", customer_id=None, email="a@x.com") != new_profile_id(
        "t", customer_id=None, email="a@x.com"
    )


def test_contact_from_a_placed_order_carries_identity_and_location():
    contact = contact_from_order(order())
    assert contact.email == "jane@example.com"
    assert contact.customer_id == 32
    assert contact.properties == {
        "Email": "jane@example.com",
        "First Name": "Jane",
        "Last Name": "Doe",
        "Phone Number": "555-0100",
        "External ID": "32",
        "City": "Austin",
        "Region": "Texas",
        "Zip": "78751",
        "Country": "United States",
    }


def test_guest_contact_has_no_external_id():
    contact = contact_from_order(order(customer_id=0))
    assert contact.customer_id is None
    assert "External ID" not in contact.properties


@pytest.mark.parametrize("older_modified_later", [False, True])
def test_an_older_order_never_overwrites_newer_properties(older_modified_later):
    """Older means placed earlier: shipping an old order later does not bring its address back."""
    newer = contact_from_order(order(date_created="Fri, 08 Mar 2019 10:00:00 +0000"))
    older_order = order(
        date_created="Tue, 05 Mar 2019 22:00:00 +0000",
        date_modified="Sat, 09 Mar 2019 10:00:00 +0000" if older_modified_later else None,
    )
    older = contact_from_order(
        older_order.model_copy(
            update={"billing_address": older_order.billing_address.model_copy(update={"city": "Dallas"})}
        )
    )
    profile = apply_order_contact(None, newer, profile_id="p", store_hash="s", now="t1")
    after = apply_order_contact(profile, older, profile_id="p", store_hash="s", now="t2")
    assert after.properties["City"] == "Austin"
    assert after == profile  # nothing changed, so not even updated_at moves


def test_a_status_change_to_the_same_order_leaves_the_profile_as_it_was():
    placed = contact_from_order(order(date_modified="Fri, 08 Mar 2019 10:00:00 +0000"))
    shipped = contact_from_order(order(date_modified="Mon, 11 Mar 2019 10:00:00 +0000"))
    profile = apply_order_contact(None, placed, profile_id="p", store_hash="s", now="t1")
    assert apply_order_contact(profile, shipped, profile_id="p", store_hash="s", now="t2") == profile


def test_guest_profile_gains_the_account_id_when_the_account_orders():
    guest = apply_order_contact(
        None, contact_from_order(order(customer_id=0)), profile_id="p", store_hash="s", now="t1"
    )
    assert guest.external_id is None
    account = apply_order_contact(
        guest, contact_from_order(order(customer_id=77)), profile_id="p", store_hash="s", now="t2"
    )
    assert account.id == "p"
    assert account.external_id == "77"
    assert account.lists == ["Customers"]


def test_mask_email_hides_the_address():
    assert mask_email("jane.doe@example.com") == "j***@e***"
    assert "jane" not in mask_email("jane.doe@example.com")


def event(metric=Metric.PLACED_ORDER, backfill=False, profile_id="p"):
    return MarketingEvent(
        id=f"s:{metric.slug}:order:1",
        store_hash="s",
        metric=metric,
        profile_id=profile_id,
        time=datetime(2026, 1, 1, tzinfo=UTC),
        value=1,
        currency="USD",
        properties={},
        source_id="order:1",
        backfill=backfill,
    )


def test_metric_triggers_follow_the_default_flows():
    everything = frozenset(Flow)
    assert [t.flow for t in metric_triggers(event(Metric.PLACED_ORDER), everything)] == [Flow.CUSTOMER_WINBACK]
    assert [t.flow for t in metric_triggers(event(Metric.ORDERED_PRODUCT), everything)] == [
        Flow.PRODUCT_REVIEW_CROSS_SELL
    ]
    assert metric_triggers(event(Metric.FULFILLED_ORDER), everything) == []


def test_backfilled_or_anonymous_events_trigger_nothing():
    assert metric_triggers(event(backfill=True), frozenset(Flow)) == []
    assert metric_triggers(event(profile_id=None), frozenset(Flow)) == []


def test_disabled_flows_are_not_triggered():
    assert metric_triggers(event(), frozenset({Flow.FIRST_ORDER})) == []


def test_dedup_keys_are_unique_per_message_and_first_order_per_profile():
    placed = event()
    assert metric_triggers(placed, frozenset(Flow))[0].dedup_key == "customer_winback:s:placed-order:order:1"
    other = placed.model_copy(update={"id": "s:placed-order:order:2"})
    assert first_order_trigger(placed).dedup_key == first_order_trigger(other).dedup_key


def test_enabled_flows_setting_rejects_unknown_names():
    assert parse_enabled_flows("all") == frozenset(Flow)
    assert parse_enabled_flows("first order, Abandoned Cart") == {Flow.FIRST_ORDER, Flow.ABANDONED_CART}
    with pytest.raises(ValueError, match="unknown flow"):
        parse_enabled_flows("Winback")


def test_a_merge_adds_up_what_both_profiles_did():
    keep, gone = blank_profile("k", "s", "2026-01-01"), blank_profile("g", "s", "2026-02-01")
    note_activity(keep, [placed_order_event(1, 9).model_copy(update={"time": datetime(2026, 1, 5, tzinfo=UTC)})])
    note_activity(gone, [placed_order_event(2, 9).model_copy(update={"time": datetime(2026, 2, 5, tzinfo=UTC)})])
    merged = merge_profiles(keep, gone, now="2026-03-01")
    counts = activity_counts(merged)
    assert counts("Placed Order", None) == 2
    assert counts("Placed Order", datetime(2026, 2, 1, tzinfo=UTC)) == 1
