"""A cold start loads only what the function uses, and the cyclic collector pauses while it loads
and resumes, on a frozen heap, once the function's code is loaded (bcsync/__init__.py); outside
Lambda the collector is never touched."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from bcsync_ops.local_stack import PROJECT_ROOT

PROBE = """
import gc, importlib.util, json, sys
spec = importlib.util.spec_from_file_location("app", f"functions/{sys.argv[1]}/app.py")
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
imported = {"enabled": gc.isenabled(), "frozen": gc.get_freeze_count()}
from bcsync.wiring import container
try:
    container()
except Exception as error:
    failed = type(error).__name__
else:
    failed = None
wired = {"enabled": gc.isenabled(), "frozen": gc.get_freeze_count()}
loaded = sorted(name for name in sys.modules if name.startswith("bcsync."))
print(json.dumps({"imported": imported, "wired": wired, "loaded": loaded, "failed": failed}))
"""


def probe(function: str, *, in_lambda: bool, settings_file: str | None = None) -> dict[str, Any]:
    """What the collector is doing after a function's imports, and after its composition root."""
    env = {name: value for name, value in os.environ.items() if name != "AWS_LAMBDA_FUNCTION_NAME"}
    env["AWS_DEFAULT_REGION"] = "us-east-1"
    if in_lambda:  # Lambda sets it in every execution environment
        env["AWS_LAMBDA_FUNCTION_NAME"] = f"bcsync-{function}"
    if settings_file:
        env["SETTINGS_FILE"] = settings_file
    result = subprocess.run(
        [sys.executable, "-c", PROBE, function], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, check=True
    )
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


def loaded_and_frozen(state: dict[str, object]) -> bool:
    frozen = state["frozen"]
    return state["enabled"] is True and isinstance(frozen, int) and frozen > 10_000  # the loaded modules


def test_a_scheduled_function_collects_again_once_its_composition_root_is_built():
    seen = probe("sync_jobs", in_lambda=True)
    assert seen["failed"] is None
    assert seen["imported"] == {"enabled": False, "frozen": 0}
    assert loaded_and_frozen(seen["wired"])


def test_a_settings_file_that_fails_to_load_does_not_leave_the_collector_paused(tmp_path):
    broken = tmp_path / "bcsync-settings.json"
    broken.write_text("{not json")
    seen = probe("sync_jobs", in_lambda=True, settings_file=str(broken))
    assert seen["failed"] is not None  # every invocation fails until the file is mended
    assert loaded_and_frozen(seen["wired"])


def test_an_http_function_collects_again_before_its_first_request():
    """The read API refuses a bad parameter before it reaches the composition root."""
    seen = probe("read_api", in_lambda=True)
    assert loaded_and_frozen(seen["imported"])
    assert seen["wired"] == seen["imported"]


def test_outside_lambda_the_collector_is_left_alone():
    seen = probe("webhook_orders", in_lambda=False)
    assert seen["imported"] == {"enabled": True, "frozen": 0}
    assert seen["wired"] == {"enabled": True, "frozen": 0}


def test_the_read_api_and_a_webhook_load_neither_the_flow_models_nor_the_sync_jobs():
    for function in ("read_api", "webhook_orders"):
        loaded = set(probe(function, in_lambda=False)["loaded"])
        assert "bcsync.domain.flow_definitions" not in loaded, function  # 22 models, ~20 ms
        assert not {"bcsync.usecases.backfill", "bcsync.usecases.reconcile"} & loaded, function


def test_functions_that_take_no_webhooks_load_no_webhook_models():
    for function in ("read_api", "track", "flow_events", "flow_timer"):
        assert "bcsync.domain.webhooks" not in probe(function, in_lambda=False)["loaded"], function
