"""An app as Community Cloud runs it (tests/apps/app_home), on a real server started through
`python -m streamlit_serving` from the app's root, as `make run` and the image start it: its data
file read by a relative path is found; its own .streamlit/config.toml is read (its theme, its
runner.postScriptGC over the template's); the template's defaults apply where the app sets nothing
(server.disconnectedSessionTTL = 30, Streamlit's own is 120; Streamlit no longer reads the
template's file from there, the serving layer passes it as flags); the pinned options still win
(client.toolbarMode). With SERVE_DATA_DIR, the page's writes land in that directory.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.proto.NewSession_pb2 import Config

from streamlit_load.client import StreamlitSession
from streamlit_load.local_server import REPO, Server, free_port, running_server
from streamlit_serving.pinned import TEMPLATE_CONFIG

from .recording import Recording

APP = Path(__file__).resolve().parents[1] / "apps" / "app_home"
OWN_CONFIG = APP / ".streamlit" / "config.toml"


@pytest.fixture(scope="module")
def home() -> Iterator[Server]:
    with running_server(app=APP / "streamlit_app.py", cwd=APP, env={"SERVE_WARMUP": "off"}) as started:
        yield started


def test_the_data_file_is_read_by_its_path_relative_to_the_apps_root(home: Server) -> None:
    with StreamlitSession(home.base_url, timeout=20) as session:
        page = session.initial
        assert page.outcomes == ["FINISHED_SUCCESSFULLY"], page.texts[:5]
        assert page.has_text("cities Lisbon,Oslo,Quito total 242"), page.texts
        assert page.has_text(f"working directory {APP}"), page.texts
        assert page.has_text("no data directory")
    assert f"serve: the app runs in {APP} (its relative paths start there); no data directory" in home.log()


def test_the_apps_own_options_the_templates_defaults_and_the_pins_each_apply(home: Server) -> None:
    with Recording(home.base_url) as session:
        page = session.initial
        new_session = session.new_session().new_session
        # The app's own config.toml is read: its theme, and its value of a template default.
        assert new_session.custom_theme.primary_color == "#0a7e5c"
        assert page.has_text("option theme.primaryColor=#0a7e5c"), page.texts
        assert page.has_text("option runner.postScriptGC=True"), page.texts
        # The template's default where the app says nothing (Streamlit's own: 120).
        assert page.has_text("option server.disconnectedSessionTTL=30"), page.texts
        # The pinned option wins over the app's "developer".
        assert new_session.config.toolbar_mode == Config.ToolbarMode.VIEWER
        assert page.has_text("option client.toolbarMode=viewer"), page.texts
    log = home.log()
    assert (
        f"serve: the template's defaults ({TEMPLATE_CONFIG}): server.disconnectedSessionTTL=30, "
        f'logger.level="info"; set elsewhere, so not the template\'s: runner.postScriptGC by {OWN_CONFIG}'
    ) in log, log[-3000:]
    assert f'serve: {OWN_CONFIG} sets client.toolbarMode="developer"; pinned to "viewer"' in log


def test_a_variable_beats_the_templates_default(tmp_path: Path) -> None:
    env = {"SERVE_WARMUP": "off", "STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL": "45"}
    with running_server(app=APP / "streamlit_app.py", cwd=APP, env=env) as server:
        with StreamlitSession(server.base_url, timeout=20) as session:
            assert session.initial.has_text("option server.disconnectedSessionTTL=45"), session.initial.texts
        assert "server.disconnectedSessionTTL by STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL" in server.log()


def test_the_page_writes_into_its_data_directory(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    with running_server(
        app=APP / "streamlit_app.py", cwd=APP, env={"SERVE_WARMUP": "off", "SERVE_DATA_DIR": str(data)}
    ) as server:
        for visit in (1, 2):
            with StreamlitSession(server.base_url, timeout=20) as session:
                assert session.initial.has_text(f"visits {visit}"), session.initial.texts
        assert f"its data directory SERVE_DATA_DIR={data} (writable" in server.log()
    assert (data / "visits.txt").read_text() == "2"
    assert not (APP / "visits.txt").exists()


def test_make_run_starts_the_app_from_app_dir() -> None:
    """`make run APP_DIR=...` as a user types it, from the repository's root: the Makefile changes
    to APP_DIR, so the page finds its data file by its relative path."""
    port = free_port()
    env = {**os.environ, "SERVE_METRICS_PORT": "0", "SERVE_WARMUP": "off"}
    command = ["make", "-s", "run", "APP_DIR=tests/apps/app_home", f"PORT={port}"]
    started = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            assert started.poll() is None, started.stdout.read() if started.stdout else ""
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                    break
            except OSError:
                assert time.monotonic() < deadline, "make run never became healthy"
                time.sleep(0.3)
        with StreamlitSession(f"http://127.0.0.1:{port}", timeout=20) as session:
            assert session.initial.has_text("cities Lisbon,Oslo,Quito total 242"), session.initial.texts
            assert session.initial.has_text(f"working directory {APP}"), session.initial.texts
    finally:
        os.killpg(started.pid, signal.SIGTERM)  # make and the server it started: its own session
        started.wait(timeout=30)
