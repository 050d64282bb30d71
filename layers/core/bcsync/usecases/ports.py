"""What the use cases need from the outside world; adapters implement these."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from bcsync.domain.bigcommerce import CatalogProduct, Category, Order, OrderLine, Refund, StoreInfo
from bcsync.domain.catalog import CatalogItem
from bcsync.domain.events import MarketingEvent
from bcsync.domain.flows import TriggerIntent
from bcsync.domain.profiles import Profile
from bcsync.domain.webhooks import StoreCredentials


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
    def get_store_info(self) -> StoreInfo: ...


class BigCommerceConnector(Protocol):
    def reader(self, store_hash: str, *, budget_seconds: float) -> BigCommerceReader: ...


class CatalogRepository(Protocol):
    def get_items(self, store_hash: str, product_ids: Iterable[int]) -> dict[int, CatalogItem]: ...
    def put_items(self, store_hash: str, items: Iterable[CatalogItem]) -> None: ...
    def get_category_names(self, store_hash: str, category_ids: Iterable[int]) -> dict[int, str]: ...
    def put_category_names(self, store_hash: str, names: dict[int, str]) -> None: ...
    def get_store_info(self, store_hash: str) -> StoreInfo | None: ...
    def put_store_info(self, store_hash: str, info: StoreInfo) -> None: ...


class EventLedger(Protocol):
    def record(self, events: Sequence[MarketingEvent]) -> list[tuple[MarketingEvent, bool]]:
        """Write each event unless its id exists; return what is stored (the first write wins)
        and whether this call created it."""
        ...

    def placed_orders_of(self, store_hash: str, profile_id: str) -> list[MarketingEvent]: ...


class ProfileRepository(Protocol):
    def find_by_customer(self, store_hash: str, customer_id: int) -> str | None: ...
    def find_by_email(self, store_hash: str, email: str) -> str | None: ...
    def link(self, store_hash: str, profile_id: str, *, customer_id: int | None, email: str | None) -> str:
        """Point the identities at the profile unless they already point elsewhere; return the
        profile the customer id points at after the call (a concurrent writer may have won)."""
        ...

    def get(self, store_hash: str, profile_id: str) -> Profile | None: ...
    def save(self, profile: Profile, *, previous: Profile | None) -> bool:
        """Optimistic write: False when someone else changed the profile since `previous`."""
        ...


class TriggerLedger(Protocol):
    def reserve(self, intent: TriggerIntent) -> tuple[TriggerIntent, str | None]:
        """Record the intent unless its dedup key exists; return the stored intent and sent_at."""
        ...

    def mark_sent(self, intent: TriggerIntent, sent_at: str) -> None: ...


class TriggerPublisher(Protocol):
    def publish(
        self, intent: TriggerIntent, profile: Profile | None, event: MarketingEvent | None
    ) -> None: ...
