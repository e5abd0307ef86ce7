"""``make loadtest APP_DIR=...``: any app under ``AnyAppUser`` load, and what its fragment runs cost
against its full runs (``python -m streamlit_load.loadtest``).

The app selected by APP_DIR/APP_MAIN (``streamlit_serving/app_source.py``) is started with the
serving layer on a free 127.0.0.1 port (``--target local``, the default; it runs on ``.venv``, so
the app's packages must be there), or a server already running is used (``--target URL``, with
``--metrics-url`` for the server's side). After one warm-up session, ``--users`` AnyAppUsers
(browser-like: message cache on; machine-paced unless ``--think``) drive it for ``--duration``
seconds. Over the steady window (from ``--warmup`` seconds after the start to the end) it reads:

- from Locust, per kind of interaction (``fragment_run``, ``full_run``, ``page``): count, median
  and p95 wall time, bytes received per interaction;
- from the serving layer's metrics (``streamlit_script_runs_total``,
  ``streamlit_script_run_cpu_seconds_total``, ``process_cpu_seconds_total``): runs and script CPU
  per run by kind, and the server process's CPU per interaction;
- the load generator's own CPU (every Locust process) over the same window.

It prints a table and writes ``summary.md`` and ``loadtest-app.json`` under ``--out``; the
fragment/full ratios answer "do my fragments pay?" (docs/load-testing.md, "Your own app"). Exit 1
when an interaction failed, or when no interaction of either kind was measured and the app has
that kind; 2 on bad use (a bad APP_DIR/APP_MAIN: 64, naming it).
"""

from __future__ import annotations

import contextlib
import math
import statistics
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from streamlit_load import harness
from streamlit_load.client import StreamlitSession
from streamlit_load.locust_runs import LocustRun, Timed, number, read_rows, run_locust, timed_interactions
from streamlit_load.targets import Target, local_target, url_target
from streamlit_serving.app_source import AppSourceError, load_app_source

from .users import FRAGMENT, FULL, PAGE

KINDS = (FRAGMENT, FULL, PAGE)
SERVER_KINDS = {FRAGMENT: "fragment", FULL: "full"}
EXIT_BAD_APP = 64


def parse_args(argv: list[str] | None = None):
    parser = harness.parser(__doc__, "loadtest-app")
    parser.add_argument("--target", default="local", help="local (default: the APP_DIR app) or a URL")
    parser.add_argument("--metrics-url", help="with a URL target: the server's /metrics (SERVE_METRICS_PORT)")
    parser.add_argument("--users", type=int, default=8, help="simulated users (default 8)")
    parser.add_argument("--spawn-rate", type=float, default=8.0, help="users started per second")
    parser.add_argument("--duration", type=int, default=40, help="seconds of load (default 40)")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds after the start not counted")
    parser.add_argument("--think", type=float, default=0.0, help="mean seconds between a user's interactions")
    parser.add_argument("--seed", type=int, default=2023, help="seed of the users' choices")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds before an interaction fails")
    parser.add_argument("--sign-in", default="", metavar="EMAIL", help="a development provider test user")
    args = parser.parse_args(argv)
    if args.users < 1 or args.duration <= args.warmup or args.warmup < 0:
        parser.error("need --users >= 1 and --duration > --warmup >= 0")
    return args


@dataclass(frozen=True)
class ServerCounts:
    """The serving layer's counters at one moment: runs and script CPU by kind (``full``,
    ``fragment``; runs ended for a rerun included), interactions (runs not ended for a rerun) and
    the process's CPU seconds."""

    runs: dict[str, float]
    cpu: dict[str, float]
    interactions: float
    process_cpu: float

    def minus(self, before: ServerCounts) -> ServerCounts:
        return ServerCounts(
            {kind: self.runs.get(kind, 0.0) - before.runs.get(kind, 0.0) for kind in self.runs},
            {kind: self.cpu.get(kind, 0.0) - before.cpu.get(kind, 0.0) for kind in self.cpu},
            self.interactions - before.interactions,
            self.process_cpu - before.process_cpu,
        )


def server_counts(metrics_text: str) -> ServerCounts:
    runs: dict[str, float] = {}
    cpu: dict[str, float] = {}
    interactions = process_cpu = 0.0
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            kind = sample.labels.get("kind", "")
            if sample.name == "streamlit_script_runs_total":
                runs[kind] = runs.get(kind, 0.0) + sample.value
                if sample.labels.get("outcome") != "rerun":
                    interactions += sample.value
            elif sample.name == "streamlit_script_run_cpu_seconds_total":
                cpu[kind] = cpu.get(kind, 0.0) + sample.value
            elif sample.name == "process_cpu_seconds_total":
                process_cpu = sample.value
    return ServerCounts(runs, cpu, interactions, process_cpu)


def read_counts(metrics_url: str | None) -> ServerCounts | None:
    if not metrics_url:
        return None
    with urllib.request.urlopen(metrics_url, timeout=10) as response:  # noqa: S310 - our own server
        return server_counts(response.read().decode())


@dataclass(frozen=True)
class KindRow:
    """One kind of interaction over the steady window: Locust's side and the server's."""

    kind: str
    interactions: int
    failed: int
    median_ms: float | None
    p95_ms: float | None
    kb_per_interaction: float | None  # Locust's average over the whole run
    server_runs: float | None  # runs of this kind the server counted (fragment, full)
    server_cpu_ms_per_run: float | None  # the runs' own script-thread CPU

    def cells(self) -> list[str]:
        return [
            self.kind, str(self.interactions), str(self.failed), figure(self.median_ms),
            figure(self.p95_ms), figure(self.kb_per_interaction), figure(self.server_runs, "{:.0f}"),
            figure(self.server_cpu_ms_per_run, "{:.2f}"),
        ]  # fmt: skip


HEADER = ["kind", "interactions", "failed", "median ms", "p95 ms", "kB per interaction",
          "server runs", "server script CPU ms per run"]  # fmt: skip


def kind_row(kind: str, times: list[Timed], sizes: dict[str, float], server: ServerCounts | None) -> KindRow:
    ok = sorted(t.ms for t in times if t.name == kind and not t.failed)
    failed = sum(1 for t in times if t.name == kind and t.failed)
    p95 = statistics.quantiles(ok, n=20)[-1] if len(ok) >= 2 else (ok[0] if ok else None)
    server_kind = SERVER_KINDS.get(kind)
    runs = server.runs.get(server_kind) if server is not None and server_kind else None
    cpu = (
        1000 * server.cpu.get(server_kind, 0.0) / runs
        if server is not None and server_kind and runs
        else None
    )
    size = sizes.get(kind)
    return KindRow(
        kind, len(ok), failed, statistics.median(ok) if ok else None, p95,
        size / 1000 if size is not None and not math.isnan(size) else None, runs, cpu,
    )  # fmt: skip


def figure(value: float | None, form: str = "{:.1f}") -> str:
    return form.format(value) if value is not None else "n/a"


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}" if a is not None and b else "n/a"


@contextlib.contextmanager
def target_for(args) -> Iterator[tuple[Target, str]]:
    """(the server under test, what it is) for ``--target``. Raises AppSourceError for a bad
    APP_DIR/APP_MAIN."""
    if args.target != "local":
        with url_target(args.target) as target:
            yield Target(target.url, target.probe, target.sessions, metrics_url=args.metrics_url), args.target
        return
    source = load_app_source(locked=False)
    with local_target(app=source.script) as target:
        yield target, str(source.script)


def warm(url: str, timeout: float) -> None:
    """One session through every page before the clock starts: a fresh server imports the app's
    packages on its first run, which would otherwise land in the first users' loads."""
    with StreamlitSession(url, timeout=max(timeout, 120.0)) as session:
        for path in session.pages:
            session.goto(path)


@contextlib.contextmanager
def counts_at(moment: float, metrics_url: str | None) -> Iterator[list[ServerCounts | None]]:
    """The server's counters read at ``moment`` (epoch seconds) by a thread while the block runs:
    the list holds them once read."""
    read: list[ServerCounts | None] = []

    def wait_and_read() -> None:
        time.sleep(max(0.0, moment - time.time()))
        read.append(read_counts(metrics_url))

    reader = threading.Thread(target=wait_and_read, name="counts-at-steady", daemon=True)
    reader.start()
    yield read
    reader.join()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with contextlib.ExitStack() as stack:
        try:
            target, served = stack.enter_context(target_for(args))
        except AppSourceError as error:
            print(f"loadtest: {error}", file=sys.stderr)
            return EXIT_BAD_APP
        settings = {"app": served, "users": args.users, "duration_s": args.duration, "warmup_s": args.warmup,
                    "think_s": args.think, "message_cache": "on (browser-like)"}  # fmt: skip
        with harness.Report("loadtest-app", args.out, settings) as report:
            return measure(args, target, report)
    return 0  # unreachable: the block returns


def measure(args, target: Target, report: harness.Report) -> int:
    warm(target.url, args.timeout)
    extra = ["--app-think", str(args.think), *(["--sign-in", args.sign_in] if args.sign_in else [])]
    run = LocustRun(["AnyAppUser"], args.users, args.spawn_rate, args.duration, args.seed, args.timeout,
                    extra=extra)  # fmt: skip
    prefix = args.out / "any-app"
    steady = time.time() + args.warmup
    with counts_at(steady, target.metrics_url) as before:
        outcome = run_locust(target.url, run, prefix)
    ended = time.time()
    after = read_counts(target.metrics_url)
    server = after.minus(before[0]) if after is not None and before and before[0] is not None else None
    every = timed_interactions(Path(f"{prefix}_times.csv"))
    times = [t for t in every if t.end >= steady]
    sizes = {
        row["Name"]: number(row["Average Content Size"]) for row in read_rows(Path(f"{prefix}_stats.csv"))
    }
    rows = [kind_row(kind, times, sizes, server) for kind in KINDS]
    generator = outcome.cpu_share(steady, ended)
    report.line(f"steady window {ended - steady:.1f} s; load generator (every Locust process): "
                f"{figure(generator, '{:.2f}')} cores")  # fmt: skip
    report.line("| " + " | ".join(HEADER) + " |")
    report.line("|---|" + "---:|" * (len(HEADER) - 1))
    for row in rows:
        report.line("| " + " | ".join(row.cells()) + " |")
    per_interaction = (
        1000 * server.process_cpu / server.interactions if server and server.interactions else None
    )
    report.line(f"server process CPU per interaction (every kind, serialising included): "
                f"{figure(per_interaction, '{:.2f}')} ms")  # fmt: skip
    fragment, full = rows[0], rows[1]
    report.line(f"fragment / full: median wall time {ratio(fragment.median_ms, full.median_ms)}, bytes "
                f"{ratio(fragment.kb_per_interaction, full.kb_per_interaction)}, script CPU per run "
                f"{ratio(fragment.server_cpu_ms_per_run, full.server_cpu_ms_per_run)}")  # fmt: skip
    report.figure("kinds", {row.kind: asdict(row) for row in rows})
    report.figure("generator_cores", generator)
    report.figure("server_cpu_ms_per_interaction", per_interaction)
    (args.out / "summary.md").write_text("\n".join(report.lines) + "\n")
    failed = sum(1 for t in every if t.failed)
    if failed:
        report.line(f"FAILED: {failed} interaction(s) failed (Locust's log: {prefix}.log)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
