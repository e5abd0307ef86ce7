"""A server under test and how to watch it: the one place benchmarks start and probe servers.

Target           the URL users load, a probe of the server's CPU and memory, its live sessions,
                 its metrics URL
local_target()   ``-m streamlit_serving`` on a free 127.0.0.1 port (psutil on its pid); ``sign_in=True``:
                 with SERVE_AUTH=oidc and the development provider as a local process
url_target()     a server someone else started (``--pid`` local process, ``--container`` cgroup)
ComposeStack     ``scripts/deploy/stack.sh`` on a compose project of its own (free ports on 127.0.0.1):
                 start, restart the app with other settings, probe every app replica's cgroup
                 (summed) and the proxy's, stop. Its URL is HTTPS; the local CA that signed the
                 proxy's certificate is trusted by every client this process starts (STACK_CA_FILE)
"""

from __future__ import annotations

import contextlib
import os
import secrets
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

from streamlit_load.client.tls import CA_FILE_VARIABLE

from .dev_provider import DEV_ALLOWED_EMAILS, running_provider
from .harness import MACHINE_PACED, REPO
from .local_server import APP, Server, free_port, healthy, running_server
from .prometheus import prometheus_sessions
from .server_probe import (
    CgroupProbe,
    Probe,
    ProcessProbe,
    Sampler,
    SumProbe,
    docker_exec_sessions,
    http_sessions,
)

DOCKER = os.environ.get("DOCKER", "/usr/bin/docker")
STACK = str(REPO / "scripts" / "deploy" / "stack.sh")


def with_app_env_file(env: dict[str, str], name: str, prefix: str) -> dict[str, str]:
    """``env`` with the app's own settings (the variables whose names start with ``prefix``; none
    for an empty prefix) written to ``build/app-env/<name>.env`` and that file as APP_ENV_FILE: the
    stacks pass an app's own settings only through that file."""
    path = REPO / "build" / "app-env" / f"{name}.env"
    path.parent.mkdir(parents=True, exist_ok=True)
    own = sorted(item for item in env.items() if prefix and item[0].startswith(prefix))
    path.write_text("".join(f"{key}={value}\n" for key, value in own))
    return {**env, "APP_ENV_FILE": str(path)}


Sessions = Callable[[], int | None]


@dataclass
class Target:
    """A server under test: ``url`` for the users; ``probe`` (CPU seconds, memory) and ``sessions``
    (live sessions) for the sampler, None where they cannot be read."""

    url: str
    probe: Probe | None = None
    sessions: Sessions | None = None
    pid: int | None = None  # a local server's process
    prometheus: str | None = None  # the stack's Prometheus (OBSERVABILITY=1), for the cross-check
    metrics_url: str | None = None  # the app's own /metrics (SERVE_METRICS_PORT), None where off
    server: Server | None = None  # a local server's handle (its log), from local_target()

    def sampler(self, interval: float = 0.5) -> Sampler | None:
        return Sampler(self.probe, self.sessions, interval=interval) if self.probe else None


@contextlib.contextmanager
def local_target(
    env: dict[str, str] | None = None,
    options: list[str] | None = None,
    *,
    sign_in: bool = False,
    app: Path = APP,
) -> Iterator[Target]:
    """The app (``app``: its main script, default the example's) on a free local port, with
    ``env`` and extra streamlit ``options``; ``sign_in``: SERVE_AUTH=oidc against the development
    provider (its test users marked allowed let in). A benchmark's server, so without the
    per-session rerun limit unless ``env`` sets one (harness.MACHINE_PACED)."""
    with contextlib.ExitStack() as stack:
        port = free_port()
        env = {**MACHINE_PACED, **(env or {})}
        if sign_in:
            env = {**env, **stack.enter_context(dev_sign_in(port))}
        server = stack.enter_context(running_server(*(options or []), env=env, port=port, app=app))
        yield Target(
            server.base_url,
            ProcessProbe(server.pid),
            http_sessions(server.base_url),
            server.pid,
            metrics_url=server.metrics_url,
            server=server,
        )


@contextlib.contextmanager
def dev_sign_in(port: int) -> Iterator[dict[str, str]]:
    """The development provider as a local process, for an app about to start on ``port``: the
    app's sign-in settings (the app's own, its cookie secret) while the provider runs."""
    redirect_uri = f"http://127.0.0.1:{port}/oauth2callback"
    with running_provider([redirect_uri]) as provider, tempfile.TemporaryDirectory() as scratch:
        yield {
            "SERVE_AUTH": "oidc",
            "SERVE_ALLOWED_EMAILS": DEV_ALLOWED_EMAILS,
            "SERVE_OIDC_FILE": str(provider.settings_file(redirect_uri, Path(scratch))),
            "STREAMLIT_SERVER_COOKIE_SECRET": secrets.token_hex(32),
        }


def server_options(pairs: list[str]) -> list[str]:
    """``["runner.postScriptGC=true"]`` -> ``["--runner.postScriptGC", "true"]`` (``--server-option``)."""
    return [part for pair in pairs for part in (f"--{pair.split('=', 1)[0]}", pair.split("=", 1)[1])]


@contextlib.contextmanager
def url_target(url: str, pid: int | None = None, container: str | None = None) -> Iterator[Target]:
    url = url.rstrip("/")
    if not healthy(url):
        raise RuntimeError(f"no healthy server at {url}")
    if container:
        yield Target(url, CgroupProbe(container_pid(container)), container_sessions(container))
    else:
        yield Target(url, ProcessProbe(pid) if pid else None, http_sessions(url), pid)


def built_images() -> tuple[str, dict[str, str]]:
    """(the docker client, {"APP_IMAGE": tag, ...}): the engine started if need be and every image
    of deploy/images.tsv built from the checkout (scripts/deploy/build-images.sh)."""

    def script(*args: str) -> str:
        return subprocess.run(args, cwd=REPO, check=True, capture_output=True, text=True).stdout.strip()

    client = script("scripts/setup/ensure-docker.sh").splitlines()[-1]
    script("scripts/deploy/build-images.sh")
    return client, dict(line.split("=", 1) for line in script("scripts/deploy/images.sh", "--env").split())


def docker(*args: str, check: bool = True) -> str:
    return subprocess.run([DOCKER, *args], capture_output=True, text=True, check=check).stdout.strip()


def container_pid(container: str) -> int:
    return int(docker("inspect", "-f", "{{.State.Pid}}", container))


def container_addresses(container: str) -> list[str]:
    """The container's addresses on its engine's networks (this host routes to them on Linux)."""
    template = "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}"
    return docker("inspect", "-f", template, container).split()


def container_sessions(container: str, port: int = 8501) -> Sessions:
    """Live sessions of the app in ``container``: over HTTP to its address on the engine's network
    when this host reaches it (Linux), else with ``docker exec``. HTTP first, because an exec'd
    python3 runs inside the container's cgroup: ~50 ms of CPU every read that would count as the
    app's own and inflate its CPU per interaction (by ~8 ms at 6 interactions/s)."""
    for address in container_addresses(container):
        base = f"http://{address}:{port}"
        if healthy(base):
            return http_sessions(base)
    return docker_exec_sessions(container, port=port, docker=DOCKER)


@dataclass
class ComposeStack:
    """``deploy/compose.yaml`` through ``scripts/deploy/stack.sh`` (as ``make up``), project ``project`` on
    free ports of 127.0.0.1. ``settings`` (the app's own, through the app env file; PROXY_*,
    APP_REPLICAS) are passed to every start; the images are built on the first start unless
    ``build`` is False (SKIP_BUILD=1). ``app_prefix``: the prefix of the app's own settings (the
    example's settings prefix, sales_load.page.SETTINGS_PREFIX), the ones that go to the app env file.
    ``PROXY_TLS=off`` in the settings serves plain HTTP (the URL then says http)."""

    project: str
    build: bool = True
    env: dict[str, str] = field(default_factory=dict)
    url: str = ""
    prometheus_url: str | None = None  # with OBSERVABILITY=1: printed before the app's URL
    app_prefix: str = ""

    def __post_init__(self) -> None:
        self.env = {
            **os.environ,
            "STACK_PROJECT": self.project,
            "PROXY_BIND": "127.0.0.1",
            "PROXY_PORT": os.environ.get("PROXY_PORT") or str(free_port()),
            "PROXY_TLS_PORT": os.environ.get("PROXY_TLS_PORT") or str(free_port()),
            # Used only with OBSERVABILITY=1 (the stack's Prometheus, read beside the load test).
            "PROMETHEUS_PORT": os.environ.get("PROMETHEUS_PORT") or str(free_port()),
            **self.env,
        }

    def _stack(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([STACK, *args], cwd=REPO, env=self.env, capture_output=True, text=True)
        if check and done.returncode != 0:
            raise RuntimeError(
                f"scripts/deploy/stack.sh {' '.join(args)} failed:\n{done.stdout}\n{done.stderr[-4000:]}"
            )
        return done

    def start(self, settings: dict[str, str], *, fresh_app: bool = False) -> str:
        """Start (or change) the stack with ``settings``; ``fresh_app``: new app containers even
        when the settings did not change (a cold server per run). Returns the proxy's URL."""
        self.env = with_app_env_file({**self.env, **settings}, self.project, self.app_prefix)
        self.env["SKIP_BUILD"] = "0" if self.build else "1"
        if fresh_app and self.url:
            replicas = self.env.get("APP_REPLICAS", "1")
            self._stack("compose", "up", "--detach", "--no-build", "--force-recreate", "--no-deps",
                        "--scale", f"app={replicas}", "app")  # fmt: skip
        up = self._stack("up")
        self.build = False  # built once; later starts reuse the images
        urls = up.stdout.split()
        self.url = urls[-1].rstrip("/")
        self.prometheus_url = urls[-2].rstrip("/") if len(urls) > 1 else None
        if not self.env.get("TLS_CERT_FILE"):  # make up's local CA signed the proxy's certificate
            local = Path(self.env.get("LOCAL_TLS_DIR") or REPO / "deploy/secrets/local-tls")
            os.environ.setdefault(CA_FILE_VARIABLE, str(local.resolve() / "ca.pem"))  # Locust inherits it
        self.wait_through_proxy()
        return self.url

    def wait_through_proxy(self, timeout: float = 60.0) -> None:
        """Health through the proxy, which re-resolves the replicas every few seconds."""
        deadline = time.monotonic() + timeout
        while not healthy(self.url):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.url} not healthy through the proxy after {timeout:.0f} s")
            time.sleep(0.5)

    def stop(self) -> None:
        # The project is the benchmark's own: its Prometheus data (OBSERVABILITY=1) goes too.
        self._stack("down", "--volumes", check=False)

    def containers(self, service: str) -> list[str]:
        ids = docker("ps", "-q", "--filter", f"label=com.docker.compose.project={self.project}",
                     "--filter", f"label=com.docker.compose.service={service}").split()  # fmt: skip
        return sorted(ids)

    def app_probe(self) -> SumProbe:
        """CPU and memory of every app replica's cgroup, summed."""
        return SumProbe([CgroupProbe(container_pid(c)) for c in self.containers("app")])

    def proxy_probe(self) -> SumProbe:
        return SumProbe([CgroupProbe(container_pid(c)) for c in self.containers("proxy")])

    def app_sessions(self) -> Sessions:
        """Live sessions of every replica (``container_sessions``: over HTTP, not in its cgroup), summed."""
        readers = [container_sessions(c) for c in self.containers("app")]

        def read() -> int | None:
            counts = [reader() for reader in readers]
            return None if any(c is None for c in counts) else sum(c for c in counts if c is not None)

        return read

    def target(self) -> Target:
        # With the stack's Prometheus, live sessions come from it; without, over HTTP to each replica
        # (container_sessions): `docker exec python3` would spend CPU in the cgroup measured.
        sessions = prometheus_sessions(self.prometheus_url) if self.prometheus_url else self.app_sessions()
        return Target(self.url, self.app_probe(), sessions, prometheus=self.prometheus_url)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
