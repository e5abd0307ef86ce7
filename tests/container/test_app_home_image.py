"""The app's home in its image, on the compose stack as `make up APP_DATA=1` starts it: the app of
tests/apps/app_home (its data/x.csv read by a relative path, its own .streamlit/config.toml) runs
from its root, /srv/app/app, with the template's default where the app sets none and the pin over
the app's value; its first run (`make up` runs it in one replica) passes there too. With the data
volume on, a file the page writes in SERVE_DATA_DIR survives a restart of its container, and
`make down --volumes` keeps the volume (only `docker volume rm` deletes the data).
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from streamlit_load.client import StreamlitSession

from .conftest import ROOT, Stack, built_app_image, run, started_stack

APP = ROOT / "tests" / "apps" / "app_home"


@pytest.fixture(scope="session")
def users_stack() -> None:
    """This module builds and starts a stack of its own and needs no other: the tier's autouse
    user's stack (conftest.py) is not started for it alone (it is when the whole tier runs)."""
    return None


@pytest.fixture(scope="module")
def home_image(docker: str, images: dict[str, str]) -> Iterator[str]:
    tag = f"{images['APP_IMAGE'].rsplit(':', 1)[0]}-home-test:{os.getpid()}"  # the session's images' prefix
    with built_app_image(docker, APP, tag) as built:
        yield built


@pytest.fixture(scope="module")
def home_stack(
    docker: str, images: dict[str, str], home_image: str, local_tls: Path, tmp_path_factory
) -> Iterator[Stack]:
    name = f"{os.environ.get('STACK_PROJECT', '')}apphome"
    try:
        with started_stack(
            docker, {**images, "APP_IMAGE": home_image}, tmp_path_factory.mktemp("secrets"), local_tls,
            name, 1, APP_DATA="1", APP_DIR=str(APP),
        ) as stack:  # fmt: skip
            yield stack
    finally:
        volumes = run(docker, "volume", "ls", "-q", "--filter", f"name={name}").stdout.split()
        for volume in volumes:
            if volume.endswith("_app-data"):
                run(docker, "volume", "rm", "-f", volume, check=False)


def page(stack: Stack):
    with StreamlitSession(stack.url, timeout=60) as session:
        assert session.initial.outcomes == ["FINISHED_SUCCESSFULLY"], session.initial.texts[:5]
        return session.initial


def test_the_image_runs_the_app_from_its_root_with_its_options(home_stack: Stack) -> None:
    shown = page(home_stack)
    for text in (
        "cities Lisbon,Oslo,Quito total 242",  # data/x.csv, by its relative path
        "working directory /srv/app/app",
        "option theme.primaryColor=#0a7e5c",  # the app's own config.toml
        "option runner.postScriptGC=True",  # the app's value of a template default
        "option server.disconnectedSessionTTL=30",  # the template's, where the app sets none
        "option client.toolbarMode=viewer",  # pinned over the app's "developer"
    ):
        assert shown.has_text(text), (text, shown.texts)
    assert "first run: the app /srv/app/app/streamlit_app.py ran through" in home_stack.log
    (container,) = home_stack.containers("app")
    assert home_stack.exec(container, "readlink", "/proc/1/cwd").stdout.strip() == "/srv/app/app"
    written = home_stack.exec(container, "touch", "/srv/app/app/data/new.csv")
    assert "Read-only file system" in written.stderr  # the root stays read-only
    assert home_stack.exec(container, "stat", "-c", "%u %a", "/srv/data").stdout.split() == ["10001", "750"]


def test_a_file_written_in_the_data_volume_survives_a_restart(home_stack: Stack) -> None:
    (before,) = [int(m[1]) for text in page(home_stack).texts if (m := re.fullmatch(r"visits (\d+)", text))]
    (container,) = home_stack.containers("app")
    assert home_stack.exec(container, "cat", "/srv/data/visits.txt").stdout == str(before)
    home_stack.exec(container, "touch", "/tmp/gone-at-restart")
    run(home_stack.docker, "restart", "--time", "20", container)
    deadline = time.monotonic() + 90
    while (
        run(home_stack.docker, "inspect", "-f", "{{.State.Health.Status}}", container).stdout.strip()
        != "healthy"
    ):
        assert time.monotonic() < deadline, "the app never became healthy again after its restart"
        time.sleep(1)
    # The proxy finds the restarted replica again (its DNS check) and the page counts on.
    deadline = time.monotonic() + 30
    while True:
        try:
            shown = page(home_stack)
            break
        except Exception:  # noqa: BLE001 - the proxy still on the old address: retry
            assert time.monotonic() < deadline
            time.sleep(1)
    assert shown.has_text(f"visits {before + 1}"), shown.texts
    assert home_stack.exec(container, "test", "-e", "/tmp/gone-at-restart").returncode != 0  # /tmp: a tmpfs
    logs = run(home_stack.docker, "logs", container).stderr
    assert "its data directory SERVE_DATA_DIR=/srv/data (writable" in logs


def test_make_down_keeps_the_data_volume(home_stack: Stack) -> None:
    down = subprocess.run(
        ["scripts/deploy/stack.sh", "down", "--volumes"],
        cwd=ROOT,
        env=home_stack.env,
        capture_output=True,
        text=True,
    )
    assert down.returncode == 0, down.stderr
    volume = f"{home_stack.project}_app-data"
    assert run(home_stack.docker, "volume", "inspect", volume, check=False).returncode == 0
