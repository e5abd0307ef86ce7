"""One headless Locust run of the project's locustfile, and reading what it wrote.

``run_locust(url, LocustRun(...), prefix)`` runs ``python -m locust`` against ``url`` with the
users and options given, while an optional Sampler watches the server, and leaves Locust's CSVs,
HTML report and log at ``prefix``; ``read_rows`` / ``exact_times`` read them back.
"""

from __future__ import annotations

import contextlib
import csv
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .harness import REPO
from .server_probe import Reading, Sampler, TreeProbe, cpu_at

LOCUSTFILE = REPO / "loadtests" / "locustfile.py"


@dataclass
class LocustRun:
    """What one Locust run does: which user classes, how many, for how long, with which options."""

    user_classes: list[str]
    users: int
    spawn_rate: float
    seconds: int
    seed: int = 2023
    timeout: float = 30.0
    message_cache: bool = True  # browser-like, as users are
    extra: list[str] = field(default_factory=list)  # further locust / locustfile options

    def command(self, url: str, prefix: Path) -> list[str]:
        return [
            sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--host", url, "--headless",
            "--users", str(self.users), "--spawn-rate", str(self.spawn_rate),
            "--run-time", f"{self.seconds}s", "--stop-timeout", "10",
            "--csv", str(prefix), "--csv-full-history", "--html", f"{prefix}.html",
            "--only-summary", "--loglevel", "WARNING",
            "--stream-seed", str(self.seed), "--interaction-timeout", str(self.timeout),
            "--times-csv", f"{prefix}_times.csv",
            *([] if self.message_cache else ["--no-message-cache"]),
            *self.extra, *self.user_classes,
        ]  # fmt: skip


@dataclass
class LocustOutcome:
    """Locust's exit code and its own CPU over time (every process of it: ``--processes`` forks)."""

    returncode: int
    generator: list[Reading]

    def cpu_share(self, start: float, end: float) -> float | None:
        """Cores the load generator used between two moments (wall-clock seconds)."""
        if len(self.generator) < 2 or end <= start:
            return None
        return (cpu_at(self.generator, end) - cpu_at(self.generator, start)) / (end - start)


def run_locust(url: str, run: LocustRun, prefix: Path, sampler: Sampler | None = None) -> LocustOutcome:
    """Run Locust (``sampler`` sampling the server meanwhile, and Locust's own CPU sampled every
    second); its output goes to ``<prefix>.log``. Raises RuntimeError when it wrote no statistics."""
    prefix.parent.mkdir(parents=True, exist_ok=True)
    log = Path(f"{prefix}.log")
    with contextlib.ExitStack() as stack:
        if sampler:
            stack.enter_context(sampler)
        output = stack.enter_context(log.open("w"))
        process = subprocess.Popen(
            run.command(url, prefix), cwd=REPO, stdout=output, stderr=subprocess.STDOUT
        )
        generator = Sampler(TreeProbe(process.pid), interval=1.0)
        with generator:
            returncode = process.wait()
    if not Path(f"{prefix}_stats.csv").exists():
        raise RuntimeError(f"locust wrote no stats (exit {returncode}):\n{log.read_text()[-3000:]}")
    return LocustOutcome(returncode, generator.readings)


def locust_requests(prefix: Path) -> int:
    """Every interaction the run's users completed: the exact-times file's rows (written when
    Locust quits, so it holds the interactions that finished during ``--stop-timeout``, which the
    stats CSV, written when the run time ends, misses) plus the failed ones of the stats CSV."""
    rows = {row["Name"]: row for row in read_rows(Path(f"{prefix}_stats.csv"))}
    failed = int(rows["Aggregated"]["Failure Count"]) if "Aggregated" in rows else 0
    times = Path(f"{prefix}_times.csv")
    if times.exists():
        return len(read_rows(times)) + failed
    return int(rows["Aggregated"]["Request Count"]) if "Aggregated" in rows else 0


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def number(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        return float("nan")


@dataclass(frozen=True)
class Timed:
    """One interaction as the locustfile's ``--times-csv`` recorded it."""

    name: str
    ms: float
    end: float  # epoch seconds
    failed: bool
    resumed: bool = False  # a pick in flight when the socket closed, answered after the reconnect


def timed_interactions(path: Path) -> list[Timed]:
    """Every interaction in ``path`` and in the per-worker files beside it (``<path>.<pid>``)."""
    files = [path, *sorted(path.parent.glob(f"{path.name}.*"))] if path.parent.exists() else []
    return [
        Timed(
            row["name"],
            float(row["ms"]),
            float(row.get("end") or 0),
            row.get("failed") == "1",
            row.get("resumed") == "1",
        )
        for file in files
        if file.exists()
        for row in read_rows(file)
    ]


def exact_times(path: Path, name: str) -> list[float]:
    """The exact times (ms) of the successful ``name`` interactions (``--times-csv``); [] without it."""
    return [t.ms for t in timed_interactions(path) if t.name == name and not t.failed]
