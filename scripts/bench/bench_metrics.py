#!/usr/bin/env python3
"""Benchmark: what the app's own metrics cost (goal: under 1 ms of CPU per script run).

Three figures, printed and recorded in --out (default build/bench_metrics):

1. instrumentation   the per-run hook (streamlit_serving.metrics.measured_runs with the real
                     prometheus_client counters and histogram) around a run that does nothing,
                     against the bare call: CPU microseconds per run, median of --rounds rounds
                     of --calls calls each
2. scrape            a local server with metrics on, scraped --scrapes times in a row: the
                     server's CPU per scrape (cgroup, ns), and what that is per run when
                     Prometheus scrapes every 5 s a replica serving 1 or 10 runs a second
3. side by side      two local servers, metrics off (SERVE_METRICS_PORT=0) and on, the same
                     interactions one at a time (sales_load.serial), round after round in turns:
                     median server CPU per interaction of each kind on each, and the difference
                     (noisy: a ms-scale figure next to a µs-scale cost; 1 is the precise one)

    .venv/bin/python scripts/bench/bench_metrics.py --rounds 3 --interactions 30
"""

from __future__ import annotations

import statistics
import sys
import time
import urllib.request
from types import SimpleNamespace

from prometheus_client import CollectorRegistry

from sales_load import serial
from streamlit_load import harness
from streamlit_load.local_server import ServerStartError
from streamlit_load.targets import local_target
from streamlit_serving.metrics import RunMetrics, measured_runs

SCRAPE_INTERVAL = 5.0  # deploy/prometheus/prometheus.yml
RESULT = (None, True, None, False, None)  # what Streamlit's exec_func_with_error_handling returns


def instrumentation_us(calls: int, rounds: int) -> tuple[float, float]:
    """(median µs of CPU the hook adds per run, median µs of the bare call)."""

    def run(_func, _ctx):
        return RESULT

    hooked = measured_runs(run, RunMetrics(CollectorRegistry()))
    ctx = SimpleNamespace(fragment_ids_this_run=["f1"], on_script_error=None)
    added, bare = [], []
    for _ in range(rounds):
        start = time.thread_time()
        for _ in range(calls):
            run(None, ctx)
        plain = time.thread_time() - start
        start = time.thread_time()
        for _ in range(calls):
            hooked(None, ctx)
        measured = time.thread_time() - start
        bare.append(plain / calls * 1e6)
        added.append((measured - plain) / calls * 1e6)
    return statistics.median(added), statistics.median(bare)


def scrape_ms(scrapes: int, interactions: int) -> float:
    """Server CPU per scrape of /metrics, after ``interactions`` of each kind filled the series."""
    # A benchmark target: interactions back to back, without the per-session rerun limit.
    with local_target(env={"SERVE_WARMUP": "off"}) as server:
        serial.run(server.url, None, interactions=interactions, sessions=1, message_cache=True)
        assert server.metrics_url
        with serial.cpu_clock(server.pid) as (clock, _source):
            assert clock is not None
            before = clock()
            for _ in range(scrapes):
                with urllib.request.urlopen(server.metrics_url, timeout=10) as response:  # noqa: S310
                    response.read()
            return (clock() - before) * 1000 / scrapes


def side_by_side(rounds: int, interactions: int) -> dict[str, dict[str, list[float]]]:
    """{"off"|"on": {kind: [median CPU ms per interaction of each round]}}."""
    figures: dict[str, dict[str, list[float]]] = {"off": {}, "on": {}}
    envs = {"off": {"SERVE_METRICS_PORT": "0", "SERVE_WARMUP": "off"}, "on": {"SERVE_WARMUP": "off"}}
    with local_target(env=envs["off"]) as off, local_target(env=envs["on"]) as on:
        assert off.metrics_url is None, "metrics were not off"
        assert on.metrics_url, "metrics were not on"
        for _ in range(rounds):
            for name, server in (("off", off), ("on", on)):
                samples, _ = serial.run(
                    server.url, server.pid, interactions=interactions, sessions=3, message_cache=True
                )
                for kind, summary in serial.summarise(samples).items():
                    figures[name].setdefault(kind, []).append(summary["cpu_avg"])
    return figures


def main() -> int:
    parser = harness.parser(__doc__, "bench_metrics")
    parser.add_argument("--calls", type=int, default=200_000, help="hooked calls per round (default 200000)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of each measurement (default 5)")
    parser.add_argument("--scrapes", type=int, default=200, help="scrapes in a row (default 200)")
    parser.add_argument("--interactions", type=int, default=30, help="interactions per kind per round")
    args = parser.parse_args()
    settings = {"calls": args.calls, "rounds": args.rounds, "scrapes": args.scrapes,
                "interactions": args.interactions}  # fmt: skip
    try:
        with harness.Report("bench_metrics", args.out, settings) as report:
            added, bare = instrumentation_us(args.calls, args.rounds)
            report.figure("instrumentation_us_per_run", added)
            report.line(f"instrumentation: {added:.1f} µs CPU per run (bare call {bare:.2f} µs)")

            per_scrape = scrape_ms(args.scrapes, args.interactions)
            report.figure("scrape_ms", per_scrape)
            for rate in (1, 10):
                per_run = per_scrape / (SCRAPE_INTERVAL * rate) * 1000
                report.figure(f"scrape_us_per_run_at_{rate}_runs_per_s", per_run)
                report.line(
                    f"scrape: {per_scrape:.2f} ms CPU per scrape; every {SCRAPE_INTERVAL:g} s at {rate} "
                    f"run(s)/s per replica: {per_run:.1f} µs per run"
                )

            figures = side_by_side(args.rounds, args.interactions)
            report.figure("side_by_side_cpu_ms", figures)
            report.line(f"{'kind':<14}{'off ms':>9}{'on ms':>9}{'on-off ms':>11}   (median of rounds' means)")
            for kind in figures["off"]:
                off, on = statistics.median(figures["off"][kind]), statistics.median(figures["on"][kind])
                report.line(f"{kind:<14}{off:>9.2f}{on:>9.2f}{on - off:>+11.2f}")
            total_us = added + per_scrape / SCRAPE_INTERVAL * 1000
            report.figure("goal_met", total_us < 1000)
            report.line(
                f"per run, hook + scrapes at 1 run/s: {total_us:.0f} µs "
                f"({'under' if total_us < 1000 else 'OVER'} the 1 ms goal)"
            )
    except ServerStartError as exc:
        sys.exit(f"server did not start:\n{exc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
