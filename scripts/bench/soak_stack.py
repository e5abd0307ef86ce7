#!/usr/bin/env python3
"""Soak over time, also against the compose stack: churn sessions with a realistic mix for a set
duration and watch the app's RSS, threads and fds. (`scripts/bench/soak.py`, `make soak`, counts
interactions on a local server only.)

Against a local server it starts (default), a running local server (--url and --pid), or a
container (--url through the proxy and --container NAME of one app replica; with one replica
all sessions reach it). Prints a sample line every --interval seconds, then the summary: RSS
growth after warm-up (medians of the first and last fifth of the samples after warm-up),
thread and fd growth, interactions, failures and interaction latency.

    .venv/bin/python scripts/bench/soak_stack.py --duration 1800 --warmup 300 --workers 4
    .venv/bin/python scripts/bench/soak_stack.py --url http://127.0.0.1:8080 --container sales-dashboard-app-1

The warm-up must outlast Streamlit's server.disconnectedSessionTTL (120 s by default): until
then closed sessions are still held for a reconnect, so memory grows by design.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict

from sales_load.churn import container_sampler, local_sampler, soak
from streamlit_load import harness
from streamlit_load.local_server import running_server


def parse_args() -> argparse.Namespace:
    parser = harness.parser(__doc__, "soak_stack")
    parser.add_argument("--duration", type=float, default=1800, help="seconds of traffic (default 1800)")
    parser.add_argument("--warmup", type=float, default=300, help="seconds not counted in growth (300)")
    parser.add_argument("--workers", type=int, default=4, help="sessions open at once (default 4)")
    parser.add_argument("--interval", type=float, default=10, help="seconds between samples (10)")
    parser.add_argument("--url", help="use this running server (or proxy) instead of starting one")
    parser.add_argument("--pid", type=int, help="the local server's pid (with --url)")
    parser.add_argument("--container", help="sample PID 1 of this container (with --url)")
    parser.add_argument("--docker", default="docker", help="docker client for --container")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    if args.url and not (args.pid or args.container):
        sys.exit("--url needs --pid (local server) or --container (container)")
    settings = {
        "duration": f"{args.duration:.0f} s", "warm-up": f"{args.warmup:.0f} s",
        "workers": args.workers, "server": args.url or "local",
    }  # fmt: skip
    with harness.Report("soak_stack", args.out, settings) as report:

        def print_sample(sample) -> None:
            report.line(
                f"{sample.at:7.0f} s  rss {sample.rss_mb:7.1f} MB  threads {sample.threads:3d}  "
                f"fds {sample.fds:d}"
            )

        options = {"duration": args.duration, "warmup": args.warmup, "workers": args.workers,
                   "interval": args.interval, "progress": print_sample}  # fmt: skip
        if args.url and args.container:
            result = soak(args.url, container_sampler(args.docker, args.container), **options)
        elif args.url:
            result = soak(args.url, local_sampler(args.pid), **options)
        else:
            with running_server() as server:
                report.line(f"# local server {server.base_url} pid {server.pid}")
                result = soak(server.base_url, local_sampler(server.pid), **options)
        for line in result.summary().splitlines():
            report.line(line)
        report.figure("samples", [asdict(s) for s in result.samples])
        report.figure("failures", result.failures)
    return 1 if result.failures else 0


if __name__ == "__main__":
    sys.exit(main())
