"""``make capacity``: how many people one host serves, with fragments and without.

For each configuration (fragments on and off, 1 and 2 app replicas, 26 and 1,000 products) the
compose stack on this host is (re)started with those settings and the proxy in load-balancer mode
(PROXY_TRUSTED_HOPS: the hop Docker's port publishing puts in front of it; every simulated user
sends an X-Forwarded-For address of its own, so the per-client limits apply to each user as they
would to each browser, not to all of them at once). Once the app's cache warm-up has finished,
RealisticMix users (think time 10-30 s, eight day picks to one month change, the browser's message
cache on) are stepped up by the CapacityLadder shape until a step's p95 exceeds the budget
(250 ms) or any interaction fails. The capacity of the configuration is the last step that held.

Per step the run records, from the exact interaction times and the samplers: interactions,
failures, p50/p95 of every interaction that ended in the hold, the app replicas' CPU (cgroups,
summed) and memory, the proxy's CPU, the load generator's own CPU (every process of it) and the
host's busy CPU; from these the host CPU per reader and the readers the host's cores would hold
at 100 % (capacity_cpu.py). Where a step broke it says what had saturated first: the app (its CPU
limit), the host's cores (app, proxy and load generator share them), the load generator, or
nothing at its limit (latency from queueing alone). Memory per live session is the slope of the
app's RSS over the live sessions of the steps; the memory limit a replica needs at the measured
capacity follows from it with the stated headroom.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import statistics
import subprocess
import time
import urllib.request
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sales_load.page import DashboardSession, PageMode
from streamlit_load.client.tls import client_context
from streamlit_load.harness import REPO
from streamlit_load.locust_runs import LocustOutcome, LocustRun, Timed, run_locust, timed_interactions
from streamlit_load.server_probe import HostProbe, Reading, Sampler, cpu_at
from streamlit_load.targets import DOCKER, ComposeStack, docker

from .picks import expect_fragment, expect_full

CAPACITY_LOCUSTFILE = REPO / "loadtests" / "capacity_locustfile.py"
P95_BUDGET_MS = 250.0
THINK = (10.0, 30.0)
# From 650 up each step is less than 15 % above the one before, so a verdict there moves by less
# than that; 650, 900, 1,250, 1,750, 2,500, 3,500 and 5,000 are the earlier runs' steps. Below 650
# the steps stay 44-100 % apart: every configuration climbs them, so a step there costs ~30 s in
# each (15 % steps from 200 to 650 would add ~25 minutes to the eight); the 1,000-product
# configurations' verdicts (200-450 so far) still move by 44-50 %. --ladder gives a finer ladder.
LADDER = (
    10, 20, 40, 75, 125, 200, 300, 450, 650, 740, 825, 900, 1025, 1150, 1250, 1425, 1600, 1750,
    2000, 2250, 2500, 2800, 3150, 3500, 4000, 4500, 5000,
)  # fmt: skip
QUICK_LADDER = (10, 25, 50, 100)
MEMORY_HEADROOM = 1.5  # a replica's memory limit: 1.5x its RSS at the measured capacity
SATURATED = 0.9  # a resource at 90 % of its limit counts as saturated


def parse_ladder(text: str) -> list[int]:
    """``"10,25,50"`` -> [10, 25, 50]; strictly increasing positive counts, else ValueError."""
    try:
        steps = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        steps = []
    if not steps or steps[0] < 1 or any(b <= a for a, b in itertools.pairwise(steps)):
        raise ValueError(f"--ladder must be increasing positive user counts, got {text!r}")
    return steps


@dataclass(frozen=True)
class Config:
    """One stack configuration the capacity is measured for: the example's (fragments on or off,
    its products), or, with ``app`` (its name), any app's (APP_DIR; its image built by the stack),
    driven by AnyAppUser with the same think time instead of RealisticMix."""

    fragments: bool
    replicas: int
    products: int
    app: str = ""

    @property
    def name(self) -> str:
        if self.app:
            return f"app-{self.replicas}r"
        return f"{'on' if self.fragments else 'off'}-{self.replicas}r-{self.products}p"

    @property
    def label(self) -> str:
        replicas = f"{self.replicas} replica{'s' if self.replicas > 1 else ''}"
        if self.app:
            return f"{self.app}, {replicas}"
        return f"fragments {'on' if self.fragments else 'off'}, {replicas}, {self.products:,} products"

    @property
    def settings(self) -> dict[str, str]:
        if self.app:
            return {"APP_REPLICAS": str(self.replicas)}
        return {
            "SALES_FRAGMENT": "on" if self.fragments else "off",
            "SALES_PRODUCT_COUNT": str(self.products),
            "APP_REPLICAS": str(self.replicas),
        }

    def users(self) -> tuple[str, list[str]]:
        """The Locust user class and its options: AnyAppUser thinking THINK's mean for any app;
        RealisticMix in the page's mode for the example."""
        if self.app:
            return "AnyAppUser", ["--app-think", f"{sum(THINK) / 2:g}"]
        return "RealisticMix", ["--page-mode", self.mode.name]

    @property
    def mode(self) -> PageMode:
        return PageMode.named("fragment" if self.fragments else "plain")


ALL_CONFIGS = tuple(Config(f, r, p) for p in (26, 1000) for r in (1, 2) for f in (True, False))
QUICK_CONFIG = Config(True, 1, 26)


@dataclass
class Step:
    """One held step of the ladder, its figures from the exact times and the samplers."""

    users: int
    start: float
    end: float
    interactions: int
    failures: int
    p50_ms: float | None
    p95_ms: float | None
    app_cores: float | None
    proxy_cores: float | None
    generator_cores: float | None
    host_cores: float | None
    sessions: int | None
    app_rss_mb: float | None
    ok: bool


@dataclass
class MemoryFit:
    """App RSS against live sessions over the steps: ``base_mb + kb_per_session * sessions``."""

    base_mb: float
    kb_per_session: float
    points: int


@dataclass
class ConfigResult:
    config: Config
    steps: list[Step]
    capacity: int  # users of the last step that held; 0 if even the first broke
    broke: Step | None  # the first step over budget (None: the ladder's top held)
    saturated: str
    memory: MemoryFit | None
    generator_processes: int
    seconds: float
    distinct_clients: int = 0  # client addresses the proxy logged for WebSockets (one per user in LB mode)
    host_cpus: int = 0  # the host's cores (os.cpu_count()): the CPU limit (capacity_cpu.py)
    errors: list[str] = field(default_factory=list)

    @property
    def at_capacity(self) -> Step | None:
        held = [s for s in self.steps if s.ok]
        return held[-1] if held else None

    def memory_limit_mb(self, headroom: float = MEMORY_HEADROOM) -> float | None:
        """A replica's memory limit at the measured capacity: ``headroom`` times the RSS the
        fit predicts for its share of the sessions, rounded up to 64 MB."""
        if self.memory is None or not self.capacity:
            return None
        per_replica = (
            self.memory.base_mb / self.config.replicas
            + self.memory.kb_per_session * self.capacity / self.config.replicas / 1024
        )
        return math.ceil(per_replica * headroom / 64) * 64


# -- the stack -----------------------------------------------------------------------------------


def peer_address(stack: ComposeStack) -> str:
    """The address nginx sees for a client on this host (Docker's port publishing), read from the
    proxy's access log for a request of our own, as tests/container/test_lb_mode.py does."""
    path = f"/_stcore/health?capacity-probe={uuid.uuid4().hex}"
    with urllib.request.urlopen(stack.url + path, timeout=10, context=client_context()):  # noqa: S310 - our stack
        pass
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        for proxy in stack.containers("proxy"):
            for line in docker("logs", proxy).splitlines():
                if line.startswith("{") and path in line:
                    return json.loads(line)["peer_addr"]
        time.sleep(0.5)
    raise RuntimeError("the probe request never showed up in the proxy's access log")


def websocket_clients(stack: ComposeStack, since: float) -> int:
    """Distinct client addresses in the proxy's access log for WebSocket sessions that ended after
    ``since``: in load-balancer mode every simulated user is one."""
    clients = set()
    for proxy in stack.containers("proxy"):
        out = subprocess.run(
            [DOCKER, "logs", "--since", str(int(since)), proxy], capture_output=True, text=True, check=False
        ).stdout
        for line in out.splitlines():
            if line.startswith("{") and "/_stcore/stream" in line:
                clients.add(json.loads(line)["remote_addr"])
    return len(clients)


def wait_for_warmup(stack: ComposeStack, timeout: float) -> float:
    """Seconds until every app replica logged the end of its cache warm-up (SERVE_WARMUP)."""
    start = time.monotonic()
    pending = set(stack.containers("app"))
    while pending:
        for container in list(pending):
            logs = subprocess.run([DOCKER, "logs", container], capture_output=True, text=True, check=False)
            if "warm-up:" in logs.stdout + logs.stderr:
                pending.discard(container)
        if pending and time.monotonic() - start > timeout:
            raise RuntimeError(f"cache warm-up not finished after {timeout:.0f} s in {sorted(pending)}")
        if pending:
            time.sleep(2)
    return time.monotonic() - start


def check_mode(url: str, config: Config) -> None:
    """The stack runs the page the configuration asks for: a day pick reruns the fragment alone
    (fragments on) or the whole page (off); any app's page loads with no exception."""
    if config.app:
        with DashboardSession(url, timeout=120):  # raises on an exception in the page
            return
    with DashboardSession(url, timeout=120, mode=config.mode) as session:
        pick = session.pick_date("2023-01-02")
        (expect_fragment if config.fragments else expect_full)(pick)
        session.change_month("2023-02-01")


def app_cpu_limit(stack: ComposeStack) -> float:
    """The cores one app replica may use, as the engine runs it (``docker inspect``'s NanoCpus:
    compose.yaml's limit, or the app's serving.toml ``[replicas] cpus``); none set: the host's."""
    containers = stack.containers("app")
    shown = docker("inspect", "-f", "{{.HostConfig.NanoCpus}}", *containers).split() if containers else []
    limits = [int(nano) / 1e9 for nano in shown if int(nano) > 0]
    return min(limits) if limits else float(os.cpu_count() or 1)


# -- analysis ------------------------------------------------------------------------------------


def cores(readings: list[Reading], start: float, end: float) -> float | None:
    if len(readings) < 2 or end <= start:
        return None
    return (cpu_at(readings, end) - cpu_at(readings, start)) / (end - start)


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def analyse_steps(
    ladder: list[dict],
    timed: list[Timed],
    app: Sampler,
    proxy: Sampler,
    host: Sampler,
    outcome: LocustOutcome,
    budget: float,
) -> list[Step]:
    steps = []
    for entry in ladder:
        start, end = entry["hold_start"], entry["hold_end"]
        window = [t for t in timed if start <= t.end <= end]
        times = [t.ms for t in window if not t.failed]
        failures = sum(t.failed for t in window)
        p95 = percentile(times, 0.95)
        held = [r for r in app.readings if start <= r.time <= end]
        sessions = [r.sessions for r in held if r.sessions is not None]
        steps.append(
            Step(
                users=entry["users"], start=start, end=end, interactions=len(window), failures=failures,
                p50_ms=percentile(times, 0.5), p95_ms=p95,
                app_cores=cores(app.readings, start, end), proxy_cores=cores(proxy.readings, start, end),
                generator_cores=outcome.cpu_share(start, end), host_cores=cores(host.readings, start, end),
                sessions=max(sessions) if sessions else None,
                app_rss_mb=statistics.median(r.rss_bytes for r in held) / 2**20 if held else None,
                ok=failures == 0 and p95 is not None and p95 <= budget,
            )
        )  # fmt: skip
    return steps


def memory_fit(points: list[tuple[int, float]]) -> MemoryFit | None:
    """Least squares of app RSS (MB) on live sessions: (sessions, RSS MB) points, three or more."""
    if len(points) < 3 or len({x for x, _ in points}) < 2:
        return None
    slope, intercept = statistics.linear_regression([x for x, _ in points], [y for _, y in points])
    return MemoryFit(base_mb=intercept, kb_per_session=slope * 1024, points=len(points))


def saturation(
    step: Step | None, config: Config, processes: int, cpu_limit: float, host_cores: int, *, top: bool = False
) -> str:
    """What was at its limit in ``step``: the first step over budget, or (``top``) the ladder's
    highest step, which held."""
    if step is None:
        return "nothing measured"
    found = []
    generator_cap = max(processes, 1)
    if step.generator_cores is not None and step.generator_cores >= SATURATED * generator_cap:
        found.append(f"the load generator ({step.generator_cores:.2f} of {generator_cap} core(s) it can use)")
    app_cap = min(config.replicas * cpu_limit, host_cores)
    if step.app_cores is not None and step.app_cores >= SATURATED * app_cap:
        found.append(f"the app ({step.app_cores:.2f} of its {app_cap:g} cores)")
    if step.host_cores is not None and step.host_cores >= SATURATED * host_cores:
        found.append(f"the host's cores ({step.host_cores:.2f} of {host_cores} busy)")
    if top:
        return "none: the ladder's top held (a longer --ladder goes further)" + (
            f"; at the top: {'; '.join(found)}" if found else ""
        )
    if not found:
        return "no resource at its limit (latency from queueing and the GIL)"
    return "; ".join(found)


# -- one configuration ---------------------------------------------------------------------------


@dataclass
class Ladder:
    """How the users are stepped up (the CapacityLadder shape's options)."""

    steps: tuple[int, ...]
    hold: float = 25.0
    settle: float = 5.0
    spawn_rate: float = 25.0
    budget: float = P95_BUDGET_MS
    think: tuple[float, float] = THINK

    def seconds(self) -> int:
        """Upper bound of a run that climbs the whole ladder (Locust's --run-time)."""
        spawn = self.steps[-1] / self.spawn_rate
        return int(spawn + len(self.steps) * (4 * self.hold + self.settle + 10) + 60)

    def options(self, prefix: Path) -> list[str]:
        return [
            "-f", str(CAPACITY_LOCUSTFILE),
            "--ladder", ",".join(map(str, self.steps)), "--ladder-hold", str(self.hold),
            "--ladder-settle", str(self.settle), "--ladder-spawn-rate", str(self.spawn_rate),
            "--p95-budget", str(self.budget), "--ladder-log", f"{prefix}_ladder.jsonl",
            "--think-min", str(self.think[0]), "--think-max", str(self.think[1]), "--forwarded-for",
        ]  # fmt: skip


def run_config(
    stack: ComposeStack, config: Config, ladder: Ladder, out: Path, processes: int, warmup_timeout: float
) -> ConfigResult:
    """Start the stack in ``config``'s settings, climb the ladder, analyse."""
    began = time.monotonic()
    stack.start(config.settings, fresh_app=True)
    if not config.app:  # the example's cache warm-up (any app's, if it has one, is not waited for)
        wait_for_warmup(stack, warmup_timeout)
    check_mode(stack.url, config)
    prefix = out / config.name
    for stale in out.glob(f"{config.name}_*"):
        stale.unlink()
    app = Sampler(stack.app_probe(), stack.app_sessions(), interval=1.0, sessions_every=10)
    proxy = Sampler(stack.proxy_probe(), interval=1.0)
    host = Sampler(HostProbe(), interval=1.0)
    user, options = config.users()
    extra = [*ladder.options(prefix), *options]
    if processes > 1:
        extra += ["--processes", str(processes)]
    run = LocustRun([user], ladder.steps[-1], ladder.spawn_rate, ladder.seconds(), extra=extra)
    started = time.time()
    with app, proxy, host:
        outcome = run_locust(stack.url, run, prefix)
    log = Path(f"{prefix}_ladder.jsonl")
    entries = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    timed = timed_interactions(Path(f"{prefix}_times.csv"))
    steps = analyse_steps(entries, timed, app, proxy, host, outcome, ladder.budget)
    held = 0
    broke = None
    for step in steps:
        if not step.ok:
            broke = step
            break
        held = step.users
    limit = app_cpu_limit(stack)
    cores_here = os.cpu_count() or 1
    result = ConfigResult(
        config=config, steps=steps, capacity=held, broke=broke,
        saturated=saturation(
            broke or (steps[-1] if steps else None), config, processes, limit, cores_here, top=broke is None
        ),
        memory=memory_fit([(s.sessions, s.app_rss_mb) for s in steps if s.sessions and s.app_rss_mb]),
        generator_processes=processes, seconds=time.monotonic() - began,
        distinct_clients=websocket_clients(stack, started), host_cpus=cores_here,
        errors=[] if entries else [f"no step was judged: see {prefix}.log"],
    )  # fmt: skip
    (out / f"{config.name}.json").write_text(json.dumps(asdict(result), indent=1, default=str))
    return result
