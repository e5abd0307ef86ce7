#!/usr/bin/env python3
"""Fragment reruns against full reruns, under load: ``make loadtest``.

For each work model (no delay: CPU-bound; demo delay on: the tutorial's slow query) at each
scale (26 products; 1,000 products) it runs the FragmentUser scenario and the FullRerunUser
scenario with identical users, spawn rate, duration and day streams, each against a fresh
server started with that model's environment, while sampling the server's CPU, memory and
live sessions. Then it writes Locust's CSVs and HTML per run, ``report.html`` (plotly),
``comparison.png`` (for the README), ``summary.md`` and ``results.json`` under ``--out``, and
exits 1 on any failed interaction or a fragment/full ratio above its threshold (2 on bad use).

Server CPU per interaction = server CPU seconds / interactions of the scenario, both counted
over the steady window: from ``--warmup`` seconds after the first scenario interaction (every
user has loaded its page by then) to the end of the run.

Targets (``--target``):
  local (default)  ``streamlit run`` on a free 127.0.0.1 port per run (psutil on its pid)
  stack            ``scripts/stack.sh up`` per run with the model's environment (compose project
                   ``--stack-project``, a free ``PROXY_PORT``), the app container's cgroup sampled
                   from the host, sessions read with ``docker exec``; ``scripts/stack.sh down`` after
  http://...       a server that is already running: one run per scenario, no restarts, so only
                   the model it was started with (say which with ``--products``/``--delay``);
                   ``--pid`` or ``--container`` for the CPU figures
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import itertools
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "loadtests"))

from local_server import free_port, healthy, running_server  # noqa: E402
from server_probe import (  # noqa: E402
    CgroupProbe,
    ProcessProbe,
    Reading,
    Sampler,
    docker_exec_sessions,
    http_sessions,
)
from streamlit_client import StreamlitSession  # noqa: E402

LOCUSTFILE = REPO / "loadtests" / "locustfile.py"
SCENARIOS = {"fragment": ("FragmentUser", "fragment_rerun"), "full": ("FullRerunUser", "full_rerun")}
DOCKER = os.environ.get("DOCKER", "/usr/bin/docker")


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
        # Cold: the cache warm-up's background CPU would land in the sampled run.
        return {
            "SALES_PRODUCT_COUNT": str(self.products),
            "SALES_DEMO_DELAY_SECONDS": str(self.delay),
            "SALES_WARMUP": "off",
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


@dataclass
class Comparison:
    model: WorkModel
    fragment: ScenarioResult
    full: ScenarioResult
    checks: list[dict] = field(default_factory=list)

    def ratio(self, metric: str) -> float | None:
        a, b = getattr(self.fragment, metric), getattr(self.full, metric)
        return None if a is None or not b else a / b


# -- targets -----------------------------------------------------------------------------------


@dataclass
class Target:
    url: str
    probe: ProcessProbe | CgroupProbe | None
    sessions: object | None


@contextlib.contextmanager
def local_target(model: WorkModel, options: list[str]) -> Iterator[Target]:
    with running_server(*options, env=model.env) as server:
        yield Target(server.base_url, ProcessProbe(server.pid), http_sessions(server.base_url))


_stack_built = False  # build the images for the first run only; SKIP_BUILD=1 after that


@contextlib.contextmanager
def stack_target(model: WorkModel, project: str) -> Iterator[Target]:
    """``scripts/stack.sh up`` with the model's SALES_* environment (one app replica), the app
    container's cgroup as the probe; ``scripts/stack.sh down`` afterwards."""
    global _stack_built
    env = {**os.environ, **model.env, "STACK_PROJECT": project, "APP_REPLICAS": "1"}
    env.setdefault("PROXY_PORT", str(free_port()))
    if _stack_built:
        env["SKIP_BUILD"] = "1"
    stack = str(REPO / "scripts" / "stack.sh")
    up = subprocess.run([stack, "up"], env=env, capture_output=True, text=True, check=False)
    try:
        if up.returncode != 0:
            raise RuntimeError(f"scripts/stack.sh up failed:\n{up.stdout}\n{up.stderr[-3000:]}")
        _stack_built = True
        urls = [word for word in up.stdout.split() if word.startswith("http")]
        url = urls[-1] if urls else f"http://127.0.0.1:{env['PROXY_PORT']}"
        container = app_container(project)
        yield Target(
            url.rstrip("/"),
            CgroupProbe(container_pid(container)),
            docker_exec_sessions(container, docker=DOCKER),
        )
    finally:
        subprocess.run([stack, "down"], env=env, capture_output=True, check=False)


def app_container(project: str) -> str:
    """The id of the project's app container (the one with /_stcore/health inside)."""
    ids = subprocess.run(
        [DOCKER, "ps", "-q", "--filter", f"label=com.docker.compose.project={project}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for cid in ids:
        service = subprocess.run(
            [DOCKER, "inspect", "-f", '{{index .Config.Labels "com.docker.compose.service"}}', cid],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        if service == "app" or service.startswith("app"):
            return cid
    raise RuntimeError(f"no app container in compose project {project}: {ids}")


def container_pid(container: str) -> int:
    out = subprocess.run(
        [DOCKER, "inspect", "-f", "{{.State.Pid}}", container], capture_output=True, text=True, check=True
    )
    return int(out.stdout.strip())


@contextlib.contextmanager
def url_target(url: str, pid: int | None, container: str | None) -> Iterator[Target]:
    if not healthy(url):
        raise RuntimeError(f"no healthy server at {url}")
    if container:
        yield Target(
            url, CgroupProbe(container_pid(container)), docker_exec_sessions(container, docker=DOCKER)
        )
    else:
        yield Target(url, ProcessProbe(pid) if pid else None, http_sessions(url))


# -- one Locust run ----------------------------------------------------------------------------


def warm_up(url: str, timeout: float = 180.0) -> None:
    """One session through every kind of run before the clock starts: a fresh server (or
    container) spends seconds importing pandas/plotly on its first script run, which would
    otherwise land in the first users' initial_load and eat the run's window."""
    with StreamlitSession(url, timeout=timeout, message_cache=False) as session:
        session.pick_date("2023-01-02")
        session.pick_date("2023-01-03", fragment=False)
        session.change_month("2023-02-01")


def run_locust(target: Target, scenario: str, args: argparse.Namespace, prefix: Path) -> Sampler | None:
    user_class, _ = SCENARIOS[scenario]
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--host",
        target.url,
        "--headless",
        "--users",
        str(args.users),
        "--spawn-rate",
        str(args.spawn_rate),
        "--run-time",
        f"{args.duration}s",
        "--stop-timeout",
        "10",
        "--csv",
        str(prefix),
        "--csv-full-history",
        "--html",
        f"{prefix}.html",
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--stream-seed",
        str(args.seed),
        "--interaction-timeout",
        str(args.timeout),
        "--times-csv",
        f"{prefix}_times.csv",
        *(["--message-cache"] if args.message_cache else []),
        user_class,
    ]
    sampler = Sampler(target.probe, target.sessions) if target.probe else None
    with contextlib.ExitStack() as stack:
        if sampler:
            stack.enter_context(sampler)
        result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    (prefix.parent / f"{prefix.name}.log").write_text(result.stdout + result.stderr)
    if not Path(f"{prefix}_stats.csv").exists():
        raise RuntimeError(f"locust wrote no stats (exit {result.returncode}):\n{result.stderr[-3000:]}")
    return sampler


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def number(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        return float("nan")


def exact_times(path: Path, name: str) -> list[float]:
    """The exact times (ms) the locustfile wrote for ``name`` (``--times-csv``); [] without the file."""
    if not path.exists():
        return []
    return [float(row["ms"]) for row in read_rows(path) if row["name"] == name]


def analyse(
    scenario: str, model: WorkModel, prefix: Path, sampler: Sampler | None, warmup: float
) -> ScenarioResult:
    _, name = SCENARIOS[scenario]
    stats = {row["Name"]: row for row in read_rows(Path(f"{prefix}_stats.csv"))}
    row = stats.get(name)
    if row is None:
        raise RuntimeError(f"{prefix}: no {name} interactions at all (see {prefix}.log)")
    history = [r for r in read_rows(Path(f"{prefix}_stats_history.csv")) if r["Name"] == name]
    points = [(int(r["Timestamp"]), int(r["Total Request Count"])) for r in history]
    started = next((t for t, count in points if count > 0), None)
    window_start = (started or 0) + warmup
    in_window = [(t, count) for t, count in points if t >= window_start]
    cpu_ms = None
    window_interactions, window_seconds = 0, 0.0
    if len(in_window) >= 2:
        (t0, c0), (t1, c1) = in_window[0], in_window[-1]
        window_interactions, window_seconds = c1 - c0, float(t1 - t0)
        if sampler and sampler.readings and window_interactions > 0:
            cpu_ms = (sampler.cpu_at(t1) - sampler.cpu_at(t0)) * 1000 / window_interactions
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


def thresholds_for(model: WorkModel, args: argparse.Namespace) -> dict[str, float]:
    """metric -> highest allowed fragment/full ratio for this model."""
    if model.delay:
        return {"median_ms": args.max_latency_ratio_delay}
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
    for metric, limit in thresholds_for(comparison.model, args).items():
        ratio = comparison.ratio(metric)
        comparison.checks.append(
            {
                "check": f"fragment/full {metric}",
                "value": ratio,
                "limit": limit,
                "ok": ratio is not None and ratio <= limit,
            }
        )


# -- main --------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--target", default="local", help="local (default), stack, or a URL")
    parser.add_argument("--pid", type=int, help="with a URL target: the server's pid (CPU figures)")
    parser.add_argument("--container", help="with a URL target: the app container (CPU via cgroup)")
    parser.add_argument("--stack-project", default="load-compare", help="compose project for --target stack")
    parser.add_argument(
        "--products", type=int, nargs="+", default=[26, 1000], help="scales (default 26 1000)"
    )
    parser.add_argument("--delay", type=float, default=1.0, help="the demo delay of the delay model (s)")
    parser.add_argument("--models", default="nodelay,delay", help="nodelay, delay or both (comma-separated)")
    parser.add_argument(
        "--delay-products", type=int, default=26, help="scale of the delay model (default 26)"
    )
    parser.add_argument("--users", type=int, default=8, help="simulated users per scenario (default 8)")
    parser.add_argument("--spawn-rate", type=float, default=8.0, help="users started per second")
    parser.add_argument("--duration", type=int, default=40, help="seconds per scenario run (default 40)")
    parser.add_argument(
        "--warmup", type=float, default=5.0, help="seconds after the first interaction not counted"
    )
    parser.add_argument("--seed", type=int, default=2023, help="seed of the users' day streams")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds before an interaction fails")
    parser.add_argument(
        "--message-cache", action="store_true", help="clients keep the browser's message cache"
    )
    parser.add_argument(
        "--server-option",
        action="append",
        default=[],
        metavar="OPT=VALUE",
        help="extra streamlit option for local servers, e.g. runner.postScriptGC=true",
    )
    parser.add_argument("--out", type=Path, default=REPO / "build" / "loadtest", help="output directory")
    parser.add_argument(
        "--large", type=int, default=1000, help="scales from this many products count as large"
    )
    parser.add_argument("--max-cpu-ratio-small", type=float, default=0.7)
    parser.add_argument("--max-bytes-ratio-small", type=float, default=0.45)
    parser.add_argument("--max-cpu-ratio-large", type=float, default=0.3)
    parser.add_argument("--max-bytes-ratio-large", type=float, default=0.1)
    parser.add_argument("--max-latency-ratio-delay", type=float, default=0.55)
    parser.add_argument("--min-interactions", type=int, default=20, help="fewest interactions in a window")
    parser.add_argument("--no-report", action="store_true", help="skip report.html and the PNG chart")
    args = parser.parse_args(argv)
    if args.users < 1 or args.duration < 5 or args.warmup >= args.duration:
        parser.error("need --users >= 1, --duration >= 5 and --warmup < --duration")
    models = {m.strip() for m in args.models.split(",")}
    if not models or not models <= {"nodelay", "delay"}:
        parser.error("--models takes nodelay, delay or nodelay,delay")
    args.model_list = [WorkModel(p, 0.0) for p in args.products] * ("nodelay" in models)
    if "delay" in models:
        args.model_list.append(WorkModel(args.delay_products, args.delay))
    if args.target not in ("local", "stack") and not args.target.startswith("http"):
        parser.error("--target is local, stack or an http(s) URL")
    if args.target.startswith("http") and len(args.model_list) != 1:
        parser.error("a URL target serves one work model: pass one --products and --models nodelay|delay")
    return args


def target_for(model: WorkModel, args: argparse.Namespace) -> contextlib.AbstractContextManager[Target]:
    if args.target == "local":
        options = [
            part for opt in args.server_option for part in (f"--{opt.split('=', 1)[0]}", opt.split("=", 1)[1])
        ]
        return local_target(model, options)
    if args.target == "stack":
        return stack_target(model, args.stack_project)
    return url_target(args.target.rstrip("/"), args.pid, args.container)


def run_all(args: argparse.Namespace) -> list[Comparison]:
    args.out.mkdir(parents=True, exist_ok=True)
    comparisons = []
    for model in args.model_list:
        results = {}
        for scenario in ("fragment", "full"):
            prefix = args.out / f"{model.name}-{scenario}"
            print(f"[loadtest] {model.name} {scenario}: {args.users} users, {args.duration}s", flush=True)
            with target_for(model, args) as target:
                warm_up(target.url)
                sampler = run_locust(target, scenario, args, prefix)
            results[scenario] = analyse(scenario, model, prefix, sampler, args.warmup)
            time.sleep(0.5)
        comparison = Comparison(model, results["fragment"], results["full"])
        check(comparison, args)
        comparisons.append(comparison)
    return comparisons


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    comparisons = run_all(args)
    from report import write_outputs  # plotly/matplotlib only when there is something to draw

    summary = write_outputs(comparisons, args)
    (args.out / "results.json").write_text(
        json.dumps(
            [
                {
                    "model": asdict(c.model),
                    "fragment": asdict(c.fragment),
                    "full": asdict(c.full),
                    "checks": c.checks,
                }
                for c in comparisons
            ],
            indent=1,
            default=str,
        )
    )
    print(summary)
    failed = [c for comparison in comparisons for c in comparison.checks if not c["ok"]]
    for item in failed:
        print(f"[loadtest] FAILED {item['check']}: {item['value']} (limit {item['limit']})", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
