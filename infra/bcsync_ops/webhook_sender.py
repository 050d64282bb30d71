"""Sends BigCommerce-shaped webhook deliveries, signed as BigCommerce signs them."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from typing import Any

from bcsync.domain.webhooks import sign


class WebhookSender:
    def __init__(self, api_url: str, store_hash: str, client_secret: str) -> None:
        self.api_url = api_url.rstrip("/")
        self.store_hash = store_hash
        self.client_secret = client_secret

    def body(self, scope: str, data: dict[str, Any]) -> str:
        return json.dumps(
            {
                "scope": scope,
                "store_id": "1025646",
                "data": data,
                "hash": uuid.uuid4().hex[:40],
                "created_at": int(time.time()),
                "producer": f"stores/{self.store_hash}",
            }
        )

    def send(
        self,
        family: str,
        scope: str,
        data: dict[str, Any],
        *,
        webhook_id: str | None = None,
        body: str | None = None,
    ) -> tuple[int, dict[str, Any]]:
        payload = body if body is not None else self.body(scope, data)
        headers = sign(self.client_secret, webhook_id or f"msg_{uuid.uuid4().hex}", datetime.now(UTC), payload)
        return self.post(family, payload, headers)

    def post(self, family: str, payload: str | bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        data = payload.encode() if isinstance(payload, str) else payload
        request = urllib.request.Request(
            f"{self.api_url}/webhooks/{family}",
            data=data,
            method="POST",
            headers={"Content-Type": "application/json", **headers},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")
