"""Fragment reruns against full reruns, under load: ``make loadtest`` (``python -m sales_load.loadtest``).

For each work model (no delay: CPU-bound; demo delay on: the tutorial's slow query) at each
scale (26 products; 1,000 products) it runs the FragmentUser scenario and the FullRerunUser
scenario with identical users, spawn rate, duration and day streams, each against a fresh
server started with that model's environment, while sampling the server's CPU, memory and
live sessions; first with clients that keep the browser's message cache (browser-like: what
users cost), then, with ``--message-cache both`` (the default), without it (what each rerun
serialises: the second column). Then it writes Locust's CSVs and HTML per run, ``report.html``
(plotly), ``comparison.png`` (for the README), ``summary.md`` and ``results.json`` under
``--out``, and exits 1 on any failed interaction or a browser-like fragment/full ratio above its
threshold (2 on bad use). The delay model's latency ratio is reported, not judged.

Targets (``--target``):
  local (default)  ``python -m streamlit_serving`` on a free 127.0.0.1 port per run (psutil on its pid)
  stack            the compose stack (``scripts/deploy/stack.sh``, project ``--stack-project``, a free
                   port), one app replica recreated for every run with the model's settings; the
                   app container's cgroup sampled from the host, sessions read with ``docker exec``.
                   With OBSERVABILITY=1 the stack's Prometheus is read beside it: the interactions
                   the server counted must equal Locust's, and its CPU per interaction must be
                   within 10 % of the cgroup's (streamlit_load.prometheus)
  http://...       a server that is already running: one run per scenario, no restarts, so only
                   the model it was started with (say which with ``--products``/``--delay``);
                   ``--pid`` or ``--container`` for the CPU figures
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

from sales_load.page import SETTINGS_PREFIX, warm_up
from streamlit_load import harness
from streamlit_load.local_server import free_port
from streamlit_load.locust_runs import LocustRun, locust_requests, run_locust
from streamlit_load.prometheus import Prometheus, against_alone, cross_check, interactions_now
from streamlit_load.prometheus import checks as prometheus_checks
from streamlit_load.targets import ComposeStack, Target, local_target, server_options, url_target

from .comparison import (
    SCENARIOS,
    Comparison,
    ScenarioResult,
    WorkModel,
    analyse,
    check,
    history_points,
    server_cpu_ms,
    steady_window,
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = harness.parser(__doc__, "loadtest")
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
        "--message-cache",
        choices=("on", "off", "both"),
        default="both",
        help="clients keep the browser's message cache (on: browser-like), not (off), or both runs "
        "(default; the thresholds judge the browser-like figures)",
    )
    parser.add_argument(
        "--server-option",
        action="append",
        default=[],
        metavar="OPT=VALUE",
        help="extra streamlit option for local servers, e.g. runner.postScriptGC=true",
    )
    parser.add_argument(
        "--large", type=int, default=1000, help="scales from this many products count as large"
    )
    # Thresholds on browser-like figures (docs/load-testing.md, "The gate"): with the message cache
    # a full rerun's unchanged parts arrive as references, so bytes differ less than CPU does.
    parser.add_argument("--max-cpu-ratio-small", type=float, default=0.7)
    parser.add_argument("--max-bytes-ratio-small", type=float, default=0.85)
    parser.add_argument("--max-cpu-ratio-large", type=float, default=0.3)
    parser.add_argument("--max-bytes-ratio-large", type=float, default=0.95)
    parser.add_argument("--min-interactions", type=int, default=20, help="fewest interactions in a window")
    parser.add_argument("--no-report", action="store_true", help="skip report.html and the PNG chart")
    parser.add_argument(
        "--sign-in",
        default="",
        metavar="EMAIL",
        help="sign-in on (SERVE_AUTH=oidc with the development provider); each user signs in once as "
        "this test user (deploy/oidc-dev/users.json), then runs as without",
    )
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
    args.caches = {"on": [True], "off": [False], "both": [True, False]}[args.message_cache]
    return args


@contextlib.contextmanager
def targets(args: argparse.Namespace, running: ComposeStack | None = None) -> Iterator:
    """``for_model(model)``: a context manager giving a fresh Target with that model's settings.
    A stack target uses one compose stack for every run (``running``, or one started here and
    stopped at the end) and recreates its app each time."""
    sign_in = {"SERVE_AUTH": "oidc", "OIDC_DEV_PORT": str(free_port())} if args.sign_in else {}
    if args.target == "stack":
        with contextlib.ExitStack() as cleanup:
            stack = running or cleanup.enter_context(
                ComposeStack(args.stack_project, app_prefix=SETTINGS_PREFIX)
            )

            @contextlib.contextmanager
            def on_stack(model: WorkModel) -> Iterator[Target]:
                stack.start({**model.env, "APP_REPLICAS": "1", **sign_in}, fresh_app=True)
                yield stack.target()

            yield on_stack
        return
    if args.target == "local":
        options = server_options(args.server_option)
        yield lambda model: local_target(model.env, options, sign_in=bool(args.sign_in))
        return
    yield lambda _model: url_target(args.target, args.pid, args.container)


def measure(
    target: Target, scenario: str, model: WorkModel, run: LocustRun, prefix: Path, args: argparse.Namespace
) -> ScenarioResult:
    """One scenario on a fresh target: warm-up, the Locust run under the sampler, its figures."""
    warm_up(target.url, sign_in_as=args.sign_in)
    # With the stack's Prometheus (OBSERVABILITY=1): what it counts, beside Locust.
    prometheus = Prometheus(target.prometheus) if target.prometheus else None
    before = interactions_now(prometheus) if prometheus else 0.0
    sampler = target.sampler()
    outcome = run_locust(target.url, run, prefix, sampler)
    result = analyse(scenario, model, prefix, sampler, args.warmup)
    if result.window:
        result.generator_cores = outcome.cpu_share(*result.window)
    if prometheus:
        result.prometheus = cross_check(
            prometheus, before, locust_requests(prefix), result.window, result.cpu_ms_per_interaction
        )
    return result


def run_all(args: argparse.Namespace, stack: ComposeStack | None = None) -> list[Comparison]:
    """Every model, browser-like first; ``stack``: a running compose stack to use (and leave
    running) for ``--target stack``, as the test session's."""
    args.out.mkdir(parents=True, exist_ok=True)
    comparisons = []
    with targets(args, stack) as for_model:
        for model in args.model_list:
            for cache in args.caches:
                results = {}
                for scenario in ("fragment", "full"):
                    label = model.name if cache else f"{model.name}-nocache"
                    prefix = args.out / f"{label}-{scenario}"
                    print(f"[loadtest] {label} {scenario}: {args.users} users, {args.duration}s", flush=True)
                    run = LocustRun(
                        [SCENARIOS[scenario][0]], args.users, args.spawn_rate, args.duration,
                        seed=args.seed, timeout=args.timeout, message_cache=cache,
                        extra=["--sign-in", args.sign_in] if args.sign_in else [],
                    )  # fmt: skip
                    with for_model(model) as target:
                        results[scenario] = measure(target, scenario, model, run, prefix, args)
                    time.sleep(0.5)
                comparison = Comparison(model, results["fragment"], results["full"], message_cache=cache)
                check(comparison, args)
                for result in (comparison.fragment, comparison.full):
                    if result.prometheus:
                        comparison.checks += prometheus_checks(result.scenario, result.prometheus)
                if comparison.fragment.prometheus and comparison.full.prometheus:
                    comparison.mixed = run_mixed(args, model, for_model, comparison)
                    time.sleep(0.5)
                comparisons.append(comparison)
    return comparisons


def run_mixed(args: argparse.Namespace, model: WorkModel, for_model, comparison: Comparison) -> dict:
    """With the stack's Prometheus: fragment and full users at once (half each), checked like a
    scenario; each kind's own-thread CPU per run is reported against the single-kind runs'."""
    label = model.name if comparison.message_cache else f"{model.name}-nocache"
    prefix = args.out / f"{label}-mixed"
    print(f"[loadtest] {label} mixed: {args.users} users, {args.duration}s", flush=True)
    users = [SCENARIOS["fragment"][0], SCENARIOS["full"][0]]
    run = LocustRun(
        users, max(args.users, 2), args.spawn_rate, args.duration,
        seed=args.seed, timeout=args.timeout, message_cache=comparison.message_cache,
        extra=["--sign-in", args.sign_in] if args.sign_in else [],
    )  # fmt: skip
    with for_model(model) as target:
        warm_up(target.url, sign_in_as=args.sign_in)
        prometheus = Prometheus(target.prometheus)
        before = interactions_now(prometheus)
        sampler = target.sampler()
        run_locust(target.url, run, prefix, sampler)
        steady = steady_window(history_points(prefix, "Aggregated"), args.warmup)
        window, cgroup_ms = None, None
        if steady:
            (t0, c0), (t1, c1) = steady
            window, cgroup_ms = (float(t0), float(t1)), server_cpu_ms(sampler, t0, t1, c1 - c0)
        seen = cross_check(prometheus, before, locust_requests(prefix), window, cgroup_ms)
    single = {
        kind: result.prometheus["thread_cpu_ms_per_run"][kind]
        for kind, result in (("fragment", comparison.fragment), ("full", comparison.full))
        if kind in result.prometheus["thread_cpu_ms_per_run"]
    }
    seen["against_alone"] = against_alone(seen, single)
    comparison.checks += prometheus_checks("mixed", seen)
    return seen


def main(argv: list[str] | None = None, stack: ComposeStack | None = None) -> int:
    args = parse_args(argv)
    comparisons = run_all(args, stack)
    from .comparison_report import write_outputs  # plotly/matplotlib only when there is something to draw

    summary = write_outputs(comparisons, args)
    (args.out / "results.json").write_text(
        json.dumps(
            [
                {
                    "model": asdict(c.model),
                    "message_cache": c.message_cache,
                    "fragment": asdict(c.fragment),
                    "full": asdict(c.full),
                    "checks": c.checks,
                    "mixed": c.mixed,
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
