#!/usr/bin/env python3
"""Benchmark: fragment-interaction throughput of the Swarm stack with 1 and with 3 app replicas.

Deploys deploy/swarm/stack.yaml with scripts/deploy/swarm.sh (on a free port) on the Swarm engine of
scripts/setup/swarm-engine.sh (an engine of its own, never the user's; the images are built on the
host's engine and copied in), then, round after round, scales the app to each replica count in turn and
has --users sessions (threads of the protocol client, through the proxy) pick days of the same
month back to back for --seconds. Each session's replica is read from the proxy's access log.
Prints per replica count: interactions/s, p50/p95 wall time, interactions/s per replica and how
the sessions and interactions fell on the replicas, and the scaling factor 3 vs 1 (medians of
the rounds, measured side by side in one run). The replicas run with the cache warm-up off.

    .venv/bin/python scripts/bench/bench_replicas.py --users 6 --seconds 30 --rounds 2
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections import Counter
from itertools import cycle
from pathlib import Path

from sales_load.page import DashboardSession
from streamlit_load import harness
from streamlit_load.client import SessionClosed, StreamlitClientError
from streamlit_load.client.tls import CA_FILE_VARIABLE, client_context
from streamlit_load.harness import MACHINE_PACED, REPO
from streamlit_load.swarm_engine import started_swarm_engine


def parse_args() -> argparse.Namespace:
    parser = harness.parser(__doc__, "bench_replicas")
    parser.add_argument("--users", type=int, default=6, help="concurrent sessions (default 6)")
    parser.add_argument("--seconds", type=float, default=30, help="measured time per phase (default 30)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of 1 then 3 replicas (default 2)")
    parser.add_argument("--replicas", default="1,3", help="replica counts to compare (default 1,3)")
    return parser.parse_args()


def sh(*args: str, env: dict[str, str] | None = None) -> str:
    return subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, check=True).stdout


class Stack:
    def __init__(self, docker: str, name: str, url: str) -> None:
        self.docker, self.name, self.url = docker, name, url

    def scale(self, replicas: int) -> None:
        sh(self.docker, "service", "scale", "--detach", f"{self.name}_app={replicas}")
        deadline = time.monotonic() + 180
        while self.proxy_upstreams() != replicas or self.running() != replicas:
            if time.monotonic() > deadline:
                raise SystemExit(f"bench: {replicas} replicas not ready in 180 s")
            time.sleep(1)

    def running(self) -> int:
        out = sh(
            self.docker, "service", "ls", "--filter", f"name={self.name}_app", "--format", "{{.Replicas}}"
        )
        return int(out.split("/")[0])

    def proxy_logs(self) -> subprocess.CompletedProcess[str]:
        proxy = sh(
            self.docker, "ps", "-q", "--filter", f"label=com.docker.swarm.service.name={self.name}_proxy"
        )
        return subprocess.run(
            [self.docker, "logs", proxy.strip()], capture_output=True, text=True, check=True
        )

    def proxy_upstreams(self) -> int:
        changes = [line for line in self.proxy_logs().stderr.splitlines() if "->" in line]
        return len(changes[-1].split("->")[1].split()) if changes else 0

    def replicas_of(self, sessions: list[DashboardSession]) -> list[str]:
        """Each session's replica: a probe request with its route cookie, found in the access log."""
        probes = []
        for session in sessions:
            path = f"/_stcore/health?bench={uuid.uuid4().hex}"
            cookie = {"Cookie": session.cookie_header or ""}
            request = urllib.request.Request(self.url + path, headers=cookie)  # noqa: S310 - our https URL
            with urllib.request.urlopen(request, timeout=30, context=client_context()):  # noqa: S310
                probes.append(path)
        time.sleep(0.5)
        lines = [json.loads(x) for x in self.proxy_logs().stdout.splitlines() if x.startswith("{")]
        upstream = {line["uri"]: line["upstream_addr"] for line in lines}
        return [upstream[path] for path in probes]


def measure(stack: Stack, users: int, seconds: float) -> dict:
    sessions = [DashboardSession(stack.url, timeout=60) for _ in range(users)]
    for session in sessions:
        session.open()
        session.pick_date("2023-01-02")  # warm: the fragment has run once in every session
    replicas = stack.replicas_of(sessions)
    walls: list[list[float]] = [[] for _ in sessions]
    errors: list[str] = []
    start_line = threading.Barrier(users + 1)
    stop = threading.Event()

    def user(index: int) -> None:
        days = cycle(range(3, 29))
        start_line.wait()
        while not stop.is_set():
            try:
                walls[index].append(sessions[index].pick_date(f"2023-01-{next(days):02d}").wall_time)
            except SessionClosed as exc:  # reconnect and go on, as Streamlit's frontend does
                errors.append(repr(exc))
                try:
                    sessions[index].reconnect()
                except StreamlitClientError as again:
                    errors.append(repr(again))
                    return
            except Exception as exc:  # noqa: BLE001 - reported with the figures; this user stops
                errors.append(repr(exc))
                return

    threads = [threading.Thread(target=user, args=(i,), daemon=True) for i in range(users)]
    for thread in threads:
        thread.start()
    start_line.wait()
    began = time.monotonic()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join(60)
    elapsed = time.monotonic() - began
    for session in sessions:
        session.close()
    all_walls = sorted(w for ws in walls for w in ws)
    per_replica = Counter()
    for replica, ws in zip(replicas, walls, strict=True):
        per_replica[replica] += len(ws)
    count = len(all_walls)
    return {
        "interactions": count,
        "rate": count / elapsed,
        "p50": statistics.median(all_walls) * 1000 if all_walls else float("nan"),
        "p95": all_walls[int(0.95 * (count - 1))] * 1000 if all_walls else float("nan"),
        "sessions": sorted(Counter(replicas).values(), reverse=True),
        "per_replica": sorted(per_replica.values(), reverse=True),
        "errors": errors,
    }


def main() -> None:
    args = parse_args()
    counts = [int(x) for x in args.replicas.split(",")]
    settings = {
        "APP_REPLICAS": str(counts[0]),
        # The benchmark opens more sessions than a browser would, all from 127.0.0.1, and picks
        # back to back.
        "PROXY_RATE_PER_CLIENT": "1000r/s", "PROXY_BURST_PER_CLIENT": "1000", **MACHINE_PACED,
        # Cold: replicas added by a scale-up would warm their caches in the measured phase.
        "SERVE_WARMUP": "off",
        # Capacity without sign-in (the Swarm stack requires the choice to be explicit).
        "SERVE_AUTH": os.environ.get("SERVE_AUTH", "none-public"),
    }  # fmt: skip
    sh("scripts/deploy/build-images.sh")  # on the host's engine; the Swarm engine builds nothing
    images = dict(line.split("=", 1) for line in sh("scripts/deploy/images.sh", "--env").split())
    results: dict[int, list[dict]] = {n: [] for n in counts}
    with started_swarm_engine() as engine, tempfile.TemporaryDirectory() as scratch:
        engine.load(*images.values())
        # HTTPS with a local CA made in the scratch directory, trusted by this process's clients.
        env = engine.https_stack_env(
            "benchreplicas", images, Path(scratch), Path(scratch) / "local-tls", **settings
        )
        os.environ[CA_FILE_VARIABLE] = str(Path(env["LOCAL_TLS_DIR"]) / "ca.pem")
        os.environ["DOCKER_HOST"] = engine.host  # every docker call below goes to the Swarm engine
        name = env["SWARM_STACK"]
        up = subprocess.run(
            ["scripts/deploy/swarm.sh", "up"], cwd=REPO, env=env, capture_output=True, text=True
        )
        if up.returncode != 0:
            raise SystemExit(f"bench: scripts/deploy/swarm.sh up failed:\n{up.stderr[-3000:]}")
        stack = Stack(engine.docker, name, up.stdout.strip().splitlines()[-1].rstrip("/"))
        try:
            for round_no in range(args.rounds):
                for replicas in counts:
                    stack.scale(replicas)
                    result = measure(stack, args.users, args.seconds)
                    results[replicas].append(result)
                    print(f"round {round_no + 1} replicas {replicas}: {result['rate']:.2f}/s "
                          f"p50 {result['p50']:.0f} ms p95 {result['p95']:.0f} ms "
                          f"sessions {result['sessions']} "
                          f"errors {Counter(e.split('(')[0] for e in result['errors'])}",
                          file=sys.stderr, flush=True)  # fmt: skip
        finally:
            subprocess.run(
                ["scripts/deploy/swarm.sh", "down"], cwd=REPO, env=env, capture_output=True, check=False
            )

    settings = {"sessions": args.users, "picks": "same-month fragment picks back to back",
                "seconds per phase": args.seconds, "rounds": args.rounds}  # fmt: skip
    with harness.Report("bench_replicas", args.out, settings) as report:
        report.line("# medians of the rounds")
        report.line(
            "replicas  inter/s  per replica/s  p50 ms  p95 ms  sessions per replica  picks per replica"
            "  errors"
        )
        rate = {}
        for replicas, runs in results.items():
            rate[replicas] = statistics.median(r["rate"] for r in runs)
            p50 = statistics.median(r["p50"] for r in runs)
            p95 = statistics.median(r["p95"] for r in runs)
            last = runs[-1]
            errors = sum(len(r["errors"]) for r in runs)
            per = rate[replicas] / replicas
            report.line(f"{replicas:8d}  {rate[replicas]:7.2f}  {per:13.2f}  {p50:6.0f}  {p95:6.0f}  "
                        f"{last['sessions']!s:20s}  {last['per_replica']!s:17s}  {errors}")  # fmt: skip
        report.figure("rounds", results)
        low, high = min(counts), max(counts)
        report.line(f"scaling {high} vs {low} replicas: {rate[high] / rate[low]:.2f}x throughput")


if __name__ == "__main__":
    main()
