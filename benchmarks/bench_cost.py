"""What bcsync costs to run, from the AWS calls it is measured to make, at us-east-1 list prices.

Requests and capacity units come from the calls recorded in-process (bench_webhooks' deliveries
and a backfill); item sizes from their parameters. What moto cannot tell is assumed and printed:
Lambda duration (BigCommerce's latency dominates it) and memory. The same model is applied to the
calls main made before batching (measured on commit 8a48623, by operation), so the two compare.
"""

from __future__ import annotations

import json
import math
from collections import Counter

from bench_sync import backfill_aws_calls
from bench_webhooks import measure_calls
from harness import quiet_environment

from bcsync_ops.measure import AwsCall

# us-east-1 list prices, USD (../shared/reference/peers-and-guarantees.md, "Cost").
HTTP_API_PER_REQUEST = 1.00 / 1e6
LAMBDA_PER_REQUEST = 0.20 / 1e6
LAMBDA_PER_GB_SECOND = 0.0000133334  # arm64
DYNAMODB_PER_WRU = 0.625 / 1e6
DYNAMODB_PER_RRU = 0.125 / 1e6
SQS_FIFO_PER_REQUEST = 0.50 / 1e6  # per 64 KB chunk; FIFO queues list at $0.50/M
SECRETS_PER_CALL = 0.05 / 10_000

# Assumed, not measured: a webhook waits on one or two BigCommerce calls; a backfilled order is
# one of 250 in a page, its share of the page's time.
WEBHOOK_SECONDS, WEBHOOK_GB = 0.25, 0.5
BACKFILL_ORDER_SECONDS, BACKFILL_GB = 0.02, 1.0

# Main before batching (issue 10's measurement, warm), `order/created` with 3 lines, by operation.
# Its write units are estimated from the sizes of today's items: each of the 4 events once, the
# profile saved 3 times, and 12 small items (2 identity claims, 5 trigger reservations, 5 `sent_at`
# stamps), one unit per KB each (it used no transactions); its reads: 3 GetItem, 7 keys in its
# BatchGetItems and a Query of the timeline.
BEFORE_WEBHOOK = {"PutItem": 13, "UpdateItem": 6, "GetItem": 3, "BatchGetItem": 2, "Query": 1, "SendMessage": 5}
BEFORE_SMALL_WRITES, BEFORE_PROFILE_SAVES = 12, 3
BEFORE_BACKFILL_REQUESTS_PER_ORDER = 9.2


def kb(value: object) -> int:
    return max(1, math.ceil(len(json.dumps(value, default=str)) / 1024))


def units(calls: list[AwsCall]) -> Counter[str]:
    """Write and read units, SQS requests (64 KB chunks) and Secrets Manager calls."""
    used: Counter[str] = Counter()
    for call in calls:
        params, operation = call.params, call.operation
        if operation == "PutItem":
            used["wru"] += kb(params["Item"])
        elif operation in ("UpdateItem", "DeleteItem"):
            used["wru"] += 1
        elif operation == "TransactWriteItems":  # a transaction costs two units per KB per item
            used["wru"] += sum(2 * kb(next(iter(item.values())).get("Item", {})) for item in params["TransactItems"])
        elif operation == "BatchWriteItem":
            used["wru"] += sum(kb(request) for requests in params["RequestItems"].values() for request in requests)
        elif operation == "GetItem":
            used["rru"] += 1
        elif operation == "BatchGetItem":  # strongly consistent, items under 4 KB
            used["rru"] += sum(len(table["Keys"]) for table in params["RequestItems"].values())
        elif operation == "Query":
            used["rru"] += 1
        elif operation in ("SendMessage", "SendMessageBatch"):
            body = params.get("Entries") or params.get("MessageBody")
            used["sqs"] += math.ceil(len(json.dumps(body)) / 65536)
        elif operation == "GetSecretValue":
            used["secrets"] += 1
    return used


def dollars(used: dict[str, float], *, lambda_seconds: float, gb: float, http: bool) -> float:
    return (
        used.get("wru", 0) * DYNAMODB_PER_WRU
        + used.get("rru", 0) * DYNAMODB_PER_RRU
        + used.get("sqs", 0) * SQS_FIFO_PER_REQUEST
        + used.get("secrets", 0) * SECRETS_PER_CALL
        + LAMBDA_PER_REQUEST * (1 if http else 0)
        + lambda_seconds * gb * LAMBDA_PER_GB_SECOND
        + (HTTP_API_PER_REQUEST if http else 0)
    )


def main() -> None:
    quiet_environment()
    webhooks = measure_calls()
    print("Cost per million webhooks (us-east-1 list prices; Lambda 512 MB x 0.25 s assumed):")
    print(f"  {'delivery':<44}{'requests':>9}{'WRU':>6}{'RRU':>6}{'SQS':>5}{'$ / M':>9}")
    for kind, calls in webhooks.items():
        used = units(calls)
        cost = dollars(used, lambda_seconds=WEBHOOK_SECONDS, gb=WEBHOOK_GB, http=True) * 1e6
        print(f"  {kind:<44}{len(calls):>9}{used['wru']:>6}{used['rru']:>6}{used['sqs']:>5}{cost:>9.2f}")
    commit = next(c for c in webhooks["order/created, 3 lines"] if c.operation == "TransactWriteItems")
    puts = [operation["Put"] for operation in commit.params["TransactItems"] if "Put" in operation]
    event_kb = sum(kb(put["Item"]) for put in puts if "metric" in put["Item"])
    profile_kb = sum(kb(put["Item"]) for put in puts if put["Item"].get("entity") == "profile")
    dedupe = 2  # the same Powertools record, put then completed
    wru = event_kb + BEFORE_PROFILE_SAVES * profile_kb + BEFORE_SMALL_WRITES + dedupe
    earlier = {"wru": wru, "rru": 3 + 7 + 1, "sqs": 5}
    before = dollars(earlier, lambda_seconds=WEBHOOK_SECONDS, gb=WEBHOOK_GB, http=True) * 1e6
    print(f"  {'order/created, 3 lines, before (estimated)':<44}{sum(BEFORE_WEBHOOK.values()):>9}", end="")
    print(f"{earlier['wru']:>6.0f}{earlier['rru']:>6}{earlier['sqs']:>5}{before:>9.2f}")

    orders = 300
    calls = backfill_aws_calls(orders)
    used = units(calls)
    per_order = {key: value / orders for key, value in used.items()}
    per_100k = dollars(per_order, lambda_seconds=BACKFILL_ORDER_SECONDS, gb=BACKFILL_GB, http=False) * 100_000
    print(f"\nBackfill of {orders} orders: {len(calls) / orders:.2f} AWS requests per order", end=" ")
    print(f"({dict(sorted(Counter(c.operation for c in calls).items()))})")
    print(
        f"  WRU {per_order.get('wru', 0):.1f}, RRU {per_order.get('rru', 0):.1f} per order; cost per 100,000 backfilled"
        f" orders ${per_100k:.2f} (Lambda 1 GB x {BACKFILL_ORDER_SECONDS} s per order assumed); before batching"
        f" {BEFORE_BACKFILL_REQUESTS_PER_ORDER} requests per order"
    )
    print(
        "\nA hosted alternative (Klaviyo, dotdigital) bills per profile or contact per month, not per event:"
        " no per-webhook list price exists to set beside these."
    )


if __name__ == "__main__":
    main()
