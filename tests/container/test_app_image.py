"""The app image, built from the committed Dockerfile and run read-only as non-root."""

from __future__ import annotations

import json
import time

from sales_load.page import DashboardSession
from streamlit_load.server_probe import container_nodelay

from .conftest import run


def exec_in(app_container, *command: str):
    return run(app_container["docker"], "exec", app_container["name"], *command, check=False)


def test_session_does_initial_fragment_and_month_change_runs(app_container):
    with DashboardSession(app_container["url"]) as session:
        assert session.initial.outcomes == ["FINISHED_SUCCESSFULLY"]
        pick = session.pick_date("2023-01-15")
        assert pick.outcomes == ["FINISHED_FRAGMENT_RUN_SUCCESSFULLY"]
        assert not pick.outside_fragment
        month = session.change_month("2023-03-02")
        assert month.has_text("Daily sales for all products, March 2023")


def test_the_image_starts_streamlit_with_tcp_nodelay_on_every_connection(app_container):
    """The image runs the serving layer, not bare `streamlit run`: no 40 ms Nagle stall per interaction.
    Read by a helper container with ptrace rights in the app's PID namespace (no root needed)."""
    with DashboardSession(app_container["url"]) as session:
        session.pick_date("2023-01-16")
        flags = container_nodelay(app_container["name"], 8501, docker=app_container["docker"])
    assert flags, "the session's socket was not found in the container"
    assert all(flags), flags


def test_runs_as_fixed_non_root_user(app_container):
    assert exec_in(app_container, "id", "-u").stdout.strip() == "10001"
    assert exec_in(app_container, "id", "-g").stdout.strip() == "10001"


def test_root_filesystem_is_read_only(app_container):
    result = exec_in(app_container, "touch", "/srv/app/written")
    assert result.returncode != 0
    assert "Read-only file system" in result.stderr
    assert exec_in(app_container, "touch", "/tmp/written").returncode == 0


def test_runtime_has_no_compiler_pip_or_curl(app_container):
    for tool in ("gcc", "cc", "pip", "pip3", "curl", "wget"):
        found = exec_in(app_container, "sh", "-c", f"command -v {tool}")
        assert found.returncode != 0, f"{tool} found at {found.stdout.strip()}"
    assert exec_in(app_container, "python3", "-c", "import pip").returncode != 0


def test_docker_healthcheck_turns_healthy(app_container):
    docker, name = app_container["docker"], app_container["name"]
    deadline = time.monotonic() + 60
    status = ""
    while time.monotonic() < deadline:
        status = run(docker, "inspect", "-f", "{{.State.Health.Status}}", name).stdout.strip()
        if status == "healthy":
            break
        time.sleep(1)
    assert status == "healthy"


def test_image_config_is_hardened(app_container, app_image):
    config = json.loads(run(app_container["docker"], "image", "inspect", app_image).stdout)[0]["Config"]
    assert config["User"] == "10001:10001"
    assert config["WorkingDir"] == "/srv/app/app"  # the app's root, as on Community Cloud
    assert config["StopSignal"] == "SIGTERM"
    assert config["Entrypoint"] == [
        "app-entrypoint", "--server.address=0.0.0.0", "--server.port=8501", "--logger.hideWelcomeMessage=true"
    ]  # fmt: skip
    assert "APP_MAIN=streamlit_app.py" in config["Env"]  # the build arg's default: the example app
    # PID 1 is the serving layer on /srv/app/app/$APP_MAIN, the entrypoint's shell gone (exec),
    # run from the app's root.
    pid1 = exec_in(app_container, "cat", "/proc/1/cmdline").stdout.split("\0")
    assert pid1[1:5] == ["-m", "streamlit_serving", "run", "/srv/app/app/streamlit_app.py"]
    assert exec_in(app_container, "readlink", "/proc/1/cwd").stdout.strip() == "/srv/app/app"
    assert config["Labels"]["org.opencontainers.image.revision"] != "unknown"
    env = " ".join(config["Env"]).lower()
    assert "cert" not in env
    assert "secret" not in env


def test_no_secret_in_image_history(app_container, app_image):
    history = run(app_container["docker"], "history", "--no-trunc", app_image).stdout
    assert "BEGIN CERTIFICATE" not in history
    assert "ca-certificates.crt" not in history
    # The builder's secret mount leaves nothing behind in the runtime image.
    assert exec_in(app_container, "test", "-e", "/run/secrets/ca").returncode != 0
