"""template.yaml's tables, queues and the store's secret, created in whatever AWS boto3 points at:
the local stack's moto server, or moto's in-process mock in the tests."""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from typing import Any

import boto3

from bcsync_ops.template import LOCAL_ACCOUNT, LOCAL_REGION, Resolver, resources_of

NAME_PREFIX = "bcsync-local-"
# Locally, parked deliveries should come back in seconds, not the deployed 30 s / 12 min.
LOCAL_MAX_QUEUE_DELAY_SECONDS = 1
LOCAL_MAX_VISIBILITY_SECONDS = 5


@dataclass
class StoreConfig:
    store_hash: str
    access_token: str
    client_secret: str
    webhook_token: str | None = None
    api_url: str = "https://api.bigcommerce.com"

    @classmethod
    def from_environ(cls) -> StoreConfig:
        missing = [
            name
            for name in ("BIGCOMMERCE_STORE_HASH", "BIGCOMMERCE_ACCESS_TOKEN", "BIGCOMMERCE_CLIENT_SECRET")
            if not os.environ.get(name)
        ]
        if missing:
            raise SystemExit(f"bcsync local needs these environment variables: {', '.join(missing)}")
        return cls(
            store_hash=os.environ["BIGCOMMERCE_STORE_HASH"],
            access_token=os.environ["BIGCOMMERCE_ACCESS_TOKEN"],
            client_secret=os.environ["BIGCOMMERCE_CLIENT_SECRET"],
            webhook_token=os.environ.get("BIGCOMMERCE_WEBHOOK_TOKEN") or None,
            api_url=os.environ.get("BIGCOMMERCE_API_URL", "https://api.bigcommerce.com"),
        )


def provision(
    template: dict[str, Any],
    resolver: Resolver,
    store: StoreConfig,
    *,
    max_delay_seconds: int = LOCAL_MAX_QUEUE_DELAY_SECONDS,
) -> dict[str, str]:
    """Create the template's tables, queues and the store's secret in whatever AWS boto3 points at
    (the moto server, or moto's in-process mock in tests); return logical id -> physical id."""
    physical: dict[str, str] = {}
    _create_tables(template, resolver, physical)
    _create_queues(template, resolver, physical, max_delay_seconds)
    secret = {"access_token": store.access_token, "client_secret": store.client_secret}
    if store.webhook_token:
        secret["webhook_token"] = store.webhook_token
    _provisioning().client("secretsmanager").create_secret(
        Name=f"bcsync/stores/{store.store_hash}", SecretString=json.dumps(secret)
    )
    return physical


@functools.lru_cache(maxsize=1)
def _provisioning() -> boto3.session.Session:
    """One session for provisioning: its service models are loaded once per process, not once
    per stack (the tests provision one each)."""
    return boto3.session.Session()


def _create_tables(template: dict[str, Any], resolver: Resolver, physical: dict[str, str]) -> None:
    client = _provisioning().client("dynamodb")
    for logical_id, props in resources_of(template, "AWS::DynamoDB::Table").items():
        name = f"{NAME_PREFIX}{logical_id}"
        request: dict[str, Any] = {
            "TableName": name,
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if props.get("GlobalSecondaryIndexes"):
            request["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        stream = props.get("StreamSpecification")
        if stream:
            request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream["StreamViewType"]}
        created = client.create_table(**request)["TableDescription"]
        if stream:
            resolver.attributes[(logical_id, "StreamArn")] = created["LatestStreamArn"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl:
            client.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        resolver.refs[logical_id] = name
        resolver.attributes[(logical_id, "Arn")] = f"arn:aws:dynamodb:{LOCAL_REGION}:{LOCAL_ACCOUNT}:table/{name}"
        physical[logical_id] = name


def _create_queues(
    template: dict[str, Any], resolver: Resolver, physical: dict[str, str], max_delay_seconds: int
) -> None:
    client: Any = _provisioning().client("sqs")
    queues = resources_of(template, "AWS::SQS::Queue")
    for logical_id, props in queues.items():
        fifo = bool(props.get("FifoQueue"))
        name = f"{NAME_PREFIX}{logical_id}" + (".fifo" if fifo else "")
        attributes = {
            "VisibilityTimeout": str(min(int(props.get("VisibilityTimeout", 30)), LOCAL_MAX_VISIBILITY_SECONDS)),
            "DelaySeconds": str(min(int(props.get("DelaySeconds", 0)), max_delay_seconds)),
        }
        if fifo:
            attributes["FifoQueue"] = "true"
            attributes["ContentBasedDeduplication"] = str(bool(props.get("ContentBasedDeduplication"))).lower()
        url = client.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        resolver.refs[logical_id] = url
        resolver.attributes[(logical_id, "Arn")] = arn
        resolver.attributes[(logical_id, "QueueName")] = name
        physical[logical_id] = url
    for logical_id, props in queues.items():
        if "RedrivePolicy" in props:
            policy = resolver.resolve(props["RedrivePolicy"])
            client.set_queue_attributes(QueueUrl=physical[logical_id], Attributes={"RedrivePolicy": json.dumps(policy)})
