"""Replicas replaced under load, as the users see it: ``RealisticMix`` users (Locust, browser-like:
message cache on, coming back as the frontend does when their socket closes) run against a stack
while its app replicas are replaced one at a time; what they saw is read back per time window.

    with UsersUnderLoad(url, users=30, out=build / "rolling") as load:
        load.wait_ramped()
        quiet = load.window(30)               # (start, end) of a quiet period
        ... replace the replicas ...          # a Swarm rolling update, docker stop/start
    print(load.summary(*quiet), load.summary(update_start, update_end))

Used by scripts/bench/bench_rolling_update.py (figures) and tests/container/test_swarm.py (a bounded run
that must lose nothing). Each replaced replica's own account is in its log: ``drain_report``.
"""

from __future__ import annotations

import contextlib
import json
import re
import signal
import statistics
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Self

from streamlit_load.harness import REPO
from streamlit_load.locust_runs import LocustRun, Timed, timed_interactions
from streamlit_load.server_probe import Sampler, TreeProbe, cpu_at

PICKS = ("fragment_rerun", "month_change")  # what a user does; `reconnect` is the page coming back
RECONNECT = "reconnect"
MEDIA_RUNS = ("note", "uploaded")  # MediaUser's (media.py) interactions that are one script run each
STATE = "state"  # a check that the user's session state is its own (MediaUser): not an interaction
MOVED = re.compile(r"drain: moved (\d+) session\(s\) in ([\d.]+) s; (\d+) still open")
STOPPED = re.compile(r"drain: server stopped ([\d.]+) s after SIGTERM")


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (``share`` 0.95: p95) of ``values``; nan when there are none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


@dataclass
class Summary:
    """What the users saw in one time window."""

    seconds: float
    interactions: int
    failed: int
    reconnects: int
    resumed: int  # picks in flight when the socket closed, answered after the reconnect
    p50_ms: float
    p95_ms: float
    failures: list[str] = field(default_factory=list)
    state_checks: int = 0  # pages that showed the user's own session state, or not (state_lost)
    state_lost: int = 0
    failed_by_name: dict[str, int] = field(default_factory=dict)


def summarize(events: list[Timed], start: float, end: float, picks: tuple[str, ...] = PICKS) -> Summary:
    """Interactions and reconnects that ended in ``[start, end)``; percentiles over the successful
    ``picks`` (the interactions that are one script run each); ``state`` checks apart."""
    inside = [event for event in events if start <= event.end < end]
    done = [event for event in inside if event.name != STATE]
    checks = [event for event in inside if event.name == STATE]
    times = [event.ms for event in done if event.name in picks and not event.failed]
    failed = [event for event in done if event.failed]
    return Summary(
        seconds=end - start,
        interactions=sum(event.name != RECONNECT for event in done),
        failed=len(failed),
        reconnects=sum(event.name == RECONNECT for event in done),
        resumed=sum(event.resumed for event in done),
        p50_ms=statistics.median(times) if times else float("nan"),
        p95_ms=percentile(times, 0.95),
        failures=[f"{event.name} at {event.end:.1f}" for event in failed],
        state_checks=len(checks),
        state_lost=sum(event.failed for event in checks),
        failed_by_name=dict(Counter(event.name for event in failed)),
    )


@dataclass(frozen=True)
class DrainReport:
    """A replaced replica's own account (its ``drain:`` log lines); None where a line is missing."""

    moved: int | None
    drain_seconds: float | None
    still_open: int | None
    stopped_after: float | None


def drain_report(log: str) -> DrainReport:
    moved = MOVED.search(log)
    stopped = STOPPED.search(log)
    return DrainReport(
        moved=int(moved.group(1)) if moved else None,
        drain_seconds=float(moved.group(2)) if moved else None,
        still_open=int(moved.group(3)) if moved else None,
        stopped_after=float(stopped.group(1)) if stopped else None,
    )


class UsersUnderLoad:
    """``users`` users of ``user_class`` (RealisticMix; MediaUser for the media page: then
    ``picks`` are its runs) thinking ``think`` seconds between interactions on ``url`` in a Locust
    process of their own, until the ``with`` block ends; then their events are read."""

    def __init__(
        self, url: str, *, users: int, out: Path, think: tuple[float, float] = (2.0, 8.0), bound: int = 900,
        user_class: str = "RealisticMix", picks: tuple[str, ...] = PICKS,
    ) -> None:  # fmt: skip
        self.url, self.users, self.out, self.picks = url, users, out, picks
        self.times_path = Path(f"{out}_times.csv")  # LocustRun's --times-csv
        self.run = LocustRun(
            [user_class], users, spawn_rate=max(1.0, users / 10), seconds=bound, message_cache=True,
            extra=["--think-min", str(think[0]), "--think-max", str(think[1])],
        )  # fmt: skip
        self.process: subprocess.Popen | None = None
        self.generator: Sampler | None = None
        self.started = 0.0
        self.events: list[Timed] = []

    def __enter__(self) -> Self:
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.times_path.unlink(missing_ok=True)
        self._log = Path(f"{self.out}.log").open("w")  # closed in __exit__, after the process
        command = self.run.command(self.url, self.out)
        self.process = subprocess.Popen(command, cwd=REPO, stdout=self._log, stderr=self._log)
        self.generator = Sampler(TreeProbe(self.process.pid), interval=1.0).__enter__()
        self.started = time.time()
        return self

    def wait_ramped(self, settle: float = 5.0) -> None:
        """Until every user has started (the spawn rate's time), and ``settle`` seconds more."""
        self.sleep(self.users / self.run.spawn_rate + settle)

    def window(self, seconds: float) -> tuple[float, float]:
        """Let the users run ``seconds``; the window's (start, end) in Unix time."""
        start = time.time()
        self.sleep(seconds)
        return start, time.time()

    def sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"Locust ended early:\n{Path(f'{self.out}.log').read_text()[-3000:]}")
            time.sleep(min(left, 0.5))

    def summary(self, start: float, end: float) -> Summary:
        return summarize(self.events, start, end, self.picks)

    def generator_cores(self, start: float, end: float) -> float | None:
        """Cores the load generator (Locust) used in ``[start, end)``; None without two readings."""
        readings = self.generator.readings if self.generator else []
        if len(readings) < 2 or end <= start:
            return None
        return (cpu_at(readings, end) - cpu_at(readings, start)) / (end - start)

    def __exit__(self, *_exc: object) -> None:
        if self.generator is not None:
            self.generator.__exit__()
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)  # Locust stops its users and writes its files
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        self.events = timed_interactions(self.times_path)


Docker = Callable[..., subprocess.CompletedProcess]  # ``docker ARGS…`` on some engine (SwarmEngine.run)


def service_containers(docker: Docker, service: str) -> list[str]:
    """Names of a Swarm service's running containers."""
    out = docker("ps", "--filter", f"label=com.docker.swarm.service.name={service}", "--format", "{{.Names}}")
    return sorted(out.stdout.split())


def rolling_update(
    docker: Docker,
    service: str,
    *options: str,
    during: Callable[[], None] | None = None,
    timeout: float = 600,
) -> tuple[float, float]:
    """``docker service update --force [options]``: every task of ``service`` replaced by a new one,
    one at a time as its ``update_config`` says; waits until Swarm says it completed, calling
    ``during`` (else sleeping a second) between its looks. (start, end), Unix time."""
    start = time.time()
    docker("service", "update", "--detach", "--force", *options, service)
    deadline = time.monotonic() + timeout
    while True:
        status = json.loads(docker("service", "inspect", service).stdout)[0].get("UpdateStatus") or {}
        state = status.get("State", "")
        if state == "completed":
            return start, time.time()
        if state in ("paused", "rollback_started", "rollback_completed"):
            raise RuntimeError(f"the rolling update of {service} ended {state}: {status.get('Message')}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the rolling update of {service} not done in {timeout:.0f} s ({state})")
        if during is None:
            time.sleep(1)
        else:
            during()


def scale_service(docker: Docker, service: str, replicas: int, timeout: float = 300) -> tuple[float, float]:
    """``docker service scale service=replicas``: waits until exactly ``replicas`` containers run
    and Swarm counts them all running (healthy, for a service with a health check). (start, end)."""
    start = time.time()
    docker("service", "scale", "--detach", f"{service}={replicas}")
    deadline = time.monotonic() + timeout
    while True:
        listed = docker("service", "ls", "--filter", f"name={service}", "--format", "{{.Name}} {{.Replicas}}")
        counts = dict(line.split(" ", 1) for line in listed.stdout.splitlines() if line)
        if counts.get(service, "").split(" ")[0] == f"{replicas}/{replicas}" and (
            len(service_containers(docker, service)) == replicas
        ):
            return start, time.time()
        if time.monotonic() > deadline:
            raise RuntimeError(f"{service} not at {replicas} replicas in {timeout:.0f} s: {counts}")
        time.sleep(1)


def replaced_replica(
    docker: Docker, container: str, logs: str | None = None
) -> tuple[DrainReport, float | None]:
    """A replaced replica's drain report, and its SIGTERM-to-exit seconds (``stop_seconds``);
    ``logs``: its ``docker logs -t`` as followed while it ran (``followed_logs``: Swarm removes
    a scaled-in task's container as it stops). Missing parts are None."""
    if logs is None:
        found = docker("logs", "-t", container, check=False)
        logs = found.stdout + found.stderr if found.returncode == 0 else ""
    return drain_report(logs), stop_seconds(docker, container, logs)


@contextmanager
def followed_logs(
    docker: list[str], env: dict[str, str], containers: list[str], out: Path
) -> Iterator[dict[str, Path]]:
    """``docker logs -f -t`` of each container into ``out/<name>.log`` while the block runs
    (``docker``: the client's command line, ``env`` its environment)."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {name: out / f"{name}.log" for name in containers}
    with contextlib.ExitStack() as stack:
        followers = []
        for name, path in paths.items():
            handle = stack.enter_context(path.open("w"))
            followers.append(subprocess.Popen(
                [*docker, "logs", "-f", "-t", name], env=env, stdout=handle, stderr=subprocess.STDOUT
            ))  # fmt: skip
        try:
            yield paths
        finally:
            for follower in followers:
                follower.terminate()
                follower.wait(10)


def stop_seconds(docker: Docker, container: str, stamped: str) -> float | None:
    """SIGTERM (the drain's first line in ``docker logs -t``, ``stamped``) to the container's exit."""
    started = next((line.split()[0] for line in stamped.splitlines() if "drain: SIGTERM" in line), None)
    inspected = docker("inspect", container, check=False)
    if started is None or inspected.returncode != 0:
        return None  # no drain seen, or the container is gone (a scaled-in task's)
    finished = json.loads(inspected.stdout)[0]["State"]["FinishedAt"]
    if finished.startswith("0001"):
        return None
    return (_instant(finished) - _instant(started)).total_seconds()


def _instant(stamp: str) -> datetime:
    """Docker's RFC 3339 time with nanoseconds, to the microsecond."""
    head, _, rest = stamp.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{head}.{(rest + '000000')[:6]}+00:00")
