"""The Docker-free local stack: template.yaml's resources on a moto server, its HTTP API routes
served by invoking the handlers in-process with API Gateway (payload 2.0) events, its SQS and
DynamoDB stream event sources polled into their functions (one invocation at a time per function,
as in Lambda), and its schedules fired at their rate.

One module per part: resources (provisioning from the template), functions (loading and invoking
handlers), http_api, queues, streams, schedules, state (the state file the CLI reads) and stack,
which wires them together.
"""

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
]
