#!/usr/bin/env python3
"""Stock against tuned server settings, side by side in one run (26 products, no demo delay).

  stock  Streamlit's defaults for what we tune: ``runner.postScriptGC=true``, the sales table
         through ``st.cache_data`` (``SALES_TABLE_CACHE=copy``), no shared charts
         (``SALES_SHARED_CACHE=0``), Streamlit's sockets (``SERVE_TCP_NODELAY=off``)
  tuned  the repo's settings: ``.streamlit/config.toml`` (``postScriptGC = false``) and the
         app's defaults (shared table and charts, TCP_NODELAY), the cache warm-up off: both run
         cold, so "first views" are days nobody has picked yet (``SERVE_WARMUP=off``)

Per configuration, on a fresh local server:
  1. one interaction at a time (``scripts/bench/bench_interactions.py``'s method, no browser cache):
     server CPU median and mean per fragment / full rerun, wall-time p50 of a fragment pick;
  2. capacity: Locust FragmentUsers with no think time at each ``--steps`` user count for
     ``--step-seconds``; steady fragment interactions/s and p95; the best rate with p95 <= 250 ms.
Then, on the tuned server, the load generator itself: ``--generator-users`` RealisticMix users
(think time ``--think`` s) and the Locust process's CPU, as users per core.

    .venv/bin/python scripts/bench/bench_tuning.py --interactions 40 --steps 1 2 4 8
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from sales_load import serial
from sales_load.comparison import WorkModel, analyse
from streamlit_load import harness
from streamlit_load.locust_runs import LocustRun, read_rows, run_locust
from streamlit_load.targets import Target, local_target

CONFIGS = {
    "stock": (
        ["--runner.postScriptGC", "true"],
        {"SALES_TABLE_CACHE": "copy", "SALES_SHARED_CACHE": "0", "SERVE_TCP_NODELAY": "off"},
    ),
    "tuned": ([], {"SERVE_WARMUP": "off"}),  # cold: first views are days nobody picked yet
}
P95_LIMIT_MS = 250.0


def parse_args() -> argparse.Namespace:
    parser = harness.parser(__doc__, "bench_tuning")
    parser.add_argument("--interactions", type=int, default=40, help="serial interactions per kind")
    parser.add_argument("--steps", type=int, nargs="+", default=[1, 2, 4, 8], help="Locust user counts")
    parser.add_argument("--step-seconds", type=int, default=20, help="seconds per capacity step")
    parser.add_argument(
        "--generator-users", type=int, default=300, help="users for the users-per-core figure"
    )
    parser.add_argument("--generator-seconds", type=int, default=60, help="seconds of steady generator load")
    parser.add_argument("--think", type=float, nargs=2, default=[20.0, 40.0], help="RealisticMix think time")
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    return parser.parse_args()


def serial_figures(target: Target, args: argparse.Namespace) -> dict[str, float]:
    """Two passes over the same days: first views (nothing cached), then the same days again
    (every chart and table in the app's shared cache, when it has one)."""
    figures = {}
    for suffix in ("", "_repeat"):
        samples, source = serial.run(
            target.url, target.pid, interactions=args.interactions, sessions=1, message_cache=False
        )
        for kind in ("fragment", "full"):
            rows = [s for s in samples if s.kind == kind]
            figures[f"{kind}_cpu_median{suffix}"] = statistics.median(s.cpu_ms for s in rows)
            figures[f"{kind}_cpu_mean{suffix}"] = statistics.fmean(s.cpu_ms for s in rows)
            figures[f"{kind}_wall_p50{suffix}"] = statistics.median(s.wall_ms for s in rows)
    figures["cpu_source"] = source
    return figures


def capacity(target: Target, name: str, args: argparse.Namespace) -> list[tuple[int, float, float, int]]:
    """[(users, steady fragment interactions/s, p95 ms, failures)] per step."""
    rows = []
    for users in args.steps:
        prefix = args.out / f"{name}-capacity-{users}u"
        sampler = target.sampler()
        run_locust(target.url, LocustRun(["FragmentUser"], users, users, args.step_seconds), prefix, sampler)
        result = analyse("fragment", WorkModel(26, 0.0), prefix, sampler, warmup=3.0)
        rate = result.window_interactions / result.window_seconds if result.window_seconds else 0.0
        rows.append((users, rate, result.percentiles_ms["95%"], result.failures_all))
        print(f"  {name} {users:>3} users: {rate:6.1f} fragment/s, p95 {result.percentiles_ms['95%']:.0f} ms")
    return rows


def generator(url: str, args: argparse.Namespace) -> tuple[float, float, int, int]:
    """(users per core, Locust CPU share, requests, failures) with RealisticMix users."""
    spawn_rate = 25
    ramp = args.generator_users / spawn_rate + 5
    prefix = args.out / "generator"
    run = LocustRun(
        ["RealisticMix"], args.generator_users, spawn_rate, int(ramp + args.generator_seconds),
        extra=["--think-min", str(args.think[0]), "--think-max", str(args.think[1])],
    )  # fmt: skip
    started = time.time()
    outcome = run_locust(url, run, prefix)
    share = outcome.cpu_share(started + ramp, started + ramp + args.generator_seconds - 2) or float("nan")
    total = next(
        r for r in read_rows(prefix.with_name(f"{prefix.name}_stats.csv")) if r["Name"] == "Aggregated"
    )
    return args.generator_users / share, share, int(total["Request Count"]), int(total["Failure Count"])


def main() -> None:
    args = parse_args()
    results: dict[str, dict] = {}
    gen = None
    settings = {"products": 26, "delay": "0s", "serial interactions per kind": args.interactions,
                "capacity steps": f"{args.steps} x {args.step_seconds}s"}  # fmt: skip
    with harness.Report("bench_tuning", args.out, settings) as report:
        for name in args.configs:
            options, env = CONFIGS[name]
            print(f"[{name}] {' '.join(options) or '(config.toml)'} {env}", flush=True)
            with local_target({"SALES_PRODUCT_COUNT": "26", **env}, options) as target:
                figures = serial_figures(target, args)
                figures["capacity"] = capacity(target, name, args)
                if name == "tuned" and args.generator_users:
                    gen = generator(target.url, args)
            results[name] = figures
        report.figure("configs", results)
        print_figures(report, results, gen, args)


def step_cell(step: tuple) -> str:
    """A capacity step's "fragment/s, p95 ms" (the rate may reach three digits)."""
    _, rate, p95, _failed = step
    return f"{rate:.1f}, {p95:.0f}"


def print_figures(report: harness.Report, results: dict[str, dict], gen: tuple | None, args) -> None:
    report.line("# server CPU from " + ", ".join(f"{n}: {results[n]['cpu_source']}" for n in results))
    header = f"{'figure':<44}" + "".join(f"{n:>10}" for n in results)
    report.line(header)
    report.line("-" * len(header))
    for key, label in (
        ("fragment_cpu_median", "fragment server CPU median (ms)"),
        ("fragment_cpu_mean", "fragment server CPU mean (ms)"),
        ("full_cpu_median", "full rerun server CPU median (ms)"),
        ("full_cpu_mean", "full rerun server CPU mean (ms)"),
        ("fragment_wall_p50", "fragment p50 latency, 1 user, direct (ms)"),
        ("fragment_cpu_median_repeat", "repeat views: fragment CPU median (ms)"),
        ("full_cpu_median_repeat", "repeat views: full rerun CPU median (ms)"),
        ("fragment_wall_p50_repeat", "repeat views: fragment p50, direct (ms)"),
    ):
        report.line(f"{label:<44}" + "".join(f"{results[n][key]:>10.1f}" for n in results))
    report.line(
        f"{'fragment/full server CPU (means)':<44}"
        + "".join(f"{results[n]['fragment_cpu_mean'] / results[n]['full_cpu_mean']:>10.2f}" for n in results)
    )
    for index, users in enumerate(args.steps):
        report.line(
            f"{f'{users} users: fragment/s, p95 ms':<44}"
            + "".join(f"{step_cell(results[n]['capacity'][index]):>10}" for n in results)
        )
    for n in results:
        ok = [rate for _, rate, p95, failed in results[n]["capacity"] if p95 <= P95_LIMIT_MS and not failed]
        report.line(
            f"{n}: best fragment interactions/s with p95 <= {P95_LIMIT_MS:.0f} ms: {max(ok, default=0):.1f}"
        )
    if gen:
        report.line(
            f"load generator: {args.generator_users} RealisticMix users (think {args.think[0]:g}-"
            f"{args.think[1]:g} s) used {gen[1]:.2f} of a core -> {gen[0]:.0f} users per core "
            f"({gen[2]} requests, {gen[3]} failed)"
        )


if __name__ == "__main__":
    sys.exit(main())
