"""The local stack and the tests read DynamoDB streams from moto, which serves them on the regional
endpoint only: botocore 1.44 and later send a call naming a stream to its account's endpoint."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from bcsync_ops.local_stack import streams_client


def test_a_call_naming_a_stream_reaches_moto_on_the_regional_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    with mock_aws():
        table = boto3.client("dynamodb").create_table(
            TableName="events",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )
        stream_arn = table["TableDescription"]["LatestStreamArn"]
        streams = streams_client()
        sent_to: list[str] = []
        streams.meta.events.register("before-send", lambda request, **_: sent_to.append(request.url))

        described = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]

    assert described["StreamArn"] == stream_arn
    assert sent_to == ["https://streams.dynamodb.eu-west-1.amazonaws.com/"]
