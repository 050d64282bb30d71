"""`make bench` is not run by CI: what it must know of the template is checked here instead."""

from __future__ import annotations

import importlib.util
import sys
from datetime import UTC
from types import ModuleType

from bcsync.domain.counters import tally
from bcsync_ops.local_stack import PROJECT_ROOT, function_specs
from bcsync_ops.template import load_template


def benchmark(name: str) -> ModuleType:
    sys.path.insert(0, str(PROJECT_ROOT / "benchmarks"))
    try:
        spec = importlib.util.spec_from_file_location(name, PROJECT_ROOT / "benchmarks" / f"{name}.py")
        assert spec and spec.loader
        bench = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(bench)
    finally:
        sys.path.remove(str(PROJECT_ROOT / "benchmarks"))
    return bench


def test_the_cold_start_benchmark_knows_what_every_function_builds_first():
    bench = benchmark("bench_cold_start")
    assert set(bench.FIRST_WIRING) == set(function_specs(load_template(PROJECT_ROOT / "template.yaml")))


def test_the_read_benchmark_s_synthetic_orders_are_counted_as_real_ones_are():
    """Its events stand in for MarketingEvents by duck typing: they must carry what tally reads."""
    events = list(benchmark("bench_read").synthetic_events(3, 2))
    counted = tally(events, UTC)
    people = {bucket.profile_id for bucket in counted if bucket.profile_id}
    store_days = sum(
        amount.count
        for bucket, amount in counted.items()
        if bucket.profile_id is None and bucket.day and not bucket.utc and bucket.product_id is None
    )
    assert (people, store_days) == ({"prof_0", "prof_1"}, 3)
