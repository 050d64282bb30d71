"""What each function may do and is told, read from template.yaml, and what it actually does and
reads, seen in-process.

Every AWS call a function makes while a test invokes it is turned into the IAM actions AWS would
authorize it by (a transaction item by item; a batch by its own action) on the resource it names
(a table, one of its indexes, a queue, the store secrets), and checked against the function's
policy statements. moto authorizes nothing, so without this a policy trimmed too far would pass
every test and fail in AWS. Likewise each table or queue setting a function reads must be in its
own Environment: in process the functions share one environment, in AWS each has only its own.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

STORE_SECRETS = "secret:bcsync/stores/*"
# SAM policy templates the template may still use, as the actions they grant on their resource.
SAM_TEMPLATES = {
    "SQSSendMessagePolicy": ("QueueName", ("sqs:SendMessage*", "sqs:ChangeMessageVisibility*")),
    "AWSSecretsManagerGetSecretValuePolicy": ("SecretArn", ("secretsmanager:GetSecretValue",)),
    # The event source mapping reads the stream with the function's role; the code never does.
    "DynamoDBStreamReadPolicy": ("TableName", ("dynamodb:DescribeStream", "dynamodb:GetRecords")),
}
WRITE_ITEM_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


@dataclass(frozen=True)
class Grant:
    action: str  # may end in *
    resource: str  # a logical id, "<Table>/index/*", STORE_SECRETS or "*"

    def allows(self, action: str, resource: str) -> bool:
        return fnmatchcase(action, self.action) and (self.resource == "*" or fnmatchcase(resource, self.resource))


@dataclass(frozen=True)
class Use:
    action: str
    resource: str


def _resource(value: Any) -> str:
    """A policy resource as a logical id (or a pattern on one)."""
    if value == "*":
        return "*"
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        return (target.split(".") if isinstance(target, str) else target)[0]
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    if isinstance(value, dict) and "Fn::Sub" in value:
        text = value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]
        if text.startswith("${") and ".Arn}" in text:
            logical, rest = text[2:].split(".Arn}", 1)
            return logical + rest
        if ":secret:" in text:
            return "secret:" + text.split(":secret:", 1)[1]
    raise ValueError(f"a policy resource this check cannot read: {value!r}")


def grants_of(function: dict[str, Any]) -> list[Grant]:
    """The function's policies as grants; a policy template it does not know is an error, so a
    broad one (DynamoDBCrudPolicy) cannot slip back in unread."""
    grants: list[Grant] = []
    for policy in function.get("Properties", {}).get("Policies", []):
        ((name, body),) = policy.items()
        if name == "Statement":
            for statement in body:
                assert statement["Effect"] == "Allow", statement
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                resources = (
                    statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
                )
                grants += [Grant(action, _resource(resource)) for action in actions for resource in resources]
        elif name in SAM_TEMPLATES:
            key, actions = SAM_TEMPLATES[name]
            grants += [Grant(action, _resource(body[key])) for action in actions]
        else:
            raise ValueError(f"policy template {name} is not allowed: write the statements it needs")
    return grants


def uses_of(service: str, operation: str, params: dict[str, Any], logical: dict[str, str]) -> Iterator[Use]:
    """The IAM actions one API call is authorized by, on logical resources."""

    def table(name: str, index: str | None = None) -> str:
        return logical.get(name, name) + (f"/index/{index}" if index else "")

    if service == "dynamodb":
        if operation == "TransactWriteItems":
            for item in params["TransactItems"]:
                ((kind, body),) = item.items()
                yield Use(f"dynamodb:{WRITE_ITEM_ACTIONS[kind]}", table(body["TableName"]))
        elif operation == "TransactGetItems":
            for item in params["TransactItems"]:
                yield Use("dynamodb:GetItem", table(item["Get"]["TableName"]))
        elif operation in ("BatchGetItem", "BatchWriteItem"):
            for name in params["RequestItems"]:
                yield Use(f"dynamodb:{operation}", table(name))
        else:
            yield Use(f"dynamodb:{operation}", table(params["TableName"], params.get("IndexName")))
    elif service == "sqs":
        queue = params.get("QueueUrl") or params.get("QueueName", "")
        yield Use(f"sqs:{operation}", logical.get(queue, queue))
    elif service == "secretsmanager":
        secret = params.get("SecretId")
        yield Use(f"secretsmanager:{operation}", "secret:" + secret if secret else "*")
    else:
        yield Use(f"{service}:{operation}", "*")


def refused(uses: Iterable[Use], grants: list[Grant]) -> list[Use]:
    return [use for use in uses if not any(grant.allows(use.action, use.resource) for grant in grants)]


@dataclass
class CallLog:
    """The calls made while a function runs, by function; calls outside one are the test's own.
    Which function runs is per thread: a test may invoke functions concurrently."""

    logical: dict[str, str]
    uses: dict[str, set[Use]] = field(default_factory=dict)
    settings: dict[str, set[str]] = field(default_factory=dict)  # the variables each function read
    _running: threading.local = field(default_factory=threading.local)

    @property
    def current(self) -> str | None:
        return getattr(self._running, "function", None)

    def record(self, service: str, operation: str, params: dict[str, Any]) -> None:
        if self.current is not None:
            self.uses.setdefault(self.current, set()).update(uses_of(service, operation, params, self.logical))

    def read_setting(self, variable: str) -> None:
        if self.current is not None:
            self.settings.setdefault(self.current, set()).add(variable)

    @contextmanager
    def calling_as(self, function: str) -> Iterator[None]:
        outer, self._running.function = self.current, function
        try:
            yield
        finally:
            self._running.function = outer


def environment_of(template: dict[str, Any], function: str) -> set[str]:
    """The variables the function's Lambda environment holds (the Globals' and its own)."""
    shared = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    own = template["Resources"][function].get("Properties", {}).get("Environment", {}).get("Variables", {})
    return {*shared, *own}
