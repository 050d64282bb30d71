"""moto's server application, as ThreadedMotoServer serves it, run as a loopback server: its
serving loop notices a stop at once, where ThreadedMotoServer's waits for werkzeug's half-second
poll (most of a local stack's stop, which every end-to-end test pays)."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler, HTTPServer

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

from bcsync_ops.loopback import HOST, LoopbackServer


class MotoServer(LoopbackServer):
    def __init__(self, port: int = 0) -> None:
        super().__init__(MotoRequestHandler, port=port, name="moto")

    def bind(self, handler: type[BaseHTTPRequestHandler], port: int) -> HTTPServer:
        """werkzeug's threaded server for moto's application; `handler` is MotoRequestHandler."""
        application = DomainDispatcherApplication(create_backend_app)
        return make_server(HOST, port, application, threaded=True, request_handler=MotoRequestHandler)
