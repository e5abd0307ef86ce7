"""`make capacity`: the most concurrent realistic users the compose stack on this host serves at
p95 <= 250 ms with no failure, fragments on and off, 1 and 2 replicas, 26 and 1,000 products.

Each configuration restarts the stack's app (and the proxy in load-balancer mode) with its
settings, waits for the cache warm-up, and steps RealisticMix users up (sales_load.capacity,
the CapacityLadder shape) until a step breaks the budget. Prints a table per configuration, the
capacity table (both with the host CPU per reader and how close the capacity came to the CPU
limit) and the goals table; writes capacity.png, report.html, capacity.txt/json and
every run's Locust files to --out (default build/capacity). About 65 minutes on 2 cores for
all eight configurations (53 measured with the earlier ladder, whose steps above 650 were ~40 %
apart; the finer one's extra steps estimated); --quick runs one (fragments on, 1 replica, 26
products) on a short ladder in about 3 minutes, for CI.

    .venv/bin/python -m sales_load.capacity_cli --quick
    .venv/bin/python -m sales_load.capacity_cli --configs on-2r-26p off-2r-26p --processes 2

With APP_DIR set (`make capacity APP_DIR=...`), the app there is measured instead: its stack (its
image built from APP_DIR) with ``--replicas`` app replicas (default 1), AnyAppUser users thinking
20 s on average (10-30 s), the same ladder and budget; ``--quick`` climbs the short ladder. The
example's goals table and chart are left out.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import asdict
from pathlib import Path

from sales_load.page import SETTINGS_PREFIX
from streamlit_load import harness
from streamlit_load.local_server import free_port
from streamlit_load.targets import ComposeStack

from .capacity import (
    ALL_CONFIGS,
    LADDER,
    P95_BUDGET_MS,
    QUICK_CONFIG,
    QUICK_LADDER,
    Config,
    Ladder,
    parse_ladder,
    peer_address,
    run_config,
)
from .capacity_report import print_result, write_outputs

NAMES = {config.name: config for config in ALL_CONFIGS}


def ladder(text: str) -> tuple[int, ...]:
    """``--ladder``'s value: strictly increasing positive user counts (else exit 64 naming it)."""
    try:
        return tuple(parse_ladder(text))
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def parse_args(argv: list[str] | None = None):
    parser = harness.parser(__doc__, "capacity")
    parser.add_argument("--quick", action="store_true", help="one configuration, a short ladder (CI)")
    parser.add_argument("--configs", nargs="+", choices=sorted(NAMES), help="configurations (default: all)")
    parser.add_argument(
        "--ladder",
        type=ladder,
        help=f"users per step, comma-separated (default {','.join(map(str, LADDER))})",
    )
    parser.add_argument(
        "--hold", type=float, help="seconds each step is held and judged (default 25; quick 20)"
    )
    parser.add_argument(
        "--spawn-rate", type=float, default=25.0, help="users started per second (default 25)"
    )
    parser.add_argument("--budget", type=float, default=P95_BUDGET_MS, help="p95 budget in ms (default 250)")
    parser.add_argument(
        "--processes", type=int, default=1, help="load generator processes (Locust --processes)"
    )
    parser.add_argument(
        "--warmup-timeout", type=float, default=600, help="seconds to wait for the cache warm-up"
    )
    parser.add_argument("--stack-project", default=f"capacity{free_port()}", help="compose project name")
    parser.add_argument(
        "--replicas",
        type=int,
        nargs="+",
        default=[1],
        help="with APP_DIR: app replicas to measure (default 1)",
    )
    args = parser.parse_args(argv)
    if args.quick and args.configs:
        parser.error("--quick runs one configuration; leave out --configs")
    app_dir = os.environ.get("APP_DIR", "").strip()
    if app_dir and args.configs:
        parser.error("--configs are the example's; with APP_DIR set use --replicas")
    if app_dir:
        name = Path(app_dir).expanduser().resolve().name
        args.config_list = [Config(True, replicas, 0, app=name) for replicas in args.replicas]
    else:
        args.config_list = [QUICK_CONFIG] if args.quick else [NAMES[n] for n in args.configs or NAMES]
    steps = args.ladder or (QUICK_LADDER if args.quick else LADDER)
    hold = args.hold or (20.0 if args.quick else 25.0)
    args.ladder_spec = Ladder(steps, hold=hold, spawn_rate=args.spawn_rate, budget=args.budget)
    return args


def main(argv: list[str] | None = None, stack: ComposeStack | None = None) -> int:
    """Run the configurations; ``stack``: a running ComposeStack to use (and leave running)."""
    args = parse_args(argv)
    harness.raise_fd_limit(args.ladder_spec.steps[-1] + 200)
    settings = {
        "configurations": " ".join(c.name for c in args.config_list),
        "ladder": ",".join(map(str, args.ladder_spec.steps)), "hold": f"{args.ladder_spec.hold:g} s",
        "budget": f"p95 <= {args.budget:g} ms, 0 failed", "think": "10-30 s", "message cache": "on",
        "load generator processes": args.processes,
    }  # fmt: skip
    results = []
    with harness.Report("capacity", args.out, settings) as report:
        own = stack is None
        stack = stack or ComposeStack(args.stack_project, app_prefix=SETTINGS_PREFIX)
        try:
            hop = None
            for config in args.config_list:
                if hop is None:  # the proxy's load-balancer mode needs the hop in front of it
                    stack.start({**config.settings, "PROXY_TRUSTED_HOPS": ""})
                    hop = peer_address(stack)
                    stack.env["PROXY_TRUSTED_HOPS"] = hop
                    report.line(f"# proxy in load-balancer mode: PROXY_TRUSTED_HOPS={hop}")
                result = run_config(
                    stack, config, args.ladder_spec, args.out, args.processes, args.warmup_timeout
                )
                results.append(result)
                print_result(report, result)
        finally:
            if own:
                stack.stop()
        report.figure("results", [asdict(r) for r in results])
        write_outputs(results, report)
    return 0 if results and all(not r.errors for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
