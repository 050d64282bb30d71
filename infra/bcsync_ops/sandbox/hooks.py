"""The sandbox's webhooks and storefront scripts."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

from bcsync_ops.sandbox.paging import v3_page
from bcsync_ops.sandbox.shapes import Answer
from bcsync_ops.sandbox.state import StoreState


class HooksApi(StoreState):
    """Webhooks and storefront scripts: `/v3/hooks*`, `/v3/content/scripts*`."""

    def add_hook(
        self, scope: str, destination: str, *, headers: dict[str, str] | None = None, active: bool = True
    ) -> dict[str, Any]:
        with self._lock:
            hook_id = max(self.hooks, default=0) + 1
            now = int(self.clock().timestamp())
            self.hooks[hook_id] = {
                "id": hook_id,
                "client_id": "sandbox-app",
                "store_hash": self.store_hash,
                "scope": scope,
                "destination": destination,
                "headers": headers,
                "is_active": active,
                "created_at": now,
                "updated_at": now,
            }
            return self.hooks[hook_id]

    def deactivate_hook(self, hook_id: int, *, at: datetime) -> None:
        """What BigCommerce does after ~48 h of failed retries."""
        with self._lock:
            self.hooks[hook_id].update(is_active=False, updated_at=int(at.timestamp()))

    def _hooks_api(self, method: str, path: str, query: dict[str, str], body: Any) -> Answer | None:
        if path == "/v3/hooks" and method == "GET":
            return 200, v3_page([dict(hook) for _, hook in sorted(self.hooks.items())], query), {}
        if path == "/v3/hooks" and method == "POST":
            if not isinstance(body, dict) or not body.get("scope") or not body.get("destination"):
                return 422, {"status": 422, "title": "scope and destination are required"}, {}
            if any(
                h["scope"] == body["scope"] and h["destination"] == body["destination"] for h in self.hooks.values()
            ):
                return 422, {"status": 422, "title": "a hook for this scope and destination exists"}, {}
            hook = self.add_hook(body["scope"], body["destination"], headers=body.get("headers"))
            return 200, {"data": dict(hook), "meta": {}}, {}
        if path.startswith("/v3/hooks/") and method == "PUT":
            found = self.hooks.get(int(path.rsplit("/", 1)[1]))
            if found is None:
                return 404, {"status": 404, "title": "hook not found"}, {}
            changes = {key: body[key] for key in ("is_active", "headers", "destination") if key in (body or {})}
            found.update(changes, updated_at=int(self.clock().timestamp()))
            return 200, {"data": dict(found), "meta": {}}, {}
        return None

    def _scripts_api(self, method: str, path: str, query: dict[str, str], body: Any) -> Answer | None:
        """`/v3/content/scripts`: list, create (`script_Post`: a name; `html` for `script_tag`) and
        update by uuid; each answers `script_Full`."""
        if path == "/v3/content/scripts" and method == "GET":
            return 200, v3_page(list(self.scripts.values()), query), {}
        if path == "/v3/content/scripts" and method == "POST":
            if not isinstance(body, dict) or not body.get("name"):
                return 422, {"status": 422, "title": "name is required"}, {}
            if body.get("kind") == "script_tag" and str(body.get("html", "")).count("<script") != 1:
                return 422, {"status": 422, "title": "html must hold exactly one script tag"}, {}
            script_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.secure_url}/scripts/{len(self.scripts) + 1}"))
            stamp = self.clock().strftime("%Y-%m-%dT%H:%M:%SZ")
            self.scripts[script_id] = {
                **body,
                "uuid": script_id,
                "enabled": True,
                "channel_id": 1,
                "date_created": stamp,
                "date_modified": stamp,
            }
            return 200, {"data": self.scripts[script_id], "meta": {}}, {}
        if (match := re.fullmatch(r"/v3/content/scripts/([0-9a-f-]+)", path)) and method == "PUT":
            found = self.scripts.get(match[1])
            if found is None:
                return 404, {"status": 404, "title": "script not found"}, {}
            found.update({**(body or {}), "date_modified": self.clock().strftime("%Y-%m-%dT%H:%M:%SZ")})
            return 200, {"data": found, "meta": {}}, {}
        return None
