"""Soak: churn browser-like sessions against a server for a while and watch the app process.

Workers (threads) each loop: open a session, make a few picks in the month, a month change or
two, maybe a whole-page rerun, then close it and start over, so sessions are created and torn
down all the time. A sampler reads the app process's RSS, threads and open fds every few
seconds, either from a local pid (psutil) or from a container (`docker exec … /proc/1`).

What a soak should show: after warm-up (Streamlit keeps a closed session's state for
``server.disconnectedSessionTTL``, so memory grows until the first sessions expire), RSS stays
flat, threads and fds do not grow, and no interaction fails. ``SoakResult.summary()`` prints
those figures; ``scripts/bench/soak_stack.py`` is the command line, the short version is in
tests/integration/test_slow_and_soak.py.
"""

from __future__ import annotations

import random
import statistics
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import psutil

from sales_load.page import DashboardSession
from streamlit_load.client import StreamlitClientError

YEAR_START = date(2023, 1, 1)


@dataclass(frozen=True)
class Sample:
    """One reading of the app process, ``at`` seconds after the soak started."""

    at: float
    rss_mb: float
    threads: int
    fds: int


def local_sampler(pid: int) -> Callable[[], tuple[float, int, int]]:
    """(RSS MB, threads, fds) of a local process."""
    process = psutil.Process(pid)

    def sample() -> tuple[float, int, int]:
        return process.memory_info().rss / 2**20, process.num_threads(), process.num_fds()

    return sample


CONTAINER_PROBE = "grep -E '^(VmRSS|Threads):' /proc/1/status; ls /proc/1/fd | wc -l"


def container_sampler(docker: str, container: str) -> Callable[[], tuple[float, int, int]]:
    """(RSS MB, threads, fds) of PID 1 (Streamlit) in a container, read from /proc inside it."""

    def sample() -> tuple[float, int, int]:
        out = subprocess.run(
            [docker, "exec", container, "sh", "-c", CONTAINER_PROBE],
            capture_output=True, text=True, check=True, timeout=30,
        ).stdout.split()  # fmt: skip
        # VmRSS: <kB> kB Threads: <n> <fds>
        return int(out[1]) / 1024, int(out[4]), int(out[5])

    return sample


@dataclass
class SoakResult:
    duration: float
    warmup: float
    samples: list[Sample] = field(default_factory=list)
    sessions: int = 0
    interactions: int = 0
    failures: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)

    def after_warmup(self) -> list[Sample]:
        return [s for s in self.samples if s.at >= self.warmup]

    def _ends(self, attribute: str) -> tuple[float, float]:
        """Median of the first and of the last fifth (at least 3 samples each) after warm-up."""
        steady = self.after_warmup()
        assert len(steady) >= 2, "too few samples after warm-up: run longer or sample more often"
        width = max(3, len(steady) // 5)
        first = statistics.median(getattr(s, attribute) for s in steady[:width])
        last = statistics.median(getattr(s, attribute) for s in steady[-width:])
        return first, last

    @property
    def rss_growth(self) -> float:
        """Relative RSS growth after warm-up (0.05 = 5 %), from medians of both ends."""
        first, last = self._ends("rss_mb")
        return last / first - 1

    @property
    def thread_growth(self) -> float:
        first, last = self._ends("threads")
        return last - first

    @property
    def fd_growth(self) -> float:
        """Relative growth of open fds after warm-up. Each session kept for a reconnect holds a
        few fds, so their level follows the churn rate; growth beyond that is a leak."""
        first, last = self._ends("fds")
        return last / first - 1

    def p(self, quantile: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(quantile * len(ordered)))] if ordered else float("nan")

    def summary(self) -> str:
        steady = self.after_warmup()
        first_rss, last_rss = self._ends("rss_mb")
        first_thr, last_thr = self._ends("threads")
        first_fd, last_fd = self._ends("fds")
        return "\n".join(
            [
                f"duration {self.duration:.0f} s, warm-up {self.warmup:.0f} s, "
                f"{len(self.samples)} samples ({len(steady)} after warm-up)",
                f"sessions {self.sessions}, interactions {self.interactions}, failures {len(self.failures)}",
                f"interaction wall ms: p50 {self.p(0.5):.0f}  p95 {self.p(0.95):.0f}  p99 {self.p(0.99):.0f}",
                f"RSS MB   start {self.samples[0].rss_mb:.0f}  after warm-up {first_rss:.0f}  "
                f"end {last_rss:.0f}  max {max(s.rss_mb for s in steady):.0f}  "
                f"growth after warm-up {self.rss_growth:+.1%}",
                f"threads  start {self.samples[0].threads}  after warm-up {first_thr:.0f}  "
                f"end {last_thr:.0f}  max {max(s.threads for s in steady)}",
                f"fds      start {self.samples[0].fds}  after warm-up {first_fd:.0f}  end {last_fd:.0f}  "
                f"max {max(s.fds for s in steady)}  growth after warm-up {self.fd_growth:+.1%}",
                *(f"failure: {failure}" for failure in self.failures[:10]),
            ]
        )


def _random_day(rng: random.Random, month: int | None = None) -> date:
    month = month or rng.randint(1, 12)
    first = date(2023, month, 1)
    following = date(2023 + month // 12, month % 12 + 1, 1)
    return first + timedelta(days=rng.randrange((following - first).days))


def one_session(url: str, rng: random.Random, result: SoakResult, lock: threading.Lock) -> None:
    """A user's visit: open, 2-6 picks in the shown month, 1-2 month changes, sometimes a
    whole-page rerun, a short pause, close."""
    timings: list[float] = []
    with DashboardSession(url, timeout=60) as session:
        timings.append(session.initial.wall_time)
        month = 1
        for _ in range(rng.randint(1, 2)):
            for _ in range(rng.randint(1, 3)):
                timings.append(session.pick_date(_random_day(rng, month)).wall_time)
            month = rng.choice([m for m in range(1, 13) if m != month])
            timings.append(session.change_month(_random_day(rng, month)).wall_time)
        if rng.random() < 0.3:
            timings.append(session.rerun().wall_time)
        session.idle(rng.uniform(0.05, 0.5))
    with lock:
        result.sessions += 1
        result.interactions += len(timings)
        result.latencies_ms.extend(t * 1000 for t in timings)


def soak(
    url: str,
    sampler: Callable[[], tuple[float, int, int]],
    *,
    duration: float,
    warmup: float,
    workers: int = 4,
    interval: float = 5.0,
    seed: int = 2023,
    progress: Callable[[Sample], None] | None = None,
) -> SoakResult:
    """Churn sessions on ``url`` with ``workers`` threads for ``duration`` seconds, sampling
    the app every ``interval`` seconds (the first sample before any traffic)."""
    result = SoakResult(duration=duration, warmup=warmup)
    lock = threading.Lock()
    start = time.monotonic()
    stop = threading.Event()

    def take_sample() -> None:
        rss, threads, fds = sampler()
        sample = Sample(time.monotonic() - start, rss, threads, fds)
        result.samples.append(sample)
        if progress:
            progress(sample)

    def work(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        while not stop.is_set():
            try:
                one_session(url, rng, result, lock)
            except (StreamlitClientError, OSError) as exc:
                with lock:
                    result.failures.append(f"{time.monotonic() - start:.0f}s {type(exc).__name__}: {exc}")
                time.sleep(1)

    take_sample()
    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(workers)]
    for thread in threads:
        thread.start()
    try:
        while (elapsed := time.monotonic() - start) < duration:
            time.sleep(min(interval, duration - elapsed))
            take_sample()
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=90)
    return result
