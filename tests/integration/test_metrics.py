"""The app's own metrics (streamlit_serving/metrics.py), read from the real server's metrics
port while the protocol client drives it: every run is counted once, by the kind that ran and
how it ended, and nothing else moves."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families
from streamlit.proto.WidgetStates_pb2 import WidgetState

from sales_load.page import DATE_WIDGET, DashboardSession, PageMode
from sales_load.picks import counted_mix
from streamlit_load.client import ServerError
from streamlit_load.local_server import APP, REPO, SERVE, Server, running_server

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(server: Server) -> Samples:
    assert server.metrics_url, "the test server runs without metrics"
    with urllib.request.urlopen(server.metrics_url, timeout=5) as response:
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def increments(before: Samples, after: Samples, name: str) -> Counter[tuple[str, ...]]:
    """Label values -> how much ``name`` grew (only the series that grew)."""
    grown = Counter()
    for (sample, labels), value in after.items():
        if sample == name and value != before.get((sample, labels), 0.0):
            grown[tuple(value for _, value in labels)] = value - before.get((sample, labels), 0.0)
    return grown


# The page's modes (SALES_FRAGMENT, SALES_MONTH_RERUN; tests/integration/test_page_modes.py), each
# on a server of its own without the cache warm-up (its lookups would move the cache counters).
MODES = {
    "fragment": {"SERVE_WARMUP": "off"},
    "views": {"SALES_MONTH_RERUN": "views", "SERVE_WARMUP": "off"},
    "plain": {"SALES_FRAGMENT": "off", "SERVE_WARMUP": "off"},
}
PICKS, FULL_RERUNS, MONTH_CHANGES = 7, 4, 3
# What N same-month picks, M full reruns and K month changes are, in runs, in each mode:
#   fragment  a pick: a fragment run; a month change: a fragment run ended by st.rerun(), then
#             the whole script
#   views     a month change: the fragment run gives way (st.rerun(scope=...)) to one run of the
#             two views' fragments, no full run
#   plain     no fragment: every pick and month change is one whole-script run
EXPECTED = {
    "fragment": {("fragment", "finished"): PICKS, ("full", "finished"): FULL_RERUNS + MONTH_CHANGES,
                 ("fragment", "rerun"): MONTH_CHANGES},
    "views": {("fragment", "finished"): PICKS + MONTH_CHANGES, ("full", "finished"): FULL_RERUNS,
              ("fragment", "rerun"): MONTH_CHANGES},
    "plain": {("full", "finished"): PICKS + FULL_RERUNS + MONTH_CHANGES},
}  # fmt: skip


@pytest.fixture(scope="module", params=list(MODES))
def mode_server(request) -> Iterator[tuple[str, Server]]:
    with running_server(env=MODES[request.param]) as started:
        yield request.param, started


def test_runs_are_counted_exactly_by_kind_and_outcome_in_every_mode(mode_server) -> None:
    """N picks, M full reruns and K month changes through the protocol client: the counters grow
    by exactly the runs of EXPECTED, and nothing else moves."""
    mode, server = mode_server
    with DashboardSession(server.base_url, timeout=20, mode=PageMode.from_env(MODES[mode])) as session:
        before = scrape(server)
        counted_mix(session, PICKS, FULL_RERUNS, MONTH_CHANGES)
        after = scrape(server)
    assert increments(before, after, "streamlit_script_runs_total") == EXPECTED[mode]
    runs_by_kind: Counter[tuple[str, ...]] = Counter()
    for (kind, _outcome), count in EXPECTED[mode].items():
        runs_by_kind[kind,] += count
    durations = increments(before, after, "streamlit_script_run_duration_seconds_count")
    assert durations == runs_by_kind
    cpu = increments(before, after, "streamlit_script_run_cpu_seconds_total")
    wall = increments(before, after, "streamlit_script_run_duration_seconds_sum")
    assert set(cpu) == set(runs_by_kind)
    for kind in runs_by_kind:
        # A run's own thread cannot use more CPU than the run's wall time (it is one thread).
        assert 0 < cpu[kind] <= wall[kind] * 1.05
    if mode == "fragment":  # a full run builds both views; a same-month fragment run the daily one
        assert cpu["fragment",] / durations["fragment",] < cpu["full",] / durations["full",]


def test_a_user_error_is_an_error_run_of_the_kind_that_ran(server: Server) -> None:
    """A wrong value type for the date breaks the session's runs (tests/integration/
    test_bad_input.py): the fragment run and the full run after it both count as errors."""
    with DashboardSession(server.base_url, timeout=20) as session:
        before = scrape(server)
        session.set_widget_state(WidgetState(id=session.widget_id(DATE_WIDGET), int_value=5))
        with pytest.raises(ServerError):
            session.rerun(session.fragment_of(DATE_WIDGET))
        with pytest.raises(ServerError):
            session.pick_date("2023-01-08", fragment=False)
        after = scrape(server)
    runs = increments(before, after, "streamlit_script_runs_total")
    assert runs == {("fragment", "error"): 1, ("full", "error"): 1}


def test_shared_cache_hits_and_misses_are_counted() -> None:
    """On a server without the warm-up: the first view of a day builds its two charts and two
    tables (misses); the same day again finds all four (hits)."""
    with running_server(env=MODES["fragment"]) as server, DashboardSession(server.base_url) as session:
        session.pick_date("2023-12-30")
        before = scrape(server)
        session.pick_date("2023-12-29")
        session.pick_date("2023-12-30")
        after = scrape(server)
    hits = increments(before, after, "sales_dashboard_shared_cache_hits_total")
    misses = increments(before, after, "sales_dashboard_shared_cache_misses_total")
    for builder in ("money_table", "ranked_bar_chart"):  # two tables and two charts a pick
        assert (misses[builder,], hits[builder,]) == (2, 2)  # 2023-12-29 built, 2023-12-30 found


def streamlit_active_sessions(server: Server) -> float:
    """Streamlit's own count, from /_stcore/metrics on the app's port."""
    with urllib.request.urlopen(f"{server.base_url}/_stcore/metrics", timeout=5) as response:
        text = response.read().decode()
    (value,) = [
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "active_sessions"
    ]
    return value


def sessions_become(server: Server, expected: int, within: float = 10.0) -> float:
    """Scrape until streamlit_serving_sessions is ``expected`` (a session's socket is counted and
    forgotten by the server's event loop, a moment after the client's call returns)."""
    deadline = time.monotonic() + within
    while True:
        value = scrape(server)["streamlit_serving_sessions", ()]
        if value == expected or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def test_live_sessions_are_counted_on_the_metrics_port(server: Server) -> None:
    """The autoscaler's per-pod metric (deploy/k8s/components/autoscale-sessions): two sessions
    opened through the protocol client count two while their sockets are open, each is forgotten
    when it closes, and the count is Streamlit's own active_sessions."""
    baseline = int(sessions_become(server, 0, within=35.0))  # an earlier test's socket may linger
    with DashboardSession(server.base_url, timeout=20) as first:
        assert first.pick_date("2023-01-09").has_text("Best sellers, January 9, 2023")
        assert sessions_become(server, baseline + 1) == baseline + 1
        with DashboardSession(server.base_url, timeout=20):
            assert sessions_become(server, baseline + 2) == baseline + 2
            assert streamlit_active_sessions(server) == baseline + 2
        assert sessions_become(server, baseline + 1) == baseline + 1
    assert sessions_become(server, baseline) == baseline


def test_process_metrics_and_no_limit_outside_a_container(server: Server) -> None:
    samples = scrape(server)
    names = {name for name, _ in samples}
    assert {"process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds"} <= names
    assert samples["process_resident_memory_bytes", ()] > 50e6  # the Streamlit process itself


@pytest.fixture(scope="module")
def python_gc_server() -> Iterator[Server]:
    """Python's own collector thresholds (700 new objects a young collection), so a few picks
    collect: the serving layer's default (SERVE_GC_THRESHOLDS, gc_tuning.py) collects ~70 times
    less often."""
    with running_server(env={"SERVE_GC_THRESHOLDS": "python", "SERVE_WARMUP": "off"}) as started:
        yield started


def test_gc_pauses_and_the_event_loops_lag_are_observed(python_gc_server: Server) -> None:
    """streamlit_serving/pauses.py inside the real server: the lag probe runs on Streamlit's event
    loop (about ten callbacks a second, each run at once on an idle server) and the collections
    the picks cause are observed by generation."""
    server = python_gc_server
    lag, young = "streamlit_serving_event_loop_lag_seconds", "streamlit_serving_gc_pause_seconds"
    before = scrape(server)
    with DashboardSession(server.base_url, timeout=20) as session:
        for day in ("2023-01-09", "2023-01-10", "2023-02-14"):
            assert session.pick_date(day).has_text("Best sellers")
    time.sleep(1.0)
    after = scrape(server)
    probes = after[f"{lag}_count", ()] - before.get((f"{lag}_count", ()), 0.0)
    assert probes >= 5, "the probe schedules a callback every 100 ms"
    waited = after[f"{lag}_sum", ()] - before.get((f"{lag}_sum", ()), 0.0)
    assert waited / probes < 0.1, "on an idle server a callback runs within 100 ms on average"
    collections = increments(before, after, f"{young}_count")
    assert collections[("0",)] >= 1, collections


def test_a_metrics_port_in_use_stops_the_start_with_exit_64_and_names_it() -> None:
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))  # noqa: S104 - where the metrics server binds
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, *SERVE, "run", str(APP), "--server.port", "1"],
            cwd=REPO,
            env={"PATH": "/usr/bin:/bin", "SERVE_METRICS_PORT": str(port)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 64
    assert f"SERVE_METRICS_PORT={port} cannot be served" in result.stderr


def test_metrics_off_serves_nothing_and_the_app_works() -> None:
    with running_server(env={"SERVE_METRICS_PORT": "0"}) as server:
        assert server.metrics_url is None
        with DashboardSession(server.base_url, timeout=20) as session:
            assert session.pick_date("2023-01-09").has_text("Best sellers, January 9, 2023")
