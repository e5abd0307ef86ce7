"""The compose stack as `make up` starts it (scripts/deploy/stack.sh), for the browser tier."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sales_load.page import SETTINGS_PREFIX
from streamlit_load.local_server import free_port
from streamlit_load.targets import with_app_env_file

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Stack:
    """A running compose stack (scripts/deploy/stack.sh), the HTTPS URL of its proxy, the local CA that
    signed the proxy's certificate, and the URL of its Prometheus (the observability profile:
    `make up OBSERVABILITY=1`)."""

    url: str
    env: dict[str, str]
    ca_file: Path
    prometheus_url: str = ""
    printed: str = ""  # what `scripts/deploy/stack.sh up` printed on stdout

    @property
    def http_url(self) -> str:
        """The proxy's plain HTTP, which redirects to `url`."""
        return f"http://127.0.0.1:{self.env['PROXY_PORT']}/"

    def stack(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["scripts/deploy/stack.sh", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )

    def recreate_app(self, settings: dict[str, str], timeout: float = 120.0) -> None:
        """Recreate the app containers with ``settings`` (SALES_*) over the stack's environment
        (``{}``: as it was started), then wait until every replica is healthy and the proxy,
        which re-resolves the replicas every few seconds, serves them."""
        env = with_app_env_file({**self.env, **settings}, self.env["STACK_PROJECT"], SETTINGS_PREFIX)
        scale = f"app={env.get('APP_REPLICAS', '1')}"
        up = ["compose", "up", "--detach", "--no-build", "--no-deps", "--force-recreate", "--scale", scale]
        done = subprocess.run(
            ["scripts/deploy/stack.sh", *up, "app"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, f"recreating the app failed:\n{done.stderr[-4000:]}"
        for container in self.app_replicas().values():  # each: a route cookie may pick any of them
            self.wait_healthy(container, timeout)
        deadline = time.monotonic() + timeout

        # Every replica, not just one: the proxy hashes each browser onto any of them.
        def every_replica_healthy() -> bool:
            return all(self.healthy(name) for name in self.containers("app"))

        while not (healthy(self.url, self.ca_file) and every_replica_healthy()):
            assert time.monotonic() < deadline, f"{self.url}'s replicas not healthy in {timeout:.0f} s"
            time.sleep(0.5)
        # A replica may have a new address: the proxy picks it up within its DNS interval.
        time.sleep(float(env.get("PROXY_DNS_INTERVAL", "5")) + 1)

    def containers(self, service: str) -> list[str]:
        """Names of the service's running containers."""
        project = f"label=com.docker.compose.project={self.env['STACK_PROJECT']}"
        labels = ["--filter", project, "--filter", f"label=com.docker.compose.service={service}"]
        return sorted(docker("ps", *labels, "--format", "{{.Names}}").stdout.split())

    def sessions_on(self, container: str) -> int:
        """Open sessions of one app replica (Streamlit's active_sessions metric, read inside it:
        the proxy answers 404 for /_stcore/metrics)."""
        read = docker("exec", container, "python3", "-c", READ_METRICS)
        for line in read.stdout.splitlines():
            if line.startswith("active_sessions "):
                return int(float(line.split()[1]))
        raise AssertionError(f"no active_sessions in {container}'s metrics:\n{read.stdout}{read.stderr}")

    def holder(self) -> str:
        """The one app replica that holds an open session (the test's own page)."""
        holding = [name for name in self.containers("app") if self.sessions_on(name) > 0]
        assert len(holding) == 1, f"sessions open on {holding}, not on exactly one replica"
        return holding[0]

    def stop_replica(self, *containers: str) -> float:
        """`docker stop` app replicas, all at once (SIGTERM: each one's drain, then its stop); the
        seconds it took."""
        started = time.monotonic()
        done = docker("stop", "--time", "20", *containers)
        assert done.returncode == 0, f"stopping {containers} failed:\n{done.stderr}"
        return time.monotonic() - started

    def healthy(self, container: str) -> bool:
        """The container's health check passes (Docker's status, from the image's HEALTHCHECK)."""
        return docker("inspect", "-f", "{{.State.Health.Status}}", container).stdout.strip() == "healthy"

    def start_replica(self, *containers: str, timeout: float = 120.0) -> None:
        """Start stopped replicas again, all at once, and wait until every one is healthy and the
        proxy sees them (one DNS interval after the last is healthy, not one per replica)."""
        assert docker("start", *containers).returncode == 0
        deadline = time.monotonic() + timeout
        for container in containers:
            while not self.healthy(container):
                assert time.monotonic() < deadline, f"{container} not healthy in {timeout:.0f} s"
                time.sleep(0.5)
        time.sleep(float(self.env.get("PROXY_DNS_INTERVAL", "5")) + 1)

    def logs(self, container: str) -> str:
        done = docker("logs", container)
        return done.stdout + done.stderr

    def restart(self, service: str) -> None:
        """`docker compose restart SERVICE`: stop (SIGTERM), then start the same container."""
        done = self.stack("compose", "restart", service)
        assert done.returncode == 0, f"restart {service} failed:\n{done.stderr[-4000:]}"

    def docker(self, *args: str) -> subprocess.CompletedProcess[str]:
        found = subprocess.run(["scripts/setup/ensure-docker.sh"], cwd=ROOT, capture_output=True, text=True)
        return subprocess.run([found.stdout.split()[-1], *args], capture_output=True, text=True, check=True)

    def app_replicas(self) -> dict[str, str]:
        """{address on the stack's network: container id} of every app replica."""
        ids = self.stack("compose", "ps", "-q", "app").stdout.split()
        template = "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}} {{.Id}}"
        lines = self.docker("inspect", "-f", template, *ids).stdout.splitlines()
        return dict(line.split() for line in lines if line.strip())

    def wait_healthy(self, container: str, timeout: float = 120.0) -> None:
        """Wait until ``container``'s health check passes (the image's HEALTHCHECK)."""
        deadline = time.monotonic() + timeout
        while self.docker("inspect", "-f", "{{.State.Health.Status}}", container).stdout.strip() != "healthy":
            assert time.monotonic() < deadline, f"{container} not healthy after {timeout} s"
            time.sleep(1)

    def proxy_log(self) -> list[dict]:
        """The proxy's JSON access log, oldest first."""
        out = self.stack("logs", "--no-color", "proxy").stdout
        lines = (line[line.index("{") :] for line in out.splitlines() if '{"time"' in line)
        return [json.loads(line) for line in lines]


READ_METRICS = (
    "import urllib.request; "
    "print(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/metrics', timeout=10).read().decode())"
)


def docker(*args: str) -> subprocess.CompletedProcess[str]:
    command = ["docker", *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False, timeout=120)


def healthy(url: str, ca_file: Path) -> bool:
    """The app's health through the proxy, over HTTPS verified against the stack's CA."""
    context = ssl.create_default_context(cafile=ca_file)
    try:
        with urllib.request.urlopen(
            f"{url.rstrip('/')}/_stcore/health", timeout=5, context=context
        ) as response:
            return response.status == 200
    except OSError:
        return False


# Images of the tier's stacks: their own tags (APP_IMAGE/PROXY_IMAGE... when set): the engine may be
# shared with other stacks and builds.
IMAGE_TAGS = {
    "APP_IMAGE": "browser-e2e-app:test",
    "PROXY_IMAGE": "browser-e2e-proxy:test",
    "OIDC_DEV_IMAGE": "browser-e2e-oidc-dev:test",
    "PROXY_METRICS_IMAGE": "browser-e2e-proxy-metrics:test",
    "PROMETHEUS_IMAGE": "browser-e2e-prometheus:test",
}


def build_images(names: list[str], env: dict[str, str]) -> None:
    """`scripts/deploy/build-images.sh NAMES` with ``env`` over ours (APP_DIR, APP_IMAGE...), then
    the example staged back (scripts/deploy/stage-app.sh), whatever the build did."""
    done = subprocess.run(["scripts/deploy/build-images.sh", *names], cwd=ROOT, env={**os.environ, **env},
                          capture_output=True, text=True, check=False)  # fmt: skip
    subprocess.run(["scripts/deploy/stage-app.sh"], cwd=ROOT, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr[-4000:]


@contextmanager
def started_stack(project: str, tls_dir: Path, settings: dict[str, str]) -> Iterator[Stack]:
    """`scripts/deploy/stack.sh up` as a user runs it, with sign-in through the development provider
    (SERVE_AUTH=oidc, no OIDC_FILE), free ports on 127.0.0.1, the local CA in ``tls_dir`` (shared
    by the tier's stacks, so the browser trusts each) and ``settings`` over that; `down --volumes`
    after. The URL it printed last is the stack's."""
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith("TLS_")},
        **{name: os.environ.get(name, tag) for name, tag in IMAGE_TAGS.items()},
        "STACK_PROJECT": project,
        "PROXY_BIND": "127.0.0.1",
        "PROXY_PORT": str(free_port()),
        "PROXY_TLS_PORT": str(free_port()),
        "LOCAL_TLS_DIR": str(tls_dir),  # make up makes its CA and localhost certificate here
        "SERVE_AUTH": "oidc",
        "OIDC_DEV_PORT": str(free_port()),
        "OIDC_DEV_DIR": str(tls_dir.parent / f"oidc-dev-{project}"),  # not in the checkout's deploy/secrets
        **settings,
    }
    for name in ("OIDC_FILE", "SERVE_ALLOWED_EMAILS", "SERVE_ALLOWED_DOMAINS", "STACK_PRODUCTION"):
        env.pop(name, None)
    started = Stack("", env, ca_file=tls_dir / "ca.pem")
    up = started.stack("up")
    try:
        assert up.returncode == 0, f"scripts/deploy/stack.sh up failed:\n{up.stderr[-6000:]}"
        started.url = up.stdout.strip().splitlines()[-1]
        assert started.url == f"https://127.0.0.1:{env['PROXY_TLS_PORT']}/"
        started.printed = up.stdout
        yield started
    finally:
        down = started.stack("down", "--volumes")
        assert down.returncode == 0, f"scripts/deploy/stack.sh down failed:\n{down.stderr[-4000:]}"
