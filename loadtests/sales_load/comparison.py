"""Fragment reruns against full reruns under load: the figures of one comparison and its checks.

A work model (products, demo delay) is run twice with identical users, spawn rate, duration and
day streams: FragmentUser (same-month day picks, the fragment reruns alone) and FullRerunUser
(the very same picks as whole-script reruns). ``analyse`` turns one Locust run plus the server
samples into a ScenarioResult; ``check`` judges a Comparison against the thresholds.

Server CPU per interaction = server CPU seconds / interactions of the scenario, both counted
over the steady window: from ``warmup`` seconds after the first scenario interaction (every
user has loaded its page by then) to the end of the run.

``loadtest.py`` is the command (``make loadtest``) that runs the comparisons and writes the report
(``comparison_report.py``).
"""

from __future__ import annotations

import argparse
import itertools
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from streamlit_load.harness import MACHINE_PACED
from streamlit_load.locust_runs import exact_times, number, read_rows
from streamlit_load.server_probe import Reading, Sampler

SCENARIOS = {"fragment": ("FragmentUser", "fragment_rerun"), "full": ("FullRerunUser", "full_rerun")}


@dataclass(frozen=True)
class WorkModel:
    """One server configuration the two scenarios are compared under."""

    products: int
    delay: float

    @property
    def name(self) -> str:
        return f"{self.products}p-{'delay' + format(self.delay, 'g') + 's' if self.delay else 'nodelay'}"

    @property
    def env(self) -> dict[str, str]:
        # Cold: the cache warm-up's background CPU would land in the sampled run. The users pick
        # back to back: no per-session rerun limit (harness.MACHINE_PACED).
        return {
            **MACHINE_PACED,
            "SALES_PRODUCT_COUNT": str(self.products),
            "SALES_DEMO_DELAY_SECONDS": str(self.delay),
            "SERVE_WARMUP": "off",
        }


@dataclass
class ScenarioResult:
    scenario: str
    model: str
    requests: int
    failures: int
    failures_all: int
    median_ms: float
    percentiles_ms: dict[str, float]
    bytes_per_interaction: float
    rps: float
    window_interactions: int
    window_seconds: float
    cpu_ms_per_interaction: float | None
    rss_max_mb: float | None
    sessions_max: int | None
    throughput: list[tuple[float, float]] = field(default_factory=list)  # (seconds into run, req/s)
    samples: list[dict] = field(default_factory=list)
    window: tuple[float, float] | None = None  # the steady window, Unix seconds
    prometheus: dict | None = None  # what the stack's Prometheus saw (streamlit_load.prometheus)
    # Cores the load generator (every Locust process) used in the steady window: on a shared host
    # it competes with the server, so the report prints it beside the server's figures.
    generator_cores: float | None = None


@dataclass
class Comparison:
    """Both scenarios of one model, with clients keeping the browser's message cache (the
    browser-like figures the gate judges) or not (``message_cache=False``: what each rerun
    serialises, reported beside them)."""

    model: WorkModel
    fragment: ScenarioResult
    full: ScenarioResult
    checks: list[dict] = field(default_factory=list)
    mixed: dict | None = None  # fragment and full users at once, as the stack's Prometheus saw it
    message_cache: bool = True

    @property
    def label(self) -> str:
        return self.model.name if self.message_cache else f"{self.model.name} cache-off"

    def ratio(self, metric: str) -> float | None:
        a, b = getattr(self.fragment, metric), getattr(self.full, metric)
        return None if a is None or not b else a / b


# -- one run ----------------------------------------------------------------------------------

Point = tuple[int, int]  # (Unix second, interactions so far)


def history_points(prefix: Path, name: str) -> list[Point]:
    """Locust's per-second history of one request name (``Aggregated``: every interaction)."""
    history = [r for r in read_rows(Path(f"{prefix}_stats_history.csv")) if r["Name"] == name]
    return [(int(r["Timestamp"]), int(r["Total Request Count"])) for r in history]


def steady_window(points: list[Point], warmup: float) -> tuple[Point, Point] | None:
    """The first and last history points from ``warmup`` seconds after the first interaction."""
    started = next((t for t, count in points if count > 0), None)
    in_window = [(t, count) for t, count in points if t >= (started or 0) + warmup]
    return (in_window[0], in_window[-1]) if len(in_window) >= 2 else None


def server_cpu_ms(sampler: Sampler | None, t0: float, t1: float, interactions: int) -> float | None:
    """The sampled server CPU between two moments, per interaction (ms)."""
    if not sampler or not sampler.readings or interactions <= 0:
        return None
    return (sampler.cpu_at(t1) - sampler.cpu_at(t0)) * 1000 / interactions


def analyse(
    scenario: str, model: WorkModel, prefix: Path, sampler: Sampler | None, warmup: float
) -> ScenarioResult:
    _, name = SCENARIOS[scenario]
    stats = {row["Name"]: row for row in read_rows(Path(f"{prefix}_stats.csv"))}
    row = stats.get(name)
    if row is None:
        raise RuntimeError(f"{prefix}: no {name} interactions at all (see {prefix}.log)")
    points = history_points(prefix, name)
    cpu_ms = None
    window_interactions, window_seconds = 0, 0.0
    window = None
    steady = steady_window(points, warmup)
    if steady:
        (t0, c0), (t1, c1) = steady
        window_interactions, window_seconds = c1 - c0, float(t1 - t0)
        window = (float(t0), float(t1))
        cpu_ms = server_cpu_ms(sampler, t0, t1, window_interactions)
    run_start = points[0][0] if points else 0
    throughput = []
    for (ta, ca), (tb, cb) in itertools.pairwise(points):
        if tb > ta:
            throughput.append((tb - run_start, (cb - ca) / (tb - ta)))
    readings: list[Reading] = sampler.readings if sampler else []
    sessions = [r.sessions for r in readings if r.sessions is not None]
    percentiles = {p: number(row[p]) for p in ("50%", "90%", "95%", "99%")}
    median_ms = number(row["Median Response Time"])
    exact = exact_times(Path(f"{prefix}_times.csv"), name)
    if len(exact) >= 2:  # Locust rounds times over 1 s to two digits: 1,051 ms reads 1,100
        cuts = statistics.quantiles(exact, n=100, method="inclusive")
        percentiles = {"50%": cuts[49], "90%": cuts[89], "95%": cuts[94], "99%": cuts[98]}
        median_ms = statistics.median(exact)
    return ScenarioResult(
        scenario=scenario,
        model=model.name,
        requests=int(row["Request Count"]),
        failures=int(row["Failure Count"]),
        failures_all=int(stats["Aggregated"]["Failure Count"]) if "Aggregated" in stats else 0,
        median_ms=median_ms,
        percentiles_ms=percentiles,
        bytes_per_interaction=number(row["Average Content Size"]),
        rps=number(row["Requests/s"]),
        window_interactions=window_interactions,
        window_seconds=window_seconds,
        cpu_ms_per_interaction=cpu_ms,
        rss_max_mb=max(r.rss_bytes for r in readings) / 2**20 if readings else None,
        sessions_max=max(sessions) if sessions else None,
        throughput=throughput,
        window=window,
        samples=[
            {
                "t": r.time - readings[0].time,
                "cpu": r.cpu_seconds,
                "rss_mb": r.rss_bytes / 2**20,
                "sessions": r.sessions,
            }
            for r in readings
        ],
    )


# -- thresholds --------------------------------------------------------------------------------


def thresholds_for(comparison: Comparison, args: argparse.Namespace) -> dict[str, float]:
    """metric -> highest allowed fragment/full ratio. Only the browser-like figures (message cache
    on) of the models without delay are judged: with the demo delay the latency ratio is the
    arithmetic of one sleep against two, an illustration of the tutorial, not a fragment's cost."""
    model = comparison.model
    if model.delay or not comparison.message_cache:
        return {}
    if model.products >= args.large:
        return {
            "cpu_ms_per_interaction": args.max_cpu_ratio_large,
            "bytes_per_interaction": args.max_bytes_ratio_large,
        }
    return {
        "cpu_ms_per_interaction": args.max_cpu_ratio_small,
        "bytes_per_interaction": args.max_bytes_ratio_small,
    }


def check(comparison: Comparison, args: argparse.Namespace) -> None:
    for scenario in (comparison.fragment, comparison.full):
        comparison.checks.append(
            {
                "check": f"{scenario.scenario}: failed interactions",
                "value": scenario.failures_all,
                "limit": 0,
                "ok": scenario.failures_all == 0,
            }
        )
        comparison.checks.append(
            {
                "check": f"{scenario.scenario}: interactions in the window",
                "value": scenario.window_interactions,
                "limit": args.min_interactions,
                "ok": scenario.window_interactions >= args.min_interactions,
            }
        )
    for metric, limit in thresholds_for(comparison, args).items():
        ratio = comparison.ratio(metric)
        comparison.checks.append(
            {
                "check": f"fragment/full {metric}",
                "value": ratio,
                "limit": limit,
                "ok": ratio is not None and ratio <= limit,
            }
        )
