"""The ingest pipeline's rules on in-memory ports (credentials, parking, dedupe, one handler):
verify, validate, dedupe, process, or park and acknowledge; the retry path lets faults through."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from bcsync.domain.refusals import Refusal
from bcsync.domain.stores import Family, StoreCredentials
from bcsync.domain.webhooks import WebhookRejected, sign
from bcsync.usecases.ingest import DeliveryInProgress, RawDelivery, WebhookIngest
from bcsync.usecases.ports import UnknownStore
from tests.factories import webhook_body

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
SECRET = "client-secret-for-the-test-store"


class Credentials:
    def __init__(self, *, unavailable: bool = False) -> None:
        self.unavailable = unavailable

    def credentials(self, store_hash: str) -> StoreCredentials:
        if self.unavailable:
            raise ConnectionError("Secrets Manager unreachable")
        if store_hash != "abc123":
            raise UnknownStore(store_hash)
        return StoreCredentials(access_token="token", client_secret=SECRET)


class Parker:
    def __init__(self) -> None:
        self.parked: list[RawDelivery] = []

    def park(self, delivery: RawDelivery) -> None:
        self.parked.append(delivery)


class Dedupe:
    """Runs each webhook-id's work once and remembers its answer, as the idempotency table does."""

    def __init__(self, *, busy: bool = False) -> None:
        self.answers: dict[str | None, dict[str, object]] = {}
        self.busy = busy

    def run_once(self, webhook_id: str | None, work: Callable[[], dict[str, object]]) -> dict[str, object]:
        if self.busy:
            raise DeliveryInProgress
        if webhook_id not in self.answers:
            self.answers[webhook_id] = work()
        return self.answers[webhook_id]


class Orders:
    """The orders handler: records which orders it processed; fails while `failing`."""

    def __init__(self) -> None:
        self.processed: list[int] = []
        self.failing = False

    def prepare(self, envelope, context):
        order_id = int(envelope.data["id"])

        def work(budget_seconds: float) -> dict[str, object]:
            if self.failing:
                raise ConnectionError("BigCommerce answered 503")
            self.processed.append(order_id)
            return {"status": "recorded", "order_id": order_id}

        return work


def pipeline(credentials=None, dedupe=None):
    parker, orders = Parker(), Orders()
    ingest = WebhookIngest(
        credentials or Credentials(),
        {Family.ORDERS: orders},
        parker,
        dedupe or Dedupe(),
        webhook_budget_seconds=2,
        retry_budget_seconds=60,
    )
    return ingest, parker, orders


def delivery(scope="store/order/created", *, store="abc123", family=Family.ORDERS, body=None, signed=True, msg="m-1"):
    payload = body if body is not None else webhook_body(scope, {"type": "order", "id": 7}, store_hash=store)
    headers = sign(SECRET, msg, NOW, payload) if signed else {}
    return RawDelivery.received(family, headers, payload, NOW)


def refusal(ingest, raw) -> Refusal:
    with pytest.raises(WebhookRejected) as refused:
        ingest.receive(raw)
    return refused.value.reason


def test_an_accepted_delivery_is_processed_once_however_often_it_arrives():
    ingest, parker, orders = pipeline()
    assert ingest.receive(delivery()) == {"status": "recorded", "order_id": 7}
    assert ingest.receive(delivery()) == {"status": "recorded", "order_id": 7}  # BigCommerce's retry
    assert orders.processed == [7] and parker.parked == []


def test_bad_input_is_refused_by_reason_and_touches_nothing():
    ingest, parker, orders = pipeline()
    assert refusal(ingest, delivery(signed=False)) is Refusal.UNAUTHENTICATED
    assert refusal(ingest, delivery(body="not json")) is Refusal.INVALID
    assert refusal(ingest, delivery(body="x" * 2_000_000)) is Refusal.TOO_LARGE
    assert refusal(ingest, delivery(store="zzz999")) is Refusal.UNKNOWN
    assert refusal(ingest, delivery(family=Family.CARTS)) is Refusal.INVALID  # an order on the carts route
    assert orders.processed == [] and parker.parked == []


def test_a_scope_bcsync_does_not_handle_is_acknowledged_and_ignored():
    ingest, _, orders = pipeline()
    assert ingest.receive(delivery("store/order/message/created")) == {
        "status": "ignored",
        "scope": "store/order/message/created",
    }
    assert orders.processed == []


def test_a_fault_downstream_parks_the_delivery_authenticated_and_the_retry_processes_it():
    ingest, parker, orders = pipeline()
    orders.failing = True
    assert ingest.receive(delivery()) == {"status": "parked"}
    [parked] = parker.parked
    assert parked.authenticated and set(parked.headers) == {"webhook-id"}  # no signature kept
    with pytest.raises(ConnectionError):
        ingest.retry(parked)  # still failing: SQS will redeliver
    orders.failing = False
    assert ingest.retry(parked) == {"status": "recorded", "order_id": 7}
    assert orders.processed == [7]


def test_unreadable_credentials_park_the_delivery_unverified_and_the_retry_verifies_it():
    ingest, parker, orders = pipeline(credentials=Credentials(unavailable=True))
    assert ingest.receive(delivery()) == {"status": "parked"}
    [parked] = parker.parked
    assert not parked.authenticated
    verified, _, verified_orders = pipeline()
    assert verified.retry(parked)["status"] == "recorded"
    forged = RawDelivery.received(
        Family.ORDERS, {**parked.headers, "webhook-signature": "v1,Zm9yZ2Vk"}, parked.body, NOW
    )
    assert verified.retry(forged)["status"] == "rejected"  # dropped, not retried forever
    assert orders.processed == [] and verified_orders.processed == [7]


def test_the_same_delivery_in_progress_elsewhere_is_refused_for_now_so_that_it_is_retried():
    ingest, parker, orders = pipeline(dedupe=Dedupe(busy=True))
    with pytest.raises(WebhookRejected) as refused:
        ingest.receive(delivery())
    assert refused.value.reason is Refusal.BUSY
    assert orders.processed == [] and parker.parked == []
