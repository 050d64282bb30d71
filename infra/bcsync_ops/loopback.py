"""An HTTP server on 127.0.0.1 in a background thread: the sandbox store, the demo's storefront,
the console's signing proxy, the local stack's moto. It stops at once: tests start and stop one each."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer
from typing import Self

HOST = "127.0.0.1"
# A short poll: `stop` waits for the serving loop to notice.
STOP_POLL_SECONDS = 0.02


class LoopbackServer:
    def __init__(self, handler: type[BaseHTTPRequestHandler], *, port: int = 0, name: str = "loopback") -> None:
        self._server = self.bind(handler, port)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": STOP_POLL_SECONDS},
            name=name,
            daemon=True,
        )

    def bind(self, handler: type[BaseHTTPRequestHandler], port: int) -> HTTPServer:
        """The server run in the background: one thread a request, each handled by `handler`."""
        return ThreadingHTTPServer((HOST, port), handler)

    @property
    def origin(self) -> str:
        return f"http://{HOST}:{self._server.server_address[1]}"

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exception: object) -> None:
        self.stop()
