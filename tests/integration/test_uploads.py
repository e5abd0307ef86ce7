"""Uploads on a real server (streamlit_serving/uploads.py): only to file ids the server handed to
the session, only from a page with a file uploader and (with sign-in on) from a session that
passed the gate, and capped per session (SERVE_UPLOAD_MAX_FILES, SERVE_UPLOAD_MAX_MB). What a
replica holds is read from Streamlit's own /_stcore/metrics (the uploaded-file manager's bytes),
so "nothing stored" is checked on the server, not inferred from a status code.

Before uploads.py, every PUT here was taken (204) and kept until the session ended."""

from __future__ import annotations

import http.client
import re
import secrets
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from streamlit_load.client import StreamlitSession
from streamlit_load.client.signin import sign_in
from streamlit_load.dev_provider import (
    ALLOWED_USER,
    DEV_ALLOWED_EMAILS,
    OTHER_USER,
    password,
    running_provider,
)
from streamlit_load.local_server import Server, free_port, running_server

UPLOADER_APP = """import streamlit as st
from streamlit.runtime import get_instance

if st.query_params.get("observe"):  # what the whole server holds, for the tests to read
    st.write(f"held {get_instance().uploaded_file_mgr._total_bytes}")
    st.stop()
if st.toggle("hide the uploader"):
    st.write("no uploader now")
else:
    files = st.file_uploader("files", accept_multiple_files=True)
    st.write(f"files held: {len(files or [])}")
"""
KB = 1024
CAPS = {"SERVE_UPLOAD_MAX_FILES": "3", "SERVE_UPLOAD_MAX_MB": "1"}
METRICS_TTL_SECONDS = 5.5  # Streamlit's cache of cache_memory_bytes (_METRICS_EXPENSIVE_STATS_TTL_SECONDS)
QUIET = {"SERVE_WARMUP": "off", "SERVE_RERUN_RATE": "0"}


@pytest.fixture(scope="module")
def uploader_app(tmp_path_factory) -> Path:
    app = tmp_path_factory.mktemp("uploader") / "streamlit_app.py"
    app.write_text(UPLOADER_APP)
    return app


@pytest.fixture(scope="module")
def uploader(uploader_app) -> Iterator[Server]:
    with running_server(app=uploader_app, env={**CAPS, **QUIET}) as started:
        yield started


def held_bytes(server: Server, cookies: dict[str, str] | None = None) -> int:
    """The bytes of uploaded files the uploader app's server holds (its uploaded-file manager's
    count, as the app's "observe" page shows it; with sign-in on, to the signed-in ``cookies``)."""
    with StreamlitSession(f"{server.base_url}/?observe=1", timeout=20, cookies=cookies) as observer:
        (text,) = [text for text in observer.initial.texts if text.startswith("held ")]
    return int(text.split()[1])


def held_bytes_in_metrics(server: Server) -> int:
    """The same from Streamlit's own /_stcore/metrics, for an app without the "observe" page. That
    figure is cached for 5 s: wait that long first, so it was counted after what came before."""
    time.sleep(METRICS_TTL_SECONDS)
    with urllib.request.urlopen(f"{server.base_url}/_stcore/metrics", timeout=10) as response:
        text = response.read().decode()
    found = re.search(r'cache_memory_bytes\{cache_type="UploadedFileManager",cache=""\} (\d+)', text)
    return int(found.group(1)) if found else 0


def test_the_page_s_uploader_takes_files_up_to_the_caps_and_a_delete_frees_its_share(uploader):
    before = held_bytes(uploader)
    with StreamlitSession(uploader.base_url, timeout=20) as visitor:
        urls = visitor.file_urls([f"f{i}" for i in range(5)])
        assert len(urls) == 5
        statuses = [visitor.put_file(url, b"x" * (100 * KB)) for _, url in urls]
        assert statuses == [204, 204, 204, 413, 413]  # SERVE_UPLOAD_MAX_FILES=3
        assert held_bytes(uploader) == before + 300 * KB
        # A file stored again under its own id replaces itself: no new share.
        assert visitor.put_file(urls[0][1], b"y" * (200 * KB)) == 204
        assert held_bytes(uploader) == before + 400 * KB
        # The frontend's DELETE (a file removed from the widget) frees its share...
        assert visitor.delete_file(urls[0][1]) == 204
        assert held_bytes(uploader) == before + 200 * KB
        # ...and that id is done with: only new ids take files.
        assert visitor.put_file(urls[0][1], b"z") == 403
        assert visitor.put_file(urls[3][1], b"z" * (100 * KB)) == 204
        assert held_bytes(uploader) == before + 300 * KB
        # SERVE_UPLOAD_MAX_MB=1: with 200 kB held, 900 kB more does not fit, 800 kB does.
        assert visitor.delete_file(urls[1][1]) == 204
        assert visitor.put_file(urls[4][1], b"z" * (900 * KB)) == 413
        assert held_bytes(uploader) == before + 200 * KB
        assert visitor.put_file(urls[4][1], b"z" * (800 * KB)) == 204
        assert held_bytes(uploader) == before + 1000 * KB
    # (The rest goes when Streamlit forgets the session, server.disconnectedSessionTTL after the
    # socket closed: 30 s here; the other tests count what they add, not what is left.)


def test_a_file_id_the_server_never_handed_out_gets_403_and_nothing_stored(uploader):
    before = held_bytes(uploader)
    with StreamlitSession(uploader.base_url, timeout=20) as visitor:
        statuses = {
            visitor.put_file(visitor.upload_url(str(uuid.uuid4())), b"x" * (100 * KB)) for _ in range(5)
        }
        assert statuses == {403}
        assert held_bytes(uploader) == before
        # Another session's file id is not this session's either.
        with StreamlitSession(uploader.base_url, timeout=20) as other:
            ((file_id, _),) = other.file_urls(["theirs"])
        assert visitor.put_file(visitor.upload_url(file_id), b"x") == 403
        assert held_bytes(uploader) == before
    assert "uploads: 403 for PUT" in uploader.log_path.read_text()


def test_a_page_without_an_uploader_gets_no_upload_url_and_no_file_stored(uploader, server):
    before = held_bytes(uploader)
    # The example dashboard has no file-accepting widget at all.
    with StreamlitSession(server.base_url, timeout=20) as visitor:
        assert visitor.file_urls(["a", "b"]) == []
        assert visitor.put_file(visitor.upload_url(str(uuid.uuid4())), b"x" * (100 * KB)) == 403
        assert held_bytes_in_metrics(server) == 0
    # A page that had one and no longer shows it (the toggle hides it) takes no more files.
    with StreamlitSession(uploader.base_url, timeout=20) as visitor:
        ((_, url),) = visitor.file_urls(["before"])
        visitor.click("hide the uploader")
        assert visitor.file_urls(["after"]) == []
        assert visitor.put_file(url, b"x") == 403
        assert held_bytes(uploader) == before


def test_a_content_length_over_the_cap_is_refused_before_the_body_is_read(uploader):
    before = held_bytes(uploader)
    with StreamlitSession(uploader.base_url, timeout=20) as visitor:
        ((_, url),) = visitor.file_urls(["big"])
        assert visitor.put_file(url, b"x" * (1100 * KB)) == 413  # SERVE_UPLOAD_MAX_MB=1
        assert held_bytes(uploader) == before
    assert "would take the session's uploads over 1 MB" in uploader.log_path.read_text()


def put_chunked(session: StreamlitSession, url: str, data: bytes) -> int:
    """PUT ``data`` as a multipart form with no Content-Length (Transfer-Encoding: chunked), so
    nothing can be refused before the body is read."""
    boundary = "chunked-upload-boundary"
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="c.bin"\r\n\r\n'
    parts = [head.encode(), data, f"\r\n--{boundary}--\r\n".encode()]
    target = urlsplit(f"{session.base_url}{url}")
    connection = http.client.HTTPConnection(target.hostname, target.port, timeout=20)
    try:
        headers = {
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "X-Xsrftoken": session.cookies()["_streamlit_xsrf"],
            "Cookie": session.cookie_header or "",
        }
        connection.request("PUT", target.path, body=iter(parts), headers=headers, encode_chunked=True)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def test_a_chunked_upload_over_the_cap_is_refused_once_read_and_nothing_stored(uploader):
    before = held_bytes(uploader)
    with StreamlitSession(uploader.base_url, timeout=20) as visitor:
        ((_, big), (_, small)) = visitor.file_urls(["big", "small"])
        assert put_chunked(visitor, big, b"x" * (1100 * KB)) == 413  # SERVE_UPLOAD_MAX_MB=1
        assert held_bytes(uploader) == before
        assert put_chunked(visitor, small, b"x" * (100 * KB)) == 204
        assert held_bytes(uploader) == before + 100 * KB


@pytest.fixture(scope="module")
def signed_in_uploader(uploader_app, tmp_path_factory) -> Iterator[Server]:
    port = free_port()
    redirect_uri = f"http://127.0.0.1:{port}/oauth2callback"
    with running_provider([redirect_uri]) as provider:
        env = {
            **CAPS,
            **QUIET,
            "SERVE_AUTH": "oidc",
            "SERVE_ALLOWED_EMAILS": DEV_ALLOWED_EMAILS,
            "SERVE_OIDC_FILE": str(provider.settings_file(redirect_uri, tmp_path_factory.mktemp("oidc"))),
            "STREAMLIT_SERVER_COOKIE_SECRET": secrets.token_hex(32),
        }
        with running_server(app=uploader_app, env=env, port=port) as server:
            yield server


def test_with_sign_in_only_a_session_that_passed_the_gate_may_upload(signed_in_uploader):
    url = signed_in_uploader.base_url
    allowed = sign_in(url, ALLOWED_USER, password(ALLOWED_USER))
    before = held_bytes(signed_in_uploader, allowed)
    with StreamlitSession(url, timeout=20) as anonymous:  # on the sign-in page
        assert anonymous.file_urls(["mine"]) == []
        statuses = {
            anonymous.put_file(anonymous.upload_url(str(uuid.uuid4())), b"x" * (100 * KB)) for _ in range(5)
        }
        assert statuses == {403}
    with StreamlitSession(url, timeout=20, cookies=sign_in(url, OTHER_USER, password(OTHER_USER))) as refused:
        assert refused.file_urls(["mine"]) == []
        assert refused.put_file(refused.upload_url(str(uuid.uuid4())), b"x") == 403
    assert held_bytes(signed_in_uploader, allowed) == before
    with StreamlitSession(url, timeout=20, cookies=allowed) as ada:
        ((_, first),) = ada.file_urls(["mine"])
        assert ada.put_file(first, b"x" * (100 * KB)) == 204
        assert held_bytes(signed_in_uploader, allowed) == before + 100 * KB
    assert "this session has not signed in" in signed_in_uploader.log_path.read_text()
