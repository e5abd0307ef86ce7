"""Container tier: builds the app image from the committed files on a real Docker engine."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=check)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def docker() -> str:
    """The docker client that can build with BuildKit (starts an engine if none runs)."""
    return run("scripts/ensure-docker.sh").stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def app_image(docker: str) -> str:
    result = run("scripts/build-images.sh", check=False)
    assert result.returncode == 0, f"image build failed:\n{result.stderr[-4000:]}"
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def app_container(docker: str, app_image: str) -> Iterator[dict[str, str]]:
    """The image run as production runs it: read-only root, tmpfs /tmp, no capabilities."""
    port = free_port()
    name = f"sales-dashboard-test-{port}"
    run(
        docker, "run", "-d", "--name", name, "--read-only", "--tmpfs", "/tmp",
        "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
        "-p", f"127.0.0.1:{port}:8501", app_image,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(docker, name, url)
        yield {"name": name, "url": url, "docker": docker}
    finally:
        run(docker, "rm", "-f", name, check=False)


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
