#!/usr/bin/env python3
"""Benchmark: what a fragment pick costs next to a full rerun of the same pick and a month change.

Starts a local Streamlit server (or uses --url and --pid), opens --sessions sessions and, round
after round, has each session do one of each kind, side by side, one interaction at a time
(sales_load.serial: server CPU per interaction from a cgroup of the server's own, in ns, or
psutil's 10 ms ticks without the rights to make one). Prints medians per kind (wall time, its
p90, server CPU, ForwardMsgs, bytes received, deltas), the mean server CPU and fragment/full
ratios of the medians; records them in --out (default build/bench_interactions).

    .venv/bin/python scripts/bench_interactions.py --interactions 30 --products 26
"""

from __future__ import annotations

import sys

from sales_load import harness, serial
from sales_load.local_server import ServerStartError
from sales_load.targets import local_target, url_target


def main() -> int:
    parser = harness.parser(__doc__, "bench_interactions")
    parser.add_argument("--interactions", type=int, default=30, help="measured interactions per kind")
    parser.add_argument("--sessions", type=int, default=3, help="sessions taking turns (default 3)")
    parser.add_argument("--url", help="use this running server instead of starting one")
    parser.add_argument("--pid", type=int, help="the server's pid, for CPU times (with --url)")
    parser.add_argument("--products", type=int, default=26, help="SALES_PRODUCT_COUNT of the started server")
    parser.add_argument(
        "--delay", type=float, default=0.0, help="SALES_DEMO_DELAY_SECONDS of the started server"
    )
    parser.add_argument("--no-cache", action="store_true", help="no browser ForwardMsg cache in the clients")
    args = parser.parse_args()
    env = {"SALES_PRODUCT_COUNT": str(args.products), "SALES_DEMO_DELAY_SECONDS": str(args.delay)}
    settings = {
        "products": args.products, "delay": f"{args.delay}s", "sessions": args.sessions,
        "browser cache": "off" if args.no_cache else "on", "server": args.url or "local",
    }  # fmt: skip
    try:
        with harness.Report("bench_interactions", args.out, settings) as report:
            target = url_target(args.url, args.pid) if args.url else local_target(env)
            with target as server:
                samples, source = serial.run(
                    server.url, server.pid, interactions=args.interactions, sessions=args.sessions,
                    message_cache=not args.no_cache,
                )  # fmt: skip
            report.line(f"# server cpu {source}")
            print_figures(report, serial.summarise(samples))
    except ServerStartError as exc:
        sys.exit(f"server did not start:\n{exc}")
    return 0


def print_figures(report: harness.Report, figures: dict[str, dict[str, float]]) -> None:
    header = (
        f"{'kind':<13}{'n':>4}{'wall ms':>9}{'p90 ms':>9}{'cpu ms':>8}{'cpu avg':>9}{'msgs':>6}{'bytes':>8}"
        f"{'deltas':>8}"
    )
    report.line(header)
    report.line("-" * len(header))
    for kind, f in figures.items():
        report.line(
            f"{kind:<13}{f['n']:>4}{f['wall']:>9.1f}{f['p90']:>9.1f}{f['cpu']:>8.1f}"
            f"{f['cpu_avg']:>9.1f}{f['msgs']:>6.0f}{f['bytes']:>8.0f}{f['deltas']:>8.0f}"
        )
    report.figure("per_kind", figures)
    fragment, full, month = figures["fragment"], figures["full"], figures["month_change"]
    report.line()
    for name in ("wall", "cpu_avg", "msgs", "bytes", "deltas"):
        report.line(
            f"{name + ' ratio':<13} fragment/full {fragment[name] / full[name]:.2f}"
            f"   month_change/full {month[name] / full[name]:.2f}"
        )


if __name__ == "__main__":
    sys.exit(main())
