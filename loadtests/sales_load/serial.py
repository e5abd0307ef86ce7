"""One interaction at a time, with the server's CPU per interaction (``make bench``, bench_tuning).

Sessions take turns, round after round, each doing one interaction of every kind, the order
rotating each round so that noise hits every kind alike:

  fragment      a day in the current month (the fragment reruns alone)
  full          another day of the month, as a whole-script rerun (the same work, no fragment)
  month_change  a day in the next month (fragment run, st.rerun(), whole-script run)

One interaction runs at a time, so the server's CPU time (read before the request and after a
heartbeat round trip that follows the interaction's end) is that interaction's. It comes from a
cgroup the server is moved into for the run (counted in nanoseconds; needs root or sudo without
a password), or else from psutil (the process's times, counted in 10 ms clock ticks: then only
the mean is a fine figure). Both keep the time of threads that have ended.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

from sales_load.page import DashboardSession, PageMode
from streamlit_load.client import Interaction
from streamlit_load.server_probe import ProcessProbe, own_cgroup

KINDS = ("fragment", "full", "month_change")
CpuClock = Callable[[], float]  # the server's CPU seconds so far


@dataclass
class Sample:
    kind: str
    wall_ms: float
    cpu_ms: float | None
    messages: int
    bytes: int
    deltas: int


class Walker:
    """One session's picks: days of its current month, then on to the next month."""

    def __init__(self, session: DashboardSession, start_month: int) -> None:
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


def run(
    url: str,
    pid: int | None,
    *,
    interactions: int,
    sessions: int,
    message_cache: bool,
    mode: PageMode | None = None,
    cookies: dict[str, str] | None = None,
) -> tuple[list[Sample], str]:
    """``interactions`` of each kind over ``sessions`` sessions of a page in ``mode`` (default:
    the tutorial's), with ``cookies`` (a signed-in user's) if given; (samples, where the CPU came
    from)."""
    with cpu_clock(pid) as (server, source):
        return _measure_sessions(url, server, interactions, sessions, message_cache, mode, cookies), source


def _measure_sessions(
    url: str,
    server: CpuClock | None,
    interactions: int,
    count: int,
    message_cache: bool,
    mode: PageMode | None,
    cookies: dict[str, str] | None,
) -> list[Sample]:
    sessions = [
        DashboardSession(url, timeout=120, message_cache=message_cache, mode=mode, cookies=cookies)
        for _ in range(count)
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
        rounds = -(-interactions // len(walkers))
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


def summarise(samples: list[Sample]) -> dict[str, dict[str, float]]:
    """Per kind: median wall time, its p90, median and mean server CPU, median messages, bytes, deltas."""
    figures: dict[str, dict[str, float]] = {}
    for kind in KINDS:
        rows = [s for s in samples if s.kind == kind]
        walls = [s.wall_ms for s in rows]
        cpus = [s.cpu_ms for s in rows if s.cpu_ms is not None]
        figures[kind] = {
            "n": len(rows),
            "wall": median(walls),
            "p90": statistics.quantiles(walls, n=10)[-1] if len(walls) > 1 else median(walls),
            "cpu": median(cpus),
            "cpu_avg": statistics.fmean(cpus) if cpus else float("nan"),
            "msgs": median([s.messages for s in rows]),
            "bytes": median([s.bytes for s in rows]),
            "deltas": median([s.deltas for s in rows]),
        }
    return figures
