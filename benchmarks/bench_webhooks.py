"""AWS requests per webhook, counted by operation, against their floor and the target set for them.

Each delivery goes through the orders function's Lambda handler in-process, with the template's
tables and queues in moto and the sandbox store on loopback; every AWS call is counted, whichever
client makes it (Powertools' idempotency layer included). The floor is what a change must cost at
least: one write of everything it changes and one send of its triggers (a re-delivery: one
dedupe check; a change that adds nothing: the dedupe record).
"""

from __future__ import annotations

import gc
import json
import statistics
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import boto3
from harness import quiet_environment, stack

from bcsync_ops.measure import AwsCall, aws_calls, place_measured_orders, place_order

TIMED = {"order/created, 3 lines": 3, "order/created, 24 lines": 24}
# Timed deliveries of each kind (new orders of new buyers): medians, so that one collector pause
# or a busy neighbour does not decide the figure.
REPEATS = 7
# kind -> (floor, target)
KINDS = {
    "first order of a store (caches cold)": (2, None),
    "order/created, 3 lines": (2, 6),
    "order/created, 24 lines": (2, 8),
    "re-delivery (same webhook-id)": (1, 1),
    "statusUpdated to Shipped (adds Fulfilled)": (2, 4),
    "statusUpdated adding nothing": (1, 3),
}


def delivery(scope: str, data: dict, webhook_id: str | None = None) -> dict:
    from bcsync.domain.webhooks import sign
    from bcsync_ops.local_stack import PROJECT_ROOT

    event = json.loads((PROJECT_ROOT / "events" / "order_created.json").read_text())
    body = json.dumps(
        {"scope": scope, "store_id": "1", "data": data, "hash": "h", "created_at": 1, "producer": "stores/sandbox"}
    )
    event["body"] = body
    event["headers"] = {
        "content-type": "application/json",
        **sign("secret", webhook_id or f"msg_{uuid.uuid4().hex}", datetime.now(UTC), body),
    }
    return event


def floor_seconds(calls: list[AwsCall]) -> float:
    """How long the change's floor calls took inside the handler's own run: its dedupe record, the
    one write of everything it changes and the send of its triggers. Timed where they happen, so
    both figures share the run, the tables' state and the machine's noise."""
    floor = [next(c for c in calls if c.operation == "PutItem")]
    floor += [next(c for c in calls if c.operation == "TransactWriteItems")]
    floor += [c for c in calls if c.operation == "SendMessageBatch"]
    return sum(call.seconds for call in floor)


def drain(sqs, queue_url: str) -> None:
    """Moto's send time grows with the messages a queue holds: every timing starts it empty."""
    while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages"):
        for message in messages:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def measure() -> tuple[dict[str, list[AwsCall]], dict[str, tuple[float, float]]]:
    """Each delivery kind's AWS calls, and the timed kinds' median handler and floor seconds
    (parameter copying left out)."""
    from bcsync_ops.demo import sandbox_store
    from bcsync_ops.local_stack import PROJECT_ROOT, LambdaContext, function_specs, load_handler
    from bcsync_ops.template import load_template

    store = sandbox_store()
    created = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    measured: dict[str, list[AwsCall]] = {}
    with stack(store) as physical:
        sqs = boto3.client("sqs")
        props = function_specs(load_template(PROJECT_ROOT / "template.yaml"))["OrdersWebhookFunction"]
        handler = load_handler("OrdersWebhookFunction", props).lambda_handler

        def send(event: dict) -> tuple[list[AwsCall], float]:
            drain(sqs, physical["FlowTriggerQueue"])
            with aws_calls() as calls:
                started = time.perf_counter()
                answer = handler(event, LambdaContext("OrdersWebhookFunction", 30))
                elapsed = time.perf_counter() - started - sum(call.copying for call in calls)
            assert answer["statusCode"] == 200, answer
            return calls, elapsed

        def count(kind: str, event: dict) -> None:
            measured[kind] = send(event)[0]

        place_measured_orders(store, created)
        # Fills the caches a running store has warm: the secret and every product's catalog item.
        count("first order of a store (caches cold)", delivery("store/order/created", {"type": "order", "id": 3000}))
        first = delivery("store/order/created", {"type": "order", "id": 3001}, webhook_id="msg_first")
        count("order/created, 3 lines", first)
        count("order/created, 24 lines", delivery("store/order/created", {"type": "order", "id": 3002}))
        count("re-delivery (same webhook-id)", first)
        store.set_status(3001, 2, at=created + timedelta(minutes=30), shipped=True)
        shipped = {"type": "order", "id": 3001, "status": {"previous_status_id": 11, "new_status_id": 2}}
        count("statusUpdated to Shipped (adds Fulfilled)", delivery("store/order/statusUpdated", shipped))
        store.set_status(3002, 9, at=created + timedelta(minutes=40))
        packed = {"type": "order", "id": 3002, "status": {"previous_status_id": 11, "new_status_id": 9}}
        count("statusUpdated adding nothing", delivery("store/order/statusUpdated", packed))

        # As in Lambda, where the cold start's objects are frozen (bcsync/__init__.py): the
        # collector's pauses then scan what a request makes, not the whole process.
        gc.collect()
        gc.freeze()
        timed = {}
        for number, (kind, lines) in enumerate(TIMED.items()):
            runs = []
            for repeat in range(REPEATS):
                order_id = 4000 + 100 * number + repeat
                place_order(store, order_id, lines, created)
                calls, elapsed = send(delivery("store/order/created", {"type": "order", "id": order_id}))
                runs.append((elapsed, floor_seconds(calls)))
            timed[kind] = (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs))
        gc.unfreeze()
    return measured, timed


def measure_calls() -> dict[str, list[AwsCall]]:
    return measure()[0]


def main() -> None:
    quiet_environment()
    measured, timings = measure()
    results = {kind: Counter(call.operation for call in calls) for kind, calls in measured.items()}
    print("AWS requests per order webhook (in-process, moto; every client counted):")
    print(f"  {'delivery':<44}{'requests':>9}{'floor':>7}{'target':>8}{'x floor':>9}  by operation")
    for kind, (floor, target) in KINDS.items():
        total, by_operation = sum(results[kind].values()), sorted(results[kind].items())
        operations = ", ".join(f"{name} {count}" for name, count in by_operation)
        print(f"  {kind:<44}{total:>9}{floor:>7}{target or '-':>8}{total / floor:>9.1f}  {operations}")
    print(f"\nWarm handler time against its floor calls' time (same run, same moto, medians of {REPEATS}, target 2x):")
    print(f"  {'delivery':<44}{'handler ms':>11}{'floor ms':>10}{'x floor':>9}")
    for kind in TIMED:
        handler_s, floor_s = timings[kind]
        print(f"  {kind:<44}{handler_s * 1000:>11.1f}{floor_s * 1000:>10.1f}{handler_s / floor_s:>9.1f}")
    (small, small_floor), (large, large_floor) = (timings[kind] for kind in TIMED)
    fewer, more = TIMED.values()
    per_10 = 10 / (more - fewer)
    print(
        f"  per 10 more lines: handler +{(large - small) * per_10 * 1000:.1f} ms, "
        f"floor +{(large_floor - small_floor) * per_10 * 1000:.1f} ms (the floor itself: {small_floor * 1000:.1f} ms)"
    )


if __name__ == "__main__":
    main()
