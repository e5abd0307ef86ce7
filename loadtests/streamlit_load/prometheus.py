"""What the stack's own Prometheus (``make up OBSERVABILITY=1``) saw during a load-test run, beside
what the load test measured itself (docs/observability.md, "Cross-check with the load test").

``Prometheus(url)`` answers instant and range queries (HTTP API). ``window_figures`` reads, over a
time window, from the same scrapes of the app replicas: interactions (runs not ended for a rerun),
the processes' CPU per interaction, and each kind's runs and own-thread CPU per run. Because every
counter of a ratio comes from the same scrape, the ratio does not depend on when scrapes fell.
"""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

SCRAPE_INTERVAL = 5.0  # deploy/prometheus/prometheus.yml
INTERACTIONS = 'sum(streamlit_script_runs_total{job="app",outcome!="rerun"})'
PROCESS_CPU = 'sum(process_cpu_seconds_total{job="app"})'
RUNS_BY_KIND = 'sum by (kind) (streamlit_script_runs_total{job="app"})'
THREAD_CPU_BY_KIND = 'sum by (kind) (streamlit_script_run_cpu_seconds_total{job="app"})'


class PrometheusError(RuntimeError):
    """Prometheus did not answer, or answered with an error."""


def _label(metric: dict[str, str]) -> str:
    """A result's one label value (the ``by`` label of a query), "" for a plain sum."""
    return next(iter(metric.values()), "")


@dataclass
class Prometheus:
    url: str
    timeout: float = 10.0

    def _get(self, path: str, **params: str) -> dict:
        address = f"{self.url.rstrip('/')}/api/v1/{path}?{urllib.parse.urlencode(params)}"
        try:
            with urllib.request.urlopen(address, timeout=self.timeout) as response:  # noqa: S310 - our own
                body = json.load(response)
        except OSError as error:
            raise PrometheusError(f"{address}: {error}") from error
        if body.get("status") != "success":
            raise PrometheusError(f"{address}: {body}")
        return body["data"]

    def instant(self, expr: str, at: float | None = None) -> dict[str, float]:
        """``expr`` at ``at`` (default now): {first label value or "": value}."""
        params = {"query": expr} | ({"time": f"{at:.3f}"} if at is not None else {})
        result = self._get("query", **params)["result"]
        return {_label(r["metric"]): float(r["value"][1]) for r in result}

    def series(self, expr: str, start: float, end: float, step: float = 1.0) -> dict[str, list[float]]:
        """``expr`` every ``step`` seconds from ``start`` to ``end``: {label value: values}."""
        data = self._get("query_range", query=expr, start=f"{start:.3f}", end=f"{end:.3f}", step=f"{step:g}")
        return {
            next(iter(r["metric"].values()), ""): [float(v) for _, v in r["values"]] for r in data["result"]
        }

    def wait_for_scrape(self) -> None:
        """Return once every app target has been scraped after this call (so its counters include
        everything done before it); ``timestamp(up)`` is each target's last scrape time."""
        since = time.time()
        deadline = since + 6 * SCRAPE_INTERVAL
        while time.time() < deadline:
            scraped = self.instant('min(timestamp(up{job="app"}))').get("")
            if scraped is not None and scraped > since:
                return
            time.sleep(0.5)
        raise PrometheusError(f"app targets not scraped within {6 * SCRAPE_INTERVAL:.0f} s")


@dataclass
class WindowFigures:
    """What Prometheus counted between the first and last scrape inside a window."""

    seconds: float
    interactions: float
    cpu_ms_per_interaction: float | None
    runs: dict[str, float] = field(default_factory=dict)
    thread_cpu_ms_per_run: dict[str, float] = field(default_factory=dict)


def _spread(values: list[float]) -> float:
    return values[-1] - values[0] if len(values) >= 2 else 0.0


def window_figures(prometheus: Prometheus, start: float, end: float) -> WindowFigures:
    """Counters' growth over [start, end] read at 1 s steps: each step shows the newest scrape, so
    the first and last steps are two scrapes of the same targets."""
    interactions = _spread(prometheus.series(INTERACTIONS, start, end).get("", []))
    cpu = _spread(prometheus.series(PROCESS_CPU, start, end).get("", []))
    runs = {kind: _spread(values) for kind, values in prometheus.series(RUNS_BY_KIND, start, end).items()}
    thread = {kind: _spread(v) for kind, v in prometheus.series(THREAD_CPU_BY_KIND, start, end).items()}
    return WindowFigures(
        seconds=end - start,
        interactions=interactions,
        cpu_ms_per_interaction=cpu * 1000 / interactions if interactions else None,
        runs={kind: count for kind, count in runs.items() if count},
        thread_cpu_ms_per_run={
            kind: thread.get(kind, 0.0) * 1000 / count for kind, count in runs.items() if count
        },
    )


def prometheus_sessions(url: str) -> Callable[[], int | None]:
    """Live sessions of every replica, as the stack's Prometheus last scraped them (Streamlit's
    ``active_sessions``): the load test's sampler reads them without touching the containers."""
    prometheus = Prometheus(url)

    def read() -> int | None:
        try:
            value = prometheus.instant('sum(active_sessions{job="streamlit"})').get("")
        except PrometheusError:
            return None
        return None if value is None else int(value)

    return read


# -- the load test's cross-check (``make loadtest`` with the stack's Prometheus) -------------------

CPU_TOLERANCE = 0.10  # Prometheus' process CPU per interaction within 10 % of the cgroup's


def interactions_now(prometheus: Prometheus) -> float:
    """Interactions the app replicas have counted, once a scrape has seen everything done so far."""
    prometheus.wait_for_scrape()
    return prometheus.instant(INTERACTIONS).get("", 0.0)


def cross_check(
    prometheus: Prometheus,
    before: float,
    locust_interactions: int,
    window: tuple[float, float] | None,
    cgroup_cpu_ms: float | None,
) -> dict:
    """What Prometheus saw of one Locust run, beside the load test's own figures: the server's
    count of interactions over the whole run (``before`` from ``interactions_now`` before Locust
    started) and, over the steady window, the processes' CPU per interaction and each kind's
    own-thread CPU per run."""
    server = interactions_now(prometheus) - before
    figures = window_figures(prometheus, *window) if window else None
    return {
        "locust_interactions": locust_interactions,
        "server_interactions": server,
        "cgroup_cpu_ms_per_interaction": cgroup_cpu_ms,
        "prometheus_cpu_ms_per_interaction": figures.cpu_ms_per_interaction if figures else None,
        "runs_in_window": figures.runs if figures else {},
        "thread_cpu_ms_per_run": figures.thread_cpu_ms_per_run if figures else {},
    }


def checks(scenario: str, seen: dict) -> list[dict]:
    """The cross-check's two checks, in ``Comparison.checks``' form."""
    cgroup, prom = seen["cgroup_cpu_ms_per_interaction"], seen["prometheus_cpu_ms_per_interaction"]
    ratio = prom / cgroup if cgroup and prom else None
    return [
        {
            "check": f"{scenario}: interactions the server counted (Prometheus) = Locust's",
            "value": int(seen["server_interactions"]),
            "limit": seen["locust_interactions"],
            "ok": seen["server_interactions"] == seen["locust_interactions"],
        },
        {
            "check": f"{scenario}: CPU per interaction, Prometheus / cgroup",
            "value": ratio,
            "limit": f"{1 - CPU_TOLERANCE:.2f}..{1 + CPU_TOLERANCE:.2f}",
            "ok": ratio is not None and abs(ratio - 1) <= CPU_TOLERANCE,
        },
    ]


def against_alone(seen: dict, single: dict[str, float]) -> dict[str, float]:
    """Each kind's own-thread CPU per run under mixed traffic over what it was when that kind ran
    alone (``single``: kind -> ms). Reported, not gated: the two come from runs taken one after
    the other, and on a shared machine the CPU a run needs moves with the load around it."""
    mixed = seen["thread_cpu_ms_per_run"]
    return {kind: mixed[kind] / alone for kind, alone in sorted(single.items()) if mixed.get(kind) and alone}
