"""The domain says why it refuses; the HTTP edge alone turns that into a status and a JSON body."""

from __future__ import annotations

import json

import pytest

from bcsync.domain.refusals import Refusal, Refused
from bcsync.entrypoints.http import HTTP_STATUS, json_resolver


def http_get(path: str) -> dict[str, object]:
    return {
        "version": "2.0",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {},
        "isBase64Encoded": False,
        "requestContext": {"http": {"method": "GET", "path": path, "sourceIp": "192.0.2.1"}, "stage": "$default"},
    }


def test_every_reason_has_its_own_4xx():
    assert set(HTTP_STATUS) == set(Refusal)
    assert all(400 <= status < 500 for status in HTTP_STATUS.values())
    assert len(set(HTTP_STATUS.values())) == len(Refusal)


@pytest.mark.parametrize("reason", list(Refusal))
def test_a_refusal_is_answered_with_its_status_and_says_why(reason):
    app = json_resolver(failure="failed", unavailable="try later")

    @app.get("/refuse")
    def refuse() -> dict[str, str]:
        raise Refused(reason, f"refused: {reason.value}")

    answer = app.resolve(http_get("/refuse"), None)
    assert answer["statusCode"] == HTTP_STATUS[reason]
    assert json.loads(answer["body"]) == {"error": f"refused: {reason.value}"}


def test_any_other_fault_is_a_503_that_reveals_nothing():
    app = json_resolver(failure="failed", unavailable="try later")

    @app.get("/crash")
    def crash() -> dict[str, str]:
        raise RuntimeError("table bcsync-Events-XYZ throttled")

    answer = app.resolve(http_get("/crash"), None)
    assert answer["statusCode"] == 503
    assert json.loads(answer["body"]) == {"error": "try later"}
