"""Composition root: builds the use cases from settings, once per process (a Lambda cold start)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

import boto3

from bcsync.adapters.bigcommerce import BigCommerceConnector
from bcsync.adapters.changes import ChangeTables, DynamoChangeStore
from bcsync.adapters.credentials import SecretsManagerCredentials, SecretsManagerStores
from bcsync.adapters.dedupe import IdempotentDeliveries
from bcsync.adapters.dynamodb import (
    DynamoCartLedger,
    DynamoCatalogRepository,
    DynamoEventLedger,
    DynamoProfileRepository,
    DynamoSyncState,
    DynamoTriggerLedger,
)
from bcsync.adapters.sqs import SqsDeliveryParker, SqsJobQueue, SqsTriggerPublisher
from bcsync.domain.webhooks import Family
from bcsync.settings import Settings, settings
from bcsync.usecases.backfill import Backfill
from bcsync.usecases.carts import CartDeliveries, CartSync
from bcsync.usecases.catalog import CatalogDeliveries, CatalogLookup
from bcsync.usecases.changes import ChangeWriter
from bcsync.usecases.customers import CustomerDeliveries, CustomerSync
from bcsync.usecases.daily_counts import DailyCounts
from bcsync.usecases.erasure import ProfileErasure
from bcsync.usecases.ingest import WebhookIngest
from bcsync.usecases.orders import OrderDeliveries, OrderSync
from bcsync.usecases.polling import StreamPasses
from bcsync.usecases.profiles import ProfileBook
from bcsync.usecases.reconcile import Reconciler, SyncLimits
from bcsync.usecases.recording import EventRecorder
from bcsync.usecases.subscribers import ConfirmationLinks, SubscriberDeliveries, SubscriberSync
from bcsync.usecases.triggers import TriggerCourier
from bcsync.usecases.webhook_health import WebhookHealth


@dataclass(frozen=True)
class Container:
    settings: Settings
    ingest: WebhookIngest
    dedupe: IdempotentDeliveries
    orders: OrderSync
    carts: CartSync
    customers: CustomerSync
    subscribers: SubscriberSync
    erasure: ProfileErasure
    connector: BigCommerceConnector
    stores: SecretsManagerStores
    sync_state: DynamoSyncState
    jobs: SqsJobQueue
    reconciler: Reconciler
    backfill: Backfill
    webhook_health: WebhookHealth
    daily_counts: DailyCounts


def build(config: Settings) -> Container:
    dynamodb = boto3.resource("dynamodb")
    sqs = boto3.client("sqs")
    credentials = SecretsManagerCredentials(config.store_secret_prefix, config.secret_cache_seconds)
    connector = BigCommerceConnector(str(config.bigcommerce_api_url), credentials)
    events = DynamoEventLedger(dynamodb, config.events_table_name)
    repository = DynamoProfileRepository(dynamodb, config.profiles_table_name)
    trigger_ledger = DynamoTriggerLedger(dynamodb, config.triggers_table_name)
    catalog_repository = DynamoCatalogRepository(dynamodb, config.catalog_table_name)
    cart_ledger = DynamoCartLedger(dynamodb, config.carts_table_name)
    changes = DynamoChangeStore(
        dynamodb.meta.client,
        ChangeTables(
            events=config.events_table_name,
            profiles=config.profiles_table_name,
            triggers=config.triggers_table_name,
            catalog=config.catalog_table_name,
        ),
    )
    courier = TriggerCourier(changes, repository, SqsTriggerPublisher(sqs, config.flow_trigger_queue_url))
    writer = ChangeWriter(changes, courier, config.enabled_flows)
    profiles = ProfileBook(repository, events, writer)
    recorder = EventRecorder(changes, profiles, writer)
    catalog = CatalogLookup(catalog_repository)
    orders = OrderSync(catalog, recorder)
    carts = CartSync(catalog, recorder, cart_ledger)
    customers = CustomerSync(profiles, repository, catalog_repository, config.for_store)
    subscribers = SubscriberSync(
        profiles, repository, ConfirmationLinks(credentials, config.for_store), config.for_store
    )
    dedupe = IdempotentDeliveries(config.deliveries_table_name, config.delivery_dedupe_seconds)
    ingest = WebhookIngest(
        credentials,
        {
            Family.ORDERS: OrderDeliveries(orders, connector),
            Family.CARTS: CartDeliveries(carts, connector),
            Family.CUSTOMERS: CustomerDeliveries(customers, connector),
            Family.SUBSCRIBERS: SubscriberDeliveries(subscribers, connector),
            Family.CATALOG: CatalogDeliveries(catalog, connector),
        },
        SqsDeliveryParker(sqs, config.retry_queue_url),
        dedupe,
        webhook_budget_seconds=config.webhook_bigcommerce_budget_seconds,
        retry_budget_seconds=config.retry_bigcommerce_budget_seconds,
    )
    erasure = ProfileErasure(repository, events, trigger_ledger, cart_ledger)
    sync_state = DynamoSyncState(dynamodb, config.sync_state_table_name)
    limits = SyncLimits(
        overlap=timedelta(minutes=config.reconcile_overlap_minutes),
        first_lookback=timedelta(hours=config.reconcile_first_lookback_hours),
        quota_share=config.sync_quota_share,
        stop_margin_seconds=config.sync_stop_margin_seconds,
    )
    passes = StreamPasses(orders, customers, subscribers, catalog)
    webhook_health = WebhookHealth(credentials, sync_state)
    return Container(
        settings=config,
        ingest=ingest,
        dedupe=dedupe,
        orders=orders,
        carts=carts,
        customers=customers,
        subscribers=subscribers,
        erasure=erasure,
        connector=connector,
        stores=SecretsManagerStores(boto3.client("secretsmanager"), config.store_secret_prefix),
        sync_state=sync_state,
        jobs=SqsJobQueue(sqs, config.sync_job_queue_url),
        reconciler=Reconciler(passes, sync_state, connector, webhook_health, limits),
        backfill=Backfill(passes, sync_state, connector, limits),
        webhook_health=webhook_health,
        daily_counts=DailyCounts(events),
    )


@lru_cache(maxsize=1)
def container() -> Container:
    return build(settings())
