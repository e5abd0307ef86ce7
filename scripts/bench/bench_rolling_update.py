#!/usr/bin/env python3
"""Benchmark: a rolling update and a scale-out and -in of the Swarm stack under load, as the users
see it, with the session store; and the store's cost per run, store on against off.

Deploys deploy/swarm/stack.yaml (--replicas app replicas, start-first, one at a time; with --store on
the session store too, deploy/swarm/session-store.yaml) with scripts/deploy/swarm.sh on the Swarm
engine of scripts/setup/swarm-engine.sh (an engine of its own; images built on the host's engine and
copied in). --app media (the default) serves the media page (tests/apps/media_state: an image each
run, downloads, an uploader, --state-kb kB of the app's own st.session_state) to --users MediaUser
users (loadtests/sales_load/media.py): each task types a note (a run; the page must show the notes
this user typed: its state kept), fetches the run's image and download, uploads a file and reruns
with it, and downloads it back. --app sales serves the example dashboard to RealisticMix users.
Think time --think-min..--think-max s; a closed socket comes back as Streamlit's frontend does.

Windows, each printed with its interactions, failed, reconnects, state checks and state lost,
p50/p95 of the runs (the picks for --app sales):
  quiet     --quiet s before anything changes
  update    `docker service update --force`: every app replica replaced, one at a time (each
            drains on SIGTERM: streamlit_serving/drain.py)
  after     --tail s
  scale-out / scale-in   (--scale-to N) the app scaled to N replicas and back to --replicas, each
            until Swarm has them all running, then --tail s
and per replaced or removed replica: sessions its drain moved, drain seconds, sessions still open at
the stop, SIGTERM-to-exit seconds. The goal: 0 failed interactions and, with the store, 0 states lost.

Then, with --cost-window S (default 60; 0: none), the store's cost side by side: windows of S s in the
order on, off, off, on (ABBA; each switch a rolling update setting SERVE_SESSION_STORE, whose
moved pages lose their state by design: those windows are not counted), each giving from the
replicas' own metrics the app's CPU per run, the runs, the store's saves, their mean and p95
(streamlit_serving_session_store_seconds, its bucket's bound) and the entry's size, and the runs'
p50/p95 as the users saw them; then on against off (medians of the two windows of each).

    .venv/bin/python scripts/bench/bench_rolling_update.py --users 40 --quiet 60 --tail 20
    .venv/bin/python scripts/bench/bench_rolling_update.py --app sales --store off --replicas 3 \
        --scale-to 0 --cost-window 0
"""

from __future__ import annotations

import os
import statistics
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

from sales_load.page import warm_up
from sales_load.rolling import (
    MEDIA_RUNS,
    PICKS,
    UsersUnderLoad,
    followed_logs,
    replaced_replica,
    rolling_update,
    scale_service,
    service_containers,
)
from sales_load.store_cost import STORE_URL, cost_of, set_store, store_window
from streamlit_load import harness
from streamlit_load.client.tls import CA_FILE_VARIABLE
from streamlit_load.harness import REPO
from streamlit_load.swarm_engine import started_swarm_engine

APPS = {  # --app: (APP_DIR, Locust user class, the interactions that are one run each)
    "media": ("tests/apps/media_state", "MediaUser", MEDIA_RUNS),
    "sales": ("app", "RealisticMix", PICKS),
}


def parse_args(argv: list[str] | None = None):
    parser = harness.parser(__doc__, "bench_rolling_update")
    parser.add_argument(
        "--app", choices=sorted(APPS), default="media", help="the page served (default media)"
    )
    parser.add_argument("--users", type=int, default=40, help="users (default 40)")
    parser.add_argument("--think-min", type=float, default=2.0, help="shortest think time, s (default 2)")
    parser.add_argument("--think-max", type=float, default=8.0, help="longest think time, s (default 8)")
    parser.add_argument("--quiet", type=float, default=60, help="time before the update, s (default 60)")
    parser.add_argument(
        "--tail", type=float, default=20, help="time after the update and each scale, s (default 20)"
    )
    parser.add_argument("--replicas", type=int, default=2, help="app replicas (default 2)")
    parser.add_argument(
        "--scale-to", type=int, default=3, help="scale out to this many and back; 0: no scaling (default 3)"
    )
    parser.add_argument("--store", choices=("on", "off"), default="on", help="the session store (default on)")
    parser.add_argument(
        "--state-kb", type=float, default=10, help="--app media: its session state, kB (default 10)"
    )
    parser.add_argument(
        "--cost-window", type=float, default=60, help="each store on/off window, s; 0: none (default 60)"
    )
    args = parser.parse_args(argv)
    if args.users < 1:
        parser.error(f"--users must be 1 or more, got {args.users}")
    if args.think_min < 0 or args.think_max < args.think_min:
        parser.error(
            "--think-min and --think-max must be 0 <= min <= max, "
            f"got {args.think_min:g} and {args.think_max:g}"
        )
    for name in ("quiet", "tail"):
        if getattr(args, name) <= 0:
            parser.error(f"--{name} must be more than 0 s, got {getattr(args, name):g}")
    if args.replicas < 1:
        parser.error(f"--replicas must be 1 or more, got {args.replicas}")
    if args.scale_to and args.scale_to <= args.replicas:
        parser.error(f"--scale-to must be 0 or more than --replicas ({args.replicas}), got {args.scale_to}")
    if not 0 <= args.state_kb <= 200:
        parser.error(f"--state-kb must be 0 to 200 (the store's cap is 256 kB), got {args.state_kb:g}")
    if args.cost_window and args.cost_window < 10:
        parser.error(f"--cost-window must be 0 or 10 s or more, got {args.cost_window:g}")
    if args.cost_window and args.store != "on":
        parser.error(
            "--cost-window needs --store on (it measures the store against none): add --cost-window 0"
        )
    return args


def built_images(app_dir: str, store: bool) -> dict[str, str]:
    """The images the stack needs, built on the host's engine from the committed files:
    {"APP_IMAGE": tag, "PROXY_IMAGE": tag, ("SESSION_STORE_IMAGE": tag)}."""
    host = {key: value for key, value in os.environ.items() if key != "DOCKER_HOST"} | {"APP_DIR": app_dir}
    names = ["app", "proxy", *(["session-store"] if store else [])]
    subprocess.run(
        ["scripts/deploy/build-images.sh", *names], cwd=REPO, env=host, check=True, capture_output=True
    )
    listed = subprocess.run(
        ["scripts/deploy/images.sh", "--env"], cwd=REPO, env=host, check=True, capture_output=True, text=True
    )
    wanted = {"APP_IMAGE", "PROXY_IMAGE", *(["SESSION_STORE_IMAGE"] if store else [])}
    return {key: tag for key, tag in (line.split("=", 1) for line in listed.stdout.split()) if key in wanted}


WINDOWS = (
    "window     seconds  interactions  failed  reconnects  resumed  state checks  lost  p50 ms  p95 ms"
    "  generator cores"
)
REPLICAS = "replaced or removed replica  moved  drain s  still open  stopped s  SIGTERM to exit s"
COSTS = (
    "window  store  seconds   runs  CPU ms/run  run p50 ms  run p95 ms  failed  saves  save mean us"
    "  save p95 us  entry kB"
)


def print_windows(report: harness.Report, load: UsersUnderLoad, windows: dict) -> dict:
    report.line(WINDOWS)
    summaries = {}
    for name, (start, end) in windows.items():
        summary = summaries[name] = load.summary(start, end)
        cores = load.generator_cores(start, end)
        shown = "-" if cores is None else f"{cores:.2f}"
        report.line(
            f"{name:9s}  {summary.seconds:7.0f}  {summary.interactions:12d}  {summary.failed:6d}  "
            f"{summary.reconnects:10d}  {summary.resumed:7d}  {summary.state_checks:12d}  "
            f"{summary.state_lost:4d}  "
            f"{summary.p50_ms:6.0f}  {summary.p95_ms:6.0f}  {shown:>15}"
        )
        report.figure(name, summary.__dict__ | {"generator_cores": cores})
    return summaries


def print_results(report: harness.Report, load: UsersUnderLoad, windows: dict, replaced: dict) -> None:
    summaries = print_windows(report, load, windows)
    report.line()
    report.line(REPLICAS)
    for name, (drain, stop) in replaced.items():
        took = "-" if stop is None else f"{stop:.1f}"
        report.line(
            f"{name[:27]:27s}  {drain.moved!s:>5}  {drain.drain_seconds!s:>7}  {drain.still_open!s:>10}  "
            f"{drain.stopped_after!s:>9}  {took:>17}"
        )
        report.figure(f"replica {name}", drain.__dict__ | {"stop_seconds": stop})
    moved = report.figure("sessions_moved", sum(drain.moved or 0 for drain, _ in replaced.values()))
    failed = report.figure("failed", sum(summary.failed for summary in summaries.values()))
    lost = report.figure("state_lost", sum(summary.state_lost for summary in summaries.values()))
    checks = report.figure("state_checks", sum(summary.state_checks for summary in summaries.values()))
    seen = sum(summary.reconnects for summary in summaries.values())
    ratio = report.figure("p95_ratio", round(summaries["update"].p95_ms / summaries["quiet"].p95_ms, 2))
    by_name = Counter()
    for summary in summaries.values():
        by_name.update(summary.failed_by_name)
    report.figure("failed_by_name", dict(by_name))
    report.line()
    report.line(
        f"sessions moved by the drains: {moved}; reconnects the users saw: {seen}; "
        f"interactions failed: {failed} (goal 0){_named(by_name)}; states lost: {lost} of {checks} "
        f"checked (goal 0); p95 update / quiet: {ratio}"
    )
    for name, summary in summaries.items():
        if summary.failures:
            report.line(f"failures in {name}: {summary.failed_by_name} {summary.failures[:20]}")


def print_costs(report: harness.Report, load: UsersUnderLoad, measured: list, switches: dict) -> None:
    """The store's ABBA windows, then on against off (medians of each side's windows)."""
    report.line()
    print_windows(report, load, switches)
    report.line()
    report.line(COSTS)
    costs = []
    for index, (store, window, before, after) in enumerate(measured, 1):
        cost = cost_of(store, window[1] - window[0], before, after, load.summary(*window))
        costs.append(cost)
        report.figure(f"cost {index} {store}", cost.record())
        report.line(
            f"{index:6d}  {store:5s}  {cost.seconds:7.0f}  {cost.runs:5d}  "
            f"{_shown(cost.cpu_ms_per_run):>10}  "
            f"{cost.run_p50_ms:10.1f}  {cost.run_p95_ms:10.1f}  {cost.failed:6d}  {cost.saves:5d}  "
            f"{_shown(cost.save_mean_us, 0):>12}  {_shown(cost.save_p95_us, 0):>11}  "
            f"{_shown(cost.entry_kb):>8}"
        )
    side = {store: [c for c in costs if c.store == store] for store in ("on", "off")}

    def median(store: str, field: str) -> float | None:
        values = [getattr(c, field) for c in side[store] if getattr(c, field) is not None]
        return statistics.median(values) if values else None

    cpu_on, cpu_off = median("on", "cpu_ms_per_run"), median("off", "cpu_ms_per_run")
    ratio = report.figure(
        "cpu_per_run_on_over_off", round(cpu_on / cpu_off, 3) if cpu_on and cpu_off else None
    )
    report.figure("store_save_p95_us", median("on", "save_p95_us"))
    report.line()
    report.line(
        f"store on / off, medians of {len(side['on'])} and {len(side['off'])} windows: CPU per run "
        f"{_shown(cpu_on)} / {_shown(cpu_off)} ms ({_shown(ratio, 3)}x; goal <= 1.10); run p50 "
        f"{_shown(median('on', 'run_p50_ms'))} / {_shown(median('off', 'run_p50_ms'))} ms, p95 "
        f"{_shown(median('on', 'run_p95_ms'))} / {_shown(median('off', 'run_p95_ms'))} ms; the store's save: "
        f"mean {_shown(median('on', 'save_mean_us'), 0)} us, "
        f"p95 <= {_shown(median('on', 'save_p95_us'), 0)} us "
        f"at a {_shown(median('on', 'entry_kb'))} kB entry"
    )


def _named(counts: Counter) -> str:
    """`` (image 3, upload 1)``: failures by interaction, or nothing when there are none."""
    return f" ({', '.join(f'{name} {n}' for name, n in sorted(counts.items()))})" if counts else ""


def _shown(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def stack_env(engine, images: dict[str, str], scratch: Path, args) -> dict[str, str]:
    """The Swarm stack over HTTPS with make up's local CA, made in ``scratch`` (as test_swarm.py);
    the users do not sign in (as test_swarm.py); the store's password made there too."""
    app_env = scratch / "app.env"
    app_env.write_text(f"MEDIA_STATE_KB={args.state_kb:g}\n")
    password = scratch / "session_store_password"
    password.write_text(os.urandom(24).hex())
    password.chmod(0o600)
    return engine.https_stack_env(
        "benchroll", images, scratch, scratch / "local-tls", APP_REPLICAS=str(args.replicas),
        APP_DIR=APPS[args.app][0], APP_ENV_FILE=str(app_env),
        SESSION_STORE="1" if args.store == "on" else "0", SESSION_STORE_PASSWORD_FILE=str(password),
        # Every user reaches nginx from 127.0.0.1: its per-client limits would count them as one.
        PROXY_WS_PER_CLIENT=str(4 * args.users + 50), PROXY_RATE_PER_CLIENT="1000r/s",
        PROXY_BURST_PER_CLIENT=str(20 * args.users + 200),
        PROXY_UPLOAD_RATE_PER_CLIENT="1000r/s", PROXY_UPLOAD_BURST_PER_CLIENT=str(4 * args.users + 50),
    )  # fmt: skip


def main() -> None:
    args = parse_args()
    app_dir, user_class, runs = APPS[args.app]
    settings = {
        "app": args.app, "users": f"{args.users} {user_class}",
        "think": f"{args.think_min:g}-{args.think_max:g} s",
        "quiet": f"{args.quiet:g} s", "tail": f"{args.tail:g} s", "replicas": args.replicas,
        "scale to": args.scale_to, "store": args.store, "cost window": f"{args.cost_window:g} s",
        **({"state": f"{args.state_kb:g} kB"} if args.app == "media" else {}),
    }  # fmt: skip
    with harness.Report("bench_rolling_update", args.out, settings) as report:
        images = built_images(app_dir, args.store == "on")
        with started_swarm_engine() as engine, tempfile.TemporaryDirectory() as scratch:
            engine.load(*images.values())
            env = stack_env(engine, images, Path(scratch), args)
            # Every client of this process and of Locust trusts the CA swarm.sh up makes there.
            os.environ[CA_FILE_VARIABLE] = str(Path(env["LOCAL_TLS_DIR"]) / "ca.pem")
            up = subprocess.run(
                ["scripts/deploy/swarm.sh", "up"], cwd=REPO, env=env, capture_output=True, text=True
            )
            windows, switches, measured, replaced, scaled_in = {}, {}, [], {}, {}
            try:
                if up.returncode != 0:
                    raise SystemExit(f"bench: scripts/deploy/swarm.sh up failed:\n{up.stderr[-3000:]}")
                url = up.stdout.strip().splitlines()[-1].rstrip("/")
                service = f"{env['SWARM_STACK']}_app"
                if args.app == "sales":
                    warm_up(url)
                think = (args.think_min, args.think_max)
                bound = int(args.quiet + 6 * args.tail + 4 * args.cost_window + 1500)
                with UsersUnderLoad(
                    url, users=args.users, out=args.out / "users", think=think, bound=bound,
                    user_class=user_class, picks=runs,
                ) as load:  # fmt: skip
                    load.wait_ramped()
                    windows["quiet"] = load.window(args.quiet)
                    before = service_containers(engine.run, service)
                    windows["update"] = rolling_update(engine.run, service)
                    windows["after"] = load.window(args.tail)
                    if args.scale_to:
                        start, _ = scale_service(engine.run, service, args.scale_to)
                        windows["scale-out"] = (start, load.window(args.tail)[1])
                        grown = service_containers(engine.run, service)
                        # Swarm removes a scaled-in task's container as it stops: its log is followed.
                        with followed_logs(
                            [engine.docker], engine.env(), grown, args.out / "replicas"
                        ) as logs:
                            start, _ = scale_service(engine.run, service, args.replicas)
                            windows["scale-in"] = (start, load.window(args.tail)[1])
                        for name in sorted(set(grown) - set(service_containers(engine.run, service))):
                            scaled_in[name] = replaced_replica(engine.run, name, logs[name].read_text())
                    if args.cost_window:
                        for store in ("on", "off", "off", "on"):
                            if measured and measured[-1][0] != store:
                                start, _ = set_store(engine.run, service, STORE_URL if store == "on" else "")
                                switches[f"to {store}"] = (start, load.window(args.tail)[1])
                            window, scraped_before, scraped_after = store_window(
                                engine.run, service, load, args.cost_window
                            )
                            measured.append((store, window, scraped_before, scraped_after))
                replaced = {name: replaced_replica(engine.run, name) for name in before} | scaled_in
            finally:
                subprocess.run(["scripts/deploy/swarm.sh", "down"], cwd=REPO, env=env, capture_output=True)
        print_results(report, load, windows, replaced)
        if measured:
            print_costs(report, load, measured, switches)


if __name__ == "__main__":
    main()
