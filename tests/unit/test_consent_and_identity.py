"""Consent transitions, double opt-in tokens, customer facts, merges and the settings file."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bcsync.domain.bigcommerce import Customer, Subscriber
from bcsync.domain.confirmation import (
    UNSUBSCRIBE_PURPOSE,
    InvalidConfirmation,
    LinkClaims,
    issue_token,
    read_claims,
    verify_token,
)
from bcsync.domain.consent import (
    ConfirmOutcome,
    apply_subscriber_state,
    confirm_subscription,
    subscriber_state,
    unsubscribe_by_link,
)
from bcsync.domain.field_mapping import mapped_properties, parse_field_mapping
from bcsync.domain.flows import Flow
from bcsync.domain.profiles import (
    Profile,
    apply_customer,
    apply_order_contact,
    blank_profile,
    contact_from_order,
    merge_profiles,
    survivor,
    unlink_account,
)
from bcsync.domain.refusals import Refusal
from bcsync.settings import SettingsFile
from tests.factories import order

NOW = "2026-11-22T10:00:00.000Z"
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def subscriber(consents=("marketing_newsletter",), at=T0, **extra) -> Subscriber:
    return Subscriber.model_validate(
        {
            "id": 5,
            "email": "lin@example.com",
            "source": "storefront",
            "consents": list(consents),
            "date_modified": at.isoformat(),
            **extra,
        }
    )


def profile(**fields) -> Profile:
    return blank_profile("p-1", "s", NOW).model_copy(update=fields)


def apply(current, record, *, doi=False, live=True, deleted_at=T0):
    state = subscriber_state(record, deleted_at=deleted_at)
    return apply_subscriber_state(current, state, double_opt_in=doi, live=live, now=NOW)


# ---------------------------------------------------------------------- consent
def test_subscribing_promises_one_welcome_series_and_joins_the_list():
    updated = apply(profile(), subscriber())
    assert updated.consent.email_marketing == "subscribed"
    assert updated.consent.updated_at == "2026-11-20T09:00:00Z"
    assert updated.lists == ["Subscribers"]
    assert [intent.flow for intent in updated.outbox] == [Flow.WELCOME_SERIES]
    again = apply(updated.model_copy(update={"outbox": []}), subscriber(at=T0 + timedelta(hours=1)))
    assert again.outbox == []  # still subscribed: no new episode


@pytest.mark.parametrize("record", [subscriber(consents=()), subscriber(consents=("abandoned_cart",)), None])
def test_a_record_without_the_newsletter_consent_or_no_record_is_unsubscribed(record):
    subscribed = apply(profile(), subscriber(at=T0 - timedelta(days=1)))
    updated = apply(subscribed, record, deleted_at=T0)
    assert updated.consent.email_marketing == "unsubscribed"
    assert updated.lists == []
    assert [i.flow for i in updated.outbox] == [Flow.WELCOME_SERIES]  # nothing new promised


def test_an_older_record_never_overrides_a_newer_one():
    newer = apply(profile(), subscriber(consents=(), at=T0))
    assert apply(newer, subscriber(at=T0 - timedelta(minutes=1))) == newer


def test_backfill_moves_consent_but_promises_nothing():
    assert apply(profile(), subscriber(), live=False).outbox == []
    assert apply(profile(), subscriber(), doi=True, live=False).outbox == []


def test_double_opt_in_is_pending_until_confirmed_then_welcome():
    pending = apply(profile(), subscriber(), doi=True)
    assert pending.consent.email_marketing == "pending"
    assert pending.lists == []
    assert [i.flow for i in pending.outbox] == [Flow.CONFIRM_SUBSCRIPTION]
    assert apply(pending, subscriber(at=T0 + timedelta(hours=1)), doi=True).outbox == pending.outbox
    confirmed, outcome = confirm_subscription(pending, at=T0 + timedelta(hours=2), now=NOW)
    assert outcome is ConfirmOutcome.CONFIRMED
    assert confirmed.consent.email_marketing == "subscribed"
    assert confirmed.lists == ["Subscribers"]
    assert [i.flow for i in confirmed.outbox] == [Flow.CONFIRM_SUBSCRIPTION, Flow.WELCOME_SERIES]
    assert confirm_subscription(confirmed, at=T0, now=NOW)[1] is ConfirmOutcome.ALREADY_CONFIRMED
    assert apply(confirmed, subscriber(at=T0 + timedelta(hours=3)), doi=True).consent.email_marketing == "subscribed"
    assert confirm_subscription(profile(), at=T0, now=NOW)[1] is ConfirmOutcome.NOT_PENDING


# ---------------------------------------------------------------------- confirmation links
def test_confirmation_tokens_round_trip_and_refuse_tampering_other_keys_and_expiry():
    claims = LinkClaims("s", "p-1", T0 + timedelta(days=7))
    token = issue_token("secret", claims)
    assert verify_token(token, "secret", now=T0) == claims
    assert read_claims(token).store_hash == "s"
    payload, signature = token.split(".")
    tampered = f"{payload[:-2]}xx.{signature}"
    for bad, key in ((token, "other"), (tampered, "secret"), ("a.b.c", "secret")):
        with pytest.raises(InvalidConfirmation) as refused:
            verify_token(bad, key, now=T0)
        assert refused.value.reason is Refusal.INVALID
    with pytest.raises(InvalidConfirmation) as expired:
        verify_token(token, "secret", now=T0 + timedelta(days=8))
    assert expired.value.reason is Refusal.EXPIRED


# ---------------------------------------------------------------------- customers and orders
CUSTOMER = Customer.model_validate(
    {
        "id": 7,
        "email": "Ada@Example.com",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "phone": "555",
        "company": "Engines",
        "date_modified": "2026-11-20T09:00:00Z",
        "addresses": [{"address1": "1 Main", "city": "London", "state_or_province": "Greater London"}],
        "store_credit_amounts": [{"amount": 10.5}, {"amount": 2}],
    }
)


def test_the_account_outranks_order_billing_details_in_either_order():
    mapped = mapped_properties(CUSTOMER, parse_field_mapping({"First name": "First Name", "Last name": "Last Name"}))
    contact = contact_from_order(order())  # billing: Jane Doe, jane@example.com, newer than nothing
    account_first = apply_order_contact(
        apply_customer(None, CUSTOMER, mapped=mapped, group_name="VIP", profile_id="p", store_hash="s", now=NOW),
        contact,
        profile_id="p",
        store_hash="s",
        now=NOW,
    )
    order_first = apply_customer(
        apply_order_contact(None, contact, profile_id="p", store_hash="s", now=NOW),
        CUSTOMER,
        mapped=mapped,
        group_name="VIP",
        profile_id="p",
        store_hash="s",
        now=NOW,
    )
    for result in (account_first, order_first):
        assert result.email == "ada@example.com"
        assert result.properties["First Name"] == "Ada"
        assert result.properties["Customer Group"] == "VIP"
        assert str(result.properties["Store Credit"]) == "12.5"
        assert result.properties["City"] == "Austin"  # location only from orders
        assert set(result.aliases) == {"ada@example.com", "jane@example.com"}


def test_created_promises_new_customer_once_and_deletion_unlinks_the_account():
    created = apply_customer(
        None, CUSTOMER, mapped={}, group_name=None, profile_id="p", store_hash="s", now=NOW, created=True
    )
    assert [i.dedup_key for i in created.outbox] == ["new_customer:s:p:customer:7"]
    unlinked = unlink_account(created, now=NOW)
    assert unlinked.external_id is None
    assert "External ID" not in unlinked.properties
    assert unlinked.lists == []  # never ordered: a customer only by the account
    assert unlinked.email == "ada@example.com"


def test_merging_keeps_the_older_id_its_facts_and_the_union_of_the_rest():
    older = profile(
        id="p-old",
        created_at="2026-01-01T00:00:00.000Z",
        email="g@x.com",
        aliases=["g@x.com"],
        properties={"First Name": "G", "City": "Rome"},
        order_facts_as_of="2026-01-01",
        lists=["Customers"],
    )
    newer = profile(
        id="p-new",
        created_at="2026-02-01T00:00:00.000Z",
        email="a@x.com",
        external_id="7",
        aliases=["a@x.com"],
        properties={"First Name": "Ada", "External ID": "7", "City": "Oslo"},
        order_facts_as_of="2026-03-01",
        lists=["Customers", "Subscribers"],
    )
    keep, gone = survivor(newer, older)
    assert (keep.id, gone.id) == ("p-old", "p-new")
    merged = merge_profiles(keep, gone, now=NOW)
    assert merged.id == "p-old"
    assert merged.external_id == "7"
    assert merged.properties["First Name"] == "G"  # the survivor's own facts win
    assert merged.properties["City"] == "Oslo"  # location from the newer order
    assert merged.lists == ["Customers", "Subscribers"]
    assert merged.aliases == ["a@x.com", "g@x.com"]
    assert merged.created_at == "2026-01-01T00:00:00.000Z"


# ---------------------------------------------------------------------- field mapping and settings
def test_field_mapping_reads_named_fields_and_refuses_unknown_or_reserved_ones():
    mapping = parse_field_mapping({"company": "Company", "Billing City": "Home City", "Shipping state": "State"})
    assert mapped_properties(CUSTOMER, mapping) == {
        "Company": "Engines",
        "Home City": "London",
        "State": "Greater London",
    }
    with pytest.raises(ValueError, match="unknown BigCommerce customer field 'Favourite colour'"):
        parse_field_mapping({"Favourite colour": "Colour"})
    with pytest.raises(ValueError, match="cannot map to 'Email'"):
        parse_field_mapping({"Note": "Email"})
    with pytest.raises(ValueError, match="same property"):
        parse_field_mapping({"Phone": "Phone", "Billing phone": "Phone"})


def test_the_settings_file_applies_store_overrides_and_fails_loudly(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(
        json.dumps({"defaults": {"field_mapping": {"Company": "Company"}}, "stores": {"abc": {"double_opt_in": True}}})
    )
    loaded = SettingsFile.load(str(path))
    assert loaded.for_store("abc").double_opt_in is True
    assert loaded.for_store("abc").field_mapping == {"Company": "Company"}
    assert loaded.for_store("other").double_opt_in is False
    path.write_text(json.dumps({"defaults": {"field_mapping": {"Shoe size": "Size"}}}))
    with pytest.raises(ValueError, match="Shoe size"):
        SettingsFile.load(str(path))
    path.write_text(json.dumps({"defaults": {"double_opt_inn": True}}))
    with pytest.raises(ValueError, match="double_opt_inn"):
        SettingsFile.load(str(path))
    with pytest.raises(ValueError, match="does not exist"):
        SettingsFile.load(str(tmp_path / "missing.json"))


def test_an_unsubscribe_link_withdraws_consent_as_of_the_click_and_only_a_later_record_restores_it():
    subscribed = apply(profile(), subscriber(at=T0))
    clicked = unsubscribe_by_link(subscribed, at=T0 + timedelta(days=3), now=NOW)
    assert (clicked.consent.email_marketing, clicked.consent.source, clicked.lists) == (
        "unsubscribed",
        "unsubscribe link",
        [],
    )
    assert unsubscribe_by_link(clicked, at=T0 + timedelta(days=4), now=NOW) == clicked  # a second click
    assert apply(clicked, subscriber(at=T0 + timedelta(days=1))) == clicked  # BigCommerce's older record
    again = apply(clicked, subscriber(at=T0 + timedelta(days=5)))  # they subscribed again in the store
    assert again.consent.email_marketing == "subscribed"


def test_an_unsubscribe_token_and_a_confirmation_token_never_pass_for_each_other():
    claims = LinkClaims("abc123", "p-1", T0 + timedelta(days=365))
    unsubscribe = issue_token("secret", claims, purpose=UNSUBSCRIBE_PURPOSE)
    confirmation = issue_token("secret", claims)
    assert verify_token(unsubscribe, "secret", now=T0, purpose=UNSUBSCRIBE_PURPOSE) == claims
    with pytest.raises(InvalidConfirmation):
        verify_token(unsubscribe, "secret", now=T0)
    with pytest.raises(InvalidConfirmation):
        verify_token(confirmation, "secret", now=T0, purpose=UNSUBSCRIBE_PURPOSE)
