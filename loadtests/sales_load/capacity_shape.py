"""The capacity run's load shape: concurrent users stepped up until the latency budget breaks.

``CapacityLadder`` (a Locust LoadTestShape, in ``loadtests/capacity_locustfile.py``) walks the
``--ladder`` of user counts. Each step: spawn up to the step's users (``--ladder-spawn-rate`` per
second), let the arrivals settle (``--ladder-settle`` s), then hold (``--ladder-hold`` s) and judge
the hold from Locust's statistics: every interaction that ended in it (page loads, day picks,
month changes), its p95 against ``--p95-budget`` ms and its failures against zero. The first step
that breaks the budget ends the run; so does the ladder's top. Each step is appended as one JSON
line to ``--ladder-log``, with its wall-clock window, for the analysis (``capacity.py``), which
recomputes every figure from the exact times. A hold with fewer than ``--ladder-min-interactions`` (20)
interactions (a p95 of seven values is the worst of them) is extended, up to four times its
length, until it has them: the low steps of thinking users make one interaction per 20 s each.

Locust's histogram rounds times of 100-1,000 ms to 10 ms, so the live verdict at the budget is
within 5 ms; the recorded figures come from ``--times-csv``.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from locust import LoadTestShape

from .capacity import parse_ladder


def p95_of_histogram(histogram: dict[int, int]) -> float | None:
    """The 95th percentile of a {rounded ms: count} histogram (Locust's ``response_times``)."""
    total = sum(histogram.values())
    if total == 0:
        return None
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= 0.95 * total:
            return float(value)
    return float(max(histogram))


@dataclass
class StepLog:
    step: int
    users: int
    spawn_start: float
    hold_start: float
    hold_end: float
    users_running: int
    requests: int
    failures: int
    p95_ms: float | None
    ok: bool


class CapacityLadder(LoadTestShape):
    """Concurrent users in steps, each held and judged; stops at the first step over budget."""

    def __init__(self) -> None:
        super().__init__()
        self.steps: list[int] = []
        self.index = 0
        self.phase = "spawn"
        self.phase_start = time.time()
        self.spawn_start = self.phase_start
        self.snapshot: tuple[dict[int, int], int, int] = ({}, 0, 0)
        self.log_path: Path | None = None

    def _configure(self) -> None:
        options = self.runner.environment.parsed_options
        self.steps = parse_ladder(options.ladder)
        self.spawn_rate = options.ladder_spawn_rate
        self.settle = options.ladder_settle
        self.hold = options.ladder_hold
        self.budget = options.p95_budget
        self.min_interactions = options.ladder_min_interactions
        self.log_path = Path(options.ladder_log) if options.ladder_log else None

    def _stats(self) -> tuple[dict[int, int], int, int]:
        total = self.runner.stats.total
        return dict(total.response_times), total.num_requests, total.num_failures

    def _judge(self, now: float) -> bool:
        before, requests0, failures0 = self.snapshot
        after, requests1, failures1 = self._stats()
        window = {ms: count - before.get(ms, 0) for ms, count in after.items() if count > before.get(ms, 0)}
        p95 = p95_of_histogram(window)
        failures = failures1 - failures0
        ok = failures == 0 and p95 is not None and p95 <= self.budget
        entry = StepLog(
            self.index, self.steps[self.index], self.spawn_start, self.phase_start, now,
            self.get_current_user_count(), requests1 - requests0, failures, p95, ok,
        )  # fmt: skip
        if self.log_path:
            with self.log_path.open("a") as handle:
                handle.write(json.dumps(asdict(entry)) + "\n")
        return ok

    def _enough(self, now: float) -> bool:
        """Enough interactions in the hold to judge it, or the hold is four times its length."""
        return (
            self._stats()[1] - self.snapshot[1] >= self.min_interactions
            or now - self.phase_start >= 4 * self.hold
        )

    def tick(self) -> tuple[int, float] | None:
        if not self.steps:
            self._configure()
        if self.index >= len(self.steps):
            return None
        users, now = self.steps[self.index], time.time()
        if self.phase == "spawn" and self.get_current_user_count() >= users:
            self.phase, self.phase_start = "settle", now
        elif self.phase == "settle" and now - self.phase_start >= self.settle:
            self.phase, self.phase_start, self.snapshot = "hold", now, self._stats()
        elif self.phase == "hold" and now - self.phase_start >= self.hold and self._enough(now):
            if not self._judge(now):
                return None
            self.index += 1
            self.phase, self.phase_start, self.spawn_start = "spawn", now, now
            if self.index >= len(self.steps):
                return None
            users = self.steps[self.index]
        return users, self.spawn_rate
