"""The app's own metrics (streamlit_serving/metrics.py, on its metrics port inside its container),
read from outside and compared over a window: what a benchmark learns from the replicas themselves.

    text = docker("exec", container, "python3", "-c", SCRAPE)   # any engine's docker client
    before = parsed(text); ...; after = parsed(...)
    grown(before, after, "process_cpu_seconds_total")            # one series' growth
    grown_all(before, after, "streamlit_script_runs_total")      # summed over its labels
    quantile(before, after, "streamlit_serving_session_store_seconds", 0.95, op="save")

The metrics port is never published (the proxy refuses ``/metrics``), so a benchmark reads it with
``docker exec`` and the image's own Python.
"""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

METRICS = "http://127.0.0.1:9464/metrics"  # the app's metrics port inside its container
SCRAPE = f"import urllib.request; print(urllib.request.urlopen({METRICS!r}, timeout=10).read().decode())"

Samples = dict[tuple[str, tuple], float]  # (sample name, sorted labels) -> value


def parsed(text: str) -> Samples:
    """Every sample of a Prometheus text exposition."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def grown(before: Samples, after: Samples, name: str, **labels: str) -> float:
    """How much the series ``name{labels}`` grew between two scrapes."""
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


def grown_all(before: Samples, after: Samples, name: str, **labels: str) -> float:
    """How much every series of ``name`` whose labels include ``labels`` grew, summed."""
    wanted = set(labels.items())
    return sum(
        value - before.get((sample, series), 0.0)
        for (sample, series), value in after.items()
        if sample == name and wanted <= set(series)
    )


def quantile(before: Samples, after: Samples, name: str, q: float, **labels: str) -> float | None:
    """The ``q`` quantile of histogram ``name{labels}`` over the window: the upper bound of the
    bucket it falls in (the buckets' resolution); None when nothing was observed."""
    wanted = set(labels.items())
    buckets = sorted(
        (float(dict(series)["le"]), value - before.get((sample, series), 0.0))
        for (sample, series), value in after.items()
        if sample == f"{name}_bucket" and wanted <= set(series)
    )
    total = buckets[-1][1] if buckets else 0
    if not total:
        return None
    return next(bound for bound, count in buckets if count >= q * total)
