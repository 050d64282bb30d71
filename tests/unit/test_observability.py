"""The package's Powertools objects work before the functions' environment is set."""

from bcsync.observability import metrics


def test_metrics_flush_on_their_own_without_the_functions_environment():
    """Powertools flushes every 100 metrics; without a namespace that flush raised mid-reconcile
    in the local stack and the tests, which import bcsync before setting POWERTOOLS_*."""
    try:
        for _ in range(101):
            metrics.add_metric(name="EventsCreated", unit="Count", value=1)  # raised at the 100th
    finally:
        metrics.clear_metrics()
