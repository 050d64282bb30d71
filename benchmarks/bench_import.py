"""`bcsync import events` at scale. Reading and checking: 1,000,000 CSV rows streamed from disk,
rows a second, and the process's peak memory against the same run over 10,000 rows (flat: the file
is never held). Writing: 2,000 rows (400 people, 5 orders each) into the template's tables in moto,
AWS requests and DynamoDB units a row against the floor (the events alone, batch-written 25 a
request), and the cost per million rows at list prices."""

from __future__ import annotations

import csv
import io
import multiprocessing
import resource
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from bench_cost import DYNAMODB_PER_RRU, DYNAMODB_PER_WRU, units
from harness import stack

PARSED_ROWS, SMALL_ROWS, WRITTEN_ROWS, ORDERS_EACH = 1_000_000, 10_000, 2_000, 5
START = datetime(2021, 1, 1, tzinfo=UTC)


def write_sample(path: Path, rows: int) -> None:
    """Placed Orders as Klaviyo exports them: one metric, a few property columns."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Timestamp", "Email", "$value", "Currency", "$event_id", "Items", "Item Count", "Source"])
        for n in range(rows):
            when = (START + timedelta(minutes=2 * n)).strftime("%Y-%m-%d %H:%M:%S")
            who, value = f"buyer{n // ORDERS_EACH}@example.com", f"{20 + n % 50}.00"
            writer.writerow([when, who, value, "USD", f"order-{n}", '["Linen Shirt","Canvas Tote"]', 2, "web"])


def parse(path: str, queue: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """In its own process, so its peak memory is the parse's alone."""
    from bcsync.domain.imports import ImportMap, ImportRow, SourceRow, check
    from bcsync_ops.history import SourceFile

    mapping, now = ImportMap(), datetime.now(UTC)
    source = SourceFile.open(path, None, "Placed Order", mapping)
    started = time.perf_counter()
    good = sum(
        1 for row in source.rows() if isinstance(row, SourceRow) and isinstance(check(row, mapping, now), ImportRow)
    )
    elapsed = time.perf_counter() - started
    queue.put((good, elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))


def measure_parse(path: Path) -> tuple[int, float, int]:
    queue: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    process = multiprocessing.get_context("fork").Process(target=parse, args=(str(path), queue))
    process.start()
    answer = queue.get()
    process.join()
    return answer  # type: ignore[no-any-return]


def measure_writes(path: Path) -> tuple[float, list[Any], int]:
    from bcsync_ops.demo import sandbox_store

    with stack(sandbox_store()):
        from bcsync.wiring import container
        from bcsync_ops import history
        from bcsync_ops.measure import aws_calls
        from bcsync_ops.operations import StackHandle

        handle = StackHandle(container(), "sandbox")
        args = SimpleNamespace(file=str(path), format=None, map=None, metric="Placed Order", dry_run=False)
        out = io.StringIO()
        started = time.perf_counter()
        with aws_calls() as calls:
            code = history.import_events(handle, args, out, io.StringIO())
        elapsed = time.perf_counter() - started
        assert code == 0 and f"{WRITTEN_ROWS} new events" in out.getvalue(), out.getvalue()
        return elapsed, calls, code


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bcsync-bench-import-") as workdir:
        big, small, written = (Path(workdir) / name for name in ("big.csv", "small.csv", "written.csv"))
        write_sample(big, PARSED_ROWS)
        write_sample(small, SMALL_ROWS)
        write_sample(written, WRITTEN_ROWS)
        big_rows, big_seconds, big_peak = measure_parse(big)
        small_rows, _, small_peak = measure_parse(small)
        elapsed, calls, _ = measure_writes(written)

    print(f"Import, reading and checking ({big_rows:,} CSV rows streamed from disk):")
    print(
        f"  {big_rows / big_seconds:,.0f} rows/s; the process's peak memory {big_peak / 1024:.0f} MiB for {big_rows:,}"
    )
    print(f"  rows, {small_peak / 1024:.0f} MiB for {small_rows:,}: {big_peak / small_peak:.2f}x for 100x the rows")
    operations = Counter(call.operation for call in calls)
    used = units(calls)
    per_row = {key: value / WRITTEN_ROWS for key, value in used.items()}
    requests = len(calls) / WRITTEN_ROWS
    floor = 1 / 25  # the events alone, BatchWriteItem 25 a request
    cost = (per_row.get("wru", 0) * DYNAMODB_PER_WRU + per_row.get("rru", 0) * DYNAMODB_PER_RRU) * 1e6
    print(f"Import, writing ({WRITTEN_ROWS:,} rows, {WRITTEN_ROWS // ORDERS_EACH} people, in moto):")
    print(f"  {WRITTEN_ROWS / elapsed:,.0f} rows/s under moto (DynamoDB itself is not measured here)")
    print(f"  AWS requests a row: {requests:.3f} (floor {floor:.3f}, the events alone batch-written)")
    print("  by operation: " + ", ".join(f"{name} {count}" for name, count in sorted(operations.items())))
    print(
        f"  DynamoDB units a row: {per_row.get('wru', 0):.1f} write, {per_row.get('rru', 0):.1f} read "
        f"(floor 1 write); ${cost:,.2f} per million rows at list prices (on-demand, us-east-1)"
    )
    print("  (each event is written with its person's profile and counters in one transaction: 2 units an item)")


if __name__ == "__main__":
    main()
