"""A tiny storefront for the demo: the sandbox store's pages on loopback, each with the snippet,
so `bcsync demo --serve` can be browsed like a store (product pages carry `product_id`)."""

from __future__ import annotations

import html
from http.server import BaseHTTPRequestHandler
from typing import Any

from bcsync_ops.loopback import LoopbackServer
from bcsync_ops.sandbox import SandboxStore


class Storefront(LoopbackServer):
    def __init__(self, store: SandboxStore) -> None:
        self.store = store
        self.script = ""  # the snippet, once the stack it posts to is up
        super().__init__(self._handler(), name="storefront")

    @property
    def url(self) -> str:
        return self.origin

    def page(self, path: str) -> str:
        product = next((p for p in self.store.products.values() if p.path == path), None)
        links = "".join(
            f'<li><a href="{html.escape(p.path)}">{html.escape(p.name)}</a></li>' for p in self.store.products.values()
        )
        body = "<h1>Sandbox Store</h1>"
        if product:
            field = f'<input type="hidden" name="product_id" value="{product.id}">'
            body = f"<h1>{html.escape(product.name)}</h1><p>{product.price}</p>{field}"
        return f"<!doctype html><html><body>{body}<ul>{links}</ul>{self.script}</body></html>"

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

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        return Handler
