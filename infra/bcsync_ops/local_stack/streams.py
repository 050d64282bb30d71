"""DynamoDB stream event sources for the local stack: new INSERT records handed to their function
as Lambda hands them (the template's filter keeps INSERTs), from where the stream was at start.
A batch the function fails is retried a few times, then skipped with a log line (Lambda would
bisect it and send its position to the dead-letter queue)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any, Protocol

import boto3
from botocore.config import Config

RETRIES = 3
IDLE_SECONDS = 0.5


class Invocable(Protocol):
    logical_id: str

    def invoke(self, event: dict[str, Any]) -> Any: ...


@dataclass
class StreamSource:
    function: Invocable
    stream_arn: str
    batch_size: int


def streams_client() -> Any:
    """A DynamoDB Streams client moto answers: botocore 1.44 and later send calls naming a stream
    to its account's endpoint (`<account>.streams-ddb.<region>.amazonaws.com`), which moto does not
    serve; the regional endpoint is as good for everything the local stack and the tests read."""
    return boto3.client("dynamodbstreams", config=Config(account_id_endpoint_mode="disabled"))


def poll_stream(source: StreamSource, stopping: threading.Event) -> None:
    streams = streams_client()
    iterators: dict[str, str] = {}
    while not stopping.is_set():
        try:
            handed = _poll_shards(source, streams, iterators, stopping)
        except Exception:
            if stopping.is_set():  # moto went away mid-read: the stack is down
                return
            raise
        if not handed:
            stopping.wait(IDLE_SECONDS)


def _poll_shards(source: StreamSource, streams: Any, iterators: dict[str, str], stopping: threading.Event) -> bool:
    """One read of every shard; whether any INSERT was handed to the function."""
    handed = False
    for shard in streams.describe_stream(StreamArn=source.stream_arn)["StreamDescription"]["Shards"]:
        shard_id = shard["ShardId"]
        if shard_id not in iterators:
            iterators[shard_id] = streams.get_shard_iterator(
                StreamArn=source.stream_arn, ShardId=shard_id, ShardIteratorType="LATEST"
            )["ShardIterator"]
        response = streams.get_records(ShardIterator=iterators[shard_id], Limit=source.batch_size)
        iterators[shard_id] = response["NextShardIterator"]
        records = [
            {**record, "eventSourceARN": source.stream_arn}
            for record in response["Records"]
            if record["eventName"] == "INSERT"
        ]
        if records and not stopping.is_set():
            handed = True
            _hand(source, {"Records": records})
    return handed


def _hand(source: StreamSource, event: dict[str, Any]) -> None:
    for _ in range(RETRIES):
        try:
            answer = source.function.invoke(event) or {}
        except Exception:
            logging.getLogger(__name__).exception("%s failed a stream batch", source.function.logical_id)
            continue
        if not answer.get("batchItemFailures"):
            return
    logging.getLogger(__name__).error("%s: a stream batch skipped after %d tries", source.function.logical_id, RETRIES)
