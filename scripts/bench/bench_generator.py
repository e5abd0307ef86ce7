#!/usr/bin/env python3
"""Benchmark: how many simulated users one load-generator host holds open against the stack.

Starts the compose stack (2 app replicas, 26 products, the proxy in load-balancer mode so each
user is a client of its own), then Locust spawns --users RealisticMix users at
--spawn-rate with a long think time (--think, default 60-120 s: most of them are thinking at any
moment, as a dashboard's readers are) and holds them --hold seconds. Prints and records: users
spawned, live sessions on the server, client-side errors (failed interactions and Locust's own
exceptions: the figure that must be 0), interactions and their p50/p95 during the hold (reported,
not judged: the stack is past its latency budget long before 5,000 users), the load generator's
CPU, memory and open files, and the app's CPU. Exits 1 on any client-side error or fewer
sessions than users.

Through the published port every connection from this host passes Docker's userland proxy
(docker-proxy), which exited at ~3,300 open sessions here (2026-11-30) and refused every later
one; clients on other hosts reach a published port through iptables instead. --direct (Linux)
reaches the proxy container's plain-HTTP port at its own address, past docker-proxy, as a
balancer that terminates TLS in front would.

    .venv/bin/python scripts/bench/bench_generator.py --users 5000 --spawn-rate 10 --hold 120 --direct
    .venv/bin/python scripts/bench/bench_generator.py --users 5000 --processes 2
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from sales_load.capacity import memory_fit, peer_address
from sales_load.page import SETTINGS_PREFIX
from streamlit_load import harness
from streamlit_load.local_server import free_port
from streamlit_load.locust_runs import LocustRun, read_rows, run_locust, timed_interactions
from streamlit_load.server_probe import HostProbe, Sampler, cpu_at
from streamlit_load.targets import ComposeStack, container_addresses


def parse_args():
    parser = harness.parser(__doc__, "bench_generator")
    parser.add_argument("--users", type=int, default=5000, help="simulated users (default 5000)")
    parser.add_argument("--spawn-rate", type=float, default=10.0, help="users started per second (10)")
    parser.add_argument("--hold", type=float, default=120.0, help="seconds all users are held (120)")
    parser.add_argument("--think", type=float, nargs=2, default=[60.0, 120.0], help="think time range (s)")
    parser.add_argument("--processes", type=int, default=1, help="Locust --processes (default 1)")
    parser.add_argument("--replicas", type=int, default=2, help="app replicas (default 2)")
    parser.add_argument("--products", type=int, default=26, help="SALES_PRODUCT_COUNT (default 26)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds before an interaction fails")
    parser.add_argument(
        "--direct",
        action="store_true",
        help="reach the proxy at its container's address (Linux), in plain HTTP: past Docker's userland "
        "proxy, which carries loopback connections to a published port and exited at ~3,300 here",
    )
    args = parser.parse_args()
    if args.hold <= 10:
        parser.error("--hold must be over 10 s: its first and last 5 s are not counted")
    return args


def proxy_container_url(stack: ComposeStack) -> str:
    """The proxy's plain-HTTP port at its address on the stack's network, which this host routes to."""
    return f"http://{container_addresses(stack.containers('proxy')[0])[0]}:8080"


def main() -> int:
    args = parse_args()
    harness.raise_fd_limit(args.users + 500)
    ramp = args.users / args.spawn_rate
    settings = {
        "users": args.users, "spawn rate": f"{args.spawn_rate:g}/s", "hold": f"{args.hold:g} s",
        "think": f"{args.think[0]:g}-{args.think[1]:g} s", "processes": args.processes,
        "replicas": args.replicas, "products": args.products, "interaction timeout": f"{args.timeout:g} s",
    }  # fmt: skip
    with (
        harness.Report("bench_generator", args.out, settings) as report,
        ComposeStack(f"benchgen{free_port()}", app_prefix=SETTINGS_PREFIX) as stack,
    ):
        # --direct: TLS off, as in load-balancer mode behind a terminating balancer (the URL is http).
        tls = {"PROXY_TLS": "off"} if args.direct else {}
        stack.start({"APP_REPLICAS": str(args.replicas), "SALES_PRODUCT_COUNT": str(args.products), **tls})
        stack.start({"PROXY_TRUSTED_HOPS": peer_address(stack)})
        url = proxy_container_url(stack) if args.direct else stack.url
        report.line(f"# stack {url}, proxy trusting {stack.env['PROXY_TRUSTED_HOPS']}")
        prefix = args.out / "run"
        extra = ["--think-min", str(args.think[0]), "--think-max", str(args.think[1]), "--forwarded-for"]
        if args.processes > 1:
            extra += ["--processes", str(args.processes)]
        seconds = int(ramp + args.hold)
        run = LocustRun(
            ["RealisticMix"], args.users, args.spawn_rate, seconds, timeout=args.timeout, extra=extra
        )
        app = Sampler(stack.app_probe(), stack.app_sessions(), interval=2.0, sessions_every=5)
        host = Sampler(HostProbe(), interval=2.0)
        proxy = Sampler(stack.proxy_probe(), interval=2.0)
        started = time.time()
        with app, host, proxy:
            outcome = run_locust(url, run, prefix)
        hold_start, hold_end = started + ramp + 5, started + ramp + args.hold - 5
        figures = summarise(prefix, outcome, app, host, hold_start, hold_end)
        figures["proxy memory MB, max (usage, cache included)"] = round(
            max((r.memory_bytes or r.rss_bytes) for r in proxy.readings) / 2**20
        )
        figures["proxy cores during the hold"] = round(
            (cpu_at(proxy.readings, hold_end) - cpu_at(proxy.readings, hold_start)) / (hold_end - hold_start),
            2,
        )
        for key, value in figures.items():
            report.figure(key, value)
            report.line(f"{key:<44} {value}")
        ok = figures["client-side errors"] == 0 and (figures["live sessions, max"] or 0) >= args.users
        report.line(f"verdict: {'held' if ok else 'NOT held'} {args.users:,} users with 0 client-side errors")
    return 0 if ok else 1


def summarise(prefix: Path, outcome, app: Sampler, host: Sampler, start: float, end: float) -> dict:
    stats = {row["Name"]: row for row in read_rows(Path(f"{prefix}_stats.csv"))}
    exceptions = (
        read_rows(Path(f"{prefix}_exceptions.csv")) if Path(f"{prefix}_exceptions.csv").exists() else []
    )
    failures = int(stats["Aggregated"]["Failure Count"]) if "Aggregated" in stats else -1
    timed = timed_interactions(Path(f"{prefix}_times.csv"))
    held = sorted(t.ms for t in timed if start <= t.end <= end and not t.failed)
    sessions = [r.sessions for r in app.readings if r.sessions is not None]
    generator = [r for r in outcome.generator if start <= r.time <= end] or outcome.generator

    def cores(readings) -> float:
        return round((cpu_at(readings, end) - cpu_at(readings, start)) / (end - start), 2)

    return {
        "client-side errors": failures + sum(int(row["Count"]) for row in exceptions),
        "failed interactions": failures,
        "interactions in all": int(stats["Aggregated"]["Request Count"]) if "Aggregated" in stats else 0,
        "live sessions, max": max(sessions) if sessions else None,
        "hold: interactions": len(held),
        "hold: p50 ms": round(statistics.median(held), 1) if held else None,
        "hold: p95 ms": round(held[int(0.95 * (len(held) - 1))], 1) if held else None,
        "hold: load generator cores": outcome.cpu_share(start, end),
        "hold: app cores (replicas summed)": cores(app.readings),
        "hold: host cores busy": cores(host.readings),
        "load generator RSS MB, max": round(max(r.rss_bytes for r in generator) / 2**20),
        "load generator open files, max": max(r.fds or 0 for r in outcome.generator),
        "app RSS MB at the end (replicas summed)": round(app.readings[-1].rss_bytes / 2**20)
        if app.readings
        else None,
        "app memory usage MB, max (replicas summed, cache included)": round(
            max((r.memory_bytes or r.rss_bytes) for r in app.readings) / 2**20
        )
        if app.readings
        else None,
        "app memory per live session": session_memory(app),
    }


def session_memory(app: Sampler) -> str:
    """The app's RSS against its live sessions over the ramp (sales_load.capacity.memory_fit)."""
    fit = memory_fit([(r.sessions, r.rss_bytes / 2**20) for r in app.readings if r.sessions is not None])
    if fit is None:
        return "n/a"
    return f"{fit.kb_per_session:.0f} kB (RSS {fit.base_mb:.0f} MB + that per session, {fit.points} samples)"


if __name__ == "__main__":
    sys.exit(main())
