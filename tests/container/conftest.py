"""Container tier: builds the app image from the committed files on a real Docker engine."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from streamlit_load.client.tls import CA_FILE_VARIABLE
from streamlit_load.local_server import free_port

from .users_stack import UsersStack, started_users_stack

ROOT = Path(__file__).resolve().parents[2]


# What `make test` puts in the environment of its commands. A `make` run with them is a sub-make,
# which prints "make[N]: Entering/Leaving directory" around its output: a test that runs a
# command as a user types it in a shell (`make up`, and reads its URL) drops them.
MAKE_VARIABLES = ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")


def as_typed(env: dict[str, str]) -> dict[str, str]:
    """``env`` without make's own variables (MAKE_VARIABLES)."""
    return {key: value for key, value in env.items() if key not in MAKE_VARIABLES}


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=check)


@pytest.fixture(scope="session")
def docker() -> str:
    """The docker client that can build with BuildKit (starts an engine if none runs)."""
    return run("scripts/setup/ensure-docker.sh").stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def images(docker: str) -> dict[str, str]:
    """Every project image built from the committed files: {"APP_IMAGE": tag, "PROXY_IMAGE": tag}."""
    result = run("scripts/deploy/build-images.sh", check=False)
    assert result.returncode == 0, f"image build failed:\n{result.stderr[-4000:]}"
    return dict(line.split("=", 1) for line in run("scripts/deploy/images.sh", "--env").stdout.split())


@pytest.fixture(scope="session", autouse=True)
def users_stack(
    docker: str, images: dict[str, str], local_tls: Path, tmp_path_factory
) -> Iterator[UsersStack]:
    """The user's own `make up` stack, started before any test of the tier (autouse) and checked
    after all of them (test_users_stack.py, moved last below)."""
    with started_users_stack(docker, images, tmp_path_factory.mktemp("users-stack"), local_tls) as started:
        yield started


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.path.name == "test_users_stack.py")  # stable: the rest keep order


@pytest.fixture(scope="session")
def app_image(images: dict[str, str]) -> str:
    return images["APP_IMAGE"]


@pytest.fixture(scope="session")
def proxy_image(images: dict[str, str]) -> str:
    return images["PROXY_IMAGE"]


@contextmanager
def hardened_container(docker: str, image: str, name_prefix: str) -> Iterator[dict[str, str]]:
    """``image`` run as production runs it (read-only root, tmpfs /tmp, no capabilities, no new
    privileges) on a free port of 127.0.0.1, until healthy; removed afterwards."""
    port = free_port()
    name = f"{name_prefix}-{port}"
    run(
        docker, "run", "-d", "--name", name, "--read-only", "--tmpfs", "/tmp",
        "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
        "-p", f"127.0.0.1:{port}:8501", image,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(docker, name, url)
        yield {"name": name, "url": url, "docker": docker, "image": image}
    finally:
        run(docker, "rm", "-f", name, check=False)


@pytest.fixture(scope="session")
def app_container(docker: str, app_image: str) -> Iterator[dict[str, str]]:
    """The example's image run as production runs it (``hardened_container``)."""
    with hardened_container(docker, app_image, "sales-dashboard-test") as container:
        yield container


def build_app_image(app_dir: Path, app_main: str, tag: str) -> subprocess.CompletedProcess[str]:
    """``scripts/deploy/build-images.sh app`` with the knob alone (APP_DIR, APP_MAIN), as a user builds
    their app: no file of the template changed. IMAGES_PREBUILT=0: built here even where CI built
    the session's images beforehand."""
    env = {"APP_DIR": str(app_dir), "APP_MAIN": app_main, "APP_IMAGE": tag, "IMAGES_PREBUILT": "0"}
    return run(
        "env", *(f"{k}={v}" for k, v in env.items()), "scripts/deploy/build-images.sh", "app", check=False
    )


@contextmanager
def built_app_image(docker: str, app_dir: Path, tag: str) -> Iterator[str]:
    """The app image of ``app_dir`` built under ``tag`` with the knob alone (``build_app_image``),
    removed after; build/app-src is staged back to the example (its staging replaced the session's)."""
    built = build_app_image(app_dir, "streamlit_app.py", tag)
    try:
        assert built.returncode == 0, built.stderr[-4000:]
        assert built.stdout.split() == [tag]
        yield tag
    finally:
        run("scripts/deploy/stage-app.sh", check=False)  # build/app-src back to the example
        run(docker, "rmi", "-f", tag, check=False)


@pytest.fixture(scope="session")
def hello_image(docker: str, images: dict[str, str], hello_app: Path) -> Iterator[str]:
    """The app image of Streamlit's hello demo (tests/conftest.py's copy outside the repository),
    built with the knob alone after the session's images."""
    with built_app_image(docker, hello_app, f"hello-app-test:{os.getpid()}") as tag:
        yield tag


def wait_healthy(docker: str, name: str, url: str, timeout: float = 60) -> None:
    """Waits for the app in container `name` to answer /_stcore/health at `url`; fails with its logs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    logs = run(docker, "logs", name, check=False)
    pytest.fail(f"container never became healthy:\n{logs.stdout}{logs.stderr}")


@dataclass
class Stack:
    """The compose stack as `make up` starts it, on free ports of 127.0.0.1: `url` is its HTTPS
    (the URL `make up` prints), `http_url` the plain HTTP that redirects there."""

    url: str
    project: str
    docker: str
    env: dict[str, str]
    http_url: str = ""
    prometheus_url: str | None = None  # with the observability profile (OBSERVABILITY=1)
    log: str = ""  # what `scripts/deploy/stack.sh up` said on stderr

    def compose(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["scripts/deploy/stack.sh", "compose", *args], cwd=ROOT, env=self.env,
            capture_output=True, text=True, check=check,
        )  # fmt: skip

    def containers(self, service: str) -> list[str]:
        ids = self.compose("ps", "-q", service).stdout.split()
        names = run(self.docker, "inspect", "-f", "{{.Name}}", *ids).stdout.split() if ids else []
        return sorted(name.lstrip("/") for name in names)

    def exec(self, container: str, *command: str) -> subprocess.CompletedProcess[str]:
        return run(self.docker, "exec", container, *command, check=False)

    def proxy_log(self) -> list[dict]:
        """The proxy's JSON access log lines, oldest first."""
        (proxy,) = self.containers("proxy")
        out = run(self.docker, "logs", proxy).stdout
        return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


# Limits low enough that tests can reach them quickly (production defaults are higher).
STACK_LIMITS = {"PROXY_WS_PER_CLIENT": "8", "PROXY_RATE_PER_CLIENT": "50r/s", "PROXY_BURST_PER_CLIENT": "300"}
STACK_REPLICAS = 3


@pytest.fixture(scope="session")
def local_tls(tmp_path_factory) -> Iterator[Path]:
    """The directory of the local CA and localhost certificate `make up` makes (LOCAL_TLS_DIR),
    shared by the session's stacks; every client of this session trusts that CA (STACK_CA_FILE)."""
    directory = tmp_path_factory.mktemp("local-tls")
    env = {key: value for key, value in os.environ.items() if not key.startswith("TLS_")}
    made = subprocess.run(
        ["scripts/deploy/tls-cert.sh"], cwd=ROOT, env={**env, "LOCAL_TLS_DIR": str(directory)},
        capture_output=True, text=True,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert f"{directory}/ca.pem" in made.stderr  # the CA's path is printed for the user
    before = os.environ.get(CA_FILE_VARIABLE)
    os.environ[CA_FILE_VARIABLE] = str(directory / "ca.pem")
    yield directory
    if before is None:
        os.environ.pop(CA_FILE_VARIABLE, None)
    else:
        os.environ[CA_FILE_VARIABLE] = before


@contextmanager
def started_stack(
    docker: str,
    images: dict[str, str],
    secret_dir: Path,
    tls_dir: Path,
    name: str,
    replicas: int,
    observability: bool = False,
    **limits: str,
) -> Iterator[Stack]:
    """deploy/compose.yaml started by scripts/deploy/stack.sh (as `make up`) on free 127.0.0.1 ports,
    with its own cookie secret and the session's local CA, and stopped again (`make down`, with
    Prometheus' data). ``observability``: as `make up OBSERVABILITY=1`, Prometheus on a free port too."""
    port, tls_port, prometheus_port = free_port(), free_port(), free_port()
    secret = secret_dir / "cookie_secret"
    secret.write_text(secrets.token_hex(32))
    secret.chmod(0o644)
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith("TLS_")}, **images, **limits,
        "STACK_PROJECT": f"{name}{port}", "PROXY_PORT": str(port), "PROXY_TLS_PORT": str(tls_port),
        "PROXY_BIND": "127.0.0.1", "APP_REPLICAS": str(replicas), "SKIP_BUILD": "1",
        "COOKIE_SECRET_FILE": str(secret), "LOCAL_TLS_DIR": str(tls_dir),
        "OBSERVABILITY": "1" if observability else "0", "PROMETHEUS_PORT": str(prometheus_port),
    }  # fmt: skip
    up = subprocess.run(["scripts/deploy/stack.sh", "up"], cwd=ROOT, env=env, capture_output=True, text=True)
    urls = [line.rstrip("/") for line in up.stdout.split()]
    stack = Stack(
        url=urls[-1] if urls else "", project=env["STACK_PROJECT"], docker=docker, env=env, log=up.stderr,
        http_url=f"http://127.0.0.1:{port}",
    )  # fmt: skip
    try:
        assert up.returncode == 0, f"make up failed:\n{up.stderr[-4000:]}"
        assert stack.url == f"https://127.0.0.1:{tls_port}"  # make up's last line: the HTTPS URL
        if observability:
            assert urls == [f"http://127.0.0.1:{prometheus_port}", stack.url]  # Prometheus' before it
            stack.prometheus_url = urls[0]
        else:
            assert urls == [stack.url]
        yield stack
    finally:
        down = ["scripts/deploy/stack.sh", "down", "--volumes"]  # Prometheus' data volume too
        subprocess.run(down, cwd=ROOT, env=env, capture_output=True, check=False)


@pytest.fixture(scope="session")
def stack(docker: str, images: dict[str, str], local_tls: Path, tmp_path_factory) -> Iterator[Stack]:
    """deploy/compose.yaml with 3 app replicas, low limits and the observability profile
    (Prometheus, the proxy's metrics), for the whole session."""
    with started_stack(
        docker, images, tmp_path_factory.mktemp("secrets"), local_tls, "salestest", STACK_REPLICAS,
        observability=True, **STACK_LIMITS,
    ) as started:  # fmt: skip
        yield started


def replica_ids(stack: Stack) -> dict[str, str]:
    """{st_replica id: container name} of the app's replicas (the entrypoint's replica_id)."""
    ids = {}
    for name in stack.containers("app"):
        addresses = run(
            stack.docker, "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", name
        ).stdout.split()
        for address in addresses:
            ids[hashlib.sha256(f"{address}:8501".encode()).hexdigest()[:16]] = name
    return ids
