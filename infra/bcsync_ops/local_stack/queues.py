"""SQS event sources: each queue polled into its function, a batch at a time; what the function
reports failed (or the whole batch, when it raises) returns to the queue, as in Lambda."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

import boto3

from bcsync_ops.local_stack.functions import LocalFunction
from bcsync_ops.template import LOCAL_REGION


@dataclass
class SqsSource:
    function: LocalFunction
    queue_url: str
    queue_arn: str
    batch_size: int


def poll(source: SqsSource, stopping: threading.Event) -> None:
    client: Any = boto3.client("sqs")
    while not stopping.is_set():
        try:
            messages = client.receive_message(
                QueueUrl=source.queue_url,
                MaxNumberOfMessages=source.batch_size,
                WaitTimeSeconds=1,
                AttributeNames=["All"],
            ).get("Messages", [])
        except Exception:
            if stopping.is_set():  # moto went away while this poll waited: the stack is down
                return
            raise
        if messages and not stopping.is_set():  # else they return to the queue, as in Lambda
            deliver(source, client, messages)


def deliver(source: SqsSource, client: Any, messages: list[dict[str, Any]]) -> None:
    event = {"Records": [sqs_record(message, source.queue_arn) for message in messages]}
    try:
        response = source.function.invoke(event) or {}
    except Exception:  # the whole batch returns to the queue, as in Lambda
        logging.getLogger(__name__).exception("%s failed; its batch returns to the queue", source.function.logical_id)
        return
    failed = {item["itemIdentifier"] for item in response.get("batchItemFailures", [])}
    done = [m for m in messages if m["MessageId"] not in failed]
    if done:
        client.delete_message_batch(
            QueueUrl=source.queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
        )


def queue_depth(queue_url: str) -> int:
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


def drain(queue_url: str) -> list[dict[str, Any]]:
    """Take every message off a queue no function consumes (the flow actions, for the demo)."""
    sqs: Any = boto3.client("sqs")
    taken: list[dict[str, Any]] = []
    while batch := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages"):
        taken += batch
        for message in batch:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return taken


def sqs_record(message: dict[str, Any], queue_arn: str) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {},
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": LOCAL_REGION,
    }
