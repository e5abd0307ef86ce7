#!/usr/bin/env python3
"""Benchmark: what TLS at the proxy costs, per connection and per interaction.

One app container behind two proxy containers of the project's image on one network, limited as
in deploy/compose.yaml (app 1 CPU, proxy 0.5 CPU): one serving plain HTTP (PROXY_TLS=off), one
HTTPS (PROXY_TLS=on, make up's local-CA certificate, ECDSA P-256). Prints:

  handshake  a new TLS connection: full handshake against one resumed from the proxy's shared
             session cache (ms, medians; TLS 1.3 and 1.2)
  session    a new session through each proxy: health request, WebSocket, first run (ms, medians)
  pick       fragment picks, one session through each proxy, alternating pick by pick (medians)
  load       Locust FragmentUser users (browser cache on, picks back to back) through each proxy in
             turn, --rounds times: picks/s, p95, and CPU per pick of the proxy and of the app
             (their containers' cgroups), with the load generator's own CPU

The app runs without the per-session rerun limit: these users pick back to back, faster than a
person (streamlit_load.harness.MACHINE_PACED).

    .venv/bin/python scripts/bench/bench_tls.py --picks 60 --users 8 --seconds 30 --rounds 2
"""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sales_load.bystander import p95
from sales_load.page import DashboardSession, warm_up
from streamlit_load import harness
from streamlit_load.client.tls import CA_FILE_VARIABLE
from streamlit_load.harness import MACHINE_PACED, REPO
from streamlit_load.local_server import free_port, healthy
from streamlit_load.locust_runs import LocustRun, exact_times, read_rows, run_locust
from streamlit_load.server_probe import CgroupProbe, Sampler
from streamlit_load.targets import built_images

HARDENED = ["--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL", "--security-opt", "no-new-privileges"]  # noqa: S108
# The users share 127.0.0.1: per-client limits out of the way, as for every load run.
OPEN_LIMITS = {
    "PROXY_WS_PER_CLIENT": "5000",
    "PROXY_RATE_PER_CLIENT": "5000r/s",
    "PROXY_BURST_PER_CLIENT": "5000",
}


def sh(*args: str) -> str:
    return subprocess.run(args, cwd=REPO, check=True, capture_output=True, text=True).stdout.strip()


def flags(env: dict[str, str]) -> list[str]:
    return [f"--env={key}={value}" for key, value in env.items()]


class Bench:
    """The app and the two proxies, started on a network of their own; removed on exit."""

    def __init__(self, docker: str, app: str, proxy: str, certs: Path) -> None:
        self.docker = docker
        tag = free_port()
        self.net = f"benchtls-{tag}"
        self.names = {
            "app": f"benchtls-{tag}-app",
            "plain": f"benchtls-{tag}-plain",
            "tls": f"benchtls-{tag}-tls",
        }
        plain_port, tls_port = free_port(), free_port()
        sh(docker, "network", "create", self.net)
        self._run(
            "app", *flags(MACHINE_PACED), "--network-alias", "app", "--cpus", "1", "--memory", "1g", app
        )
        limits = ["--cpus", "0.5", "--memory", "256m", *flags(OPEN_LIMITS)]
        self._run("plain", *limits, "-p", f"127.0.0.1:{plain_port}:8080", proxy)
        self._run("tls", *limits, *flags({"PROXY_TLS": "on", "PROXY_TLS_CERT": "/certs/cert.pem",
                                          "PROXY_TLS_KEY": "/certs/key.pem"}),
                  "-v", f"{certs}:/certs:ro", "-p", f"127.0.0.1:{tls_port}:8443", proxy)  # fmt: skip
        self.urls = {"plain": f"http://127.0.0.1:{plain_port}", "tls": f"https://127.0.0.1:{tls_port}"}

    def _run(self, role: str, *args: str) -> None:
        sh(self.docker, "run", "-d", "--name", self.names[role], "--network", self.net, *HARDENED, *args)

    def probe(self, role: str) -> CgroupProbe:
        return CgroupProbe(int(sh(self.docker, "inspect", "-f", "{{.State.Pid}}", self.names[role])))

    def wait(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while not all(healthy(url) for url in self.urls.values()):
            if time.monotonic() > deadline:
                raise SystemExit(f"bench: the stack did not answer in {timeout:.0f} s")
            time.sleep(0.5)

    def close(self) -> None:
        subprocess.run([self.docker, "rm", "-f", *self.names.values()], capture_output=True, check=False)
        subprocess.run([self.docker, "network", "rm", self.net], capture_output=True, check=False)


def local_certificate() -> Path:
    """make up's local CA and certificate (scripts/deploy/tls-cert.sh), copied where the proxy's UID
    reads them; the CA trusted by every client of this process and of Locust (STACK_CA_FILE)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("TLS_")}
    cert, key = subprocess.run([REPO / "scripts/deploy/tls-cert.sh"], cwd=REPO, env=env, check=True,
                               capture_output=True, text=True).stdout.split()  # fmt: skip
    os.environ[CA_FILE_VARIABLE] = str(Path(cert).with_name("ca.pem"))
    readable = Path(tempfile.mkdtemp(prefix="benchtls-"))
    readable.chmod(0o755)
    for source, name in ((cert, "cert.pem"), (key, "key.pem")):
        shutil.copy(source, readable / name)
        (readable / name).chmod(0o644)
    return readable


def handshakes(url: str, version: ssl.TLSVersion, count: int) -> tuple[float, float]:
    """Medians (ms) of a full TLS handshake and of one resumed from the session cache."""
    host, port = url.removeprefix("https://").split(":")
    context = ssl.create_default_context(cafile=os.environ[CA_FILE_VARIABLE])
    context.minimum_version = context.maximum_version = version

    def connect(session: ssl.SSLSession | None) -> tuple[float, ssl.SSLSocket]:
        raw = socket.create_connection((host, int(port)), timeout=10)
        start = time.perf_counter()
        tls = context.wrap_socket(raw, server_hostname=host, session=session)
        took = (time.perf_counter() - start) * 1000
        tls.sendall(f"GET /healthz HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        while tls.recv(4096):  # TLS 1.3 sends its ticket after the handshake
            pass
        return took, tls

    full, resumed = [], []
    for _ in range(count):
        took, first = connect(None)
        full.append(took)
        took, again = connect(first.session)
        assert again.session_reused, "the proxy did not resume the session"
        resumed.append(took)
        first.close()
        again.close()
    return statistics.median(full), statistics.median(resumed)


def alternating(urls: dict[str, str], count: int, measure: Callable[[str], float]) -> dict[str, list[float]]:
    """`measure(url)` for each URL in turn, `count` times, the order swapped every time."""
    times: dict[str, list[float]] = {role: [] for role in urls}
    for i in range(count):
        for role in sorted(urls, reverse=bool(i % 2)):
            times[role].append(measure(urls[role]))
    return times


def open_session(url: str) -> float:
    start = time.perf_counter()
    with DashboardSession(url, timeout=120):
        return (time.perf_counter() - start) * 1000


def picks(urls: dict[str, str], count: int) -> dict[str, list[float]]:
    sessions = {role: DashboardSession(url, timeout=120) for role, url in urls.items()}
    for session in sessions.values():
        session.open()
        session.pick_date("2023-01-02")  # warm: the fragment has run once in each session
    walls: dict[str, list[float]] = {role: [] for role in urls}
    try:
        for i in range(count):
            day = f"2023-01-{3 + i % 26:02d}"
            for role in sorted(urls, reverse=bool(i % 2)):
                walls[role].append(sessions[role].pick_date(day).wall_time * 1000)
    finally:
        for session in sessions.values():
            session.close()
    return walls


def load(bench: Bench, role: str, users: int, seconds: int, out: Path) -> dict[str, float]:
    """One Locust run through one proxy; picks/s, p95 and CPU per pick of the proxy and the app."""
    prefix = out / f"{role}-{time.strftime('%H%M%S')}"
    proxy, app = Sampler(bench.probe(role), interval=0.5), Sampler(bench.probe("app"), interval=0.5)
    run = LocustRun(["FragmentUser"], users, users, seconds, message_cache=True)
    with app:
        started = time.time()
        outcome = run_locust(bench.urls[role], run, prefix, sampler=proxy)
        ended = time.time()
    (row,) = [r for r in read_rows(Path(f"{prefix}_stats.csv")) if r["Name"] == "fragment_rerun"]
    count, failures = int(row["Request Count"]), int(row["Failure Count"])
    times = exact_times(Path(f"{prefix}_times.csv"), "fragment_rerun")
    proxy_cpu = proxy.readings[-1].cpu_seconds - proxy.readings[0].cpu_seconds
    app_cpu = app.cpu_at(ended) - app.cpu_at(started)
    return {
        "picks_per_s": count / seconds,
        "p95_ms": p95(times) if times else float("nan"),
        "failures": failures,
        "proxy_cpu_ms": proxy_cpu / count * 1000,
        "app_cpu_ms": app_cpu / count * 1000,
        "generator_cores": outcome.cpu_share(started, ended) or float("nan"),
    }


def main() -> int:
    parser = harness.parser(__doc__, "bench_tls")
    parser.add_argument("--handshakes", type=int, default=50, help="handshakes of each kind and version")
    parser.add_argument("--sessions", type=int, default=15, help="new sessions through each proxy")
    parser.add_argument("--picks", type=int, default=60, help="fragment picks through each proxy")
    parser.add_argument("--users", type=int, default=8, help="Locust users in each load run")
    parser.add_argument("--seconds", type=int, default=30, help="length of each load run")
    parser.add_argument("--rounds", type=int, default=2, help="load runs through each proxy")
    args = parser.parse_args()
    docker, images = built_images()
    bench = Bench(docker, images["APP_IMAGE"], images["PROXY_IMAGE"], local_certificate())
    settings = {"handshakes": args.handshakes, "sessions": args.sessions, "picks": args.picks,
                "users": args.users, "seconds": args.seconds, "rounds": args.rounds}  # fmt: skip
    try:
        bench.wait()
        for url in bench.urls.values():
            warm_up(url)
        with harness.Report("bench_tls", args.out, settings) as report:
            report.line("## TLS handshake with the proxy (ms, medians): full / resumed from its cache")
            for name, version in (("TLS 1.3", ssl.TLSVersion.TLSv1_3), ("TLS 1.2", ssl.TLSVersion.TLSv1_2)):
                full, resumed = handshakes(bench.urls["tls"], version, args.handshakes)
                report.figure(f"handshake {name}", {"full_ms": full, "resumed_ms": resumed})
                report.line(f"{name:>9}  full {full:6.2f}  resumed {resumed:6.2f}")
            report.line("## a new session (health, WebSocket, first run; ms, medians): plain / TLS")
            opened = alternating(bench.urls, args.sessions, open_session)
            report.figure("session", {role: statistics.median(v) for role, v in opened.items()})
            report.line(f"{'':>9}  plain {statistics.median(opened['plain']):7.1f}  "
                        f"tls {statistics.median(opened['tls']):7.1f}")  # fmt: skip
            report.line("## fragment pick, one session each, alternating (ms, medians): plain / TLS")
            walls = picks(bench.urls, args.picks)
            plain, tls = statistics.median(walls["plain"]), statistics.median(walls["tls"])
            report.figure("pick", {"plain_ms": plain, "tls_ms": tls})
            report.line(f"{'':>9}  plain {plain:7.2f}  tls {tls:7.2f}  TLS adds {tls - plain:+.2f} ms")
            report.line(
                f"## load: {args.users} FragmentUsers, {args.seconds} s a run, {args.rounds} round(s)"
            )
            report.line(f"{'proxy':>9}{'picks/s':>9}{'p95 ms':>8}{'fail':>6}{'proxy cpu ms':>14}"
                        f"{'app cpu ms':>12}{'locust cores':>14}")  # fmt: skip
            runs: dict[str, list[dict[str, float]]] = {"plain": [], "tls": []}
            for i in range(args.rounds):
                for role in sorted(runs, reverse=bool(i % 2)):
                    result = load(bench, role, args.users, args.seconds, args.out)
                    runs[role].append(result)
                    report.line(f"{role:>9}{result['picks_per_s']:9.1f}{result['p95_ms']:8.1f}"
                                f"{result['failures']:6.0f}{result['proxy_cpu_ms']:14.3f}"
                                f"{result['app_cpu_ms']:12.2f}{result['generator_cores']:14.2f}")  # fmt: skip
            cost = {
                role: statistics.median(r["proxy_cpu_ms"] for r in results) for role, results in runs.items()
            }
            report.figure("load", runs)
            added = cost["tls"] - cost["plain"]
            report.line(f"proxy CPU per pick (medians): plain {cost['plain']:.3f} ms, "
                        f"TLS {cost['tls']:.3f} ms (TLS adds {added:+.3f} ms)")  # fmt: skip
    finally:
        bench.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
