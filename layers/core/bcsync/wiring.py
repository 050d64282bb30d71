"""Composition root: builds the use cases from settings, once per process (a Lambda cold start)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import boto3

from bcsync.adapters.bigcommerce import BigCommerceConnector
from bcsync.adapters.credentials import SecretsManagerCredentials
from bcsync.adapters.dedupe import IdempotentDeliveries
from bcsync.adapters.dynamodb import (
    DynamoCatalogRepository,
    DynamoEventLedger,
    DynamoProfileRepository,
    DynamoTriggerLedger,
)
from bcsync.adapters.sqs import SqsDeliveryParker, SqsTriggerPublisher
from bcsync.domain.webhooks import Family
from bcsync.settings import Settings, settings
from bcsync.usecases.catalog import CatalogLookup
from bcsync.usecases.ingest import WebhookIngest
from bcsync.usecases.orders import OrderDeliveries, OrderSync
from bcsync.usecases.profiles import ProfileBook
from bcsync.usecases.triggers import TriggerDispatcher


@dataclass(frozen=True)
class Container:
    settings: Settings
    ingest: WebhookIngest
    dedupe: IdempotentDeliveries
    orders: OrderSync
    events: DynamoEventLedger
    profiles: DynamoProfileRepository
    triggers: DynamoTriggerLedger


def build(config: Settings) -> Container:
    dynamodb = boto3.resource("dynamodb")
    sqs = boto3.client("sqs")
    credentials = SecretsManagerCredentials(config.store_secret_prefix, config.secret_cache_seconds)
    connector = BigCommerceConnector(str(config.bigcommerce_api_url), credentials)
    events = DynamoEventLedger(dynamodb, config.events_table_name)
    profiles = DynamoProfileRepository(dynamodb, config.profiles_table_name)
    trigger_ledger = DynamoTriggerLedger(dynamodb, config.triggers_table_name)
    dispatcher = TriggerDispatcher(
        trigger_ledger, SqsTriggerPublisher(sqs, config.flow_trigger_queue_url), events, config.enabled_flows
    )
    orders = OrderSync(
        CatalogLookup(DynamoCatalogRepository(dynamodb, config.catalog_table_name)),
        ProfileBook(profiles),
        events,
        dispatcher,
    )
    dedupe = IdempotentDeliveries(config.deliveries_table_name, config.delivery_dedupe_seconds)
    ingest = WebhookIngest(
        credentials,
        {Family.ORDERS: OrderDeliveries(orders, connector)},
        SqsDeliveryParker(sqs, config.retry_queue_url),
        dedupe,
        webhook_budget_seconds=config.webhook_bigcommerce_budget_seconds,
        retry_budget_seconds=config.retry_bigcommerce_budget_seconds,
    )
    return Container(config, ingest, dedupe, orders, events, profiles, trigger_ledger)


@lru_cache(maxsize=1)
def container() -> Container:
    return build(settings())
