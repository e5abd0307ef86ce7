"""streamlit_serving/serve.py: the settings are checked before the server starts, and every connection the
server accepts has TCP_NODELAY (stock Streamlit 1.67 leaves Nagle on: ~40 ms per interaction)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from sales_load.page import DashboardSession
from streamlit_load.local_server import APP, REPO, SERVE, Server, running_server
from streamlit_load.server_probe import accepted_nodelay


def nodelay_with_two_sessions(server: Server) -> list[bool]:
    with DashboardSession(server.base_url) as first, DashboardSession(server.base_url) as second:
        first.pick_date("2023-01-05")
        second.pick_date("2023-01-06")
        return accepted_nodelay(server.pid, urlsplit(server.base_url).port)


def test_every_accepted_connection_has_tcp_nodelay(server: Server) -> None:
    flags = nodelay_with_two_sessions(server)
    assert len(flags) >= 2, "the two sessions' sockets were not found"
    assert all(flags), flags


def test_stock_streamlit_sockets_have_no_tcp_nodelay() -> None:
    """SERVE_TCP_NODELAY=off is Streamlit as shipped. If this starts failing, Streamlit sets
    TCP_NODELAY itself now and streamlit_serving/serve.py's socket wrapper can go."""
    with running_server(env={"SERVE_TCP_NODELAY": "off"}) as stock:
        flags = nodelay_with_two_sessions(stock)
    assert len(flags) >= 2, "the two sessions' sockets were not found"
    assert not any(flags), flags


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SALES_PRODUCT_COUNT": "lots"}, "SALES_PRODUCT_COUNT='lots' is not a whole number"),
        ({"SALES_FRAGMENT": "maybe"}, "SALES_FRAGMENT='maybe' is not one of on, off"),
        ({"SALES_FRAGMENT": "off", "SALES_MONTH_RERUN": "views"}, "SALES_MONTH_RERUN='views' needs"),
        ({"SERVE_WARMUP": "later"}, "SERVE_WARMUP='later' is not one of on, off"),
        ({"SERVE_GC_THRESHOLDS": "lots"}, "SERVE_GC_THRESHOLDS='lots' is not python or three whole numbers"),
        ({"SALES_AUTH": "oidc"}, "renamed: SALES_AUTH -> SERVE_AUTH"),  # an old file must not start open
    ],
)
def test_a_bad_setting_stops_the_start_with_exit_64_and_names_it(env: dict[str, str], message: str) -> None:
    result = subprocess.run(
        [sys.executable, *SERVE, "run", str(APP), "--server.port", "1"],
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 64
    assert message in result.stderr


def serve(app: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """The serving layer started on ``app`` (never gets as far as serving: port 1 is refused)."""
    return subprocess.run(
        [sys.executable, *SERVE, "run", str(app), "--server.port", "1"],
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_missing_main_script_stops_the_start_with_exit_64_naming_it(tmp_path: Path) -> None:
    result = serve(tmp_path / "nowhere" / "streamlit_app.py", tmp_path)
    assert result.returncode == 64
    assert f"the app's main script {tmp_path}/nowhere/streamlit_app.py is not a file" in result.stderr


def test_hooks_that_fail_to_import_stop_the_start_with_the_app_s_traceback(tmp_path: Path) -> None:
    """The app's serve_hooks.py imports its own module, which raises: exit 64, the traceback names
    the app's file and line, not the serving layer's."""
    (tmp_path / "streamlit_app.py").write_text("import streamlit as st\nst.write('hi')\n")
    (tmp_path / "broken_module.py").write_text("VALUE = 1\nraise RuntimeError('the app cannot start')\n")
    (tmp_path / "serve_hooks.py").write_text("import broken_module  # the app's own, beside it\n")
    result = serve(tmp_path / "streamlit_app.py", tmp_path)
    assert result.returncode == 64
    assert f'File "{tmp_path}/broken_module.py", line 2' in result.stderr
    assert "RuntimeError: the app cannot start" in result.stderr
    assert "serve: the app's serve_hooks.py failed to import (traceback above)" in result.stderr


def test_an_app_s_own_check_stops_the_start_with_exit_64(tmp_path: Path) -> None:
    (tmp_path / "streamlit_app.py").write_text("import streamlit as st\nst.write('hi')\n")
    (tmp_path / "serve_hooks.py").write_text("def check():\n    raise ValueError('MY_APP_DB is not set')\n")
    result = serve(tmp_path / "streamlit_app.py", tmp_path)
    assert result.returncode == 64
    assert "serve: MY_APP_DB is not set" in result.stderr
