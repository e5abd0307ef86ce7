"""scripts/setup/ensure-docker.sh for a user who may not use the running engine: told why, at once.

A fresh Debian 12 user without the docker group was told "dockerd did not start; see
/tmp/dockerd.log: errors pretty printing info" after a minute of waiting (Debian's client says only
that on a permission error). The test makes a temporary user with no groups (useradd, as
scripts/ci/ci-user.sh makes the CI user), runs the script as it and removes the user.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import ROOT, run

AS_ROOT = str(ROOT / "scripts/setup/as-root.sh")


@pytest.fixture
def user_without_docker(docker: str) -> Iterator[str]:
    """A user of its own group only (not docker), removed afterwards; the engine runs."""
    name = f"nodocker{os.getpid() % 100000}"
    run(
        AS_ROOT,
        "useradd",
        "--no-create-home",
        "--home-dir",
        "/nonexistent",
        "--shell",
        "/usr/sbin/nologin",
        name,
    )
    try:
        assert "docker" not in run("id", "-nG", name).stdout.split()
        yield name
    finally:
        run(AS_ROOT, "userdel", name, check=False)


@pytest.fixture
def scripts_copy() -> Iterator[Path]:
    """The scripts where any user can read them (a checkout under a private home may not be)."""
    directory = Path(tempfile.mkdtemp(prefix="ensure-docker-", dir="/tmp"))
    try:
        for script in ("ensure-docker.sh", "apt-install.sh", "as-root.sh"):
            shutil.copy2(ROOT / "scripts" / "setup" / script, directory / script)
        directory.chmod(0o755)
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def test_a_user_outside_the_docker_group_is_told_so_before_anything_starts(user_without_docker, scripts_copy):
    environment = [
        "env",
        "-i",
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME=/tmp",
    ]
    start = time.monotonic()
    script = str(scripts_copy / "ensure-docker.sh")
    result = subprocess.run(
        [AS_ROOT, "runuser", "-u", user_without_docker, "--", *environment, script],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    took = time.monotonic() - start
    assert result.returncode != 0
    assert result.stdout == ""  # no client printed: nothing to use
    user = user_without_docker
    assert (
        f"ensure-docker: the Docker engine runs, but {user} may not use it (/var/run/docker.sock): "
        f"{user} is not in the docker group. Add it (sudo usermod -aG docker {user}) and log in again"
    ) in result.stderr, result.stderr
    assert "dockerd did not start" not in result.stderr
    assert "starting" not in result.stderr  # neither dockerd nor the service was started
    assert took < 20  # at once, not after the minute of waiting for an engine to answer
