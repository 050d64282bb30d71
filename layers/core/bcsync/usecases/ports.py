"""What the use cases need from the outside world; adapters implement these.

The domain types are imported for the type checker only: a function that imports a port does not
load every model the other ports name (a cold start pays for each one)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, Literal, Protocol, TypeVar

if TYPE_CHECKING:
    from datetime import datetime

    from bcsync.domain.bigcommerce import (
        Brand,
        CartRedirectUrls,
        CatalogProduct,
        Category,
        Checkout,
        CreatedCart,
        Customer,
        CustomerGroup,
        Hook,
        Order,
        OrderCount,
        OrderLine,
        Refund,
        StoreInfo,
        Subscriber,
    )
    from bcsync.domain.catalog import CatalogItem
    from bcsync.domain.counters import Amount, Bucket
    from bcsync.domain.events import MarketingEvent
    from bcsync.domain.flow_definitions import FlowFile
    from bcsync.domain.flow_runs import FlowRun
    from bcsync.domain.flows import TriggerIntent
    from bcsync.domain.profiles import Profile
    from bcsync.domain.signups import SignupClaim, SignupLink
    from bcsync.domain.stores import StoreCredentials
    from bcsync.domain.sync import BackfillState, ImportProgress, ReconcileState, SyncControl, Window

# `signup`: a newsletter sign-up on the storefront, for the browser that made it (onsite tracking).
IdentityKind = Literal["customer", "email", "subscriber", "signup"]
NameKind = Literal["category", "brand", "customer_group"]


class DownstreamFault(Exception):
    """BigCommerce or AWS could not do its part now; the work must be retried, never dropped."""


class UnknownStore(Exception):
    """No credentials are configured for the store named by a delivery."""


class CredentialStore(Protocol):
    def credentials(self, store_hash: str) -> StoreCredentials: ...


class BigCommerceReader(Protocol):
    def get_order(self, order_id: int) -> Order | None: ...
    def get_order_products(self, order_id: int) -> list[OrderLine]: ...
    def get_order_coupon_codes(self, order_id: int) -> list[str]: ...
    def get_order_refunds(self, order_id: int) -> list[Refund]: ...
    def get_products(self, product_ids: Sequence[int]) -> list[CatalogProduct]: ...
    def get_categories(self, category_ids: Sequence[int]) -> list[Category]: ...
    def get_brands(self, brand_ids: Sequence[int]) -> list[Brand]: ...
    def get_store_info(self) -> StoreInfo: ...
    def get_checkout(self, checkout_id: str) -> Checkout | None: ...
    def get_customer(self, customer_id: int) -> Customer | None: ...
    def get_customer_group(self, group_id: int) -> CustomerGroup | None: ...
    def get_subscriber(self, subscriber_id: int) -> Subscriber | None: ...
    def find_subscriber(self, email: str) -> Subscriber | None: ...


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a v3 collection, with the total BigCommerce reported alongside it."""

    rows: list[T] = field(default_factory=list)
    total: int | None = None
    total_pages: int | None = None


class BigCommercePoller(BigCommerceReader, Protocol):
    """The collection reads reconciliation and backfill page through, and the writes: hooks, and
    carts recreated for a recovery link."""

    @property
    def requests_made(self) -> int: ...
    @property
    def page_size(self) -> int: ...
    def orders_page(self, window: Window, *, after_id: int, with_lines: bool = True) -> list[Order]: ...
    def count_orders(self, window: Window) -> OrderCount: ...
    def refunds_page(self, window: Window, *, page: int) -> Page[Refund]: ...
    def customers_page(self, window: Window, *, page: int) -> Page[Customer]: ...
    def subscribers_page(self, window: Window, *, page: int) -> Page[Subscriber]: ...
    def products_page(self, window: Window, *, page: int) -> Page[CatalogProduct]: ...
    def list_hooks(self) -> list[Hook]: ...
    def create_hook(self, scope: str, destination: str, headers: dict[str, str] | None) -> Hook: ...
    def activate_hook(self, hook_id: int, headers: dict[str, str] | None) -> Hook: ...
    def create_cart(self, body: dict[str, object]) -> CreatedCart: ...
    def create_cart_redirect(self, cart_id: str) -> CartRedirectUrls: ...


class BigCommerceConnector(Protocol):
    def reader(
        self, store_hash: str, *, budget_seconds: float, quota_share: float | None = None
    ) -> BigCommercePoller: ...


class CatalogRepository(Protocol):
    def get_items(self, store_hash: str, product_ids: Iterable[int]) -> dict[int, CatalogItem]: ...
    def put_items(self, store_hash: str, items: Iterable[CatalogItem]) -> None: ...
    def delete_items(self, store_hash: str, product_ids: Iterable[int]) -> None: ...
    def get_names(self, store_hash: str, kind: NameKind, ids: Iterable[int]) -> dict[int, str]:
        """Cached names of categories, brands or customer groups, by id."""
        ...

    def put_names(self, store_hash: str, kind: NameKind, names: dict[int, str]) -> None: ...
    def get_store_info(self, store_hash: str) -> StoreInfo | None: ...
    def put_store_info(self, store_hash: str, info: StoreInfo) -> None: ...


class EventLedger(Protocol):
    def reassign(self, store_hash: str, from_profile: str, to_profile: str) -> int:
        """Move a merged profile's events to the profile that absorbed it; return how many."""
        ...

    def erase(self, store_hash: str, profile_id: str) -> int: ...


Identity = tuple[IdentityKind, str]


@dataclass(frozen=True)
class Lookup:
    """What one change needs to know before it writes: read together, in one request."""

    store_hash: str
    identities: tuple[Identity, ...] = ()
    profile_ids: tuple[str, ...] = ()
    event_ids: tuple[str, ...] = ()
    product_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class Known:
    """The answers to a Lookup. `profiles` answers every profile id looked up (None: there is
    none) except a merged one, which only the repository follows to its survivor."""

    identities: dict[Identity, str] = field(default_factory=dict)
    profiles: dict[str, Profile | None] = field(default_factory=dict)
    events: dict[str, MarketingEvent] = field(default_factory=dict)
    catalog: dict[int, CatalogItem] = field(default_factory=dict)


@dataclass(frozen=True)
class Change:
    """Everything one change writes, all of it or none: new events, identity claims and trigger
    reservations (each only if absent) and the profile (only if unchanged since `previous`)."""

    store_hash: str
    events: tuple[MarketingEvent, ...] = ()
    claims: tuple[tuple[Identity, str], ...] = ()
    reservations: tuple[TriggerIntent, ...] = ()
    profile: Profile | None = None
    previous: Profile | None = None
    # What each new event adds to the counters, by event id: written with the event, or not at all.
    counts: Mapping[str, Mapping[Bucket, Amount]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.events or self.claims or self.reservations or self.profile)


class ChangeConflict(Exception):
    """Someone wrote what the change read since it was read; read again and redo it."""


class ReservationsTaken(Exception):
    """Triggers the change would reserve exist already: promised by an earlier change, and sent
    (`sent`) or still in an outbox waiting to be (the rest: an absorbed profile's, for one)."""

    def __init__(self, dedup_keys: frozenset[str], sent: frozenset[str] = frozenset()) -> None:
        super().__init__(sorted(dedup_keys))
        self.dedup_keys = dedup_keys
        self.sent = sent


class ChangeStore(Protocol):
    def read(self, lookup: Lookup) -> Known: ...
    def commit(self, change: Change) -> Profile | None:
        """Write the change in one transaction; return the profile as stored (its new revision).
        ReservationsTaken or ChangeConflict when a condition fails, and nothing is written."""
        ...

    def commit_together(self, changes: Sequence[Change]) -> list[Profile | None]:
        """Several changes (to different people) in one transaction, all of them or none; the
        same answers and exceptions as `commit`. At most 100 items in all, unless there is one."""
        ...

    def settle(self, profile: Profile, sent: Sequence[TriggerIntent], sent_at: str) -> Profile | None:
        """Take sent triggers out of the profile's outbox and stamp their records as sent; None
        when the profile changed since it was read (the caller reads it again)."""
        ...

    def events(self, event_ids: Sequence[str]) -> dict[str, MarketingEvent]: ...


class ProfileRepository(Protocol):
    def find(self, store_hash: str, kind: IdentityKind, value: str) -> str | None: ...
    def claim(self, store_hash: str, kind: IdentityKind, value: str, profile_id: str) -> str:
        """Point the identity at the profile unless it points elsewhere; return its owner."""
        ...

    def point(self, store_hash: str, kind: IdentityKind, value: str, profile_id: str) -> None:
        """Point the identity at the profile whatever it pointed at (a moved email, a merge)."""
        ...

    def release(self, store_hash: str, kind: IdentityKind, value: str, profile_id: str) -> None:
        """Forget the identity if it still points at the profile."""
        ...

    def retire(self, store_hash: str, profile_id: str, *, merged_into: str, revision: int) -> None:
        """Leave a pointer to the survivor in the profile's place, unless the profile changed
        since `revision` was read (ChangeConflict)."""
        ...

    def delete(self, store_hash: str, profile_id: str) -> None: ...

    def get(self, store_hash: str, profile_id: str) -> Profile | None: ...


class SignupClaims(Protocol):
    """Newsletter sign-ups that identify a browser (onsite tracking), kept for a day."""

    def hold(self, store_hash: str, claim: SignupClaim) -> None:
        """Keep the claim a browser made as its form was submitted (a replay keeps the first)."""
        ...

    def link(self, store_hash: str, email: str, profile_id: str, subscribed_at: datetime) -> None:
        """The subscriber webhook's side: this address subscribed on the storefront, as this profile."""
        ...

    def find(self, store_hash: str, claim_digest: str) -> SignupClaim | None: ...
    def linked(self, store_hash: str, email_digest: str) -> SignupLink | None: ...


class TriggerLedger(Protocol):
    def erase(self, store_hash: str, profile_id: str) -> int: ...


class CartLedger(Protocol):
    """Per-cart links, so consumers can tell a recovered cart: who started it, which order it became."""

    def record_checkout(self, store_hash: str, cart_id: str, *, profile_id: str, event_id: str) -> None: ...
    def record_conversion(self, store_hash: str, cart_id: str, *, order_id: int, at: datetime) -> None: ...
    def erase(self, store_hash: str, profile_id: str) -> int: ...


class TriggerPublisher(Protocol):
    def publish(self, intents: Sequence[TriggerIntent], profile: Profile, events: Mapping[str, MarketingEvent]) -> None:
        """Send every intent (in batches); raise unless all were accepted."""
        ...


class StoreDirectory(Protocol):
    def store_hashes(self) -> list[str]:
        """Every store with credentials configured."""
        ...


class SyncStateStore(Protocol):
    """Per-store job state. The reconcile and backfill items are written by their (serialized)
    job only; the control item by operators, except the stop flag a backfill clears."""

    def control(self, store_hash: str) -> SyncControl: ...
    def update_control(self, store_hash: str, **changes: object) -> SyncControl: ...
    def reconcile(self, store_hash: str) -> ReconcileState: ...
    def save_reconcile(self, store_hash: str, state: ReconcileState) -> None: ...
    def backfill(self, store_hash: str) -> BackfillState | None: ...
    def save_backfill(self, store_hash: str, state: BackfillState) -> None: ...


class ImportProgressStore(Protocol):
    """Where an import of one file (its key) got to."""

    def import_progress(self, store_hash: str, key: str) -> ImportProgress | None: ...
    def save_import_progress(self, store_hash: str, key: str, progress: ImportProgress) -> None: ...


class FlowLibrary(Protocol):
    """Each store's flow definitions, as the operator last applied them."""

    def flows(self, store_hash: str) -> FlowFile | None: ...
    def apply(self, store_hash: str, flows: FlowFile) -> str:
        """Store the definitions; return their version."""
        ...


class RunStore(Protocol):
    """Flow runs, and when each person was last sent something per channel (smart sending)."""

    def runs_of(self, store_hash: str, profile_id: str) -> list[FlowRun]: ...
    def due(self, store_hash: str, now: datetime, limit: int) -> list[FlowRun]:
        """Runs whose wait has ended, and runs that owe actions, earliest first."""
        ...

    def create(self, run: FlowRun) -> FlowRun | None:
        """Store a new run; None when one with its id exists (a duplicate trigger made it)."""
        ...

    def save(self, run: FlowRun, *, previous: FlowRun, sent: Mapping[str, datetime] | None = None) -> FlowRun | None:
        """Store the run as it moved on, and when its person was last sent something on each
        channel in `sent`; None (and nothing written) when it changed since `previous` was read."""
        ...

    def last_sent(self, store_hash: str, profile_id: str) -> dict[str, datetime]: ...


class ActionPublisher(Protocol):
    def publish(self, messages: Sequence[tuple[str, dict[str, object]]]) -> None:
        """Put each (dedup key, message) on the action outbox queue; raise unless all were taken."""
        ...


class EventLookup(Protocol):
    def events(self, event_ids: Sequence[str]) -> dict[str, MarketingEvent]: ...


class StoreHistory(Protocol):
    """Whole-store reads for an operator's command (back-population): scans, so no function
    holds them; the CLI supplies them with the operator's credentials."""

    def events_of(self, store_hash: str, metric: str, since: datetime | None) -> list[MarketingEvent]:
        """The store's events of a metric (backfilled ones too), at or after `since`."""
        ...

    def profiles_of(self, store_hash: str) -> Iterator[Profile]:
        """Every profile of the store."""
        ...


class JobQueue(Protocol):
    def enqueue(self, store_hash: str, job: Literal["reconcile", "backfill"], *, dedup: str) -> None:
        """Ask the sync worker to run (or continue) a job; one at a time per store and job."""
        ...


class PlacedOrderCounter(Protocol):
    def placed_order_times(self, store_hash: str, start: datetime, end: datetime) -> list[datetime]: ...
