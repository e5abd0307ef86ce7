#!/usr/bin/env python3
"""Benchmark: what the shared cache's background warm-up (SERVE_WARMUP=on) costs, and what a user
picking days meanwhile sees.

Per --products count, two fresh local servers side by side: one with the warm-up off, whose
session picks every January day once first, then one with it on. Then one session on each picks
January days in turn, back to back (the fragment reruns alone; repeat views on both: the same work
throughout; both are benchmark targets, without the per-session rerun limit) until the
warm-up is done, and as long again after it. Prints the warm-up's own figures (days and months
built, wall time, CPU of its thread, from its log line), the server's RSS once it is done next to
the cold server's, and the pick latency during and after the warm-up (p50, p95) next to the cold
server's over the same spans.

    .venv/bin/python scripts/bench/bench_warmup.py --products 26 1000
"""

from __future__ import annotations

import contextlib
import re
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date

import psutil

from sales_load.page import DashboardSession
from streamlit_load import harness
from streamlit_load.local_server import Server, ServerStartError
from streamlit_load.targets import local_target

DONE = re.compile(
    r"warm-up: (\d+) of (\d+) days and (\d+) months built in ([\d.]+) s \(([\d.]+) s of CPU\); "
    r"the shared cache holds (.*) \(SALES_SHARED_CACHE"
)
TIMEOUT = 600.0


@contextlib.contextmanager
def local_server(env: dict[str, str]) -> Iterator[Server]:
    """A benchmark target's local server (targets.local_target: no per-session rerun limit)."""
    with local_target(env=env) as target:
        assert target.server is not None
        yield target.server


def main() -> int:
    parser = harness.parser(__doc__, "bench_warmup")
    parser.add_argument("--products", type=int, nargs="+", default=[26, 1000], help="SALES_PRODUCT_COUNT")
    parser.add_argument("--min-seconds", type=float, default=5.0, help="shortest span picked after it")
    args = parser.parse_args()
    settings = {"products": " ".join(map(str, args.products)), "picks": "January days, one session"}
    try:
        with harness.Report("bench_warmup", args.out, settings) as report:
            for products in args.products:
                report.line()
                report.line(f"## {products} products")
                report.figure(str(products), measure(report, products, args.min_seconds))
    except ServerStartError as exc:
        sys.exit(f"server did not start:\n{exc}")
    return 0


def measure(report: harness.Report, products: int, min_seconds: float) -> dict[str, object]:
    env = {"SALES_PRODUCT_COUNT": str(products)}  # a benchmark target: picks back to back
    with (
        local_server(env={**env, "SERVE_WARMUP": "off"}) as cold,
        DashboardSession(cold.base_url, timeout=60) as cold_user,
    ):
        for day in range(2, 30):  # the cold server builds January's days now: both users pick repeats
            pick(cold_user, day)
        with (
            local_server(env={**env, "SERVE_WARMUP": "on"}) as warm,
            DashboardSession(warm.base_url, timeout=60) as warm_user,
        ):
            users = {"on": warm_user, "off": cold_user}
            during = pick_until(users, lambda: DONE.search(warm.log()) is not None, TIMEOUT)
            span = max(min_seconds, sum(during["on"]) / 1000)
            after = pick_until(users, deadline(span), span + 60)
            done = DONE.search(warm.log())
            rss = {"on": rss_mb(warm), "off": rss_mb(cold)}
    assert done is not None
    days, of_days, months, wall, cpu, sizes = done.groups()
    spans = {
        "during": {k: quantiles(v) for k, v in during.items()},
        "after": {k: quantiles(v) for k, v in after.items()},
    }
    report.line(
        f"warm-up: {days} of {of_days} days, {months} months in {wall} s, {cpu} s of CPU; cache {sizes}"
    )
    report.line(
        f"RSS then: warm-up on {rss['on']:.0f} MB, off {rss['off']:.0f} MB (+{rss['on'] - rss['off']:.0f} MB)"
    )
    report.line(f"{'fragment pick ms':<22}{'n':>5}{'p50':>8}{'p95':>8}   warm-up off, same span: n, p50, p95")
    for name, figures in spans.items():
        on, off = figures["on"], figures["off"]
        report.line(
            f"{name + ' the warm-up':<22}{on['n']:>5}{on['p50']:>8.1f}{on['p95']:>8.1f}"
            f"   {off['n']}, {off['p50']:.1f}, {off['p95']:.1f}"
        )
    return {
        "days": int(days), "of_days": int(of_days), "months": int(months), "wall_s": float(wall),
        "cpu_s": float(cpu), "cache": sizes, "rss_mb": rss, **spans,
    }  # fmt: skip


def pick_until(
    users: dict[str, DashboardSession], stop: Callable[[], bool], limit: float
) -> dict[str, list[float]]:
    """Picks of January days by each user in turn (both see the same machine) until ``stop()``."""
    times: dict[str, list[float]] = {name: [] for name in users}
    started = time.monotonic()
    day = 1
    while not stop():
        if time.monotonic() - started > limit:
            sys.exit(f"still picking after {limit:.0f} s: the warm-up never logged its end")
        day = day % 28 + 1
        for name, user in users.items():
            times[name].append(pick(user, day))
    return times


def deadline(seconds: float) -> Callable[[], bool]:
    end = time.monotonic() + seconds
    return lambda: time.monotonic() >= end


def pick(session: DashboardSession, day: int) -> float:
    return session.pick_date(date(2023, 1, day)).wall_time * 1000


def rss_mb(server: Server) -> float:
    return psutil.Process(server.pid).memory_info().rss / 2**20


def quantiles(times: list[float]) -> dict[str, float]:
    if len(times) < 2:
        return {"n": len(times), "p50": times[0] if times else float("nan"), "p95": float("nan")}
    return {"n": len(times), "p50": statistics.median(times), "p95": statistics.quantiles(times, n=20)[-1]}


if __name__ == "__main__":
    sys.exit(main())
