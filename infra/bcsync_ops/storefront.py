"""A tiny storefront for the demo: the sandbox store's pages on loopback, each with the snippet,
so `bcsync demo --serve` can be browsed like a store (product pages carry `product_id`; every page
has Cornerstone's newsletter form, whose `nl_email` posts to `/subscribe.php`)."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs

from bcsync_ops.loopback import LoopbackServer
from bcsync_ops.sandbox import SandboxStore
from bcsync_ops.webhook_sender import WebhookSender


class Storefront(LoopbackServer):
    def __init__(self, store: SandboxStore) -> None:
        self.store = store
        self.script = ""  # the snippet, once the stack it posts to is up
        self._on_subscribe: Callable[[str], None] | None = None
        super().__init__(self._handler(), name="storefront")

    @property
    def url(self) -> str:
        return self.origin

    def forward_sign_ups(self, sender: WebhookSender) -> None:
        """The newsletter form does what BigCommerce's does: a subscriber record, then its webhook."""

        def subscribe(email: str) -> None:
            subscriber_id = max(self.store.subscribers, default=0) + 1
            self.store.subscribe(subscriber_id, email=email, at=datetime.now(UTC))
            sender.send("subscribers", "store/subscriber/created", {"type": "subscriber", "id": subscriber_id})

        self._on_subscribe = subscribe

    def signed_up(self, email: str) -> None:
        if self._on_subscribe:
            self._on_subscribe(email)

    def page(self, path: str) -> str:
        product = next((p for p in self.store.products.values() if p.path == path), None)
        links = "".join(
            f'<li><a href="{html.escape(p.path)}">{html.escape(p.name)}</a></li>' for p in self.store.products.values()
        )
        body = "<h1>Sandbox Store</h1>"
        if product:
            field = f'<input type="hidden" name="product_id" value="{product.id}">'
            body = f"<h1>{html.escape(product.name)}</h1><p>{product.price}</p>{field}"
        newsletter = (
            '<form action="/subscribe.php" method="post"><input type="hidden" name="action" value="subscribe">'
            '<input id="nl_email" name="nl_email" type="email"><input type="submit" value="Subscribe"></form>'
        )
        return f"<!doctype html><html><body>{body}<ul>{links}</ul>{newsletter}{self.script}</body></html>"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        storefront = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                payload = storefront.page(self.path.split("?", 1)[0]).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode())
                email = (form.get("nl_email") or [""])[0]
                if self.path == "/subscribe.php" and email:
                    storefront.signed_up(email)
                self.send_response(303)  # back to the store, as BigCommerce's form does
                self.send_header("Location", "/")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        return Handler
