"""`bcsync console --stack-name NAME`: the console of a deployed stack, on localhost.

A browser cannot sign the read API's requests with SigV4; this small server serves the console page
and passes each of its API requests on to the stack, signed with the operator's own AWS credentials
(`execute-api`), so no token or key ever reaches the page."""

from __future__ import annotations

import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

from bcsync_ops.loopback import LoopbackServer

API_PREFIXES = ("/profiles", "/metrics", "/sync/", "/openapi.json")


def api_base(stack_name: str, cloudformation: Any) -> str:
    """The stack's HTTP API, from its `WebhookBaseUrl` output."""
    stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    return str(outputs["WebhookBaseUrl"]).rstrip("/")


class SigningProxy(LoopbackServer):
    def __init__(self, base: str, credentials: Any, region: str, *, port: int = 0) -> None:
        self.base = base.rstrip("/")
        self._credentials = credentials
        self._region = region
        super().__init__(self._handler(), port=port, name="console-proxy")

    @property
    def url(self) -> str:
        return f"{self.origin}/console"

    def forward(self, method: str, path: str, body: bytes) -> tuple[int, str, bytes]:
        """The request as the stack answers it, signed for API Gateway."""
        url = f"{self.base}{path}"
        request = AWSRequest(method=method, url=url, data=body or None)
        SigV4Auth(self._credentials, "execute-api", self._region).add_auth(request)
        prepared = urllib.request.Request(url, data=body or None, method=method, headers=dict(request.headers.items()))
        try:
            with urllib.request.urlopen(prepared, timeout=30) as response:
                return response.status, response.headers.get("Content-Type", "application/json"), response.read()
        except urllib.error.HTTPError as refused:
            return refused.code, refused.headers.get("Content-Type", "application/json"), refused.read()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                path = urlsplit(self.path).path
                if self.command == "GET" and path == "/console":
                    page = resources.files("bcsync.console").joinpath("index.html").read_text().encode()
                    self._reply(200, "text/html; charset=utf-8", page)
                elif path.startswith(API_PREFIXES):
                    length = int(self.headers.get("Content-Length") or 0)
                    self._reply(*proxy.forward(self.command, self.path, self.rfile.read(length) if length else b""))
                else:
                    self._reply(404, "application/json", b'{"error": "no such route"}')

            def _reply(self, status: int, content_type: str, payload: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _handle

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the stack's access log has the requests."""

        return Handler
