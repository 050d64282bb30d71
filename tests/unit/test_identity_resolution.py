"""ProfileBook's identity rules against in-memory ports: one profile per person, in any arrival order."""

from __future__ import annotations

import pytest

from bcsync.domain.profiles import blank_profile
from bcsync.usecases.changes import ChangeWriter
from bcsync.usecases.profiles import ProfileBook
from bcsync.usecases.triggers import TriggerCourier
from tests.unit.memory import MemoryStore, Publisher


class MemoryEvents:
    def __init__(self):
        self.owner = {}

    def reassign(self, store_hash, from_profile, to_profile):
        moved = [event for event, owner in self.owner.items() if owner == from_profile]
        self.owner.update(dict.fromkeys(moved, to_profile))
        return len(moved)


@pytest.fixture
def book():
    repository, events = MemoryStore(), MemoryEvents()
    courier = TriggerCourier(repository, repository, Publisher())
    book = ProfileBook(repository, events, ChangeWriter(repository, courier, frozenset()))
    book.repository, book.events = repository, events
    return book


def seen(book, *, customer_id=None, email=None, authoritative=False, at="2026-06-01T00:00:00.000Z"):
    """Resolve, and store the profile with what this sighting says (as the use cases do)."""
    profile_id = book.resolve("s", customer_id=customer_id, email=email, authoritative=authoritative)
    current = book.repository.get("s", profile_id) or blank_profile(profile_id, "s", at)
    current.add_alias(email)
    if customer_id and authoritative:
        current.external_id = str(customer_id)
        current.email = email
    book.repository.put_profile(current)
    return current.id


@pytest.mark.parametrize("account_first", [False, True])
def test_guest_and_account_with_one_email_are_one_profile_in_either_order(book, account_first):
    sightings = [{"customer_id": 7, "email": "a@x.com", "authoritative": True}, {"email": "a@x.com"}]
    ids = [seen(book, **kwargs) for kwargs in (sightings[::-1] if not account_first else sightings)]
    assert ids[0] == ids[1]
    assert book.repository.find("s", "customer", "7") == ids[0]


@pytest.mark.parametrize("order_after_change", [False, True])
def test_an_email_change_keeps_the_profile_whichever_arrives_first(book, order_after_change):
    account = seen(book, customer_id=7, email="a@x.com", authoritative=True, at="2026-01-01T00:00:00.000Z")
    steps = [
        lambda: seen(book, customer_id=7, email="b@x.com", authoritative=True),
        lambda: seen(book, email="b@x.com"),
    ]
    if not order_after_change:
        steps.reverse()
    for step in steps:
        step()
    assert seen(book, email="b@x.com") == account
    assert book.repository.find("s", "customer", "7") == account
    assert len(book.repository.profiles) == 1


def test_an_account_taking_a_guest_email_merges_the_guest_in_keeping_the_older_id(book):
    guest = seen(book, email="b@x.com", at="2026-01-01T00:00:00.000Z")
    book.events.owner["guest-order"] = guest
    account = seen(book, customer_id=7, email="a@x.com", authoritative=True, at="2026-02-01T00:00:00.000Z")
    book.events.owner["account-order"] = account
    survivor = book.resolve("s", customer_id=7, email="b@x.com", authoritative=True)
    assert survivor == guest
    assert set(book.events.owner.values()) == {guest}
    assert {book.repository.find("s", "email", e) for e in ("a@x.com", "b@x.com")} == {guest}
    assert book.repository.find("s", "customer", "7") == guest
    assert book.repository.get("s", account).id == guest  # the old id still finds the person


def test_an_order_email_never_takes_an_address_from_another_profile(book):
    other = seen(book, customer_id=8, email="b@x.com", authoritative=True)
    mine = seen(book, customer_id=7, email="a@x.com", authoritative=True)
    assert book.resolve("s", customer_id=7, email="b@x.com") == mine  # a billing email, not the account's
    assert book.repository.find("s", "email", "b@x.com") == other
    assert len(book.repository.profiles) == 2


def test_an_address_moved_to_a_new_account_goes_with_it(book):
    old = seen(book, customer_id=7, email="a@x.com", authoritative=True)
    new = book.resolve("s", customer_id=8, email="a@x.com", authoritative=True)
    assert new != old
    assert book.repository.find("s", "email", "a@x.com") == new
    assert book.repository.find("s", "customer", "7") == old


def test_a_merge_interrupted_after_the_pointer_completes_without_retiring_the_survivor(book):
    guest = seen(book, email="b@x.com", at="2026-01-01T00:00:00.000Z")
    account = seen(book, customer_id=7, email="a@x.com", authoritative=True, at="2026-02-01T00:00:00.000Z")
    book.repository.retire(
        "s", account, merged_into=guest, revision=book.repository.get("s", account).revision
    )  # crashed before the identities moved
    assert book.resolve("s", customer_id=7, email="b@x.com", authoritative=True) == guest
    assert book.merge("s", account, guest) == guest
    assert book.repository.get("s", guest).id == guest
    assert book.repository.get("s", account).id == guest


def meanwhile(book, monkeypatch, kind, value, sighting):
    """`sighting` lands, whole, between a resolve's reads and its claim of (kind, value): as a
    concurrent delivery's does."""
    claim, landed, started = book.repository.claim, [], []

    def claim_after_it(store_hash, claimed_kind, claimed_value, profile_id):
        if (claimed_kind, claimed_value) == (kind, value) and not started:
            started.append(True)
            landed.append(sighting())
        return claim(store_hash, claimed_kind, claimed_value, profile_id)

    monkeypatch.setattr(book.repository, "claim", claim_after_it)
    return landed


def test_a_new_account_whose_address_a_guest_claimed_meanwhile_merges_the_guest_in(book, monkeypatch):
    landed = meanwhile(book, monkeypatch, "email", "a@x.com", lambda: seen(book, email="a@x.com"))
    account = seen(book, customer_id=7, email="a@x.com", authoritative=True)
    assert landed == [account]  # the guest's profile, older by a moment, is the account's
    assert book.repository.find("s", "customer", "7") == book.repository.find("s", "email", "a@x.com") == account
    assert len(book.repository.profiles) == 1


def test_an_account_whose_new_address_a_guest_claimed_meanwhile_merges_the_guest_in(book, monkeypatch):
    account = seen(book, customer_id=7, email="a@x.com", authoritative=True, at="2026-01-01T00:00:00.000Z")
    landed = meanwhile(book, monkeypatch, "email", "b@x.com", lambda: seen(book, email="b@x.com"))
    assert seen(book, customer_id=7, email="b@x.com", authoritative=True) == account
    assert landed and landed[0] != account
    assert book.repository.get("s", landed[0]).id == account  # the guest's id finds the account
    assert book.repository.find("s", "email", "b@x.com") == account
    assert len({p.id for p in book.repository.profiles.values()}) == 1


def test_an_order_whose_account_was_claimed_meanwhile_joins_the_accounts_profile(book, monkeypatch):
    guest = seen(book, email="a@x.com")
    landed = meanwhile(
        book, monkeypatch, "customer", "7", lambda: seen(book, customer_id=7, email="b@x.com", authoritative=True)
    )
    assert book.resolve("s", customer_id=7, email="a@x.com") == landed[0] != guest
    assert book.repository.find("s", "customer", "7") == landed[0]
