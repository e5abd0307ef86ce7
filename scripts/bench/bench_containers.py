#!/usr/bin/env python3
"""Benchmark: image sizes, container start to healthy, and what the proxy adds to an interaction.

Builds the project's images (scripts/deploy/build-images.sh) and, for comparison, a single-stage image
in the style of Streamlit's Docker tutorial on the same base and lock
(scripts/bench/single-stage.Dockerfile), then prints:

  sizes        app, proxy, base and single-stage images, and the largest parts of the app's venv
  start        container start to first 200 from /_stcore/health (median of --starts runs)
  proxy        fragment-pick wall time direct to the app container and through the proxy
               container in front of it, alternating pick by pick in one run; the ratio of medians

    .venv/bin/python scripts/bench/bench_containers.py --starts 7 --picks 60
"""

from __future__ import annotations

import os
import statistics
import subprocess
import time
import urllib.request
from pathlib import Path

from sales_load.page import DashboardSession
from streamlit_load import harness
from streamlit_load.harness import MACHINE_PACED, REPO
from streamlit_load.local_server import free_port
from streamlit_load.targets import built_images

SINGLE_STAGE_TAG = "sales-dashboard:single-stage-bench"
HARDENED = ["--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL", "--security-opt", "no-new-privileges"]  # noqa: S108


def sh(*args: str, **kwargs) -> str:
    return subprocess.run(args, cwd=REPO, check=True, capture_output=True, text=True, **kwargs).stdout.strip()


def megabytes(docker: str, image: str) -> float:
    return int(sh(docker, "image", "inspect", "-f", "{{.Size}}", image)) / 1e6


def build_single_stage(docker: str, base: str) -> None:
    ca = os.environ.get("CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    secret = ["--secret", f"id=ca,src={ca}"] if Path(ca).is_file() else []
    sh(docker, "build", "--quiet", *secret, "--build-arg", f"BASE_IMAGE={base}",
       "-f", "scripts/bench/single-stage.Dockerfile", "-t", SINGLE_STAGE_TAG, ".",
       env={**os.environ, "DOCKER_BUILDKIT": "1"})  # fmt: skip


def wait_healthy(url: str, timeout: float = 60.0) -> float:
    """Seconds until url answers 200 (polled every 50 ms)."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - http://127.0.0.1
                if response.status == 200:
                    return time.perf_counter() - start
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"{url} not healthy after {timeout} s")


def start_to_healthy(
    docker: str, image: str, port_inside: int, path: str, runs: int, *extra: str
) -> list[float]:
    times = []
    for _ in range(runs):
        port = free_port()
        name = f"bench-start-{port}"
        start = time.perf_counter()
        sh(
            docker,
            "run",
            "-d",
            "--name",
            name,
            *HARDENED,
            "-p",
            f"127.0.0.1:{port}:{port_inside}",
            *extra,
            image,
        )
        try:
            wait_healthy(f"http://127.0.0.1:{port}{path}")
            times.append(time.perf_counter() - start)
        finally:
            sh(docker, "rm", "-f", name)
    return times


def proxy_overhead(docker: str, app: str, proxy: str, picks: int) -> tuple[list[float], list[float]]:
    """Wall times (s) of fragment picks direct and through the proxy, alternating."""
    net = f"bench-net-{free_port()}"
    app_port, proxy_port = free_port(), free_port()
    names = [f"{net}-app", f"{net}-proxy"]
    sh(docker, "network", "create", net)
    try:
        sh(docker, "run", "-d", "--name", names[0], "--network", net, "--network-alias", "app", *HARDENED,
           *[f"--env={key}={value}" for key, value in MACHINE_PACED.items()],  # picks back to back
           "-p", f"127.0.0.1:{app_port}:8501", app)  # fmt: skip
        sh(docker, "run", "-d", "--name", names[1], "--network", net, *HARDENED,
           "-p", f"127.0.0.1:{proxy_port}:8080", proxy)  # fmt: skip
        direct_url, proxied_url = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{proxy_port}"
        wait_healthy(f"{direct_url}/_stcore/health")
        wait_healthy(f"{proxied_url}/_stcore/health")
        times: dict[str, list[float]] = {direct_url: [], proxied_url: []}
        with (
            DashboardSession(direct_url, timeout=120) as direct,
            DashboardSession(proxied_url, timeout=120) as proxied,
        ):
            for i in range(picks + 5):
                day = f"2023-01-{2 + i % 27:02d}"
                for session in (direct, proxied) if i % 2 else (proxied, direct):
                    wall = session.pick_date(day).wall_time
                    if i >= 5:  # the first picks warm both paths up
                        times[session.base_url].append(wall)
        return times[direct_url], times[proxied_url]
    finally:
        subprocess.run([docker, "rm", "-f", *names], capture_output=True, check=False)
        subprocess.run([docker, "network", "rm", net], capture_output=True, check=False)


def main() -> None:
    parser = harness.parser(__doc__, "bench_containers")
    parser.add_argument("--starts", type=int, default=7, help="container starts to time per image")
    parser.add_argument("--picks", type=int, default=60, help="fragment picks per path (direct, proxied)")
    args = parser.parse_args()

    docker, images = built_images()
    base = sh("scripts/deploy/base-image.sh").splitlines()[-1]
    build_single_stage(docker, base)
    app, proxy = images["APP_IMAGE"], images["PROXY_IMAGE"]

    with harness.Report("bench_containers", args.out, {"base": base}) as report:
        report.line("\n## image sizes (MB, as `docker image inspect` reports)")
        for label, image in (
            ("app", app),
            ("proxy", proxy),
            ("base", base),
            ("single-stage", SINGLE_STAGE_TAG),
        ):
            size = report.figure(f"size_mb_{label}", megabytes(docker, image))
            report.line(f"{label:>13}  {size:7.1f}  {image}")
        venv = sh(docker, "run", "--rm", "--entrypoint", "sh", app, "-c",
                  "du -sm /opt/venv/lib/python3*/site-packages/* | sort -rn | head -8")  # fmt: skip
        report.line("largest parts of the app's venv (MB):")
        for line in venv.splitlines():
            size, path = line.split(maxsplit=1)
            report.line(f"{size:>13}  {Path(path).name}")

        report.line(f"\n## container start to healthy (s, {args.starts} runs each)")
        for label, image, port, path in (
            ("app", app, 8501, "/_stcore/health"),
            ("proxy", proxy, 8080, "/healthz"),
        ):
            times = report.figure(
                f"start_s_{label}", start_to_healthy(docker, image, port, path, args.starts)
            )
            middle = statistics.median(times)
            report.line(f"{label:>13}  median {middle:.2f}  min {min(times):.2f}  max {max(times):.2f}")

        report.line(f"\n## fragment pick, direct vs through the proxy ({args.picks} picks each, alternating)")
        direct, proxied = proxy_overhead(docker, app, proxy, args.picks)
        md, mp = statistics.median(direct) * 1000, statistics.median(proxied) * 1000
        report.figure("pick_ms_direct_proxied", (md, mp))
        report.line(f"{'direct':>13}  median {md:6.1f} ms")
        report.line(f"{'proxied':>13}  median {mp:6.1f} ms")
        report.line(f"{'ratio':>13}  {mp / md:.3f}  (proxy adds {mp - md:+.1f} ms at the median)")


if __name__ == "__main__":
    main()
