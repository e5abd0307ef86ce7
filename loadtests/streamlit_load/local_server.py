"""Start the real app with `python -m streamlit_serving run` (Streamlit's CLI with TCP_NODELAY) on a free
port, on 127.0.0.1.

The one launcher of a local server: the integration tests and the benchmarks use it.
A server that does not start raises ``ServerStartError`` carrying the server's log.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from streamlit_load.client.tls import client_context

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "app" / "streamlit_app.py"
SERVE = ("-m", "streamlit_serving")  # Streamlit's CLI with the settings checked and TCP_NODELAY on (cwd REPO)
START_TIMEOUT = 60.0


class ServerStartError(RuntimeError):
    """The server exited or never became healthy; the message holds its log."""


def healthy(base_url: str) -> bool:
    """True when ``{base_url}/_stcore/health`` answers 200 with Streamlit's ``ok``: any other
    server that holds the port (a metrics endpoint answers every path) is not the app."""
    try:
        health = f"{base_url}/_stcore/health"
        with urllib.request.urlopen(health, timeout=5, context=client_context()) as response:  # noqa: S310
            return response.status == 200 and response.read(16).strip() == b"ok"
    except OSError:
        return False


@dataclass
class Server:
    """A running Streamlit process: its URL, pid and log file (and the process, to wait for), and
    the URL of the app's own metrics (None with ``SERVE_METRICS_PORT=0``)."""

    base_url: str
    pid: int
    log_path: Path
    process: subprocess.Popen | None = None
    metrics_url: str | None = None
    env: dict[str, str] = field(default_factory=dict)  # the settings it was started with

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def healthy(self) -> bool:
        return healthy(self.base_url)


_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A port free on 127.0.0.1 now and never handed out before by this process: the kernel may
    give the same ephemeral port to two binds in a row, and an app and its metrics endpoint on one
    port looked healthy (the metrics answer every path) while the app could not bind."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in _HANDED_OUT:
            _HANDED_OUT.add(port)
            return port


def wait_ready(
    process: subprocess.Popen,
    ready: Callable[[], bool],
    log: Callable[[], str],
    error: type[Exception],
    timeout: float,
) -> None:
    """Poll ``ready()`` until it is true; raise ``error`` with ``log()`` if ``process`` exits first
    or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while not ready():
        if process.poll() is not None:
            raise error(f"{process.args[:2]} exited with {process.returncode}:\n{log()}")
        if time.monotonic() > deadline:
            raise error(f"{process.args[:2]} not ready after {timeout}s:\n{log()}")
        time.sleep(0.2)


def stop(process: subprocess.Popen, timeout: float = 10) -> None:
    """SIGTERM, then SIGKILL if the process has not exited within ``timeout`` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def running_server(
    *options: str,
    env: dict[str, str] | None = None,
    base_path: str = "",
    port: int | None = None,
    app: Path = APP,
    cwd: Path = REPO,
) -> Iterator[Server]:
    """Start the app (from ``cwd``, default the repo root; `make run` and the image start it from
    the app's own directory; the template's .streamlit/config.toml applies either way), wait for
    /_stcore/health, yield it, then terminate it. ``base_path`` sets server.baseUrlPath; ``port``
    a port known beforehand (a sign-in redirect URI names it), else a free one; ``app`` the main
    script (default: the example's)."""
    port = port or free_port()
    env = {"SERVE_METRICS_PORT": str(free_port()), **(env or {})}
    metrics_port = int(env["SERVE_METRICS_PORT"]) if env["SERVE_METRICS_PORT"].strip().isdigit() else 0
    if base_path:
        options = (*options, "--server.baseUrlPath", base_path)
    command = [
        sys.executable,
        *SERVE,
        "run",
        str(app),
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        *options,
    ]
    with tempfile.NamedTemporaryFile("wb", prefix="streamlit-", suffix=".log", delete=False) as log:
        process = subprocess.Popen(
            command, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **env}
        )
    path = f"/{base_path.strip('/')}" if base_path else ""
    metrics_url = f"http://127.0.0.1:{metrics_port}/metrics" if metrics_port else None
    server = Server(
        f"http://127.0.0.1:{port}{path}", process.pid, Path(log.name), process, metrics_url, dict(env)
    )
    try:
        wait_ready(process, server.healthy, server.log, ServerStartError, START_TIMEOUT)
        yield server
    finally:
        stop(process)
        server.log_path.unlink(missing_ok=True)
