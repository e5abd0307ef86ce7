"""The compose stack as `make up` starts it (scripts/stack.sh), for the browser tier."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Stack:
    """A running compose stack (scripts/stack.sh) and the URL of its proxy."""

    url: str
    env: dict[str, str]

    def stack(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["scripts/stack.sh", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, check=False
        )

    def recreate_app(self, settings: dict[str, str], timeout: float = 120.0) -> None:
        """Recreate the app container with ``settings`` (SALES_*) over the stack's environment
        (``{}``: as it was started), then wait until the proxy, which re-resolves the replicas
        every few seconds, serves the new one."""
        env = {**self.env, **settings}
        scale = f"app={env.get('APP_REPLICAS', '1')}"
        up = ["compose", "up", "--detach", "--no-build", "--no-deps", "--force-recreate", "--scale", scale]
        done = subprocess.run(
            ["scripts/stack.sh", *up, "app"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, f"recreating the app failed:\n{done.stderr[-4000:]}"
        deadline = time.monotonic() + timeout
        while not healthy(self.url):
            assert time.monotonic() < deadline, f"{self.url} not healthy through the proxy in {timeout:.0f} s"
            time.sleep(0.5)
        # A replica may have a new address: the proxy picks it up within its DNS interval.
        time.sleep(float(env.get("PROXY_DNS_INTERVAL", "5")) + 1)

    def restart(self, service: str) -> None:
        """`docker compose restart SERVICE`: stop (SIGTERM), then start the same container."""
        done = self.stack("compose", "restart", service)
        assert done.returncode == 0, f"restart {service} failed:\n{done.stderr[-4000:]}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/_stcore/health", timeout=5) as response:
            return response.status == 200
    except OSError:
        return False
