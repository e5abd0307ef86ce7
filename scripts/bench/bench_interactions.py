#!/usr/bin/env python3
"""Benchmark: what a fragment pick costs next to a full rerun of the same pick and a month change.

Starts a local Streamlit server (or uses --url and --pid), opens --sessions sessions and, round
after round, has each session do one of each kind, side by side, one interaction at a time
(sales_load.serial: server CPU per interaction from a cgroup of the server's own, in ns, or
psutil's 10 ms ticks without the rights to make one). Prints medians per kind (wall time, its
p90, server CPU, ForwardMsgs, bytes received, deltas), the mean server CPU and fragment/full
ratios of the medians; records them in --out (default build/bench_interactions).

--mode picks the page's mode (SALES_FRAGMENT, SALES_MONTH_RERUN): fragment (the tutorial, the
default), views (a month change reruns the two views only) or plain (no fragment). Several modes
start one server each and measure them side by side, in --blocks alternating blocks, then print
each kind's mean server CPU as a ratio to the first mode (month_change views/fragment is the
figure of SALES_MONTH_RERUN=views). The servers run cold (SERVE_WARMUP=off: first views build
their charts) unless --warmup, which waits for the background warm-up to finish before measuring.

    .venv/bin/python scripts/bench/bench_interactions.py --interactions 30 --products 26
    .venv/bin/python scripts/bench/bench_interactions.py --mode fragment views --interactions 60
"""

from __future__ import annotations

import sys
import time
from contextlib import ExitStack

from sales_load import serial
from sales_load.page import PageMode
from streamlit_load import harness
from streamlit_load.local_server import Server, ServerStartError, running_server
from streamlit_load.targets import url_target

MODES = {
    "fragment": PageMode(),
    "views": PageMode(month_rerun="views"),
    "plain": PageMode(fragment=False),
}
WARMUP_DONE = "warm-up: "  # the line app/sales_dashboard/warmup.py logs at its end
WARMUP_TIMEOUT = 300.0


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
    parser.add_argument(
        "--mode", nargs="+", choices=list(MODES), default=["fragment"], help="the page's mode(s)"
    )
    parser.add_argument("--blocks", type=int, default=3, help="alternating blocks with several modes")
    parser.add_argument("--warmup", action="store_true", help="SERVE_WARMUP=on, measured once it is done")
    args = parser.parse_args()
    if args.url and len(args.mode) > 1:
        parser.error("--url measures one server: give one --mode (the mode it was started in)")
    settings = {
        "products": args.products, "delay": f"{args.delay}s", "sessions": args.sessions,
        "browser cache": "off" if args.no_cache else "on", "server": args.url or "local",
        "modes": " ".join(args.mode), "warm-up": "on (done)" if args.warmup else "off (cold)",
    }  # fmt: skip
    try:
        with harness.Report("bench_interactions", args.out, settings) as report:
            samples, source = measure(args)
            report.line(f"# server cpu {source}")
            figures = {mode: serial.summarise(rows) for mode, rows in samples.items()}
            for mode, per_kind in figures.items():
                if len(figures) > 1:
                    report.line()
                    report.line(f"## mode {mode}")
                print_figures(report, per_kind, mode)
            if len(figures) > 1:
                print_mode_ratios(report, figures)
    except ServerStartError as exc:
        sys.exit(f"server did not start:\n{exc}")
    return 0


def measure(args) -> tuple[dict[str, list[serial.Sample]], str]:
    """Samples per mode: one server per mode (or --url), blocks alternating between them."""
    blocks = args.blocks if len(args.mode) > 1 else 1
    per_block = -(-args.interactions // blocks)
    samples: dict[str, list[serial.Sample]] = {mode: [] for mode in args.mode}
    source = ""
    with ExitStack() as stack:
        servers = {mode: server_for(stack, args, mode) for mode in args.mode}
        for _ in range(blocks):
            for mode, (url, pid) in servers.items():
                rows, source = serial.run(
                    url, pid, interactions=per_block, sessions=args.sessions,
                    message_cache=not args.no_cache, mode=MODES[mode],
                )  # fmt: skip
                samples[mode] += rows
    return samples, source


def server_for(stack: ExitStack, args, mode: str) -> tuple[str, int | None]:
    """(url, pid) of the server measured in ``mode``: --url, or one started for it."""
    if args.url:
        target = stack.enter_context(url_target(args.url, args.pid))
        return target.url, target.pid
    page = MODES[mode]
    env = {
        "SALES_PRODUCT_COUNT": str(args.products),
        "SALES_DEMO_DELAY_SECONDS": str(args.delay),
        "SALES_FRAGMENT": "on" if page.fragment else "off",
        "SALES_MONTH_RERUN": page.month_rerun,
        "SERVE_WARMUP": "on" if args.warmup else "off",
    }
    server = stack.enter_context(running_server(env=env))
    if args.warmup:
        wait_for_warmup(server)
    return server.base_url, server.pid


def wait_for_warmup(server: Server) -> None:
    deadline = time.monotonic() + WARMUP_TIMEOUT
    while WARMUP_DONE not in server.log():
        if time.monotonic() > deadline:
            sys.exit(f"the warm-up did not finish within {WARMUP_TIMEOUT:.0f} s:\n{server.log()[-3000:]}")
        time.sleep(0.5)
    print(next(line for line in server.log().splitlines() if WARMUP_DONE in line), file=sys.stderr)


def print_figures(report: harness.Report, figures: dict[str, dict[str, float]], mode: str) -> None:
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
    report.figure("per_kind" if mode == "fragment" else f"per_kind_{mode}", figures)
    fragment, full, month = figures["fragment"], figures["full"], figures["month_change"]
    report.line()
    for name in ("wall", "cpu_avg", "msgs", "bytes", "deltas"):
        report.line(
            f"{name + ' ratio':<13} fragment/full {fragment[name] / full[name]:.2f}"
            f"   month_change/full {month[name] / full[name]:.2f}"
        )


def print_mode_ratios(report: harness.Report, figures: dict[str, dict[str, dict[str, float]]]) -> None:
    """Each kind's server CPU (mean and median) in every mode over the first mode's, same run."""
    first, *others = figures
    report.line()
    report.line(f"## server cpu, each mode over {first} (mean / median)")
    ratios: dict[str, dict[str, float]] = {}
    for mode in others:
        for kind, f in figures[mode].items():
            base = figures[first][kind]
            mean, median = f["cpu_avg"] / base["cpu_avg"], f["cpu"] / base["cpu"]
            ratios[f"{kind} {mode}/{first}"] = {"mean": mean, "median": median}
            report.line(f"{kind:<13} {mode}/{first}  {mean:.2f} / {median:.2f}")
    report.figure("mode_ratios", ratios)


if __name__ == "__main__":
    sys.exit(main())
