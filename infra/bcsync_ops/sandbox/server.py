"""The sandbox store over HTTP on loopback."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bcsync_ops.loopback import LoopbackServer
from bcsync_ops.sandbox.store import SandboxStore


class SandboxServer(LoopbackServer):
    """Serves a SandboxStore on 127.0.0.1 in a background thread: whichever store it holds when a
    request comes (the tests give each test a fresh one on the same server)."""

    def __init__(self, store: SandboxStore, port: int = 0) -> None:
        self.store = store
        super().__init__(_handler_for(self), port=port, name="sandbox-bigcommerce")

    @property
    def url(self) -> str:
        return self.origin


def _handler_for(server: SandboxServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            parts = urlsplit(self.path)
            query = {key: values[0] for key, values in parse_qs(parts.query).items()}
            length = int(self.headers.get("Content-Length") or 0)
            try:
                sent = json.loads(self.rfile.read(length)) if length else None
            except ValueError:
                sent = None
            status, body, headers = server.store.answer(
                parts.path, query, self.headers.get("X-Auth-Token"), method=self.command, body=sent
            )
            payload = b"" if status == 204 or body is None else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = _handle

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the store's request log is `store.requests`."""

    return Handler
