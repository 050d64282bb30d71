"""Every row and value rule of DESIGN.md's metric table, against the pure normalizer."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from bcsync.domain.bigcommerce import Order
from bcsync.domain.events import Metric
from bcsync.domain.orders import REFUND_RECORD_GRACE, OrderStatus, RefundListing, normalize_order
from tests.factories import line, order, refund, snapshot

PROFILE = "prof_x"


def by_metric(events):
    grouped = {}
    for event in events:
        grouped.setdefault(event.metric, []).append(event)
    return grouped


def run(snap):
    return by_metric(normalize_order(snap, profile_id=PROFILE))


@pytest.mark.parametrize("status", [0, 1, 6, 7])
def test_unplaced_statuses_emit_nothing(status):
    assert normalize_order(snapshot(order(status)), profile_id=PROFILE) == []


@pytest.mark.parametrize("status", [2, 3, 4, 5, 8, 9, 10, 11, 12, 13, 14])
def test_every_other_status_is_placed(status):
    events = run(snapshot(order(status, date_shipped="")))
    assert len(events[Metric.PLACED_ORDER]) == 1
    placed = events[Metric.PLACED_ORDER][0]
    assert placed.id == "abc123:placed-order:order:250"
    assert placed.time == datetime(2019, 3, 5, 21, 40, 11, tzinfo=UTC)
    assert placed.source_id == "order:250"
    assert placed.source == "bigcommerce"
    assert placed.currency == "EUR"


def test_placed_order_value_is_ex_tax_subtotal_plus_shipping_minus_discounts():
    the_order = order(discount_amount="2.0000", coupon_discount="3.0000")
    placed = run(snapshot(the_order))[Metric.PLACED_ORDER][0]
    assert placed.value == Decimal("30") + Decimal("5") - Decimal("2") - Decimal("3")


def test_tax_inclusive_orders_use_inc_tax_figures_for_orders_and_lines():
    the_order = order(is_tax_inclusive_pricing=True, coupon_discount="1.0000")
    events = run(snapshot(the_order))
    assert events[Metric.PLACED_ORDER][0].value == Decimal("33") + Decimal("5.5") - Decimal("1")
    products = {e.properties["ProductID"]: e for e in events[Metric.ORDERED_PRODUCT]}
    assert products[2].value == Decimal("22.00")  # 11.00 inc-tax x 2
    assert products[2].properties["Product Price"] == Decimal("11.00")
    assert products[2].properties["Product Cost"] == Decimal("4.4")


def test_refunds_are_never_subtracted_from_placed_order():
    the_order = order(4, date_shipped="")
    events = run(snapshot(the_order, refunds=(refund(1, "12.00"),)))
    assert events[Metric.PLACED_ORDER][0].value == Decimal("35")


def test_ordered_product_per_line_with_its_discounted_value_and_properties():
    lines = [
        line(11, 1, price="20.0000", qty=1, discount="5.0000", code="SAVE5", options={"Size": "M"}, brand="Fog"),
        line(12, 2, price="10.0000", qty=2),
    ]
    events = run(snapshot(order(coupon_discount="5.0000"), lines))
    products = {e.properties["ProductID"]: e for e in events[Metric.ORDERED_PRODUCT]}
    first = products[1]
    assert first.id == "abc123:ordered-product:order:250:product:11"
    assert first.value == Decimal("15.0000")
    assert first.time == events[Metric.PLACED_ORDER][0].time
    assert first.properties == {
        "Name": "Product 1",
        "SKU": "SKU-1",
        "ProductID": 1,
        "Quantity": 1,
        "Product Price": Decimal("20.0000"),
        "Product Cost": Decimal("4.0000"),
        "Price": events[Metric.PLACED_ORDER][0].value,
        "Categories": ["Shirts", "Sale"],
        "Discounted": True,
        "Options": {"Size": "M"},
        "Brand": "Fog",
    }
    assert products[2].value == Decimal("20.0000")
    assert products[2].properties["Discounted"] is False


def test_order_level_properties_describe_items_categories_coupons_and_details():
    lines = [line(11, 1, qty=1, discount="1.0000", code="WELCOME"), line(12, 2, qty=2)]
    placed = run(snapshot(order(), lines))[Metric.PLACED_ORDER][0]
    props = placed.properties
    assert props["Items"] == ["Product 1", "Product 2"]
    assert props["Item Count"] == 3
    assert props["Item Categories"] == ["Mugs", "Sale", "Shirts"]
    assert props["Discounted"] is True
    assert props["Coupons"] == ["WELCOME"]
    assert props["Items Detail"][1] == {
        "Name": "Product 2",
        "SKU": "SKU-2",
        "ProductID": 2,
        "Quantity": 2,
        "Price": Decimal("10.0000"),
        "ImageURL": "https://img/2.jpg",
        "ProductURL": "https://shop.example.com/p2/",
    }


def test_undiscounted_order_is_not_discounted():
    assert run(snapshot(order()))[Metric.PLACED_ORDER][0].properties["Discounted"] is False


@pytest.mark.parametrize("status", [2, 10])
def test_shipped_or_completed_is_fulfilled_at_date_shipped(status):
    fulfilled = run(snapshot(order(status, date_shipped="Wed, 06 Mar 2019 08:30:00 +0000")))[Metric.FULFILLED_ORDER]
    assert [e.id for e in fulfilled] == ["abc123:fulfilled-order:order:250"]
    assert fulfilled[0].time == datetime(2019, 3, 6, 8, 30, tzinfo=UTC)
    assert fulfilled[0].value == Decimal("35")


def test_completed_without_shipment_is_fulfilled_at_the_change():
    fulfilled = run(snapshot(order(10)))[Metric.FULFILLED_ORDER][0]
    assert fulfilled.time == datetime(2019, 3, 6, 9, 0, tzinfo=UTC)


def test_partially_shipped_is_not_fulfilled():
    assert Metric.FULFILLED_ORDER not in run(snapshot(order(3, date_shipped="Wed, 06 Mar 2019 08:30:00 +0000")))


@pytest.mark.parametrize("status", [4, 14])
def test_refunded_after_shipping_counts_as_fulfilled(status):
    events = run(snapshot(order(status, date_shipped="Wed, 06 Mar 2019 08:30:00 +0000"), refunds=()))
    assert len(events[Metric.FULFILLED_ORDER]) == 1


@pytest.mark.parametrize("status", [4, 14])
def test_refunded_without_shipping_is_not_fulfilled(status):
    assert Metric.FULFILLED_ORDER not in run(snapshot(order(status), refunds=()))


def test_cancelled_order_once_at_the_change():
    events = run(snapshot(order(5)))
    cancelled = events[Metric.CANCELLED_ORDER]
    assert [e.id for e in cancelled] == ["abc123:cancelled-order:order:250"]
    assert cancelled[0].time == datetime(2019, 3, 6, 9, 0, tzinfo=UTC)
    assert cancelled[0].value == Decimal("35")
    assert len(events[Metric.PLACED_ORDER]) == 1


def test_one_refunded_order_per_refund_record_with_its_total_and_time():
    refunds = (refund(3, "12.50", "2019-03-07T10:00:00Z"), refund(4, "7.25", "2019-03-08T11:00:00Z"))
    refunded = run(snapshot(order(14), refunds=refunds))[Metric.REFUNDED_ORDER]
    assert [(e.id, e.value, e.source_id) for e in refunded] == [
        ("abc123:refunded-order:refund:3", Decimal("12.50"), "refund:3"),
        ("abc123:refunded-order:refund:4", Decimal("7.25"), "refund:4"),
    ]
    assert refunded[1].time == datetime(2019, 3, 8, 11, 0, tzinfo=UTC)


def test_repeated_partial_refunds_keep_earlier_ids():
    first = run(snapshot(order(14), refunds=(refund(3, "5.00"),)))[Metric.REFUNDED_ORDER]
    later = run(snapshot(order(14), refunds=(refund(3, "5.00"), refund(4, "6.00"))))[Metric.REFUNDED_ORDER]
    assert {e.id for e in first} < {e.id for e in later}


def test_refunded_order_properties_describe_the_whole_order_and_status():
    the_order = order(14, status="Partially Refunded")
    lines = [line(11, 1, brand="Fog"), line(12, 2, qty=2, brand="Acme")]
    props = run(snapshot(the_order, lines, refunds=(refund(3, "5.00"),)))[Metric.REFUNDED_ORDER][0].properties
    assert props["Items"] == ["Product 1", "Product 2"]
    assert props["Item Count"] == 3
    assert props["Item Categories"] == ["Mugs", "Sale", "Shirts"]
    assert props["Item Brands"] == ["Acme", "Fog"]
    assert props["Status"] == "Partially Refunded"
    assert props["Discounted"] is False


def test_manual_change_to_refunded_without_record_counts_once_at_order_value():
    refunded = run(snapshot(order(4), refunds=()))[Metric.REFUNDED_ORDER]
    assert [(e.id, e.value, e.source_id) for e in refunded] == [
        ("abc123:refunded-order:order:250", Decimal("35"), "order:250")
    ]


def test_a_change_to_refunded_waits_ten_minutes_for_its_record_before_it_counts_as_manual():
    the_order = order(4)
    changed = the_order.date_modified
    assert changed is not None

    def seen(after: timedelta):
        return run(replace(snapshot(the_order, refunds=()), observed_at=changed + after)).get(Metric.REFUNDED_ORDER)

    assert seen(timedelta(minutes=9, seconds=59)) is None  # the record may still come, with its webhook
    assert [e.source_id for e in seen(REFUND_RECORD_GRACE)] == ["order:250"]  # it did not: a manual refund
    with_record = replace(snapshot(the_order, refunds=(refund(9, "35.00"),)), observed_at=changed)
    assert [e.source_id for e in run(with_record)[Metric.REFUNDED_ORDER]] == ["refund:9"]  # a record: at once


def test_refund_records_replace_the_manual_refund_event():
    refunded = run(snapshot(order(4), refunds=(refund(9, "35.00"),)))[Metric.REFUNDED_ORDER]
    assert [e.id for e in refunded] == ["abc123:refunded-order:refund:9"]


def test_partially_refunded_without_records_emits_no_refund():
    assert Metric.REFUNDED_ORDER not in run(snapshot(order(14), refunds=()))


def test_refunds_not_read_emit_no_refund_events():
    assert Metric.REFUNDED_ORDER not in run(snapshot(order(4), refunds=None))


def test_refunds_of_another_order_are_ignored():
    assert Metric.REFUNDED_ORDER not in run(snapshot(order(14), refunds=(refund(3, "5.00", order_id=999),)))


def test_same_state_yields_identical_events_so_duplicates_change_nothing():
    snap = snapshot(order(2, date_shipped="Wed, 06 Mar 2019 08:30:00 +0000"), refunds=(refund(3, "5.00"),))
    assert normalize_order(snap, profile_id=PROFILE) == normalize_order(snap, profile_id=PROFILE)


def test_out_of_order_states_agree_on_ids_and_later_state_only_adds():
    """Seeing 'shipped' before 'created' yields a superset, with identical events for what both imply."""
    created = normalize_order(snapshot(order(11)), profile_id=PROFILE)
    shipped = normalize_order(snapshot(order(2, date_shipped=SHIPPED_AT)), profile_id=PROFILE)
    created_by_id = {e.id: e for e in created}
    shipped_by_id = {e.id: e for e in shipped}
    assert set(created_by_id) < set(shipped_by_id)
    for event_id, event in created_by_id.items():
        assert shipped_by_id[event_id].time == event.time
        assert shipped_by_id[event_id].value == event.value


SHIPPED_AT = "Wed, 06 Mar 2019 08:30:00 +0000"


def test_backfill_flag_is_carried_on_every_event():
    events = normalize_order(snapshot(order(2, date_shipped=SHIPPED_AT)), profile_id=PROFILE, backfill=True)
    assert events
    assert all(event.backfill for event in events)


def test_transaction_currency_prefers_default_currency_code():
    the_order = order(currency_code="GBP", default_currency_code="USD")
    assert run(snapshot(the_order))[Metric.PLACED_ORDER][0].currency == "USD"


def test_more_than_fifty_lines_each_get_an_ordered_product():
    lines = [line(100 + n, 1, qty=1) for n in range(60)]
    events = run(snapshot(order(items_total=60, subtotal_ex_tax="600.0000"), lines))
    assert len(events[Metric.ORDERED_PRODUCT]) == 60
    assert events[Metric.PLACED_ORDER][0].properties["Item Count"] == 60


def test_status_enum_matches_bigcommerce_ids():
    assert OrderStatus.AWAITING_FULFILLMENT == 11
    assert OrderStatus.PARTIALLY_REFUNDED == 14


# ------------------------------------------------------------------ embedded line items
def embedded(rows, **extra):
    consignment = {"id": 1, "line_items": rows, **extra}
    return {"pickups": [], "shipping": [consignment], "downloads": [], "email": {"gift_certificates": []}}


def row(line_id, qty=1):
    return {"id": line_id, "product_id": 1, "name": "P", "quantity": qty, "price_ex_tax": "1.0000"}


def with_consignments(consignments, items_total):
    return Order.model_validate({**order().model_dump(), "consignments": consignments, "items_total": items_total})


def test_embedded_line_items_are_used_when_complete():
    the_order = with_consignments(embedded([row(1, 2), row(2)]), 3)
    assert [line.id for line in the_order.embedded_lines()] == [1, 2]


def test_embedded_line_items_capped_with_warning_fall_back():
    rows = [row(n) for n in range(50)]
    warning = {"message": "Not all line items of this consignment are returned with this response, only 50 ..."}
    assert with_consignments(embedded(rows, __warning__=warning), 60).embedded_lines() is None


def test_gift_certificates_emailed_are_embedded_lines_too():
    """`email.gift_certificates[]` is a consignment: its lines count, or the order would fall
    back to `/orders/{id}/products` for every order with a gift certificate."""
    consignments = embedded([row(1, 2)])
    consignments["email"]["gift_certificates"] = [{"recipient_email": "friend@example.com", "line_items": [row(7)]}]
    the_order = with_consignments(consignments, 3)
    assert [line.id for line in the_order.embedded_lines()] == [1, 7]
    assert with_consignments(embedded([row(1, 2)]), 3).embedded_lines() is None  # without them: short


def test_fifty_embedded_lines_fall_back_even_without_a_warning():
    assert with_consignments(embedded([row(n) for n in range(50)]), 50).embedded_lines() is None


def test_embedded_lines_short_of_items_total_fall_back():
    assert with_consignments(embedded([row(1)]), 4).embedded_lines() is None


def test_links_instead_of_line_items_fall_back():
    links = [{"url": "https://api/orders/1/products/1", "resource": "/orders/1/products/1"}]
    assert with_consignments(embedded(links), 1).embedded_lines() is None


def test_array_form_of_consignments_is_read_too():
    assert with_consignments([embedded([row(1)])], 1).embedded_lines() is not None


# ------------------------------------------------------------------ what one refunds listing proves
LISTED_FROM = datetime(2019, 3, 1, tzinfo=UTC)
LISTED_AT = datetime(2019, 3, 10, tzinfo=UTC)


def listing(*refunds):
    return RefundListing.of(refunds, start=LISTED_FROM, listed_at=LISTED_AT)


def test_a_listing_answers_for_an_order_created_inside_it_with_or_without_refunds():
    the_order = order(4)  # created 5 March, changed 6 March
    assert listing().refunds_of(the_order) == ()  # a manual change to Refunded: no record
    first, second = refund(1, "5.00"), refund(2, "3.00", order_id=999)
    assert listing(first, second).refunds_of(the_order) == (first,)


def test_an_order_older_than_the_listing_is_asked_about_alone_unless_the_listing_has_its_refunds():
    older = order(4, date_created="Mon, 25 Feb 2019 10:00:00 +0000")
    assert listing().refunds_of(older) is None
    assert listing(refund(1, "5.00")).refunds_of(older) == (refund(1, "5.00"),)
    assert RefundListing.of([], start=None, listed_at=LISTED_AT).refunds_of(older) == ()  # all history listed


def test_an_order_changed_after_the_listing_may_have_a_refund_it_could_not_see():
    listed = listing(refund(1, "5.00", order_id=999))
    assert listed.refunds_of(order(4, date_modified="Sun, 10 Mar 2019 00:00:01 +0000")) is None
    assert listed.refunds_of(order(4, date_modified="Sun, 10 Mar 2019 00:00:00 +0000")) == ()
    with_record = listing(refund(1, "5.00"))  # what it did see still counts
    assert with_record.refunds_of(order(4, date_modified="Mon, 11 Mar 2019 00:00:00 +0000")) == (refund(1, "5.00"),)
