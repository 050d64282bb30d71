"""The template's HTTP API routes served on loopback: each request becomes the API Gateway
(payload 2.0) event its route would deliver, handed to the route's function in-process. Routes AWS
guards with IAM take `Authorization: Bearer <api_token>` instead of a SigV4 signature."""

from __future__ import annotations

import base64
import re
import secrets
import threading
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from bcsync_ops.local_stack.functions import LocalFunction
from bcsync_ops.loopback import STOP_POLL_SECONDS
from bcsync_ops.template import LOCAL_ACCOUNT

Route = tuple[str, str]  # (method, path template)


class HttpApi:
    def __init__(self) -> None:
        self.routes: dict[Route, LocalFunction] = {}
        self.iam_routes: set[Route] = set()
        self.api_token = secrets.token_urlsafe(24)
        self._server: ThreadingHTTPServer | None = None

    def add(self, method: str, path: str, function: LocalFunction, *, iam: bool) -> None:
        route = (method.upper(), path)
        self.routes[route] = function
        if iam:
            self.iam_routes.add(route)

    def route(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """The template route a request path takes, with its `{name}` parameters."""
        if (method, path) in self.routes:
            return (method, path), {}
        for route_method, template in self.routes:
            if route_method != method or "{" not in template:
                continue
            pattern = re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(template))
            if match := re.fullmatch(pattern, path):
                return (route_method, template), {k: unquote(v) for k, v in match.groupdict().items()}
        return None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def serve(self, port: int) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": STOP_POLL_SECONDS},  # so `stop` returns at once
            daemon=True,
            name="local-http-api",
        )
        thread.start()

    def shutdown(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()


def _handler_for(api: HttpApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            found = api.route(self.command, parts.path)
            if found is None:
                self._reply(404, {"content-type": "application/json"}, b'{"message":"Not Found"}')
                return
            route, parameters = found
            if route in api.iam_routes and self.headers.get("Authorization") != f"Bearer {api.api_token}":
                # Where AWS asks for a SigV4 signature, the local stack asks for its token.
                self._reply(403, {"content-type": "application/json"}, b'{"message":"Forbidden"}')
                return
            event = http_api_event(
                self.command, parts.path, parts.query, dict(self.headers), raw, source_ip=self.client_address[0]
            )
            event["routeKey"] = event["requestContext"]["routeKey"] = f"{route[0]} {route[1]}"
            if parameters:
                event["pathParameters"] = parameters
            result = api.routes[route].invoke(event)
            body = result.get("body") or ""
            payload = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
            self._reply(int(result.get("statusCode", 200)), result.get("headers") or {}, payload)

        def _reply(self, status: int, headers: dict[str, str], payload: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() != "content-length":
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = _handle

        def log_message(self, format: str, *args: Any) -> None:
            """Requests are visible in the function logs; keep the console for them."""

    return Handler


def http_api_event(
    method: str, path: str, query: str, headers: dict[str, str], raw: bytes, *, source_ip: str
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload format 2.0) event, as the deployed route delivers it."""
    try:
        body, encoded = raw.decode(), False
    except UnicodeDecodeError:
        body, encoded = base64.b64encode(raw).decode(), True
    now = datetime.now(UTC)
    request_id = str(uuid.uuid4())
    return {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": query,
        # API Gateway tells the function how it was reached; locally that is plain HTTP.
        "headers": {"x-forwarded-proto": "http", **{name.lower(): value for name, value in headers.items()}},
        "queryStringParameters": {k: ",".join(v) for k, v in parse_qs(query).items()} or None,
        "requestContext": {
            "accountId": LOCAL_ACCOUNT,
            "apiId": "local",
            "domainName": "127.0.0.1",
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": headers.get("User-Agent", ""),
            },
            "requestId": request_id,
            "routeKey": f"{method} {path}",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "body": body,
        "isBase64Encoded": encoded,
    }
