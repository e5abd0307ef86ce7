"""The compose stack as `make up` starts it (scripts/stack.sh), for the browser tier."""

from __future__ import annotations

import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Stack:
    """A running compose stack (scripts/stack.sh), the URL of its proxy and of its Prometheus
    (the observability profile: `make up OBSERVABILITY=1`)."""

    url: str
    env: dict[str, str]
    prometheus_url: str = ""

    def stack(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["scripts/stack.sh", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, check=False
        )

    def restart(self, service: str) -> None:
        """`docker compose restart SERVICE`: stop (SIGTERM), then start the same container."""
        done = self.stack("compose", "restart", service)
        assert done.returncode == 0, f"restart {service} failed:\n{done.stderr[-4000:]}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
