"""AWS requests per webhook, counted by operation, against their floor and the target set for them.

Each delivery goes through the orders function's Lambda handler in-process, with the template's
tables and queues in moto and the sandbox store on loopback; every AWS call is counted, whichever
client makes it (Powertools' idempotency layer included). The floor is what a change must cost at
least: one write of everything it changes and one send of its triggers (a re-delivery: one
dedupe check; a change that adds nothing: the dedupe record).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from harness import quiet_environment, stack

from bcsync_ops.measure import aws_requests, place_measured_orders

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


def measure() -> dict[str, tuple[int, dict[str, int]]]:
    from bcsync_ops.demo import sandbox_store
    from bcsync_ops.local_stack import PROJECT_ROOT, _LambdaContext, function_specs, load_handler
    from bcsync_ops.template import load_template

    store = sandbox_store()
    created = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    results: dict[str, tuple[int, dict[str, int]]] = {}
    with stack(store):
        props = function_specs(load_template(PROJECT_ROOT / "template.yaml"))["OrdersWebhookFunction"]
        handler = load_handler("OrdersWebhookFunction", props).lambda_handler

        def send(kind: str, event: dict) -> None:
            with aws_requests() as counted:
                answer = handler(event, _LambdaContext("OrdersWebhookFunction", 30))
            assert answer["statusCode"] == 200, answer
            results[kind] = (sum(counted.values()), dict(sorted(counted.items())))

        place_measured_orders(store, created)
        # Fills the caches a running store has warm: the secret and every product's catalog item.
        send("first order of a store (caches cold)", delivery("store/order/created", {"type": "order", "id": 3000}))
        first = delivery("store/order/created", {"type": "order", "id": 3001}, webhook_id="msg_first")
        send("order/created, 3 lines", first)
        send("order/created, 24 lines", delivery("store/order/created", {"type": "order", "id": 3002}))
        send("re-delivery (same webhook-id)", first)
        store.set_status(3001, 2, at=created + timedelta(minutes=30), shipped=True)
        shipped = {"type": "order", "id": 3001, "status": {"previous_status_id": 11, "new_status_id": 2}}
        send("statusUpdated to Shipped (adds Fulfilled)", delivery("store/order/statusUpdated", shipped))
        store.set_status(3002, 9, at=created + timedelta(minutes=40))
        packed = {"type": "order", "id": 3002, "status": {"previous_status_id": 11, "new_status_id": 9}}
        send("statusUpdated adding nothing", delivery("store/order/statusUpdated", packed))
    return results


def main() -> None:
    quiet_environment()
    results = measure()
    print("AWS requests per order webhook (in-process, moto; every client counted):")
    print(f"  {'delivery':<44}{'requests':>9}{'floor':>7}{'target':>8}{'x floor':>9}  by operation")
    for kind, (floor, target) in KINDS.items():
        total, by_operation = results[kind]
        operations = ", ".join(f"{name} {count}" for name, count in by_operation.items())
        print(f"  {kind:<44}{total:>9}{floor:>7}{target or '-':>8}{total / floor:>9.1f}  {operations}")


if __name__ == "__main__":
    main()
