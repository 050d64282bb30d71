"""`bcsync console --stack-name`: the page from localhost, and each API request passed on to the
stack signed with SigV4 for execute-api (a fake upstream stands in for API Gateway)."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from botocore.credentials import Credentials

from bcsync_ops.console_proxy import SigningProxy, api_base


@pytest.fixture
def upstream():
    seen: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def _handle(self):
            length = int(self.headers.get("Content-Length") or 0)
            seen.append(
                {
                    "method": self.command,
                    "path": self.path,
                    "headers": dict(self.headers),
                    "body": self.rfile.read(length),
                }
            )
            signed = self.headers.get("Authorization", "").startswith("AWS4-HMAC-SHA256 ")
            status, body = (200, {"store": "s"}) if signed else (403, {"message": "Forbidden"})
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = _handle

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def test_the_proxy_serves_the_page_and_signs_what_it_passes_on(upstream):
    base, seen = upstream
    proxy = SigningProxy(base, Credentials("AKIDEXAMPLE", "secret"), "us-east-1").start()
    try:
        with urllib.request.urlopen(proxy.url, timeout=10) as page:
            assert page.status == 200 and b"<script" in page.read()
        origin = proxy.url.removesuffix("/console")
        with urllib.request.urlopen(f"{origin}/sync/status?days=3", timeout=10) as answer:
            assert json.loads(answer.read()) == {"store": "s"}
        request = urllib.request.Request(f"{origin}/sync/now", data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 200
        with pytest.raises(urllib.error.HTTPError) as elsewhere:
            urllib.request.urlopen(f"{origin}/anything-else", timeout=10)
        assert elsewhere.value.code == 404
    finally:
        proxy.stop()
    assert [(r["method"], r["path"]) for r in seen] == [("GET", "/sync/status?days=3"), ("POST", "/sync/now")]
    authorization = seen[0]["headers"]["Authorization"]
    assert "Credential=AKIDEXAMPLE/" in authorization and "/us-east-1/execute-api/aws4_request" in authorization
    assert "X-Amz-Date" in seen[0]["headers"]


def test_the_stacks_api_is_found_in_its_outputs():
    class CloudFormation:
        def describe_stacks(self, StackName):
            assert StackName == "bcsync"
            return {
                "Stacks": [
                    {
                        "Outputs": [
                            {
                                "OutputKey": "WebhookBaseUrl",
                                "OutputValue": "https://abc.execute-api.us-east-1.amazonaws.com/",
                            }
                        ]
                    }
                ]
            }

    assert api_base("bcsync", CloudFormation()) == "https://abc.execute-api.us-east-1.amazonaws.com"
