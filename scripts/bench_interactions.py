#!/usr/bin/env python3
"""Benchmark: what a fragment pick costs next to a full rerun of the same pick and a month change.

Starts a local Streamlit server (or uses --url and --pid), opens --sessions sessions and,
round after round, has each session do one of each kind, side by side, the order rotating
each round so that noise hits every kind alike:

  fragment      a day in the current month (the fragment reruns alone)
  full          another day of the month, as a whole-script rerun (the same work, no fragment)
  month_change  a day in the next month (fragment run, st.rerun(), whole-script run)

One interaction runs at a time, so the server's CPU time (read before the request and after a
heartbeat round trip that follows the interaction's end) is that interaction's. It comes from a
cgroup the server is moved into for the run (nanoseconds, ended threads included), or, without
the rights to make one, from psutil (10 ms ticks: then only the mean is a fine figure). Prints
medians per kind (wall time, its p90, server CPU, ForwardMsgs, bytes received, deltas), the mean
server CPU and fragment/full ratios of the medians.

    .venv/bin/python scripts/bench_interactions.py --interactions 30 --products 26
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import streamlit

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "loadtests"))

from local_server import ServerStartError, healthy, running_server  # noqa: E402
from server_probe import ProcessProbe, own_cgroup  # noqa: E402
from streamlit_client import Interaction, StreamlitSession  # noqa: E402

KINDS = ("fragment", "full", "month_change")


@dataclass
class Sample:
    kind: str
    wall_ms: float
    cpu_ms: float | None
    messages: int
    bytes: int
    deltas: int


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--interactions", type=int, default=30, help="measured interactions per kind")
    parser.add_argument("--sessions", type=int, default=3, help="sessions taking turns (default 3)")
    parser.add_argument("--url", help="use this running server instead of starting one")
    parser.add_argument("--pid", type=int, help="the server's pid, for CPU times (with --url)")
    parser.add_argument("--products", type=int, default=26, help="SALES_PRODUCT_COUNT of the started server")
    parser.add_argument(
        "--delay", type=float, default=0.0, help="SALES_DEMO_DELAY_SECONDS of the started server"
    )
    parser.add_argument("--no-cache", action="store_true", help="no browser ForwardMsg cache in the clients")
    return parser.parse_args()


class Walker:
    """One session's picks: days of its current month, then on to the next month."""

    def __init__(self, session: StreamlitSession, start_month: int) -> None:
        self.session = session
        self.month = start_month
        self.day = 1

    def do(self, kind: str) -> Interaction:
        if kind in ("fragment", "full"):
            # A new day each time, always in the current month: the same work for both kinds,
            # and a day no earlier interaction showed (the app's shared chart cache is cold).
            self.day = self.day % 27 + 1
            return self.session.pick_date(date(2023, self.month, self.day), fragment=kind == "fragment")
        self.month = self.month % 12 + 1
        return self.session.change_month(date(2023, self.month, self.day))


CpuClock = Callable[[], float]  # the server's CPU seconds so far


def measure(walker: Walker, kind: str, server: CpuClock | None) -> Sample:
    before = server() if server else None
    interaction = walker.do(kind)
    walker.session.heartbeat()  # the server has handled everything up to here
    cpu_ms = (server() - before) * 1000 if server and before is not None else None
    return Sample(
        kind,
        interaction.wall_time * 1000,
        cpu_ms,
        interaction.messages,
        interaction.bytes_received,
        interaction.deltas,
    )


@contextmanager
def cpu_clock(pid: int | None) -> Iterator[tuple[CpuClock | None, str]]:
    """The server's CPU seconds: from a cgroup of its own (ns) when we may make one, else psutil
    (10 ms ticks: per-interaction figures are then multiples of 10 and only the mean is fine)."""
    if not pid:
        yield None, "n/a (no --pid)"
        return
    with own_cgroup(pid) as probe:
        if probe is not None:
            yield (lambda: probe.read().cpu_seconds), f"cgroup (ns) of pid {pid}"
        else:
            process = ProcessProbe(pid)
            yield (lambda: process.read().cpu_seconds), f"psutil (10 ms ticks) pid {pid}"


def run(url: str, pid: int | None, args: argparse.Namespace) -> list[Sample]:
    with cpu_clock(pid) as (server, source):
        args.cpu_source = source
        return measure_sessions(url, server, args)


def measure_sessions(url: str, server: CpuClock | None, args: argparse.Namespace) -> list[Sample]:
    sessions = [
        StreamlitSession(url, timeout=120, message_cache=not args.no_cache) for _ in range(args.sessions)
    ]
    try:
        walkers = []
        for number, session in enumerate(sessions):
            session.open()
            walkers.append(Walker(session, start_month=1 + number % 12))
            if walkers[-1].month != 1:
                session.change_month(date(2023, walkers[-1].month, 1))
        for walker in walkers:  # warm-up: caches, imports, first-run costs
            for kind in KINDS:
                measure(walker, kind, None)
        samples: list[Sample] = []
        rounds = -(-args.interactions // len(walkers))
        for round_number in range(rounds):
            order = KINDS[round_number % 3 :] + KINDS[: round_number % 3]
            for kind in order:
                for walker in walkers:
                    samples.append(measure(walker, kind, server))
        return samples
    finally:
        for session in sessions:
            session.close()


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def report(samples: list[Sample], args: argparse.Namespace, pid: int | None) -> None:
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []
    models = [line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")]
    cpu_model = models[0] if models else platform.processor() or "unknown"
    print(f"# bench_interactions  {datetime.now():%Y-%m-%d %H:%M}")
    print(
        f"# streamlit {streamlit.__version__}, python {platform.python_version()}, "
        f"nproc {len(os.sched_getaffinity(0))}, {cpu_model}"
    )
    print(
        f"# products {args.products}, delay {args.delay}s, sessions {args.sessions}, "
        f"browser cache {'off' if args.no_cache else 'on'}, "
        f"server cpu {getattr(args, 'cpu_source', 'n/a')}"
    )
    header = (
        f"{'kind':<13}{'n':>4}{'wall ms':>9}{'p90 ms':>9}{'cpu ms':>8}{'cpu avg':>9}{'msgs':>6}{'bytes':>8}"
        f"{'deltas':>8}"
    )
    print(header)
    print("-" * len(header))
    medians: dict[str, dict[str, float]] = {}
    for kind in KINDS:
        rows = [s for s in samples if s.kind == kind]
        walls = [s.wall_ms for s in rows]
        cpus = [s.cpu_ms for s in rows if s.cpu_ms is not None]
        stats = {
            "wall": median(walls),
            "p90": statistics.quantiles(walls, n=10)[-1] if len(walls) > 1 else median(walls),
            "cpu": median(cpus),
            "cpu_avg": statistics.fmean(cpus) if cpus else float("nan"),
            "msgs": median([s.messages for s in rows]),
            "bytes": median([s.bytes for s in rows]),
            "deltas": median([s.deltas for s in rows]),
        }
        medians[kind] = stats
        print(
            f"{kind:<13}{len(rows):>4}{stats['wall']:>9.1f}{stats['p90']:>9.1f}{stats['cpu']:>8.0f}"
            f"{stats['cpu_avg']:>9.1f}{stats['msgs']:>6.0f}{stats['bytes']:>8.0f}{stats['deltas']:>8.0f}"
        )
    fragment, full, month = medians["fragment"], medians["full"], medians["month_change"]
    print()
    for name in ("wall", "cpu_avg", "msgs", "bytes", "deltas"):
        print(
            f"{name + ' ratio':<13} fragment/full {fragment[name] / full[name]:.2f}"
            f"   month_change/full {month[name] / full[name]:.2f}"
        )


def main() -> None:
    args = parse_args()
    if args.url:
        if not healthy(args.url.rstrip("/")):
            sys.exit(f"no healthy server at {args.url}")
        samples = run(args.url, args.pid, args)
        report(samples, args, args.pid)
        return
    env = {"SALES_PRODUCT_COUNT": str(args.products), "SALES_DEMO_DELAY_SECONDS": str(args.delay)}
    try:
        with running_server(env=env) as server:
            samples = run(server.base_url, server.pid, args)
    except ServerStartError as exc:
        sys.exit(f"server did not start:\n{exc}")
    report(samples, args, server.pid)


if __name__ == "__main__":
    main()
