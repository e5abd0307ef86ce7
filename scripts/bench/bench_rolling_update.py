#!/usr/bin/env python3
"""Benchmark: a rolling update of the Swarm stack under load, as the users see it.

Deploys deploy/swarm/stack.yaml (3 app replicas, start-first, one at a time) with scripts/deploy/swarm.sh
on the Swarm engine of scripts/setup/swarm-engine.sh (an engine of its own; images built on the host's
engine and copied in). --users RealisticMix users (Locust, message cache on, think time
--think-min..--think-max s; a closed socket comes back as Streamlit's frontend does) run a quiet
period of --quiet s, then `docker service update --force` replaces every app replica one at a time
(each drains on SIGTERM: streamlit_serving/drain.py), then --tail s more. Prints, per window
(quiet, update, after): interactions, failed, reconnects (sessions that came back on another
replica), picks answered after a reconnect, p50/p95 of the picks; per replaced replica: sessions
its drain moved, drain seconds, sessions still open at the stop, SIGTERM-to-exit seconds; and the
update's p95 against the quiet period's. The goal is 0 failed interactions.

    .venv/bin/python scripts/bench/bench_rolling_update.py --users 40 --quiet 60 --tail 20
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from sales_load.page import warm_up
from sales_load.rolling import UsersUnderLoad, replaced_replica, rolling_update, service_containers
from streamlit_load import harness
from streamlit_load.client.tls import CA_FILE_VARIABLE
from streamlit_load.harness import REPO
from streamlit_load.swarm_engine import started_swarm_engine


def parse_args():
    parser = harness.parser(__doc__, "bench_rolling_update")
    parser.add_argument("--users", type=int, default=40, help="RealisticMix users (default 40)")
    parser.add_argument("--think-min", type=float, default=2.0, help="shortest think time, s (default 2)")
    parser.add_argument("--think-max", type=float, default=8.0, help="longest think time, s (default 8)")
    parser.add_argument("--quiet", type=float, default=60, help="time before the update, s (default 60)")
    parser.add_argument("--tail", type=float, default=20, help="time after the update, s (default 20)")
    parser.add_argument("--replicas", type=int, default=3, help="app replicas (default 3)")
    return parser.parse_args()


def built_images() -> dict[str, str]:
    """Both images built on the host's engine from the committed files: {"APP_IMAGE": tag, ...}."""
    host = {key: value for key, value in os.environ.items() if key != "DOCKER_HOST"}
    subprocess.run(["scripts/deploy/build-images.sh"], cwd=REPO, env=host, check=True, capture_output=True)
    listed = subprocess.run(
        ["scripts/deploy/images.sh", "--env"], cwd=REPO, env=host, check=True, capture_output=True, text=True
    )
    return dict(line.split("=", 1) for line in listed.stdout.split())


WINDOWS = "window   seconds  interactions  failed  reconnects  resumed  p50 ms  p95 ms  generator cores"
REPLICAS = "replaced replica            moved  drain s  still open  stopped s  SIGTERM to exit s"


def print_results(report: harness.Report, load: UsersUnderLoad, windows: dict, replaced: dict) -> None:
    report.line(WINDOWS)
    summaries = {}
    for name, (start, end) in windows.items():
        summary = summaries[name] = load.summary(start, end)
        cores = load.generator_cores(start, end)
        shown = "-" if cores is None else f"{cores:.2f}"
        report.line(
            f"{name:7s}  {summary.seconds:7.0f}  {summary.interactions:12d}  {summary.failed:6d}  "
            f"{summary.reconnects:10d}  {summary.resumed:7d}  {summary.p50_ms:6.0f}  {summary.p95_ms:6.0f}  "
            f"{shown:>15}"
        )
        report.figure(name, summary.__dict__ | {"generator_cores": cores})
    report.line()
    report.line(REPLICAS)
    for name, (drain, stop) in replaced.items():
        took = "-" if stop is None else f"{stop:.1f}"
        report.line(
            f"{name[:26]:26s}  {drain.moved!s:>5}  {drain.drain_seconds!s:>7}  {drain.still_open!s:>10}  "
            f"{drain.stopped_after!s:>9}  {took:>17}"
        )
        report.figure(f"replica {name}", drain.__dict__ | {"stop_seconds": stop})
    moved = report.figure("sessions_moved", sum(drain.moved or 0 for drain, _ in replaced.values()))
    failed = report.figure("failed", sum(summary.failed for summary in summaries.values()))
    seen = summaries["update"].reconnects + summaries["after"].reconnects
    ratio = report.figure("p95_ratio", round(summaries["update"].p95_ms / summaries["quiet"].p95_ms, 2))
    report.line()
    report.line(
        f"sessions moved by the drains: {moved}; reconnects the users saw: {seen}; "
        f"interactions failed: {failed} (goal 0); p95 update / quiet: {ratio}"
    )
    for name, summary in summaries.items():
        if summary.failures:
            report.line(f"failures in {name}: {summary.failures[:20]}")


def stack_env(engine, images: dict[str, str], scratch: Path, args) -> dict[str, str]:
    """The Swarm stack over HTTPS with make up's local CA, made in ``scratch`` (as test_swarm.py);
    the users do not sign in (as test_swarm.py)."""
    return engine.https_stack_env(
        "benchroll", images, scratch, scratch / "local-tls", APP_REPLICAS=str(args.replicas),
        # Every user reaches nginx from 127.0.0.1: its per-client limits would count them as one.
        PROXY_WS_PER_CLIENT=str(4 * args.users + 50), PROXY_RATE_PER_CLIENT="1000r/s",
        PROXY_BURST_PER_CLIENT=str(20 * args.users + 200),
    )  # fmt: skip


def main() -> None:
    args = parse_args()
    settings = {
        "users": args.users, "think": f"{args.think_min:g}-{args.think_max:g} s",
        "quiet": f"{args.quiet:g} s", "tail": f"{args.tail:g} s", "replicas": args.replicas,
    }  # fmt: skip
    with harness.Report("bench_rolling_update", args.out, settings) as report:
        images = built_images()
        with started_swarm_engine() as engine, tempfile.TemporaryDirectory() as scratch:
            engine.load(*images.values())
            env = stack_env(engine, images, Path(scratch), args)
            # Every client of this process and of Locust trusts the CA swarm.sh up makes there.
            os.environ[CA_FILE_VARIABLE] = str(Path(env["LOCAL_TLS_DIR"]) / "ca.pem")
            up = subprocess.run(
                ["scripts/deploy/swarm.sh", "up"], cwd=REPO, env=env, capture_output=True, text=True
            )
            try:
                if up.returncode != 0:
                    raise SystemExit(f"bench: scripts/deploy/swarm.sh up failed:\n{up.stderr[-3000:]}")
                url = up.stdout.strip().splitlines()[-1].rstrip("/")
                service = f"{env['SWARM_STACK']}_app"
                warm_up(url)
                think = (args.think_min, args.think_max)
                with UsersUnderLoad(url, users=args.users, out=args.out / "users", think=think) as load:
                    load.wait_ramped()
                    quiet = load.window(args.quiet)
                    before = service_containers(engine.run, service)
                    update = rolling_update(engine.run, service)
                    after = load.window(args.tail)
                replaced = {name: replaced_replica(engine.run, name) for name in before}
            finally:
                subprocess.run(["scripts/deploy/swarm.sh", "down"], cwd=REPO, env=env, capture_output=True)
        print_results(report, load, {"quiet": quiet, "update": update, "after": after}, replaced)


if __name__ == "__main__":
    main()
