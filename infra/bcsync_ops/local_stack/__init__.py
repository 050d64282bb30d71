"""The Docker-free local stack: template.yaml's resources on a moto server, its HTTP API routes
served by invoking the handlers in-process with API Gateway (payload 2.0) events, its SQS and
DynamoDB stream event sources polled into their functions (one invocation at a time per function,
as in Lambda), and its schedules fired at their rate.

One module per part: moto_server (AWS), resources (provisioning from the template), functions
(loading and invoking handlers), http_api, queues, streams, schedules, state (the state file the CLI
reads) and stack, which wires them together.

Each name is imported on first use: `bcsync events export` needs the state file, not moto's server.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bcsync_ops.local_stack.functions import (
        PROJECT_ROOT,
        LambdaContext,
        LocalFunction,
        function_environment,
        function_specs,
        load_handler,
    )
    from bcsync_ops.local_stack.resources import StoreConfig, provision
    from bcsync_ops.local_stack.stack import LocalStack
    from bcsync_ops.local_stack.state import state_file
    from bcsync_ops.local_stack.streams import streams_client

_HOMES = {
    "PROJECT_ROOT": "functions",
    "LambdaContext": "functions",
    "LocalFunction": "functions",
    "function_environment": "functions",
    "function_specs": "functions",
    "load_handler": "functions",
    "StoreConfig": "resources",
    "provision": "resources",
    "LocalStack": "stack",
    "state_file": "state",
    "streams_client": "streams",
}
__all__ = [
    "PROJECT_ROOT",
    "LambdaContext",
    "LocalFunction",
    "LocalStack",
    "StoreConfig",
    "function_environment",
    "function_specs",
    "load_handler",
    "provision",
    "state_file",
    "streams_client",
]


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
