"""Composition root: builds the use cases from settings, once per process (a Lambda cold start)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import boto3

from bcsync.adapters.bigcommerce import BigCommerceConnector
from bcsync.adapters.credentials import SecretsManagerCredentials
from bcsync.adapters.dedupe import IdempotentDeliveries
from bcsync.adapters.dynamodb import (
    DynamoCartLedger,
    DynamoCatalogRepository,
    DynamoEventLedger,
    DynamoProfileRepository,
    DynamoTriggerLedger,
)
from bcsync.adapters.sqs import SqsDeliveryParker, SqsTriggerPublisher
from bcsync.domain.webhooks import Family
from bcsync.settings import Settings, settings
from bcsync.usecases.carts import CartDeliveries, CartSync
from bcsync.usecases.catalog import CatalogDeliveries, CatalogLookup
from bcsync.usecases.customers import CustomerDeliveries, CustomerSync
from bcsync.usecases.erasure import ProfileErasure
from bcsync.usecases.ingest import WebhookIngest
from bcsync.usecases.orders import OrderDeliveries, OrderSync
from bcsync.usecases.profiles import ProfileBook
from bcsync.usecases.recording import EventRecorder
from bcsync.usecases.subscribers import ConfirmationLinks, SubscriberDeliveries, SubscriberSync
from bcsync.usecases.triggers import TriggerDispatcher


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
    dispatcher = TriggerDispatcher(
        trigger_ledger, SqsTriggerPublisher(sqs, config.flow_trigger_queue_url), events, config.enabled_flows
    )
    profiles = ProfileBook(repository, events, dispatcher)
    recorder = EventRecorder(events, dispatcher)
    catalog = CatalogLookup(catalog_repository)
    orders = OrderSync(catalog, profiles, recorder)
    carts = CartSync(catalog, profiles, recorder, cart_ledger)
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
    return Container(config, ingest, dedupe, orders, carts, customers, subscribers, erasure)


@lru_cache(maxsize=1)
def container() -> Container:
    return build(settings())
