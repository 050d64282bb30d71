"""Flow runs at volume: people enter a two-delay, two-action flow, the minute tick wakes them
twice; AWS requests per entry and per step against the floor (one state write per step, one send
per action), and the cost per million entries at list prices beside Step Functions Standard
running the same flow. The runner is driven as in AWS (its use case, as the stream consumer and
the tick call it), against the template's tables in moto, with a clock the benchmark sets.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from bench_cost import DYNAMODB_PER_RRU, DYNAMODB_PER_WRU, LAMBDA_PER_GB_SECOND, LAMBDA_PER_REQUEST, units
from harness import quiet_environment, stack

from bcsync_ops.measure import aws_calls

# Moto answers an index query by reading the whole table, so entries cost it O(n) each: the counts
# per entry do not depend on n, the run time under moto does.
ENTRIES = int(os.environ.get("BENCH_FLOW_ENTRIES", "300"))
FLOW = {
    "flows": [
        {
            "name": "Two Touches",
            "kind": "transactional",
            "trigger": {"metric": "Placed Order"},
            "steps": [
                {"delay": {"hours": 1}},
                {"action": {"template": "first"}},
                {"delay": {"days": 1}},
                {"action": {"template": "second"}},
            ],
        }
    ]
}
SQS_FIFO_PER_REQUEST = 0.50 / 1e6
# Step Functions Standard: $0.025 per 1,000 state transitions; the same flow is Start, Wait, Task,
# Wait, Task, End (6 transitions), each Task a Lambda invocation that sends the message.
STEP_FUNCTIONS_PER_TRANSITION = 0.025 / 1000
STEP_FUNCTIONS_TRANSITIONS, STEP_FUNCTIONS_TASKS = 6, 2
LAMBDA_GB, LAMBDA_SECONDS_PER_CALL = 0.5, 0.02  # assumed: a short step's share of a warm invocation


def main() -> None:
    quiet_environment()
    from bcsync.domain.events import MarketingEvent, Metric
    from bcsync.domain.flow_definitions import parse_flow_file
    from bcsync.domain.profiles import blank_profile
    from bcsync.wiring import container
    from bcsync_ops.demo import sandbox_store

    store = sandbox_store()
    with stack(store):
        app = container()
        app.flow_library.apply(store.store_hash, parse_flow_file(FLOW))
        profiles = app.profile_repository
        table = app.dynamodb.Table(app.settings.require("profiles_table_name"))
        now = datetime.now(UTC).replace(microsecond=0)
        events = []
        with table.batch_writer() as batch:
            for number in range(ENTRIES):
                profile = blank_profile(f"p{number}", store.store_hash, "t").model_copy(
                    update={"email": f"shopper{number}@example.com", "revision": 1}
                )
                batch.put_item(
                    Item={
                        "pk": f"{store.store_hash}#profile#{profile.id}",
                        "entity": "profile",
                        "profile": profile.model_dump(),
                    }
                )
                events.append(
                    MarketingEvent(
                        id=f"{store.store_hash}:placed-order:order:{number}",
                        store_hash=store.store_hash,
                        metric=Metric.PLACED_ORDER,
                        profile_id=profile.id,
                        time=now,
                        value=Decimal(10),
                        currency="USD",
                        properties={},
                        source_id=f"order:{number}",
                    )
                )
        assert profiles.get(store.store_hash, "p0") is not None
        runner = app.flow_runner
        phases: dict[str, tuple[int, Counter[str], float]] = {}

        def measure(phase: str, work) -> None:  # type: ignore[no-untyped-def]
            with aws_calls() as calls:
                started = time.perf_counter()
                work()
                elapsed = time.perf_counter() - started - sum(call.copying for call in calls)
            phases[phase] = (len(calls), Counter(call.operation for call in calls), elapsed, calls)  # type: ignore[assignment]

        measure("enter", lambda: [runner.on_event(event, now) for event in events])
        measure("first wake (action)", lambda: _wake_all(runner, store.store_hash, now + timedelta(hours=1, minutes=1)))
        measure("second wake (action)", lambda: _wake_all(runner, store.store_hash, now + timedelta(days=1, hours=2)))
    floors = {"enter": 1, "first wake (action)": 2, "second wake (action)": 2}
    print(f"Flow runs: {ENTRIES} entries through delay, action, delay, action (in-process, moto):")
    print(f"  {'step':<24}{'requests/entry':>15}{'floor':>7}{'x floor':>9}  by operation (per entry)")
    total_calls = []
    for phase, (count, by_operation, _elapsed, calls) in phases.items():  # type: ignore[misc]
        per_entry = count / ENTRIES
        operations = ", ".join(f"{name} {n / ENTRIES:.2f}" for name, n in sorted(by_operation.items()))
        print(f"  {phase:<24}{per_entry:>15.2f}{floors[phase]:>7}{per_entry / floors[phase]:>9.1f}  {operations}")
        total_calls += calls
    used = units(total_calls)
    requests = len(total_calls) / ENTRIES
    ours = (
        used["wru"] / ENTRIES * DYNAMODB_PER_WRU
        + used["rru"] / ENTRIES * DYNAMODB_PER_RRU
        + used["sqs"] / ENTRIES * SQS_FIFO_PER_REQUEST
        + requests * LAMBDA_SECONDS_PER_CALL * LAMBDA_GB * LAMBDA_PER_GB_SECOND
    ) * 1e6
    step_functions = (
        STEP_FUNCTIONS_TRANSITIONS * STEP_FUNCTIONS_PER_TRANSITION
        + STEP_FUNCTIONS_TASKS * (LAMBDA_PER_REQUEST + LAMBDA_SECONDS_PER_CALL * LAMBDA_GB * LAMBDA_PER_GB_SECOND)
        + STEP_FUNCTIONS_TASKS * SQS_FIFO_PER_REQUEST
    ) * 1e6
    print(
        f"  cost per million entries: bcsync ${ours:,.0f} ({used['wru'] / ENTRIES:.1f} WRU, "
        f"{used['rru'] / ENTRIES:.1f} RRU, {requests:.1f} requests an entry; the minute tick's own "
        f"invocations, 43,200 a month, are not per entry) vs Step Functions Standard ${step_functions:,.0f} "
        f"({STEP_FUNCTIONS_TRANSITIONS} transitions and {STEP_FUNCTIONS_TASKS} Lambda tasks an entry)"
    )


def _wake_all(runner, store_hash: str, at: datetime) -> None:  # type: ignore[no-untyped-def]
    while runner.wake(store_hash, at):
        pass


if __name__ == "__main__":
    main()
