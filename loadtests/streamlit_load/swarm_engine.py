"""The Swarm engine of scripts/setup/swarm-engine.sh, for tests and benchmarks: a Docker engine of its
own, so nothing here ever puts the user's engine into a swarm or takes it out of one.

    with started_swarm_engine() as engine:  # starts it unless it runs already (then leaves it up)
        engine.load("sales-dashboard:dev")  # images built on the host's engine, copied in
        engine.run("service", "ls")         # the docker client, bound to that engine
        subprocess.run(["scripts/deploy/swarm.sh", "up"], env=engine.env({...}))

Its stacks publish ports in host mode on this host, so they answer on 127.0.0.1:PORT (the
browser tier drives Chromium against them like against the compose stack).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .local_server import free_port

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "setup" / "swarm-engine.sh"


def _script(*args: str, check: bool = True, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != "DOCKER_HOST"} | extra
    result = subprocess.run([str(SCRIPT), *args], cwd=REPO, env=env, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise RuntimeError(f"scripts/setup/swarm-engine.sh {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result


@dataclass(frozen=True)
class SwarmEngine:
    """A docker client bound to the Swarm engine (``DOCKER_HOST``)."""

    host: str  # unix:///run/….sock
    docker: str  # the client binary (Debian's, which matches the engine)

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        """This process's environment with DOCKER_HOST on the engine (for scripts/deploy/swarm.sh)."""
        return {**os.environ, **(extra or {}), "DOCKER_HOST": self.host}

    def run(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """``docker ARGS…`` against the engine."""
        return subprocess.run(
            [self.docker, *args], cwd=REPO, env=self.env(), capture_output=True, text=True,
            check=check, timeout=timeout,
        )  # fmt: skip

    def load(self, *images: str) -> None:
        """Copies images from the host's engine, those missing or different here only."""
        _script("load", *images)

    def https_stack_env(
        self, prefix: str, images: dict[str, str], scratch: Path, local_tls: Path, **settings: str
    ) -> dict[str, str]:
        """The environment of ``scripts/deploy/swarm.sh`` for a stack of this engine served as `make up`
        serves the compose stack, over HTTPS: named ``prefix`` + its HTTP port, PROXY_PORT and
        PROXY_TLS_PORT free on 127.0.0.1, ``images`` as they are (SKIP_BUILD=1), a cookie secret
        made in ``scratch`` (0600: copied into a Swarm secret), the local CA and its certificate in
        ``local_tls`` (made by `swarm.sh up` when missing: clients trust ``local_tls/ca.pem``; the
        caller's TLS_CERT_FILE/TLS_KEY_FILE are left out so that certificate is the one served),
        open (SERVE_AUTH=none-public: the Swarm stack wants the choice made), then ``settings``."""
        port = free_port()
        secret = scratch / f"cookie_secret-{port}"
        secret.write_text(os.urandom(32).hex())
        secret.chmod(0o600)
        env = self.env({
            **images, "SWARM_STACK": f"{prefix}{port}", "PROXY_PORT": str(port),
            "PROXY_TLS_PORT": str(free_port()), "SKIP_BUILD": "1", "COOKIE_SECRET_FILE": str(secret),
            "LOCAL_TLS_DIR": str(local_tls), "SERVE_AUTH": "none-public", **settings,
        })  # fmt: skip
        return {key: value for key, value in env.items() if key not in ("TLS_CERT_FILE", "TLS_KEY_FILE")}


def _lock_file() -> Path:
    """scripts/setup/swarm-engine.sh's lock (one per engine name), made readable by every user."""
    # The path scripts/setup/swarm-engine.sh uses: one machine-wide lock for every user of the engine.
    path = Path("/tmp") / f"{os.environ.get('SWARM_ENGINE_NAME', 'sd-swarm')}.lock"  # noqa: S108
    if not path.exists():
        path.touch()
        with contextlib.suppress(OSError):
            path.chmod(0o666)
    return path


@contextmanager
def started_swarm_engine() -> Iterator[SwarmEngine]:
    """The Swarm engine, started if it does not run yet. Held with a shared lock while in use, so
    another checkout's session cannot stop it meanwhile; stopped afterwards if this call started
    it and no one else uses it then (else left running: `make swarm-engine-down`)."""
    running = _script("status", check=False).returncode == 0
    host = _script("up").stdout.strip().splitlines()[-1].removeprefix("DOCKER_HOST=")
    env = {key: value for key, value in os.environ.items() if key != "DOCKER_HOST"}
    docker = subprocess.run(
        [str(REPO / "scripts" / "setup" / "ensure-docker.sh")], cwd=REPO, env=env,
        capture_output=True, text=True, check=True,
    ).stdout.split()[-1]  # fmt: skip
    with _lock_file().open() as lock:
        fcntl.flock(lock, fcntl.LOCK_SH)
        try:
            yield SwarmEngine(host, docker)
        finally:
            if not running:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # no one else uses it now
                except OSError:
                    pass
                else:
                    _script("down", check=False, SWARM_ENGINE_LOCK_HELD="1")
