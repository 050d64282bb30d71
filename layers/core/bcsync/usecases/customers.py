"""Customer sync: the account record becomes the profile's identity and properties.

Every customer scope re-reads `GET /v3/customers?id:in=` (address scopes too: addresses feed the
field mapping). A customer BigCommerce no longer has was deleted: the account is unlinked from its
profile, whose marketing history stays.
"""

from __future__ import annotations

from collections.abc import Callable

from bcsync.domain.bigcommerce import Customer
from bcsync.domain.field_mapping import mapped_properties
from bcsync.domain.profiles import Profile, apply_customer, unlink_account
from bcsync.domain.webhooks import CustomerWebhookData, WebhookEnvelope
from bcsync.observability import logger
from bcsync.settings import StoreSettings
from bcsync.usecases.clock import utc_now
from bcsync.usecases.ingest import DeliveryContext, Work, webhook_data
from bcsync.usecases.ports import BigCommerceConnector, BigCommerceReader, CatalogRepository, ProfileRepository
from bcsync.usecases.profiles import ProfileBook
from bcsync.usecases.recording import SyncResult


class CustomerSync:
    def __init__(
        self,
        profiles: ProfileBook,
        repository: ProfileRepository,
        names: CatalogRepository,
        settings_for: Callable[[str], StoreSettings],
    ) -> None:
        self._profiles = profiles
        self._repository = repository
        self._names = names
        self._settings_for = settings_for

    def sync(self, store_hash: str, customer_id: int, reader: BigCommerceReader, *, created: bool) -> SyncResult:
        customer = reader.get_customer(customer_id)
        if customer is None:
            return self.unlink(store_hash, customer_id)
        return self.record_read(store_hash, customer, reader, created=created)

    def record_read(
        self, store_hash: str, customer: Customer, reader: BigCommerceReader, *, created: bool
    ) -> SyncResult:
        """A customer already read (by id, or in a page of them); the group name is cached."""
        return self.record(store_hash, customer, self._group_name(store_hash, customer, reader), created=created)

    def record(self, store_hash: str, customer: Customer, group_name: str | None, *, created: bool) -> SyncResult:
        profile_id = self._profiles.resolve(
            store_hash, customer_id=customer.id, email=customer.email, authoritative=True
        )
        if profile_id is None:
            return SyncResult(status="no_identity")
        mapped = mapped_properties(customer, self._settings_for(store_hash).field_mapping)

        def edit(current: Profile | None) -> Profile:
            return apply_customer(
                current,
                customer,
                mapped=mapped,
                group_name=group_name,
                profile_id=profile_id,
                store_hash=store_hash,
                now=utc_now(),
                created=created,
            )

        self._profiles.change(store_hash, profile_id, edit, finish_merges=True)
        return SyncResult(status="synced")

    def unlink(self, store_hash: str, customer_id: int) -> SyncResult:
        profile_id = self._repository.find(store_hash, "customer", str(customer_id))
        if profile_id is None:
            return SyncResult(status="unknown_customer")
        self._repository.release(store_hash, "customer", str(customer_id), profile_id)
        self._profiles.change(
            store_hash, profile_id, lambda current: unlink_account(current, now=utc_now()) if current else None
        )
        logger.info("account deleted; profile kept as a guest", extra={"profile_id": profile_id})
        return SyncResult(status="unlinked")

    def _group_name(self, store_hash: str, customer: Customer, reader: BigCommerceReader) -> str | None:
        group_id = customer.customer_group_id
        if not group_id:
            return None
        cached = self._names.get_names(store_hash, "customer_group", [group_id])
        if group_id in cached:
            return cached[group_id]
        group = reader.get_customer_group(group_id)
        if group is None:
            return None
        self._names.put_names(store_hash, "customer_group", {group.id: group.name})
        return group.name


class CustomerDeliveries:
    def __init__(self, sync: CustomerSync, connector: BigCommerceConnector) -> None:
        self._sync = sync
        self._connector = connector

    def prepare(self, envelope: WebhookEnvelope, context: DeliveryContext) -> Work:
        data = webhook_data(CustomerWebhookData, envelope, types=("customer",))
        created = envelope.scope == "store/customer/created"

        def work(budget_seconds: float) -> dict[str, object]:
            reader = self._connector.reader(envelope.store_hash, budget_seconds=budget_seconds)
            result = self._sync.sync(envelope.store_hash, data.customer_id, reader, created=created)
            return {"customer_id": data.customer_id, **result.as_dict()}

        return work
