"""The shared caches' Prometheus metrics (served by the serving layer through the app's
``collectors()`` hook, app/serve_hooks.py):

| metric                                        | type      | labels          |
|-----------------------------------------------|-----------|-----------------|
| sales_dashboard_shared_cache_hits_total       | counter   | builder         |
| sales_dashboard_shared_cache_misses_total     | counter   | builder         |
| sales_dashboard_shared_cache_entries          | gauge     | builder         |
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from .shared import cache_stats

CACHE = "sales_dashboard_shared_cache"


class SharedCacheCollector(Collector):
    """Hits, misses and entries of the shared chart/table caches, read when scraped (no cost
    per run: ``functools.lru_cache`` counts them anyway)."""

    def collect(self) -> Iterable[Metric]:
        label = ["builder"]
        hits = CounterMetricFamily(f"{CACHE}_hits", "Lookups that found a built result.", labels=label)
        misses = CounterMetricFamily(f"{CACHE}_misses", "Lookups that had to build.", labels=label)
        entries = GaugeMetricFamily(f"{CACHE}_entries", "Results held in the shared cache.", labels=label)
        for builder, info in sorted(cache_stats().items()):
            hits.add_metric([builder], info.hits)
            misses.add_metric([builder], info.misses)
            entries.add_metric([builder], info.currsize)
        return [hits, misses, entries]
