"""The user's own stack, started the way `make up` starts it before the container tier runs and
checked after the whole tier (test_users_stack.py runs last): nothing the tier does (Swarm tests,
the Swarm engine starting and stopping, fault tests, other stacks) may restart it, move its port or
cut the host engine's port rules for it."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from streamlit_load.local_server import free_port

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Snapshot:
    """What must not change: every container (id, start time, restarts), the published address,
    the host engine's swarm state, its NAT rules for the published port, and the host engine's
    bridge networks that have lost their interface (none: a second dockerd started with
    `--bridge none` deletes docker0, which breaks every build's RUN step)."""

    containers: tuple[tuple[str, str, int], ...]
    published: str
    host_swarm: str
    nat_rules: tuple[str, ...]
    bridges_missing: tuple[str, ...]


@dataclass
class UsersStack:
    project: str
    port: int
    docker: str
    env: dict[str, str]
    before: Snapshot | None = None
    tls_port: int = 0  # the published HTTPS port (the URL make up prints)

    def run(self, *args: str) -> str:
        return subprocess.run(args, cwd=ROOT, env=self.env, capture_output=True, text=True, check=True).stdout

    def snapshot(self) -> Snapshot:
        ids = self.run("scripts/deploy/stack.sh", "compose", "ps", "-q").split()
        states = json.loads(self.run(self.docker, "inspect", *ids)) if ids else []
        containers = sorted((s["Id"], s["State"]["StartedAt"], s["RestartCount"]) for s in states)
        # iptables needs root: sudo -n as any other user (GitHub's runner, the CI user).
        rules = subprocess.run(
            [str(ROOT / "scripts/setup/as-root.sh"), "iptables", "-t", "nat", "-S", "DOCKER"],
            capture_output=True, text=True, check=False,
        ).stdout  # fmt: skip
        return Snapshot(
            containers=tuple(containers),
            published=self.run("scripts/deploy/stack.sh", "compose", "port", "proxy", "8080").strip(),
            host_swarm=self.run(self.docker, "info", "--format", "{{.Swarm.LocalNodeState}}").strip(),
            nat_rules=tuple(line for line in rules.splitlines() if f"--dport {self.port} " in line),
            bridges_missing=tuple(self.missing_bridges()),
        )

    def missing_bridges(self) -> list[str]:
        """Bridge networks of the host engine whose Linux bridge interface is gone."""
        ids = self.run(self.docker, "network", "ls", "-q", "--filter", "driver=bridge").split()
        missing = []
        for network in json.loads(self.run(self.docker, "network", "inspect", *ids)) if ids else []:
            interface = network["Options"].get("com.docker.network.bridge.name") or f"br-{network['Id'][:12]}"
            if not Path("/sys/class/net", interface).exists():
                missing.append(f"{network['Name']} ({interface})")
        return missing


@contextmanager
def started_users_stack(
    docker: str, images: dict[str, str], secret_dir: Path, tls_dir: Path
) -> Iterator[UsersStack]:
    """`make up` (scripts/deploy/stack.sh up: builds, starts, waits until healthy) with its defaults but
    for the project name, the ports and where its local CA lives: one app replica, the proxy
    published on 127.0.0.1 only."""
    port, tls_port = free_port(), free_port()
    secret = secret_dir / "cookie_secret"
    secret.write_text(secrets.token_hex(32))
    secret.chmod(0o644)
    env = {**{key: value for key, value in os.environ.items() if not key.startswith("TLS_")}, **images,
           "STACK_PROJECT": f"userstack{port}", "PROXY_PORT": str(port), "PROXY_TLS_PORT": str(tls_port),
           "COOKIE_SECRET_FILE": str(secret), "LOCAL_TLS_DIR": str(tls_dir)}  # fmt: skip
    stack = UsersStack(env["STACK_PROJECT"], port, docker, env, tls_port=tls_port)
    up = subprocess.run(["scripts/deploy/stack.sh", "up"], cwd=ROOT, env=env, capture_output=True, text=True)
    try:
        assert up.returncode == 0, f"make up failed:\n{up.stderr[-4000:]}"
        # The URL names the address it is bound to; no warning about every interface.
        assert up.stdout.splitlines()[-1] == f"https://127.0.0.1:{tls_port}/"
        assert "stack: the proxy listens on 127.0.0.1 only (PROXY_BIND)" in up.stderr
        assert "WARNING: the proxy listens on every interface" not in up.stderr
        stack.before = stack.snapshot()
        yield stack
    finally:
        subprocess.run(
            ["scripts/deploy/stack.sh", "down"], cwd=ROOT, env=env, capture_output=True, check=False
        )
