"""The cyclic collector pauses for a Lambda cold start and resumes, on a frozen heap, once the
composition root is built (bcsync/__init__.py); outside Lambda it is never touched."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from bcsync_ops.local_stack import PROJECT_ROOT

PROBE = """
import gc, importlib.util, json
spec = importlib.util.spec_from_file_location("app", "functions/webhook_orders/app.py")
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
imported = {"enabled": gc.isenabled(), "frozen": gc.get_freeze_count()}
from bcsync.wiring import container
container()
print(json.dumps({"imported": imported, "wired": {"enabled": gc.isenabled(), "frozen": gc.get_freeze_count()}}))
"""


def probe(function_name: str | None) -> dict[str, dict[str, object]]:
    """What the collector is doing after the orders webhook's imports, and after its wiring."""
    env = {name: value for name, value in os.environ.items() if name != "AWS_LAMBDA_FUNCTION_NAME"}
    env["AWS_DEFAULT_REGION"] = "us-east-1"
    if function_name:  # Lambda sets it in every execution environment
        env["AWS_LAMBDA_FUNCTION_NAME"] = function_name
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, check=True
    )
    answer: dict[str, dict[str, object]] = json.loads(result.stdout)
    return answer


def test_in_lambda_the_collector_waits_for_the_composition_root_then_skips_what_was_loaded():
    seen = probe("bcsync-OrdersWebhookFunction")
    assert seen["imported"] == {"enabled": False, "frozen": 0}
    assert seen["wired"]["enabled"] is True
    assert isinstance(seen["wired"]["frozen"], int) and seen["wired"]["frozen"] > 10_000  # the loaded modules


def test_outside_lambda_the_collector_is_left_alone():
    seen = probe(None)
    assert seen["imported"] == {"enabled": True, "frozen": 0}
    assert seen["wired"] == {"enabled": True, "frozen": 0}
