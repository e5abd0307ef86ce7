"""scripts/bench/bench_rolling_update.py (make bench-rolling): bad options exit 64 naming the option,
before anything is built; the users' windows count state checks apart from interactions; a store
window's figures come from the growth in the replicas' own metrics; the store's save is timed in
its histogram (streamlit_serving_session_store_seconds) and sized in its entry histogram."""

from __future__ import annotations

import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from streamlit.testing.v1 import AppTest

from sales_load.rolling import MEDIA_RUNS, summarize
from sales_load.store_cost import cost_of
from streamlit_load.app_metrics import grown_all, parsed, quantile
from streamlit_load.locust_runs import Timed
from streamlit_serving.session_store import Metrics, SessionStore

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench" / "bench_rolling_update.py"
bench = runpy.run_path(str(SCRIPT))


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (["--users", "0"], "--users must be 1 or more"),
        (["--think-min", "5", "--think-max", "2"], "--think-min and --think-max"),
        (["--quiet", "0"], "--quiet must be more than 0"),
        (["--tail", "-1"], "--tail must be more than 0"),
        (["--replicas", "0"], "--replicas must be 1 or more"),
        (["--replicas", "3", "--scale-to", "3"], "--scale-to must be 0 or more than --replicas (3)"),
        (["--state-kb", "300"], "--state-kb must be 0 to 200"),
        (["--cost-window", "5"], "--cost-window must be 0 or 10 s or more"),
        (["--store", "off"], "--cost-window needs --store on"),
        (["--app", "nope"], "--app"),
        (["--users", "many"], "--users"),
    ],
)
def test_bad_options_exit_64_naming_the_option(options: list[str], named: str) -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), *options], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 64, result.stderr
    assert named in result.stderr


def test_the_defaults_are_the_media_page_with_the_store_scaled_from_2_to_3_and_its_cost() -> None:
    args = bench["parse_args"]([])
    assert (args.app, args.store, args.replicas, args.scale_to, args.state_kb) == ("media", "on", 2, 3, 10)
    assert args.cost_window == 60
    assert bench["APPS"]["media"] == ("tests/apps/media_state", "MediaUser", MEDIA_RUNS)


def test_a_window_counts_state_checks_apart_and_times_only_the_runs() -> None:
    events = [
        Timed("note", 10, 1.0, False),
        Timed("state", 0, 1.0, False),
        Timed("image", 2, 1.1, False),
        Timed("download", 3, 1.2, True),
        Timed("uploaded", 50, 1.5, False),
        Timed("reconnect", 80, 2.0, False),
        Timed("note", 20, 2.5, False),
        Timed("state", 0, 2.5, True),  # lost
        Timed("note", 99, 9.0, False),  # outside the window
    ]
    summary = summarize(events, 0.0, 5.0, MEDIA_RUNS)
    assert (summary.interactions, summary.failed, summary.reconnects) == (5, 1, 1)
    assert (summary.state_checks, summary.state_lost) == (2, 1)
    assert summary.failed_by_name == {"download": 1}
    assert summary.p50_ms == 20  # the runs only: 10, 20, 50
    assert summary.p95_ms == 50


def store_metrics_text(saves: int, seconds: float, cpu: float, runs: float) -> str:
    """One replica's exposition: ``saves`` saves of ``seconds`` each, and its CPU and runs."""
    registry = CollectorRegistry()
    metrics = Metrics(registry)
    for _ in range(saves):
        metrics.seconds.labels("save").observe(seconds)
        metrics.bytes.observe(10240)
    metrics.seconds.labels("restore").observe(0.9)  # another op: not in the save's figures
    text = generate_latest(registry).decode()
    runs_line = f'streamlit_script_runs_total{{kind="full",outcome="finished"}} {runs}\n'
    return text + f"process_cpu_seconds_total {cpu}\n" + runs_line


def test_a_store_window_s_figures_come_from_the_growth_in_every_replica_s_metrics() -> None:
    class Seen:  # the users' summary of the window
        p50_ms, p95_ms, failed = 12.0, 40.0, 0

    before = {
        "r1": parsed(store_metrics_text(10, 0.0002, 5.0, 100)),
        "r2": parsed(store_metrics_text(0, 0, 1.0, 0)),
    }
    after = {
        "r1": parsed(store_metrics_text(110, 0.0002, 6.0, 200)),
        "r2": parsed(store_metrics_text(100, 0.002, 2.0, 100)),
    }
    cost = cost_of("on", 60.0, before, after, Seen())
    assert cost.runs == 200
    assert cost.cpu_ms_per_run == 10.0  # 2 s of CPU for 200 runs
    assert cost.saves == 200
    assert cost.save_mean_us == 1100  # 100 of 200 us and 100 of 2,000 us
    assert cost.save_p95_us == 2500  # the bucket 2 ms falls in: up to 2.5 ms
    assert cost.entry_kb == 10.0
    assert (cost.run_p50_ms, cost.run_p95_ms) == (12.0, 40.0)


def test_a_quantile_reads_one_label_s_buckets_only() -> None:
    before = parsed(store_metrics_text(0, 0, 0, 0))
    after = parsed(store_metrics_text(100, 0.0004, 0, 0))
    assert quantile(before, after, "streamlit_serving_session_store_seconds", 0.95, op="save") == 0.0005
    assert quantile(before, after, "streamlit_serving_session_store_seconds", 0.95, op="restore") is None
    assert grown_all(before, after, "streamlit_serving_session_store_seconds_count") == 100


class FakeRedis:
    def __init__(self) -> None:
        self.entries: dict[str, bytes] = {}

    def set(self, key: str, value: bytes, ex: int) -> None:
        self.entries[key] = value


def test_the_store_times_each_save_in_its_histogram_and_sizes_its_entry() -> None:
    def page() -> None:
        import streamlit as st

        st.session_state.setdefault("ballast", b"x" * 10240)
        st.session_state["runs"] = st.session_state.get("runs", 0) + 1

    app = AppTest.from_function(page)
    app.run()
    registry = CollectorRegistry()
    store = SessionStore(FakeRedis(), lambda: "s" * 64, 256 * 1024, 3600, Metrics(registry))
    store.connected("session-1", {"st_route": "r" * 32}, {}, None)
    store.save("session-1", app._session_state._state)
    store.save("session-1", app._session_state._state)  # unchanged: not written, not timed
    samples = parsed(generate_latest(registry).decode())
    timed = ("streamlit_serving_session_store_seconds_count", (("op", "save"),))
    assert samples[timed] == 1
    assert 0 < samples["streamlit_serving_session_store_seconds_sum", (("op", "save"),)] < 1
    assert samples["streamlit_serving_session_store_entry_bytes_count", ()] == 1
    assert samples["streamlit_serving_session_store_entry_bytes_sum", ()] > 10240
    assert (
        samples[
            "streamlit_serving_session_store_operations_total", (("op", "save"), ("outcome", "unchanged"))
        ]
        == 1
    )
