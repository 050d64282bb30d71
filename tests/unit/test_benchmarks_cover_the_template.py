"""`make bench` is not run by CI: what it must know of the template is checked here instead."""

from __future__ import annotations

import importlib.util
import sys

from bcsync_ops.local_stack import PROJECT_ROOT, function_specs
from bcsync_ops.template import load_template


def test_the_cold_start_benchmark_knows_what_every_function_builds_first():
    sys.path.insert(0, str(PROJECT_ROOT / "benchmarks"))
    try:
        spec = importlib.util.spec_from_file_location(
            "bench_cold_start", PROJECT_ROOT / "benchmarks" / "bench_cold_start.py"
        )
        assert spec and spec.loader
        bench = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(bench)
    finally:
        sys.path.remove(str(PROJECT_ROOT / "benchmarks"))
    assert set(bench.FIRST_WIRING) == set(function_specs(load_template(PROJECT_ROOT / "template.yaml")))
