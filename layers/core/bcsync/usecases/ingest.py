"""Webhook ingestion: verify -> validate -> dedupe -> process, or park and acknowledge.

One pipeline serves the webhook function and the retry consumer. The webhook path answers 200 for
every accepted delivery: when BigCommerce or AWS fails mid-way it parks the delivery on the retry
queue (only a failure to park surfaces as 5xx). The retry path runs the same steps and lets a fault
propagate, so SQS redelivers and finally dead-letters the message.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from bcsync.domain.refusals import Refusal
from bcsync.domain.stores import HANDLED_SCOPES, Family, StoreCredentials
from bcsync.domain.webhooks import (
    AUTH_HEADERS,
    MAX_BODY_BYTES,
    WebhookData,
    WebhookEnvelope,
    WebhookRejected,
    authenticate,
    store_hash_of,
)
from bcsync.observability import logger, metrics
from bcsync.usecases.ports import CredentialStore, UnknownStore

# BigCommerce retries a delivery for about 48 hours; an event time older than this is not one.
EVENT_TIME_TRUST = timedelta(hours=72)


class RawDelivery(BaseModel):
    """A delivery as received; what the retry queue carries. Once authenticated it is parked
    without its credentials (the queue is writable only by our own functions)."""

    family: Family
    headers: dict[str, str]
    body: str
    received_at: datetime
    authenticated: bool = False
    # The public base URL the delivery came in on: links bcsync hands out point back at it.
    origin: str | None = None

    @classmethod
    def received(
        cls, family: Family, headers: Mapping[str, str], body: str, at: datetime, *, origin: str | None = None
    ) -> RawDelivery:
        lowered = {key.lower(): value for key, value in headers.items()}
        kept = {name: lowered[name] for name in AUTH_HEADERS if name in lowered}
        return cls(family=family, headers=kept, body=body, received_at=at, origin=origin)

    def as_authenticated(self) -> RawDelivery:
        kept = {"webhook-id": self.headers["webhook-id"]} if "webhook-id" in self.headers else {}
        return self.model_copy(update={"authenticated": True, "headers": kept})

    @property
    def webhook_id(self) -> str | None:
        return self.headers.get("webhook-id")


@dataclass(frozen=True)
class DeliveryContext:
    received_at: datetime
    origin: str | None

    def event_time(self, envelope: WebhookEnvelope) -> datetime:
        """When the change happened, for records that no longer exist to say so: the body's
        `created_at` when it is plausible (BigCommerce documents it inconsistently), else the
        time the delivery arrived."""
        stated = datetime.fromtimestamp(envelope.created_at, tz=UTC)
        plausible = self.received_at - EVENT_TIME_TRUST <= stated <= self.received_at
        return stated if plausible else self.received_at


# The processing of one delivery, given how many seconds it may wait on BigCommerce.
Work = Callable[[float], dict[str, object]]
DataModel = TypeVar("DataModel", bound=WebhookData)


class DeliveryHandler(Protocol):
    def prepare(self, envelope: WebhookEnvelope, context: DeliveryContext) -> Work:
        """Validate the family-specific data (WebhookRejected on bad input) and return the work."""
        ...


def _first_error(exc: ValidationError, whole: str) -> str:
    """The first fault as `where: what`; `whole` names the object when the fault is all of it."""
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"]) or whole
    return f"{where}: {error['msg']}"


def webhook_data(model: type[DataModel], envelope: WebhookEnvelope, *, types: tuple[str, ...]) -> DataModel:
    """The body's `data` as the family's model; anything else is a 400 naming the field."""
    try:
        data = model.model_validate(envelope.data)
    except ValidationError as exc:
        raise WebhookRejected(Refusal.INVALID, f"invalid {envelope.scope} data: {_first_error(exc, 'data')}") from None
    if data.type not in types:
        raise WebhookRejected(Refusal.INVALID, f"data.type must be one of {list(types)} for {envelope.scope}")
    return data


class DeliveryParker(Protocol):
    def park(self, delivery: RawDelivery) -> None: ...


class DeliveryInProgress(Exception):
    """The same webhook-id is being processed right now by another invocation."""


class DeliveryDedupe(Protocol):
    def run_once(self, webhook_id: str | None, work: Callable[[], dict[str, object]]) -> dict[str, object]: ...


class WebhookIngest:
    def __init__(
        self,
        credentials: CredentialStore,
        handlers: Mapping[Family, DeliveryHandler],
        parker: DeliveryParker,
        dedupe: DeliveryDedupe,
        *,
        webhook_budget_seconds: float,
        retry_budget_seconds: float,
    ) -> None:
        self._credentials = credentials
        self._handlers = handlers
        self._parker = parker
        self._dedupe = dedupe
        self._webhook_budget = webhook_budget_seconds
        self._retry_budget = retry_budget_seconds

    def receive(self, delivery: RawDelivery) -> dict[str, object]:
        """Webhook path: WebhookRejected for bad input, otherwise an acknowledgement."""
        body, store_hash = self._read(delivery)
        try:
            credentials = self._credentials_for(store_hash)
        except WebhookRejected:
            raise
        except Exception:
            # Credentials unreadable right now: park unauthenticated; the retry verifies the
            # signature against the time the delivery was received.
            logger.exception("store credentials unavailable; parking delivery")
            return self._park(delivery)
        authenticate(delivery.headers, delivery.body, credentials, now=delivery.received_at)
        envelope = self._validate(body)
        work = self._prepare(delivery, envelope)
        if work is None:
            return {"status": "ignored", "scope": envelope.scope}
        try:
            return self._dedupe.run_once(delivery.webhook_id, lambda: work(self._webhook_budget))
        except DeliveryInProgress:
            # Not acknowledged: were the other invocation to die, BigCommerce's retry (a minute
            # on, after that invocation's in-progress record has expired) does the work.
            raise WebhookRejected(Refusal.BUSY, "this delivery is being processed; retry later") from None
        except Exception:
            logger.exception("processing failed; parking delivery", extra={"scope": envelope.scope})
            return self._park(delivery.as_authenticated())

    def retry(self, delivery: RawDelivery) -> dict[str, object]:
        """Retry path: faults propagate (SQS redelivers); a delivery that fails checks is dropped."""
        try:
            body, store_hash = self._read(delivery)
            if not delivery.authenticated:
                credentials = self._credentials_for(store_hash)
                authenticate(delivery.headers, delivery.body, credentials, now=delivery.received_at)
            work = self._prepare(delivery, self._validate(body))
        except WebhookRejected as exc:
            logger.warning("parked delivery rejected; dropping it", extra={"reason": exc.message})
            return {"status": "rejected", "error": exc.message}
        if work is None:
            return {"status": "ignored"}
        return self._dedupe.run_once(delivery.webhook_id, lambda: work(self._retry_budget))

    def _credentials_for(self, store_hash: str) -> StoreCredentials:
        try:
            return self._credentials.credentials(store_hash)
        except UnknownStore:
            raise WebhookRejected(Refusal.UNKNOWN, f"unknown store {store_hash}") from None

    @staticmethod
    def _read(delivery: RawDelivery) -> tuple[dict[str, object], str]:
        """Size, JSON and the producer's store hash: all that is needed to find the secret."""
        if len(delivery.body.encode()) > MAX_BODY_BYTES:
            raise WebhookRejected(Refusal.TOO_LARGE, f"body larger than {MAX_BODY_BYTES} bytes")
        try:
            body = json.loads(delivery.body)
        except json.JSONDecodeError:
            raise WebhookRejected(Refusal.INVALID, "body is not valid JSON") from None
        if not isinstance(body, dict):
            raise WebhookRejected(Refusal.INVALID, "body must be a JSON object")
        return body, store_hash_of(body)

    @staticmethod
    def _validate(body: dict[str, object]) -> WebhookEnvelope:
        try:
            return WebhookEnvelope.model_validate(body)
        except ValidationError as exc:
            raise WebhookRejected(Refusal.INVALID, f"invalid webhook body: {_first_error(exc, 'body')}") from None

    def _prepare(self, delivery: RawDelivery, envelope: WebhookEnvelope) -> Work | None:
        if envelope.family() != delivery.family:
            raise WebhookRejected(
                Refusal.INVALID, f"scope {envelope.scope} does not belong on /webhooks/{delivery.family}"
            )
        if envelope.scope not in HANDLED_SCOPES.get(delivery.family, frozenset()):
            return None
        context = DeliveryContext(received_at=delivery.received_at, origin=delivery.origin)
        return self._handlers[delivery.family].prepare(envelope, context)

    def _park(self, delivery: RawDelivery) -> dict[str, object]:
        self._parker.park(delivery)
        metrics.add_metric(name="DeliveriesParked", unit="Count", value=1)
        return {"status": "parked"}
