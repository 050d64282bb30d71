"""Customer webhooks: profiles, identity (guest -> account, email changes, merges), deletion, erasure."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from botocore.client import BaseClient

from bcsync import wiring
from bcsync_ops.sandbox import Line
from tests.integration.conftest import ago, load_event, use_settings, webhook_event


def customer_event(scope: str, customer_id: int = 7):
    return webhook_event(f"store/customer/{scope}", {"type": "customer", "id": customer_id})


def add_ada(stack, email="ada@example.com", **kwargs):
    stack.store.customer_groups[2] = "VIP"
    return stack.store.add_customer(
        7,
        email=email,
        first_name="Ada",
        last_name="Lovelace",
        at=ago(days=2),
        group_id=2,
        phone="+1 512 555 0100",
        company="Analytical Engines",
        store_credit=Decimal("25.50"),
        city="London",
        **kwargs,
    )


def guest_order(stack, order_id: int, email: str, hours: float = 3):
    store = stack.store
    store.place_order(
        order_id,
        email=email,
        first_name="Ada",
        last_name="Byron",
        lines=[Line(store.products[102], 1)],
        created=ago(hours=hours),
    )
    stack.deliver(webhook_event("store/order/created", {"type": "order", "id": order_id}))


def account_order(stack, order_id: int, hours: float):
    """An order by Ada's account (customer 7) with its address, delivered."""
    stack.store.place_order(
        order_id,
        email="ada@example.com",
        first_name="Ada",
        last_name="Lovelace",
        customer_id=7,
        lines=[Line(stack.store.products[101], 1)],
        created=ago(hours=hours),
    )
    stack.deliver(webhook_event("store/order/created", {"type": "order", "id": order_id}))


def only_profile(stack):
    (profile,) = stack.profiles()
    return profile


def test_customer_created_event_file_builds_the_profile_and_one_new_customer_trigger(stack):
    add_ada(stack)
    response = stack.deliver(load_event("customer_created.json"))
    assert response["statusCode"] == 200, response
    profile = only_profile(stack)
    assert profile["email"] == "ada@example.com"
    assert profile["external_id"] == "7"
    assert profile["lists"] == ["Customers"]
    assert profile["properties"] == {
        "Email": "ada@example.com",
        "First Name": "Ada",
        "Last Name": "Lovelace",
        "Phone Number": "+1 512 555 0100",
        "External ID": "7",
        "Customer Group": "VIP",
        "Store Credit": Decimal("25.5"),
    }
    assert profile["outbox"] == []
    (trigger,) = stack.triggers()
    assert trigger["flow"] == "New Customer"
    assert trigger["event"] is None
    assert trigger["profile"]["id"] == profile["id"]
    stack.deliver(customer_event("created"))
    stack.deliver(load_event("customer_updated.json"))
    assert stack.triggers() == []


@pytest.mark.parametrize("account_first", [False, True], ids=["guest-then-account", "account-then-guest"])
def test_a_guest_who_opens_an_account_keeps_one_profile(stack, account_first):
    add_ada(stack)
    if account_first:
        stack.deliver(customer_event("created"))
        guest_order(stack, 3001, "ADA@example.com")
    else:
        guest_order(stack, 3001, "ADA@example.com")
        guest_id = only_profile(stack)["id"]
        stack.deliver(customer_event("created"))
        assert only_profile(stack)["id"] == guest_id  # the id their events have
    profile = only_profile(stack)
    assert profile["external_id"] == "7"
    assert profile["properties"]["First Name"] == "Ada"
    assert profile["properties"]["Last Name"] == "Lovelace"  # the account outranks the order
    assert profile["properties"]["City"] == "Austin"  # location from the order's billing address
    assert {event["profile_id"] for event in stack.events().values()} == {profile["id"]}


@pytest.mark.parametrize("order_after_change", [False, True], ids=["order-before-change", "order-after-change"])
def test_an_email_change_keeps_the_profile_and_its_events(stack, order_after_change):
    add_ada(stack)
    stack.deliver(customer_event("created"))
    account_order(stack, 3002, hours=5)
    before = only_profile(stack)
    stack.store.update_customer(7, at=ago(hours=1), email="countess@example.com")
    if order_after_change:
        stack.deliver(customer_event("updated"))
        guest_order(stack, 3003, "countess@example.com", hours=0.5)
    else:
        guest_order(stack, 3003, "countess@example.com", hours=0.5)
        stack.deliver(customer_event("updated"))
    profile = only_profile(stack)
    assert profile["id"] == before["id"]
    assert profile["email"] == "countess@example.com"
    assert profile["properties"]["Email"] == "countess@example.com"
    assert {event["profile_id"] for event in stack.events().values()} == {profile["id"]}
    assert len([e for e in stack.events().values() if e["metric"] == "Placed Order"]) == 2


def test_two_profiles_of_one_person_are_merged_without_losing_events(stack):
    guest_order(stack, 3004, "countess@example.com", hours=10)  # a guest, long before
    add_ada(stack)
    stack.deliver(customer_event("created"))
    account_order(stack, 3005, hours=2)
    assert len(stack.profiles()) == 2
    guest_id = next(p["id"] for p in stack.profiles() if p["external_id"] is None)
    stack.store.update_customer(7, at=ago(hours=1), email="countess@example.com")
    stack.deliver(customer_event("updated"))
    profile = only_profile(stack)
    assert profile["id"] == guest_id  # the older profile keeps its id
    assert profile["external_id"] == "7"
    assert profile["email"] == "countess@example.com"
    placed = [e for e in stack.events().values() if e["metric"] == "Placed Order"]
    assert {e["source_id"] for e in placed} == {"order:3004", "order:3005"}
    assert {e["profile_id"] for e in stack.events().values()} == {guest_id}
    first_orders = [t for t in stack.triggers() if t["flow"] == "First Order"]
    assert len(first_orders) == 2  # one per profile at the time; the merged one is not re-sent
    # Every identity now finds the surviving profile, the old account id included.
    guest_order(stack, 3006, "ada@example.com", hours=0.2)
    assert len(stack.profiles()) == 1


def two_profiles_of_one_person(stack):
    """An account (customer 7, one order) and a newer guest profile (guest@example.com, one
    order); the account then takes the guest's address, so its next delivery merges them into
    the account's profile, the older. Returns the account's profile id."""
    add_ada(stack)
    stack.deliver(customer_event("created"))
    account_order(stack, 3005, hours=2)
    guest_order(stack, 3004, "guest@example.com", hours=1)
    stack.store.update_customer(7, at=ago(minutes=50), email="guest@example.com")
    return next(p["id"] for p in stack.profiles() if p["external_id"] == "7")


def guests_next_order(stack):
    """Order 3006 by guest@example.com, placed (its webhook not yet delivered)."""
    stack.store.place_order(
        3006,
        email="guest@example.com",
        first_name="G",
        last_name="H",
        lines=[Line(stack.store.products[101], 1)],
        created=ago(minutes=30),
    )


def test_a_merge_killed_after_the_keys_moved_is_finished_by_the_accounts_next_delivery(stack, kills):
    account_id = two_profiles_of_one_person(stack)
    # Killed while moving the guest's events: both keys already name the account's profile, so
    # no later delivery sees two profiles to merge; its note of what is due finishes the merge.
    kills.next("UpdateItem", landed=False, where=lambda params: params.get("TableName", "").endswith("EventsTable"))
    kills.deliver(customer_event("updated"))
    stack.deliver(customer_event("updated"))
    profile = only_profile(stack)
    assert (profile["id"], profile["external_id"], profile["email"]) == (account_id, "7", "guest@example.com")
    assert {e["profile_id"] for e in stack.events().values()} == {account_id}


def test_promises_made_to_a_profile_being_absorbed_are_sent_when_the_merge_finishes(stack, kills):
    account_id = two_profiles_of_one_person(stack)
    stack.triggers()  # what the two profiles' own deliveries sent
    # Killed once the account's absorbing write landed; an order then lands on the guest's
    # profile (its address still names it), killed before it sends what the order promised.
    kills.next("TransactWriteItems", landed=True)
    kills.deliver(customer_event("updated"))
    guests_next_order(stack)
    kills.next("SendMessageBatch", landed=False)
    kills.deliver(webhook_event("store/order/created", {"type": "order", "id": 3006}))
    stack.deliver(customer_event("updated"))
    assert only_profile(stack)["id"] == account_id
    sent = [t["dedup_key"] for t in stack.triggers()]
    assert sorted(sent) == sorted(set(sent))
    assert "customer_winback:sandbox:placed-order:order:3006" in sent
    assert {e["profile_id"] for e in stack.events().values()} == {account_id}


def test_a_merge_another_delivery_finishes_meanwhile_moves_each_event_once_and_is_not_parked(stack, kills):
    account_id = two_profiles_of_one_person(stack)
    # Two deliveries of the account's change at once: the other one does the whole merge while
    # this one is about to move the first of the guest's events (read before they moved).
    kills.meanwhile(
        "UpdateItem",
        lambda: stack.deliver(customer_event("updated")),
        where=lambda params: params.get("TableName", "").endswith("EventsTable"),
    )
    assert stack.deliver(customer_event("updated"))["statusCode"] == 200
    assert stack.receive("RetryQueue") == []  # done, not parked for a retry
    assert only_profile(stack)["id"] == account_id
    placed = [e for e in stack.events().values() if e["metric"] == "Placed Order"]
    assert sorted(e["source_id"] for e in placed) == ["order:3004", "order:3005"]
    assert {e["profile_id"] for e in stack.events().values()} == {account_id}


def test_an_order_that_found_the_guest_before_the_merge_is_moved_to_the_survivor(stack, monkeypatch):
    account_id = two_profiles_of_one_person(stack)
    guests_next_order(stack)
    # The order's delivery found the guest's profile by its address; before it writes, the
    # account's delivery merges the guest in, and the order's write lands just before the guest
    # is retired (after its events were moved).
    make_api_call, pending = BaseClient._make_api_call, {}

    def interleaved(client, operation, params):
        function = stack.calls.current
        if function == "OrdersWebhookFunction" and operation == "TransactWriteItems" and not pending:
            pending["write"] = lambda: make_api_call(client, operation, params)
            assert stack.deliver(customer_event("updated"))["statusCode"] == 200
            return pending["landed"]
        retiring = operation == "PutItem" and params.get("Item", {}).get("entity") == "merged"
        if function == "CustomersWebhookFunction" and retiring and "landed" not in pending:
            pending["landed"] = pending["write"]()
        return make_api_call(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", interleaved)
    assert stack.deliver(webhook_event("store/order/created", {"type": "order", "id": 3006}))["statusCode"] == 200
    assert "landed" in pending
    assert only_profile(stack)["id"] == account_id
    assert {e["profile_id"] for e in stack.events().values()} == {account_id}
    assert "customer_winback:sandbox:placed-order:order:3006" in {t["dedup_key"] for t in stack.triggers()}


def test_an_account_whose_first_delivery_was_killed_between_its_keys_stays_one_profile(stack, kills):
    add_ada(stack)
    # Killed after the account's key was claimed and before its email's: the key names a
    # profile never written. A guest order with the address then makes a guest profile.
    kills.next("PutItem", landed=False, where=lambda params: "#email#" in str(params.get("Item", {}).get("pk", "")))
    kills.deliver(customer_event("created"))
    guest_order(stack, 3004, "ada@example.com", hours=1)
    stack.deliver(customer_event("created"))
    account_order(stack, 3005, hours=0.5)
    profile = only_profile(stack)
    assert profile["external_id"] == "7"
    assert {e["profile_id"] for e in stack.events().values()} == {profile["id"]}


def test_an_email_taken_over_by_a_new_account_moves_to_it(stack):
    add_ada(stack)
    stack.deliver(customer_event("created"))
    stack.store.update_customer(7, at=ago(hours=3), email="countess@example.com")
    stack.deliver(customer_event("updated"))
    stack.store.add_customer(8, email="ada@example.com", first_name="Another", last_name="Ada", at=ago(hours=1))
    stack.deliver(customer_event("created", 8))
    profiles = {p["external_id"]: p for p in stack.profiles()}
    assert set(profiles) == {"7", "8"}
    assert profiles["8"]["email"] == "ada@example.com"
    guest_order(stack, 3007, "ada@example.com", hours=0.1)
    (order_event,) = [e for e in stack.events().values() if e["source_id"] == "order:3007" and "placed" in e["pk"]]
    assert order_event["profile_id"] == profiles["8"]["id"]


def test_a_deleted_account_is_unlinked_and_keeps_its_marketing_history(stack):
    add_ada(stack)
    stack.deliver(customer_event("created"))
    guest_order(stack, 3008, "ada@example.com")
    stack.store.delete_customer(7)
    response = stack.deliver(load_event("customer_deleted.json"))
    assert json.loads(response["body"])["status"] == "unlinked"
    profile = only_profile(stack)
    assert profile["external_id"] is None
    assert "External ID" not in profile["properties"]
    assert "Customer Group" not in profile["properties"]
    assert profile["lists"] == ["Customers"]  # they bought something
    assert len(stack.events()) == 2


def test_a_deleted_webhook_for_a_customer_who_still_exists_changes_nothing(stack):
    add_ada(stack)
    stack.deliver(customer_event("created"))
    stack.deliver(customer_event("deleted"))
    assert only_profile(stack)["external_id"] == "7"


def test_the_field_mapping_decides_which_customer_fields_are_synced(stack, monkeypatch, tmp_path):
    mapping = {"First name": "First Name", "company": "Company", "Billing city": "Home City"}
    use_settings(monkeypatch, tmp_path, {"defaults": {"field_mapping": mapping}})
    add_ada(stack)
    stack.deliver(customer_event("created"))
    properties = only_profile(stack)["properties"]
    assert properties["Company"] == "Analytical Engines"
    assert properties["Home City"] == "London"
    assert "Last Name" not in properties  # unmapped: not synced
    assert "Phone Number" not in properties
    stack.store.customers[7]["addresses"][0]["city"] = "Paris"
    stack.deliver(load_event("customer_address_updated.json"))
    assert only_profile(stack)["properties"]["Home City"] == "Paris"


def test_erase_deletes_the_person_everywhere_and_nothing_else(stack):
    add_ada(stack)
    stack.deliver(customer_event("created"))
    guest_order(stack, 3009, "ada@example.com")
    guest_order(stack, 3010, "grace@example.org")
    # She signed up on the storefront just now: a sign-up link for her browser (onsite tracking).
    stack.store.subscribe(9, email="ada@example.com", at=datetime.now(UTC))
    stack.deliver(webhook_event("store/subscriber/created", {"type": "subscriber", "id": 9}))
    assert [item for item in stack.table("ProfilesTable") if "#signup#" in item["pk"]]
    result = wiring.container().erasure.erase("sandbox", "ADA@example.com")
    assert result is not None
    assert result["events"] == 2
    assert result["triggers"] >= 1
    (remaining,) = stack.profiles()
    assert remaining["email"] == "grace@example.org"
    assert {e["profile_id"] for e in stack.events().values()} == {remaining["id"]}
    assert all(item.get("profile_id") in (None, remaining["id"]) for item in stack.table("TriggersTable"))
    identity_rows = [item for item in stack.table("ProfilesTable") if "profile_id" in item]
    assert {item["profile_id"] for item in identity_rows} == {remaining["id"]}
    assert wiring.container().erasure.erase("sandbox", "ada@example.com") is None
