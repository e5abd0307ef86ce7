"""An app whose own .streamlit/config.toml sets every production-critical option to its unsafe
value, on a real server started through `python -m streamlit_serving` (run from the app's own
directory, where Streamlit reads the app's config; the template's defaults as flags, as in the
image): the serving layer's
pins win (streamlit_serving/pinned.py), observed over HTTP and the WebSocket; the app's theme is
still its own; the log names each override. An app that lowers the two size caps keeps its values.
An app that calls st.set_option on a pinned option while it runs changes nothing.
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.proto.NewSession_pb2 import Config

from streamlit_load.client import ServerError, SessionClosed
from streamlit_load.local_server import Server, running_server
from streamlit_serving.pinned import MESSAGE_LIMIT_MB, PINS, PROXY_BODY_LIMIT_MB

from .recording import Recording

DETAIL = "pinned-secret-detail-7f3a"
APP = f"""import streamlit as st

st.title("pinned options")
st.file_uploader("a file")
if "unpin" in st.query_params:  # an app that turns the pins off from its own code
    st.set_option("client.showErrorDetails", "full")
    st.set_option("client.toolbarMode", "developer")
if "boom" in st.query_params:
    raise ValueError("{DETAIL}")
"""
UNSAFE = """[server]
enableXsrfProtection = false
enableCORS = false
maxUploadSize = 500
maxMessageSize = 500
headless = false
fileWatcherType = "auto"
runOnSave = true

[browser]
gatherUsageStats = true

[client]
showErrorDetails = "full"
toolbarMode = "developer"

[theme]
primaryColor = "#ff00aa"
"""
LOWERED = """[server]
maxUploadSize = 8
maxMessageSize = 2
"""


def an_app(directory: Path, config: str) -> Path:
    (directory / ".streamlit").mkdir(parents=True)
    (directory / ".streamlit" / "config.toml").write_text(config)
    script = directory / "streamlit_app.py"
    script.write_text(APP)
    return script


@pytest.fixture(scope="module")
def unsafe_app(tmp_path_factory) -> Path:
    return an_app(tmp_path_factory.mktemp("unsafe-app"), UNSAFE)


@pytest.fixture(scope="module")
def unsafe(unsafe_app: Path) -> Iterator[Server]:
    with running_server(app=unsafe_app, env={"SERVE_WARMUP": "off"}) as started:
        yield started


def test_the_log_names_each_option_the_app_set_and_what_it_got(unsafe: Server, unsafe_app: Path) -> None:
    config = unsafe_app.parent / ".streamlit" / "config.toml"
    lines = [line for line in unsafe.log().splitlines() if line.startswith(f"serve: {config} sets ")]
    assert len(lines) == len(PINS), lines
    for pin in PINS:
        (line,) = [line for line in lines if f" sets {pin.key}=" in line]
        assert ("capped to" if pin.capped else "pinned to") in line
    assert "server.enableXsrfProtection=false; pinned to true (production" in "\n".join(lines)
    assert f"server.maxUploadSize=500; capped to {PROXY_BODY_LIMIT_MB} (production" in "\n".join(lines)
    assert "primaryColor" not in "\n".join(lines)  # not pinned: the app's own


def test_an_upload_without_the_xsrf_token_is_refused(unsafe: Server) -> None:
    request = urllib.request.Request(
        f"{unsafe.base_url}/_stcore/upload_file/some-session/some-file", data=b"x", method="PUT"
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 403  # XSRF off: 400, "Invalid session_id"
    with urllib.request.urlopen(f"{unsafe.base_url}/_stcore/health", timeout=10) as response:
        assert any(c.startswith("_streamlit_xsrf=") for c in response.headers.get_all("Set-Cookie") or [])


def test_a_foreign_origin_gets_no_cors_header(unsafe: Server) -> None:
    request = urllib.request.Request(
        f"{unsafe.base_url}/_stcore/host-config", headers={"Origin": "http://evil.example"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers.get("Access-Control-Allow-Origin") is None  # CORS off: "*"


def test_the_page_gets_the_viewer_toolbar_no_telemetry_the_capped_upload_size_and_the_apps_theme(
    unsafe: Server,
) -> None:
    with Recording(unsafe.base_url) as session:
        new_session = session.new_session().new_session
        assert new_session.config.toolbar_mode == Config.ToolbarMode.VIEWER
        assert new_session.config.gather_usage_stats is False
        assert new_session.custom_theme.primary_color == "#ff00aa"
        assert session.upload_limit() == PROXY_BODY_LIMIT_MB


def test_an_upload_above_the_proxys_limit_is_refused_by_the_app(unsafe: Server) -> None:
    """A PUT with the session's XSRF token that announces 1 MB more than the cap: 413 before any
    of the body is read (with the app's 500 MB, the server would wait for the body)."""
    with Recording(unsafe.base_url) as session:
        token = dict(item.strip().partition("=")[::2] for item in (session.cookie_header or "").split(";"))
        connection = http.client.HTTPConnection(unsafe.base_url.removeprefix("http://"), timeout=10)
        try:
            ((_, url),) = session.file_urls(["big.bin"])  # an id the server handed out (uploads.py)
            connection.putrequest("PUT", url.removeprefix(unsafe.base_url))
            connection.putheader("Cookie", session.cookie_header or "")
            connection.putheader("X-Xsrftoken", token["_streamlit_xsrf"])
            connection.putheader("Content-Type", "multipart/form-data; boundary=x")
            connection.putheader("Content-Length", str((PROXY_BODY_LIMIT_MB + 1) * 2**20))
            connection.endheaders()
            assert connection.getresponse().status == 413
        finally:
            connection.close()


def test_an_exception_shows_no_details_in_the_page(unsafe: Server) -> None:
    session = Recording(f"{unsafe.base_url}/?boom=1")
    with pytest.raises(ServerError), session:
        pass
    (error,) = session.elements("exception")
    assert "redacted" in error.message
    assert DETAIL not in str(error)
    assert "ValueError" not in str(error)
    assert not error.stack_trace
    assert DETAIL in unsafe.log()  # the details go to the log


def test_st_set_option_from_the_app_cannot_undo_a_pin(unsafe: Server) -> None:
    with Recording(f"{unsafe.base_url}/?unpin=1") as session:  # the app asks for full details
        pass
    session = Recording(f"{unsafe.base_url}/?unpin=1&boom=1")
    with pytest.raises(ServerError), session:
        pass
    (error,) = session.elements("exception")
    assert "redacted" in error.message
    assert DETAIL not in str(error)
    assert session.new_session().new_session.config.toolbar_mode == Config.ToolbarMode.VIEWER
    log = unsafe.log()
    for key in ("client.showErrorDetails", "client.toolbarMode"):
        assert log.count(f"serve: the app calls st.set_option('{key}'") == 1, log[-3000:]


def test_a_frame_above_the_message_cap_closes_the_socket(unsafe: Server) -> None:
    with Recording(unsafe.base_url) as session:
        try:
            session.send_raw(b"\x00" * ((MESSAGE_LIMIT_MB + 1) * 2**20))
        except SessionClosed:
            pass  # closed while we were still sending: refused all the same
        else:
            assert session.wait_closed(5) in (1009, None)
        assert not session.connected
    assert unsafe.healthy()


def test_an_app_that_lowers_the_caps_keeps_its_values(tmp_path: Path) -> None:
    script = an_app(tmp_path / "lowered-app", LOWERED)
    with running_server(app=script, env={"SERVE_WARMUP": "off"}) as lowered:
        assert " sets server.max" not in lowered.log()
        with Recording(lowered.base_url) as session:
            assert session.upload_limit() == 8
        with Recording(lowered.base_url) as session:
            try:
                session.send_raw(b"\x00" * (3 * 2**20))  # under the cap of 4, over the app's 2
            except SessionClosed:
                pass
            else:
                assert session.wait_closed(5) in (1009, None)
            assert not session.connected
