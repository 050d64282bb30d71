"""Each function's policy lists only what it calls. The stack fixture checks every call a test
makes against the calling function's statements (iam.py); these tests pin what may never creep
back: broad policy templates, scans, deletes outside the few that need one."""

from __future__ import annotations

import pytest

from bcsync_ops.local_stack import PROJECT_ROOT, function_specs
from bcsync_ops.template import load_template
from tests.integration.iam import CallLog, Grant, Use, grants_of, refused, uses_of

TEMPLATE = load_template(PROJECT_ROOT / "template.yaml")
FUNCTIONS = sorted(function_specs(TEMPLATE))
# Where a function must delete, and why (the template says the same next to each grant).
DELETES = {
    ("OrdersWebhookFunction", "DeliveriesTable"),  # idempotency clears a failed in-progress record
    ("CartsWebhookFunction", "DeliveriesTable"),
    ("CustomersWebhookFunction", "DeliveriesTable"),
    ("SubscribersWebhookFunction", "DeliveriesTable"),
    ("CatalogWebhookFunction", "DeliveriesTable"),
    ("RetryDeliveriesFunction", "DeliveriesTable"),
    ("CustomersWebhookFunction", "CountersTable"),  # a merge moves counters
    ("RetryDeliveriesFunction", "CountersTable"),
    ("SyncJobsFunction", "CountersTable"),
    ("CustomersWebhookFunction", "ProfilesTable"),  # a deleted account's identity is released
    ("RetryDeliveriesFunction", "ProfilesTable"),
    ("SyncJobsFunction", "ProfilesTable"),
    ("FlowEventsFunction", "FlowRunsTable"),  # a run's re-entry guard
    ("FlowTimerFunction", "FlowRunsTable"),
}


def grants(function: str) -> list[Grant]:
    return grants_of(TEMPLATE["Resources"][function])


@pytest.mark.parametrize("function", FUNCTIONS)
def test_a_policy_names_its_actions_and_tables(function):
    for grant in grants(function):
        if grant.action.startswith("dynamodb:"):
            assert "*" not in grant.action and grant.resource != "*", grant
            assert grant.action not in ("dynamodb:Scan", "dynamodb:DeleteTable"), grant
        if grant.resource == "*":
            assert grant.action == "secretsmanager:ListSecrets", grant  # the one action with no resource scope


def test_only_the_functions_that_must_delete_may():
    deleting = {
        (function, grant.resource)
        for function in FUNCTIONS
        for grant in grants(function)
        if grant.action == "dynamodb:DeleteItem"
    }
    assert deleting == DELETES


def test_a_broad_policy_template_is_refused_unread():
    with pytest.raises(ValueError, match="DynamoDBCrudPolicy"):
        grants_of({"Properties": {"Policies": [{"DynamoDBCrudPolicy": {"TableName": {"Ref": "EventsTable"}}}]}})


def test_a_transaction_needs_each_items_own_action_and_a_query_its_index():
    logical = {"bcsync-events": "EventsTable", "bcsync-counters": "CountersTable"}
    transaction = {
        "TransactItems": [
            {"Put": {"TableName": "bcsync-events", "Item": {}}},
            {"Update": {"TableName": "bcsync-counters", "Key": {}}},
            {"Delete": {"TableName": "bcsync-counters", "Key": {}}},
        ]
    }
    assert list(uses_of("dynamodb", "TransactWriteItems", transaction, logical)) == [
        Use("dynamodb:PutItem", "EventsTable"),
        Use("dynamodb:UpdateItem", "CountersTable"),
        Use("dynamodb:DeleteItem", "CountersTable"),
    ]
    query = {"TableName": "bcsync-events", "IndexName": "PlacedOrders"}
    assert list(uses_of("dynamodb", "Query", query, logical)) == [
        Use("dynamodb:Query", "EventsTable/index/PlacedOrders")
    ]
    read_api = grants("ReadApiFunction")
    assert refused([Use("dynamodb:Query", "EventsTable/index/PlacedOrders")], read_api) == []
    assert refused([Use("dynamodb:Query", "EventsTable")], read_api) == [Use("dynamodb:Query", "EventsTable")]


def test_calls_are_charged_to_the_function_running_them():
    calls = CallLog(logical={"bcsync-events": "EventsTable"})
    calls.record("dynamodb", "GetItem", {"TableName": "bcsync-events"})  # the test's own look
    with calls.calling_as("OrdersWebhookFunction"):
        calls.record("dynamodb", "Scan", {"TableName": "bcsync-events"})
    assert calls.uses == {"OrdersWebhookFunction": {Use("dynamodb:Scan", "EventsTable")}}
    assert refused(calls.uses["OrdersWebhookFunction"], grants("OrdersWebhookFunction"))
