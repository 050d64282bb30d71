"""The stack the tests share in a process is, at the start of each test, what provisioning
template.yaml makes: nothing a test wrote is left for the next (see provisioned.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from moto import mock_aws

from bcsync_ops.demo import ACCESS_TOKEN, CLIENT_SECRET, STORE_HASH
from bcsync_ops.local_stack import streams_client
from tests.integration.conftest import WEBHOOK_TOKEN, use_moto_environment
from tests.integration.provisioned import ProvisionedStack

STORE_SECRET = f"bcsync/stores/{STORE_HASH}"


@contextmanager
def a_test_on(provisioned: ProvisionedStack) -> Iterator[None]:
    """The shared stack, entered and left as the `stack` fixture does around a test."""
    mock = provisioned.enter()
    try:
        yield
    finally:
        mock.stop(remove_data=False)


def test_what_a_test_wrote_is_gone_for_the_next(provisioned: ProvisionedStack, monkeypatch: pytest.MonkeyPatch) -> None:
    use_moto_environment(monkeypatch)
    with a_test_on(provisioned):
        dynamodb, sqs, secrets = boto3.client("dynamodb"), boto3.client("sqs"), boto3.client("secretsmanager")
        tables = [physical for logical, physical in provisioned.physical.items() if logical.endswith("Table")]
        queues = [physical for logical, physical in provisioned.physical.items() if logical.endswith("Queue")]
        assert len(tables) >= 5 and len(queues) >= 5
        for table in tables:
            dynamodb.put_item(TableName=table, Item=_an_item(dynamodb.describe_table(TableName=table)["Table"]))
            assert _stream_records(dynamodb, table) != [] or not _has_stream(dynamodb, table)
        for queue in queues:
            _send(sqs, queue)
        secrets.create_secret(Name="bcsync/stores/another", SecretString="{}")

    with a_test_on(provisioned):
        dynamodb, sqs, secrets = boto3.client("dynamodb"), boto3.client("sqs"), boto3.client("secretsmanager")
        for table in tables:
            assert dynamodb.scan(TableName=table)["Items"] == [], table
            assert _stream_records(dynamodb, table) == [], table
        for queue in queues:
            assert "Messages" not in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10), queue
            _send(sqs, queue)  # the same deduplication id as the last test's message: forgotten
            assert len(sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]) == 1, queue
        assert [s["Name"] for s in secrets.list_secrets()["SecretList"]] == [STORE_SECRET]


def test_a_changed_secret_or_a_wiped_moto_is_provisioned_again(
    provisioned: ProvisionedStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_moto_environment(monkeypatch)
    provisioned_secret = {"access_token": ACCESS_TOKEN, "client_secret": CLIENT_SECRET, "webhook_token": WEBHOOK_TOKEN}
    with a_test_on(provisioned):
        boto3.client("secretsmanager").put_secret_value(SecretId=STORE_SECRET, SecretString='{"access_token": "x"}')

    with a_test_on(provisioned):
        assert _store_secret() == provisioned_secret

    with mock_aws():  # another test's own mock, alone: it starts moto empty and empties it when it stops
        assert boto3.client("dynamodb").list_tables()["TableNames"] == []

    with a_test_on(provisioned):
        assert _store_secret() == provisioned_secret
        tables = boto3.client("dynamodb").list_tables()["TableNames"]
        assert sorted(tables) == sorted(p for logical, p in provisioned.physical.items() if logical.endswith("Table"))


def _an_item(table: dict[str, Any]) -> dict[str, Any]:
    types = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
    return {k["AttributeName"]: {types[k["AttributeName"]]: "1"} for k in table["KeySchema"]}


def _send(sqs: Any, queue: str) -> None:
    fifo = {"MessageGroupId": "g", "MessageDeduplicationId": "d"} if queue.endswith(".fifo") else {}
    sqs.send_message(QueueUrl=queue, MessageBody="{}", **fifo)


def _has_stream(dynamodb: Any, table: str) -> bool:
    return "LatestStreamArn" in dynamodb.describe_table(TableName=table)["Table"]


def _stream_records(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    arn = dynamodb.describe_table(TableName=table)["Table"].get("LatestStreamArn")
    if arn is None:
        return []
    streams = streams_client()
    records: list[dict[str, Any]] = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")
        records += streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    return records


def _store_secret() -> dict[str, Any]:
    return dict(json.loads(boto3.client("secretsmanager").get_secret_value(SecretId=STORE_SECRET)["SecretString"]))
