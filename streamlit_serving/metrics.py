"""The app's Prometheus metrics, served on a port of their own (``SERVE_METRICS_PORT``).

Streamlit's ``/_stcore/metrics`` already counts sessions (``active_sessions``,
``session_events_total``, ``session_duration_seconds``) and cache memory; it says nothing about
script runs. This module adds, from inside the Streamlit process:

| metric                                        | type      | labels          |
|-----------------------------------------------|-----------|-----------------|
| streamlit_script_runs_total                   | counter   | kind, outcome   |
| streamlit_script_run_duration_seconds         | histogram | kind            |
| streamlit_script_run_cpu_seconds_total        | counter   | kind            |
| streamlit_serving_memory_limit_bytes          | gauge     | (none)          |
| streamlit_serving_sessions                    | gauge     | (none)          |
| streamlit_serving_gc_pause_seconds            | histogram | generation      |
| streamlit_serving_event_loop_lag_seconds      | histogram | (none)          |

(the last two: what makes work wait, ``pauses.py``), plus the app's own collectors (its
``collectors()`` hook, e.g. the example's shared-cache counters), prometheus_client's process
collector (``process_cpu_seconds_total``, ``process_resident_memory_bytes``, open fds, …), its
Python GC and platform collectors.

``kind``: ``full`` when the whole script ran, ``fragment`` when one or more fragments ran
without the page. ``outcome``: ``finished``; ``rerun`` (ended early for a rerun: the script
called ``st.rerun()``, or a newer request from the browser interrupted it); ``error`` (a user
exception was shown, in the script or in a fragment); ``stopped`` (``st.stop()``, or the
session went away mid-run). Every interaction ends in exactly one run that is not ``rerun``.

The hook: Streamlit 1.67's ScriptRunner calls ``exec_func_with_error_handling`` once per run,
on the run's own script thread, right after it has reset the run context with the fragments of
this run. Wrapping that call gives the kind (``ctx.fragment_ids_this_run``), the outcome (its
return value; user errors through ``ctx.on_script_error``, which fragments call too), the wall
time and the thread's own CPU time (``time.thread_time``), so CPU per run stays right when
other sessions run at the same time. Work Streamlit does for a run on its event loop
(serialising and sending the messages) is in ``process_cpu_seconds_total``, not here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from . import pauses

FULL, FRAGMENT = "full", "fragment"
KINDS = (FULL, FRAGMENT)
FINISHED, RERUN, ERROR, STOPPED = "finished", "rerun", "error", "stopped"
OUTCOMES = (FINISHED, RERUN, ERROR, STOPPED)
# 5 ms to 500 ms in steps a p95 can be read from (the alert's 250 ms is a bucket bound), and a
# tail up to 10 s for the tutorial's demo delay and cold starts.
DURATION_BUCKETS = (
    0.005, 0.01, 0.015, 0.02, 0.03, 0.04, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5,
    0.75, 1.0, 2.5, 5.0, 10.0,
)  # fmt: skip
CGROUP_MEMORY_MAX = Path("/sys/fs/cgroup/memory.max")  # cgroup v2, as the container sees it
CGROUP_V1_MEMORY_LIMIT = Path("/sys/fs/cgroup/memory/memory.limit_in_bytes")
UNLIMITED_V1 = 1 << 62  # cgroup v1 reports "no limit" as a number near 2**63


class RunMetrics:
    """The script-run metrics, registered in ``registry``."""

    def __init__(self, registry: CollectorRegistry = REGISTRY) -> None:
        self.runs = Counter(
            "streamlit_script_runs",
            "Script runs by kind (full: the whole script; fragment: fragments without the page) "
            "and outcome (finished, rerun: ended early for a rerun, error, stopped).",
            ["kind", "outcome"],
            registry=registry,
        )
        self.duration = Histogram(
            "streamlit_script_run_duration_seconds",
            "Wall time of a script run, by kind.",
            ["kind"],
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        self.cpu = Counter(
            "streamlit_script_run_cpu_seconds",
            "CPU time of the script runs' own threads, by kind.",
            ["kind"],
            registry=registry,
        )
        # Children made once: a labelled child per observation would cost a dict lookup and a lock.
        self._runs = {(k, o): self.runs.labels(k, o) for k in KINDS for o in OUTCOMES}
        self._duration = {kind: self.duration.labels(kind) for kind in KINDS}
        self._cpu = {kind: self.cpu.labels(kind) for kind in KINDS}

    def observe(self, kind: str, outcome: str, seconds: float, cpu_seconds: float) -> None:
        self._runs[kind, outcome].inc()
        self._duration[kind].observe(seconds)
        self._cpu[kind].inc(cpu_seconds)


class _ErrorSeen:
    """Stands in for the run's ``on_script_error`` handler: notes that a user error was shown,
    then calls the handler it replaces (its answer decides whether Streamlit shows the error)."""

    __slots__ = ("handler", "seen")

    def __init__(self, handler: Callable[[Exception], bool | None] | None) -> None:
        self.handler = handler
        self.seen = False

    def __call__(self, error: Exception) -> bool | None:
        self.seen = True
        return self.handler(error) if self.handler is not None else None


def measured_runs(run: Callable[..., tuple], metrics: RunMetrics) -> Callable[..., tuple]:
    """Wrap Streamlit's ``exec_func_with_error_handling(func, ctx)`` to observe each run."""

    def measured(func: Callable[[], Any], ctx: Any) -> tuple:
        kind = FRAGMENT if ctx.fragment_ids_this_run else FULL
        errors = _ErrorSeen(ctx.on_script_error)
        ctx.on_script_error = errors
        outcome = ERROR  # unless the run returns: only KeyboardInterrupt/SystemExit escape it
        started, cpu_started = time.perf_counter(), time.thread_time()
        try:
            result = run(func, ctx)
            _, _, rerun_data, premature_stop, uncaught = result
            if rerun_data is not None:
                outcome = RERUN
            elif errors.seen or uncaught is not None:
                outcome = ERROR
            elif premature_stop:
                outcome = STOPPED
            else:
                outcome = FINISHED
            return result
        finally:
            cpu = time.thread_time() - cpu_started
            metrics.observe(kind, outcome, time.perf_counter() - started, cpu)
            ctx.on_script_error = errors.handler

    return measured


def instrument_script_runner(metrics: RunMetrics) -> None:
    """Observe every script run of this process (see the module docstring)."""
    from streamlit.runtime.scriptrunner import script_runner

    run = getattr(script_runner, "exec_func_with_error_handling", None)
    if run is None:
        raise RuntimeError(
            "this Streamlit no longer calls script_runner.exec_func_with_error_handling: find the "
            "per-run hook in its ScriptRunner._run_script and update streamlit_serving/metrics.py "
            "(tests/integration/test_metrics.py), or start with SERVE_METRICS_PORT=0"
        )
    script_runner.exec_func_with_error_handling = measured_runs(run, metrics)


def memory_limit_bytes(v2: Path = CGROUP_MEMORY_MAX, v1: Path = CGROUP_V1_MEMORY_LIMIT) -> int | None:
    """The container's memory limit from its cgroup, or None when there is none."""
    for path in (v2, v1):
        try:
            raw = path.read_text().strip()
        except OSError:
            continue
        if raw == "max" or not raw.isdigit() or int(raw) >= UNLIMITED_V1:
            return None
        return int(raw)
    return None


SESSIONS = "streamlit_serving_sessions"
# Streamlit 1.67's session manager reports its connected sessions under this stats family (the
# ``active_sessions`` of /_stcore/metrics).
ACTIVE_SESSIONS_FAMILY = "active_sessions"


def live_sessions(runtime: Any) -> int:
    """The sessions ``runtime`` holds with a browser connected (Streamlit's ``active_sessions``)."""
    families = runtime.stats_mgr.get_stats(family_names=[ACTIVE_SESSIONS_FAMILY])
    stats = families.get(ACTIVE_SESSIONS_FAMILY)
    if not stats:
        raise RuntimeError(
            f"this Streamlit reports no {ACTIVE_SESSIONS_FAMILY!r} stats: find its session count and "
            "update streamlit_serving/metrics.py (tests/integration/test_metrics.py)"
        )
    return sum(int(stat.value) for stat in stats)


class SessionsCollector(Collector):
    """``streamlit_serving_sessions``: the live sessions of this process, on the metrics port, so
    an autoscaler reads the per-replica load from the serving layer's own endpoint
    (deploy/k8s/components/autoscale-sessions). Absent until Streamlit's runtime exists."""

    def collect(self) -> Iterable[Metric]:
        from streamlit.runtime import Runtime

        if not Runtime.exists():
            return []
        return [
            GaugeMetricFamily(
                SESSIONS,
                "Sessions with a browser connected to this process (Streamlit's active_sessions).",
                live_sessions(Runtime.instance()),
            )
        ]


class MemoryLimitCollector(Collector):
    """``streamlit_serving_memory_limit_bytes``: beside ``process_resident_memory_bytes`` it says
    how near the process is to being killed for memory. Absent when there is no limit."""

    def collect(self) -> Iterable[Metric]:
        limit = memory_limit_bytes()
        if limit is None:
            return []
        return [
            GaugeMetricFamily("streamlit_serving_memory_limit_bytes", "The cgroup's memory limit.", limit)
        ]


def install(
    port: int, collectors: Iterable[Collector] = (), registry: CollectorRegistry = REGISTRY
) -> int | None:
    """Register the metrics and the app's ``collectors``, hook Streamlit's script runner and serve
    ``/metrics`` on ``port`` (all interfaces; 0: nothing). Returns the port, or None when off.
    Raises OSError when the port cannot be bound."""
    if port == 0:
        return None
    instrument_script_runner(RunMetrics(registry))
    pauses.install(registry)
    registry.register(MemoryLimitCollector())
    registry.register(SessionsCollector())
    for collector in collectors:
        registry.register(collector)
    server, _ = start_http_server(port, registry=registry)
    return server.server_address[1]
