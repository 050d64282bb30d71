"""Composition root: builds the use cases from settings, once per process (a Lambda cold start),
and only the ones a function asks for: each part is built on first use, with its imports, so the
orders webhook never loads the sync jobs' code. One boto3 session serves every client, Powertools'
idempotency and secrets included (each session loads its own service models)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any

import boto3

from bcsync import resume_collection
from bcsync.adapters.bigcommerce import BigCommerceConnector
from bcsync.domain.stores import Family
from bcsync.settings import Settings, settings
from bcsync.usecases.clock import utc_moment

if TYPE_CHECKING:
    from bcsync.adapters.changes import DynamoChangeStore
    from bcsync.adapters.counters import DynamoCounters
    from bcsync.adapters.credentials import SecretsManagerCredentials, SecretsManagerStores
    from bcsync.adapters.dedupe import IdempotentDeliveries
    from bcsync.adapters.dynamodb import (
        DynamoCartLedger,
        DynamoCatalogRepository,
        DynamoEventLedger,
        DynamoProfileRepository,
        DynamoTriggerLedger,
    )
    from bcsync.adapters.flow_runs import DynamoFlowLibrary, DynamoRunStore
    from bcsync.adapters.signups import DynamoSignupClaims
    from bcsync.adapters.sqs import SqsJobQueue
    from bcsync.adapters.sync_state import DynamoSyncState
    from bcsync.domain.catalog import CatalogItem
    from bcsync.domain.sync import DayCount
    from bcsync.usecases.backfill import Backfill
    from bcsync.usecases.cart_recovery import CartRecovery
    from bcsync.usecases.carts import CartSync
    from bcsync.usecases.catalog import CatalogLookup
    from bcsync.usecases.changes import ChangeWriter
    from bcsync.usecases.clock import FlowClock
    from bcsync.usecases.customers import CustomerSync
    from bcsync.usecases.daily_counts import DailyCounts
    from bcsync.usecases.erasure import ProfileErasure
    from bcsync.usecases.feeds import Feeds
    from bcsync.usecases.flow_runner import FlowRunner
    from bcsync.usecases.imports import HistoryImport
    from bcsync.usecases.ingest import DeliveryHandler, WebhookIngest
    from bcsync.usecases.jobs import JobRunner, SyncLimits
    from bcsync.usecases.links import ConfirmationLinks
    from bcsync.usecases.onsite import OnsiteTracker
    from bcsync.usecases.orders import OrderSync
    from bcsync.usecases.profiles import ProfileBook
    from bcsync.usecases.read_model import ReadModel
    from bcsync.usecases.reconcile import Reconciler
    from bcsync.usecases.recording import EventRecorder
    from bcsync.usecases.store_zones import StoreZones
    from bcsync.usecases.subscribers import SubscriberSync
    from bcsync.usecases.webhook_health import WebhookHealth


class Container:
    """`session` and `endpoint_url` serve the CLI, which reaches a deployed stack with the
    operator's credentials or the local stack's moto server; a function passes neither."""

    def __init__(
        self, config: Settings, *, session: boto3.session.Session | None = None, endpoint_url: str | None = None
    ) -> None:
        self.settings = config
        self._session = session or boto3.session.Session()
        self._endpoint_url = endpoint_url

    # ------------------------------------------------------------------ AWS clients
    def _client(self, service: str) -> Any:
        client: Any = self._session.client  # the stubs type each service's name as a literal
        return client(service, endpoint_url=self._endpoint_url)

    @cached_property
    def dynamodb(self) -> Any:
        return self._session.resource("dynamodb", endpoint_url=self._endpoint_url)

    @cached_property
    def _sqs(self) -> Any:
        return self._client("sqs")

    @cached_property
    def _secretsmanager(self) -> Any:
        return self._client("secretsmanager")

    # ------------------------------------------------------------------ adapters
    @cached_property
    def credentials(self) -> SecretsManagerCredentials:
        from aws_lambda_powertools.utilities.parameters import SecretsProvider

        from bcsync.adapters.credentials import SecretsManagerCredentials

        config = self.settings
        provider = SecretsProvider(boto3_client=self._secretsmanager)
        return SecretsManagerCredentials(config.store_secret_prefix, config.secret_cache_seconds, provider)

    @cached_property
    def stores(self) -> SecretsManagerStores:
        from bcsync.adapters.credentials import SecretsManagerStores

        return SecretsManagerStores(self._secretsmanager, self.settings.store_secret_prefix)

    @cached_property
    def connector(self) -> BigCommerceConnector:
        return BigCommerceConnector(str(self.settings.bigcommerce_api_url), self.credentials)

    @cached_property
    def dedupe(self) -> IdempotentDeliveries:
        from bcsync.adapters.dedupe import IdempotentDeliveries

        config = self.settings
        # Powertools speaks DynamoDB's wire format: the resource's client would re-serialize it.
        client = self._client("dynamodb")
        return IdempotentDeliveries(config.require("deliveries_table_name"), config.delivery_dedupe_seconds, client)

    @cached_property
    def events(self) -> DynamoEventLedger:
        from bcsync.adapters.dynamodb import DynamoEventLedger

        return DynamoEventLedger(self.dynamodb, self.settings.require("events_table_name"), self.counters)

    @cached_property
    def counters(self) -> DynamoCounters:
        from bcsync.adapters.counters import DynamoCounters

        return DynamoCounters(self.dynamodb, self.settings.require("counters_table_name"), self.store_zones)

    @cached_property
    def profile_repository(self) -> DynamoProfileRepository:
        from bcsync.adapters.dynamodb import DynamoProfileRepository

        return DynamoProfileRepository(self.dynamodb, self.settings.require("profiles_table_name"))

    @cached_property
    def signups(self) -> DynamoSignupClaims:
        from bcsync.adapters.signups import DynamoSignupClaims

        return DynamoSignupClaims(self.dynamodb, self.settings.require("profiles_table_name"))

    @cached_property
    def trigger_ledger(self) -> DynamoTriggerLedger:
        from bcsync.adapters.dynamodb import DynamoTriggerLedger

        return DynamoTriggerLedger(self.dynamodb, self.settings.require("triggers_table_name"))

    @cached_property
    def catalog_repository(self) -> DynamoCatalogRepository:
        from bcsync.adapters.dynamodb import DynamoCatalogRepository

        return DynamoCatalogRepository(self.dynamodb, self.settings.require("catalog_table_name"))

    @cached_property
    def cart_ledger(self) -> DynamoCartLedger:
        from bcsync.adapters.dynamodb import DynamoCartLedger

        return DynamoCartLedger(self.dynamodb, self.settings.require("carts_table_name"))

    @cached_property
    def changes(self) -> DynamoChangeStore:
        from bcsync.adapters.changes import ChangeTables, DynamoChangeStore

        config = self.settings
        tables = ChangeTables(
            events=config.require("events_table_name"),
            profiles=config.require("profiles_table_name"),
            triggers=config.require("triggers_table_name"),
            catalog=config.require("catalog_table_name"),
            counters=config.require("counters_table_name"),
        )
        return DynamoChangeStore(self.dynamodb.meta.client, tables)

    @cached_property
    def sync_state(self) -> DynamoSyncState:
        from bcsync.adapters.sync_state import DynamoSyncState

        return DynamoSyncState(self.dynamodb, self.settings.require("sync_state_table_name"))

    @cached_property
    def jobs(self) -> SqsJobQueue:
        from bcsync.adapters.sqs import SqsJobQueue

        return SqsJobQueue(self._sqs, self.settings.require("sync_job_queue_url"))

    # ------------------------------------------------------------------ use cases
    @cached_property
    def writer(self) -> ChangeWriter:
        from bcsync.adapters.sqs import SqsTriggerPublisher
        from bcsync.usecases.changes import ChangeWriter
        from bcsync.usecases.triggers import TriggerCourier

        publisher = SqsTriggerPublisher(self._sqs, self.settings.require("flow_trigger_queue_url"))
        courier = TriggerCourier(self.changes, self.profile_repository, publisher)
        return ChangeWriter(
            self.changes,
            courier,
            self.settings.enabled_flows,
            zone_of=self.store_zones,
            excludes_returns=lambda store_hash: self.settings.for_store(store_hash).feeds_exclude_returns,
        )

    @cached_property
    def read_model(self) -> ReadModel:
        from bcsync.usecases.read_model import ReadModel

        return ReadModel(
            self.profile_repository,
            self.events,
            self.counters,
            self.sync_state,
            jobs=self.jobs,
            stores=self.stores,
            zone_of=self.store_zones,
            now=utc_moment,
            daily_counts=self._daily_counts_of,
        )

    def _daily_counts_of(self, store_hash: str, days: int, now: datetime) -> list[DayCount]:
        reader = self.connector.reader(store_hash, budget_seconds=self.settings.webhook_bigcommerce_budget_seconds)
        return self.daily_counts.compare(store_hash, reader, days=days, now=now)

    @cached_property
    def onsite(self) -> OnsiteTracker:
        from bcsync.usecases.onsite import OnsiteTracker

        def product(store_hash: str, product_id: int) -> CatalogItem | None:
            reader = self.connector.reader(store_hash, budget_seconds=self.settings.webhook_bigcommerce_budget_seconds)
            return self.catalog.items_for(store_hash, [product_id], reader).get(product_id)

        return OnsiteTracker(
            self.credentials,
            self.profile_repository,
            self.catalog_repository,
            self.recorder,
            self.signups,
            product=product,
        )

    @cached_property
    def store_zones(self) -> StoreZones:
        from bcsync.usecases.store_zones import StoreZones

        return StoreZones(self.catalog_repository)

    @cached_property
    def profiles(self) -> ProfileBook:
        from bcsync.usecases.profiles import ProfileBook

        return ProfileBook(self.profile_repository, self.events, self.writer)

    @cached_property
    def recorder(self) -> EventRecorder:
        from bcsync.usecases.recording import EventRecorder

        return EventRecorder(self.changes, self.profiles, self.writer)

    @cached_property
    def catalog(self) -> CatalogLookup:
        from bcsync.usecases.catalog import CatalogLookup

        return CatalogLookup(self.catalog_repository)

    @cached_property
    def orders(self) -> OrderSync:
        from bcsync.usecases.orders import OrderSync

        return OrderSync(self.catalog, self.recorder)

    @cached_property
    def carts(self) -> CartSync:
        from bcsync.usecases.carts import CartSync

        return CartSync(self.catalog, self.recorder, self.cart_ledger)

    @cached_property
    def customers(self) -> CustomerSync:
        from bcsync.usecases.customers import CustomerSync

        return CustomerSync(self.profiles, self.profile_repository, self.catalog_repository, self.settings.for_store)

    @cached_property
    def subscription_links(self) -> ConfirmationLinks:
        from bcsync.usecases.links import ConfirmationLinks

        return ConfirmationLinks(self.credentials, self.settings.for_store)

    @cached_property
    def cart_recovery(self) -> CartRecovery:
        from bcsync.usecases.cart_recovery import CartRecovery

        return CartRecovery(
            self.subscription_links,
            self.changes,
            self.catalog_repository,
            self.connector,
            budget_seconds=self.settings.webhook_bigcommerce_budget_seconds,
        )

    @cached_property
    def subscribers(self) -> SubscriberSync:
        from bcsync.usecases.subscribers import SubscriberSync

        return SubscriberSync(
            self.profiles, self.profile_repository, self.subscription_links, self.signups, self.settings.for_store
        )

    @cached_property
    def ingest(self) -> WebhookIngest:
        from bcsync.adapters.sqs import SqsDeliveryParker
        from bcsync.usecases.ingest import WebhookIngest

        config = self.settings
        return WebhookIngest(
            self.credentials,
            _FamilyHandlers(self),
            SqsDeliveryParker(self._sqs, config.require("retry_queue_url")),
            self.dedupe,
            webhook_budget_seconds=config.webhook_bigcommerce_budget_seconds,
            retry_budget_seconds=config.retry_bigcommerce_budget_seconds,
        )

    def delivery_handler(self, family: Family) -> DeliveryHandler:
        """Each family imports only its own use case."""
        if family is Family.ORDERS:
            from bcsync.usecases.orders import OrderDeliveries

            return OrderDeliveries(self.orders, self.connector)
        if family is Family.CARTS:
            from bcsync.usecases.carts import CartDeliveries

            return CartDeliveries(self.carts, self.connector)
        if family is Family.CUSTOMERS:
            from bcsync.usecases.customers import CustomerDeliveries

            return CustomerDeliveries(self.customers, self.connector)
        if family is Family.SUBSCRIBERS:
            from bcsync.usecases.subscribers import SubscriberDeliveries

            return SubscriberDeliveries(self.subscribers, self.connector)
        from bcsync.usecases.catalog import CatalogDeliveries

        return CatalogDeliveries(self.catalog, self.connector)

    @cached_property
    def flow_library(self) -> DynamoFlowLibrary:
        from bcsync.adapters.flow_runs import DynamoFlowLibrary

        return DynamoFlowLibrary(self.dynamodb, self.settings.require("sync_state_table_name"))

    @cached_property
    def flow_runs(self) -> DynamoRunStore:
        from bcsync.adapters.flow_runs import DynamoRunStore

        return DynamoRunStore(self.dynamodb, self.settings.require("flow_runs_table_name"))

    @cached_property
    def flow_clock(self) -> FlowClock:
        from bcsync.usecases.clock import FlowClock

        return FlowClock(self.settings.flow_time_scale, self.settings.flow_clock_origin)

    @cached_property
    def flow_runner(self) -> FlowRunner:
        from bcsync.adapters.sqs import SqsActionPublisher
        from bcsync.usecases.flow_runner import FlowRunner

        config = self.settings
        return FlowRunner(
            self.flow_library,
            self.flow_runs,
            self.profiles,
            self.changes,
            SqsActionPublisher(self._sqs, config.require("flow_action_queue_url")),
            zone_of=self.store_zones,
            unsubscribe_link=self.subscription_links.unsubscribe_link,
            recovery_link=self.cart_recovery.link,
            click_token=self.subscription_links.click_token,
            feeds=self.feeds,
        )

    @cached_property
    def feeds(self) -> Feeds:
        from bcsync.usecases.feeds import Feeds

        def current_profile(store_hash: str, profile_id: str) -> str | None:
            profile = self.profile_repository.get(store_hash, profile_id)
            return profile.id if profile else None

        return Feeds(
            self.counters,
            self.catalog_repository,
            zone_of=self.store_zones,
            now=utc_moment,
            current_profile=current_profile,
        )

    @cached_property
    def erasure(self) -> ProfileErasure:
        from bcsync.usecases.erasure import ProfileErasure

        return ProfileErasure(self.profile_repository, self.events, self.trigger_ledger, self.cart_ledger)

    @cached_property
    def history_import(self) -> HistoryImport:
        from bcsync.usecases.imports import HistoryImport

        return HistoryImport(self.recorder, self.profile_repository, self.sync_state)

    @cached_property
    def _limits(self) -> SyncLimits:
        from bcsync.usecases.jobs import SyncLimits

        config = self.settings
        return SyncLimits(
            overlap=timedelta(minutes=config.reconcile_overlap_minutes),
            first_lookback=timedelta(hours=config.reconcile_first_lookback_hours),
            quota_share=config.sync_quota_share,
            stop_margin_seconds=config.sync_stop_margin_seconds,
        )

    @cached_property
    def _job_runner(self) -> JobRunner:
        from bcsync.usecases.jobs import JobRunner
        from bcsync.usecases.polling import StreamPasses

        passes = StreamPasses(self.orders, self.customers, self.subscribers, self.catalog)
        return JobRunner(passes, self.connector, self._limits)

    @cached_property
    def webhook_health(self) -> WebhookHealth:
        from bcsync.usecases.webhook_health import WebhookHealth

        return WebhookHealth(self.credentials, self.sync_state)

    @cached_property
    def reconciler(self) -> Reconciler:
        from bcsync.usecases.reconcile import Reconciler

        return Reconciler(self._job_runner, self.sync_state, self.webhook_health, self._limits)

    @cached_property
    def backfill(self) -> Backfill:
        from bcsync.usecases.backfill import Backfill

        return Backfill(self._job_runner, self.sync_state)

    @cached_property
    def daily_counts(self) -> DailyCounts:
        from bcsync.usecases.daily_counts import DailyCounts

        return DailyCounts(self.events)


class _FamilyHandlers(Mapping[Family, "DeliveryHandler"]):
    """Each family's delivery handler, built when its first delivery comes."""

    def __init__(self, container: Container) -> None:
        self._container = container
        self._built: dict[Family, DeliveryHandler] = {}

    def __getitem__(self, family: Family) -> DeliveryHandler:
        if family not in self._built:
            self._built[family] = self._container.delivery_handler(family)
        return self._built[family]

    def __iter__(self) -> Iterator[Family]:
        return iter(Family)

    def __len__(self) -> int:
        return len(Family)


@lru_cache(maxsize=1)
def container() -> Container:
    resume_collection()  # first: a settings file that fails to load must not leave it paused
    return Container(settings())
