#!/usr/bin/env python3
"""Stock against tuned server settings, side by side in one run (26 products, no demo delay).

  stock  Streamlit's defaults for what we tune: ``runner.postScriptGC=true``, the sales table
         through ``st.cache_data`` (``SALES_TABLE_CACHE=copy``), no shared charts
         (``SALES_SHARED_CACHE=0``), Streamlit's sockets (``SALES_TCP_NODELAY=off``)
  tuned  the repo's settings: ``.streamlit/config.toml`` (``postScriptGC = false``) and the
         app's defaults (shared table and charts, TCP_NODELAY), the cache warm-up off: both run
         cold, so "first views" are days nobody has picked yet (``SALES_WARMUP=off``)

Per configuration, on a fresh local server:
  1. one interaction at a time (``scripts/bench_interactions.py``'s method, no browser cache):
     server CPU median and mean per fragment / full rerun, wall-time p50 of a fragment pick;
  2. capacity: Locust FragmentUsers with no think time at each ``--steps`` user count for
     ``--step-seconds``; steady fragment interactions/s and p95; the best rate with p95 <= 250 ms.
Then, on the tuned server, the load generator itself: ``--generator-users`` RealisticMix users
(think time ``--think`` s) and the Locust process's CPU, as users per core.

    .venv/bin/python scripts/bench_tuning.py --interactions 40 --steps 1 2 4 8
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import psutil
import streamlit

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "loadtests"))
sys.path.insert(0, str(REPO / "scripts"))

from bench_interactions import run as serial_run  # noqa: E402

from compare import LOCUSTFILE, Target, WorkModel, analyse, run_locust  # noqa: E402
from local_server import running_server  # noqa: E402
from server_probe import ProcessProbe, http_sessions  # noqa: E402

CONFIGS = {
    "stock": (
        ["--runner.postScriptGC", "true"],
        {"SALES_TABLE_CACHE": "copy", "SALES_SHARED_CACHE": "0", "SALES_TCP_NODELAY": "off"},
    ),
    "tuned": ([], {"SALES_WARMUP": "off"}),  # cold: first views are days nobody picked yet
}
P95_LIMIT_MS = 250.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--interactions", type=int, default=40, help="serial interactions per kind")
    parser.add_argument("--steps", type=int, nargs="+", default=[1, 2, 4, 8], help="Locust user counts")
    parser.add_argument("--step-seconds", type=int, default=20, help="seconds per capacity step")
    parser.add_argument(
        "--generator-users", type=int, default=300, help="users for the users-per-core figure"
    )
    parser.add_argument("--generator-seconds", type=int, default=60, help="seconds of steady generator load")
    parser.add_argument("--think", type=float, nargs=2, default=[20.0, 40.0], help="RealisticMix think time")
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--out", type=Path, default=REPO / "build" / "bench-tuning")
    return parser.parse_args()


def serial(url: str, pid: int, args: argparse.Namespace) -> dict[str, float]:
    """Two passes over the same days: first views (nothing cached), then the same days again
    (every chart and table in the app's shared cache, when it has one)."""
    figures = {}
    for suffix in ("", "_repeat"):
        options = SimpleNamespace(interactions=args.interactions, sessions=1, no_cache=True)
        samples = serial_run(url, pid, options)
        for kind in ("fragment", "full"):
            rows = [s for s in samples if s.kind == kind]
            figures[f"{kind}_cpu_median{suffix}"] = statistics.median(s.cpu_ms for s in rows)
            figures[f"{kind}_cpu_mean{suffix}"] = statistics.fmean(s.cpu_ms for s in rows)
            figures[f"{kind}_wall_p50{suffix}"] = statistics.median(s.wall_ms for s in rows)
    figures["cpu_source"] = options.cpu_source
    return figures


def capacity(url: str, pid: int, name: str, args: argparse.Namespace) -> list[tuple[int, float, float, int]]:
    """[(users, steady fragment interactions/s, p95 ms, failures)] per step."""
    rows = []
    for users in args.steps:
        options = SimpleNamespace(
            users=users,
            spawn_rate=users,
            duration=args.step_seconds,
            seed=2023,
            timeout=30.0,
            message_cache=False,
        )
        prefix = args.out / f"{name}-capacity-{users}u"
        target = Target(url, ProcessProbe(pid), http_sessions(url))
        sampler = run_locust(target, "fragment", options, prefix)
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
    command = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--host", url, "--headless",
        "-u", str(args.generator_users), "-r", str(spawn_rate),
        "-t", f"{int(ramp + args.generator_seconds)}s",
        "--think-min", str(args.think[0]), "--think-max", str(args.think[1]), "--csv", str(prefix),
        "--only-summary", "--loglevel", "WARNING", "RealisticMix",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    locust = psutil.Process(process.pid)
    time.sleep(ramp)
    before, start = locust.cpu_times(), time.monotonic()
    time.sleep(args.generator_seconds - 2)
    after, wall = locust.cpu_times(), time.monotonic() - start
    process.wait(timeout=60)
    share = (after.user + after.system - before.user - before.system) / wall
    import csv

    with Path(f"{prefix}_stats.csv").open() as handle:
        total = next(r for r in csv.DictReader(handle) if r["Name"] == "Aggregated")
    return args.generator_users / share, share, int(total["Request Count"]), int(total["Failure Count"])


def main() -> None:
    args = parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict] = {}
    gen = None
    for name in args.configs:
        options, env = CONFIGS[name]
        print(f"[{name}] {' '.join(options) or '(config.toml)'} {env}", flush=True)
        with running_server(*options, env={"SALES_PRODUCT_COUNT": "26", **env}) as server:
            figures = serial(server.base_url, server.pid, args)
            figures["capacity"] = capacity(server.base_url, server.pid, name, args)
            if name == "tuned" and args.generator_users:
                gen = generator(server.base_url, args)
        results[name] = figures
    cpu = [line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
           if line.startswith("model name")][:1]  # fmt: skip
    print(f"\n# bench_tuning  {datetime.now():%Y-%m-%d %H:%M}")
    print(
        f"# streamlit {streamlit.__version__}, python {platform.python_version()}, "
        f"nproc {len(os.sched_getaffinity(0))}, {cpu[0] if cpu else 'unknown'}; 26 products, no delay, "
        f"{args.interactions} serial interactions per kind, "
        f"capacity steps {args.steps} x {args.step_seconds}s"
    )
    print("# server CPU from " + ", ".join(f"{n}: {results[n]['cpu_source']}" for n in results))
    header = f"{'figure':<44}" + "".join(f"{n:>10}" for n in results)
    print(header)
    print("-" * len(header))
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
        print(f"{label:<44}" + "".join(f"{results[n][key]:>10.1f}" for n in results))
    print(
        f"{'fragment/full server CPU (means)':<44}"
        + "".join(f"{results[n]['fragment_cpu_mean'] / results[n]['full_cpu_mean']:>10.2f}" for n in results)
    )
    for index, users in enumerate(args.steps):
        print(
            f"{f'{users} users: fragment/s, p95 ms':<44}"
            + "".join(
                f"{results[n]['capacity'][index][1]:>5.1f},{results[n]['capacity'][index][2]:>4.0f}"
                for n in results
            )
        )
    for n in results:
        ok = [rate for _, rate, p95, failed in results[n]["capacity"] if p95 <= P95_LIMIT_MS and not failed]
        print(
            f"{n}: best fragment interactions/s with p95 <= {P95_LIMIT_MS:.0f} ms: {max(ok, default=0):.1f}"
        )
    if gen:
        print(
            f"load generator: {args.generator_users} RealisticMix users (think {args.think[0]:g}-"
            f"{args.think[1]:g} s) used {gen[1]:.2f} of a core -> {gen[0]:.0f} users per core "
            f"({gen[2]} requests, {gen[3]} failed)"
        )


if __name__ == "__main__":
    main()
