"""Onsite beacons through TrackFunction's handler in-process (moto, the sandbox store): views per
second, AWS requests per view by kind against the floor (one conditional write), and the cost per
million page views at list prices. Kinds: a signed-in shopper's first view (their profile is made),
a known visitor's view of another product, and the same view again inside its half hour (the
dedupe)."""

from __future__ import annotations

import json
import time
import warnings
from collections import Counter
from datetime import UTC, datetime, timedelta

import jwt
from bench_cost import (
    DYNAMODB_PER_RRU,
    DYNAMODB_PER_WRU,
    HTTP_API_PER_REQUEST,
    LAMBDA_PER_GB_SECOND,
    LAMBDA_PER_REQUEST,
    SQS_FIFO_PER_REQUEST,
    units,
)
from harness import stack

SHOPPERS = 60
warnings.filterwarnings("ignore", category=jwt.warnings.InsecureKeyLengthWarning)  # the harness's short secret
# Assumed, not measured: a beacon's Lambda time at 256 MB.
BEACON_SECONDS, BEACON_GB = 0.05, 0.25


def shopper_jwt(secret: str, customer_id: int) -> str:
    now = datetime.now(UTC)
    claims = {
        "customer": {"id": customer_id, "email": f"shopper{customer_id}@example.com", "group_id": "0"},
        "iss": "bc/apps",
        "sub": "sandbox",
        "store_hash": "sandbox",
        "operation": "current_customer",
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=15)).timestamp()),
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def main() -> None:
    from bcsync_ops.demo import sandbox_store

    store = sandbox_store()
    with stack(store):
        from bcsync.domain.bigcommerce import StoreInfo
        from bcsync.wiring import container
        from bcsync_ops.local_stack import PROJECT_ROOT, LambdaContext, function_specs, load_handler
        from bcsync_ops.measure import aws_calls
        from bcsync_ops.template import load_template

        props = function_specs(load_template(PROJECT_ROOT / "template.yaml"))["TrackFunction"]
        handler = load_handler("TrackFunction", props).lambda_handler
        event = json.loads((PROJECT_ROOT / "events" / "subscription_confirm.json").read_text())
        secret = "secret"  # the harness's store secret
        app = container()
        app.catalog_repository.put_store_info("sandbox", StoreInfo(secure_url="https://sandbox.example.com"))

        def post(body: dict) -> None:
            beacon = {
                **event,
                "rawPath": "/track",
                "rawQueryString": "store=sandbox",
                "queryStringParameters": {"store": "sandbox"},
                "body": json.dumps(body),
                "headers": {
                    "content-type": "text/plain",
                    "user-agent": "Mozilla/5.0",
                    "origin": "https://sandbox.example.com",
                },
                "requestContext": {
                    **event["requestContext"],
                    "http": {**event["requestContext"]["http"], "method": "POST", "path": "/track"},
                },
            }
            answer = handler(beacon, LambdaContext("TrackFunction", 30))
            assert answer["statusCode"] == 202, answer

        products = sorted(store.products)
        post({"metric": "Viewed Product", "customer_jwt": shopper_jwt(secret, 1), "product_id": products[0]})  # warm
        app.onsite._buckets.capacity = app.onsite._buckets.per_second = 1e9  # one benchmark IP: no burst limit
        kinds: dict[str, list] = {
            "first view of a new signed-in shopper": [],
            "a known visitor's next product": [],
            "the same view again (dedupe)": [],
        }
        started = time.perf_counter()
        views = 0
        for customer in range(2, SHOPPERS + 2):
            token = shopper_jwt(secret, customer)
            for n, product in enumerate(products):
                kind = "first view of a new signed-in shopper" if n == 0 else "a known visitor's next product"
                with aws_calls() as calls:
                    post({"metric": "Viewed Product", "customer_jwt": token, "product_id": product})
                kinds[kind].append(calls)
                with aws_calls() as again:
                    post({"metric": "Viewed Product", "customer_jwt": token, "product_id": product})
                kinds["the same view again (dedupe)"].append(again)
                views += 2
        elapsed = time.perf_counter() - started
    print(f"Onsite beacons ({views} views in-process under moto: {views / elapsed:.0f} views/s):")
    print(f"  {'view':<42}{'requests':>9}{'floor':>7}{'WRU':>6}{'RRU':>6}{'$ / M views':>13}  by operation")
    for kind, samples in kinds.items():
        requests = sum(len(calls) for calls in samples) / len(samples)
        used = Counter()
        for calls in samples:
            used.update(units(calls))
        wru, rru, sqs = (used[k] / len(samples) for k in ("wru", "rru", "sqs"))
        cost = (
            HTTP_API_PER_REQUEST
            + LAMBDA_PER_REQUEST
            + BEACON_SECONDS * BEACON_GB * LAMBDA_PER_GB_SECOND
            + wru * DYNAMODB_PER_WRU
            + rru * DYNAMODB_PER_RRU
            + sqs * SQS_FIFO_PER_REQUEST
        ) * 1e6
        operations = Counter(call.operation for calls in samples for call in calls)
        by_operation = ", ".join(f"{name} {count / len(samples):.1f}" for name, count in sorted(operations.items()))
        print(f"  {kind:<42}{requests:>9.1f}{1:>7}{wru:>6.1f}{rru:>6.1f}{cost:>13.2f}  {by_operation}")
    print(f"  (Lambda {BEACON_GB * 1024:.0f} MB x {BEACON_SECONDS} s a beacon assumed; moto cannot measure it)")


if __name__ == "__main__":
    main()
