"""The template's functions, loaded in-process from their CodeUri and invoked one at a time each,
with the context and the environment Lambda would give them."""

from __future__ import annotations

import importlib.util
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from bcsync_ops.template import LOCAL_ACCOUNT, LOCAL_REGION, Resolver, resources_of

PROJECT_ROOT = Path(__file__).resolve().parents[3]


@dataclass
class LocalFunction:
    logical_id: str
    module: ModuleType
    timeout: int
    lock: threading.Lock = field(default_factory=threading.Lock)

    def invoke(self, event: dict[str, Any]) -> Any:
        with self.lock:
            return self.module.lambda_handler(event, LambdaContext(self.logical_id, self.timeout))


@dataclass
class LambdaContext:
    function_name: str
    timeout: int
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{LOCAL_REGION}:{LOCAL_ACCOUNT}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(1, int((self.timeout - (time.monotonic() - self.started)) * 1000))


def function_specs(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each function's properties with the template's Globals applied."""
    globals_ = template.get("Globals", {}).get("Function", {})
    return {
        logical_id: {"Timeout": globals_.get("Timeout", 3), **props}
        for logical_id, props in resources_of(template, "AWS::Serverless::Function").items()
    }


def function_environment(template: dict[str, Any], resolver: Resolver) -> dict[str, str]:
    """The functions' environment, resolved; in-process functions share one, so they must agree."""
    globals_ = template.get("Globals", {}).get("Function", {})
    environment: dict[str, str] = {}
    for props in function_specs(template).values():
        merged = {
            **globals_.get("Environment", {}).get("Variables", {}),
            **props.get("Environment", {}).get("Variables", {}),
        }
        for key, value in resolver.resolve(merged).items():
            if environment.get(key, str(value)) != str(value):
                raise ValueError(f"functions disagree on {key}; the in-process stack shares one environment")
            environment[key] = str(value)
    return {key: _layer_path(template, value) for key, value in environment.items()}


def _layer_path(template: dict[str, Any], value: str) -> str:
    """Layers are mounted at /opt in Lambda; in process, a path there is the layer's source file."""
    if not value.startswith("/opt/"):
        return value
    relative = value.removeprefix("/opt/")
    for props in resources_of(template, "AWS::Serverless::LayerVersion").values():
        candidate = PROJECT_ROOT / props["ContentUri"] / relative
        if candidate.exists():
            return str(candidate)
    return value


def load_handler(logical_id: str, props: dict[str, Any]) -> ModuleType:
    """Import a function's handler module from its CodeUri, under a name unique to the function."""
    module_name = props["Handler"].rpartition(".")[0]
    path = PROJECT_ROOT / props["CodeUri"] / f"{module_name.replace('.', '/')}.py"
    spec = importlib.util.spec_from_file_location(f"bcsync_local_{logical_id}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path} for {logical_id}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
