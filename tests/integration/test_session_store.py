"""The session store (streamlit_serving/session_store.py) with real parts: Debian's redis-server on
a free port, started by the store image's own entrypoint (deploy/session-store/entrypoint.sh: the
password from a file, rendered into requirepass, and the image's redis.conf), two Streamlit
servers started with the serving layer (two "replicas" sharing the store, its password file and
the cookie secret) and the protocol client, which reconnects as the frontend does (the same
cookies, the old session id in the WebSocket's subprotocols).

redis-server comes from Debian: ``make test`` installs it for this tier (scripts/ci/test.sh runs
``scripts/setup/apt-install.sh redis-server``); run alone without it, the test is skipped naming that
command, and a skip fails ``make test``.
"""

from __future__ import annotations

import pickle
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from streamlit_load.client import Interaction, StreamlitSession
from streamlit_load.client.messages import WidgetState
from streamlit_load.local_server import Server, free_port, running_server, stop
from streamlit_serving.session_store import KEY_PREFIX, MAC_BYTES, VERSION, Keys, entry_key

from .test_metrics import scrape

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "tests" / "apps" / "session_store" / "streamlit_app.py"
SECRET = secrets.token_hex(32)
ROUTE = "a" * 32  # as the proxy's st_route cookie (nginx.conf): 32 hex digits
OTHER_ROUTE = "b" * 32
PASSWORD = secrets.token_hex(32)
ENTRYPOINT = REPO / "deploy" / "session-store" / "entrypoint.sh"


@dataclass(frozen=True)
class Store:
    url: str
    password_file: Path
    process: subprocess.Popen[bytes]


def password_file(folder: Path, password: str = PASSWORD) -> Path:
    path = folder / "session_store_password"
    path.write_text(f"{password}\n")
    return path


@contextmanager
def running_store(folder: Path) -> Iterator[Store]:
    """redis-server as the image starts it (its entrypoint, its redis.conf), on a free loopback
    port, with the password in ``folder``."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is missing: scripts/setup/apt-install.sh redis-server")
    port = free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "SESSION_STORE_PASSWORD_FILE": str(password_file(folder)),
        "SESSION_STORE_CONF_DIR": str(folder),
        "SESSION_STORE_BASE_CONF": str(REPO / "deploy" / "session-store" / "redis.conf"),
    }
    args = ["--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder), "--maxmemory", "64mb"]
    process = subprocess.Popen(
        ["sh", str(ENTRYPOINT), *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    started = Store(f"redis://127.0.0.1:{port}/0", Path(env["SESSION_STORE_PASSWORD_FILE"]), process)
    client = store(started.url)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline or process.poll() is not None:
                stop(process)
                raise
            time.sleep(0.05)
    try:
        yield started
    finally:
        stop(process)


@pytest.fixture(scope="module")
def redis_store(tmp_path_factory) -> Iterator[Store]:
    with running_store(tmp_path_factory.mktemp("redis")) as started:
        yield started


@pytest.fixture(scope="module")
def redis_url(redis_store: Store) -> str:
    return redis_store.url


def replica(redis_url: str, password: Path, port: int | None = None, **extra: str):
    env = {
        "SERVE_SESSION_STORE": redis_url,
        "SERVE_SESSION_STORE_PASSWORD_FILE": str(password),
        "STREAMLIT_SERVER_COOKIE_SECRET": SECRET,
        "SERVE_WARMUP": "off",
        "SERVE_RERUN_RATE": "0",
        **extra,
    }
    return running_server(app=APP, env=env, port=port)


@pytest.fixture(scope="module")
def replicas(redis_store: Store) -> Iterator[tuple[Server, Server]]:
    with (
        replica(redis_store.url, redis_store.password_file) as first,
        replica(redis_store.url, redis_store.password_file) as second,
    ):
        yield first, second


def store(redis_url: str) -> redis.Redis:
    return redis.Redis.from_url(redis_url, password=PASSWORD)


def build_state(server: Server, cookies: dict[str, str]) -> StreamlitSession:
    """A page on ``server`` that ran 4 times: 2 messages, and its note widget set to "from A"."""
    page = StreamlitSession(server.base_url, cookies=cookies, timeout=20)
    page.open()
    page.click("say")
    page.click("say")
    note = WidgetState(id=page.widget_id("note"), string_value="from A")
    done = page.change(note)
    assert done.has_text("runs: 4")
    assert done.has_text("messages: ['message 1', 'message 2']")
    assert done.has_text("note: 'from A'")
    return page


def moved_to(server: Server, page: StreamlitSession, cookies: dict[str, str]) -> StreamlitSession:
    """The page's reconnect, landing on ``server``: its old session id, ``cookies``, the page's
    Origin (behind the proxy every replica sees the one public origin), no widget states (a
    reconnect after the replica's loss sends those the page holds; none here, so the note's value
    can only come from the store)."""
    moved = StreamlitSession(server.base_url, cookies=cookies, timeout=20)
    moved.origin = page.origin
    moved.session_id = page.session_id
    moved.connect(resume=True)
    return moved


def first_run_moved(
    server: Server, page: StreamlitSession, cookies: dict[str, str]
) -> tuple[Interaction, str]:
    """The first run of the page's reconnect to ``server`` (moved_to), its socket closed after:
    (the run's result, the new session's id)."""
    moved = moved_to(server, page, cookies)
    try:
        return moved.rerun(kind="reconnect"), moved.session_id
    finally:
        moved.close()


def test_a_page_moved_to_another_replica_finds_its_state_before_its_first_run(replicas, redis_url):
    first, second = replicas
    page = build_state(first, {"st_route": ROUTE})
    old_id = page.session_id
    page.close()
    moved = moved_to(second, page, page.cookies())
    try:
        ran = moved.rerun(kind="reconnect")
        assert moved.session_id != old_id, "a new session on the other replica"
        assert ran.has_text("seen at start: runs=4 messages=2"), ran.texts
        assert ran.has_text("runs: 5")
        assert ran.has_text("messages: ['message 1', 'message 2']")
        assert ran.has_text("note: ''"), "a widget's key is not restored from the store"
        assert ran.has_text("say pressed: False"), "a button does not replay"
        again = moved.click("say")  # and the page goes on from there
        assert again.has_text("messages: ['message 1', 'message 2', 'message 3']")
    finally:
        moved.close()
    assert "st.session_state['lock'] cannot be pickled: not saved" in first.log()
    assert "restored 2 key(s)" in second.log()


def test_another_browser_with_the_old_session_id_gets_nothing(replicas, redis_url):
    first, second = replicas
    page = build_state(first, {"st_route": ROUTE})
    page.close()
    for cookies in ({"st_route": OTHER_ROUTE}, {}):  # another browser's cookie; none (no proxy)
        ran, _ = first_run_moved(second, page, cookies)
        assert ran.has_text("runs: 1"), ran.texts
        assert ran.has_text("messages: []")


def test_the_entry_holds_no_widget_key_and_a_tampered_one_is_refused(replicas, redis_url):
    first, second = replicas
    page = build_state(first, {"st_route": ROUTE})
    page.close()
    client = store(redis_url)
    key = entry_key(Keys.from_secret(SECRET), ROUTE, page.session_id, "")
    entry = client.get(key)
    assert entry is not None
    assert entry.startswith(VERSION)
    assert client.ttl(key) > 3500
    saved = pickle.loads(entry[len(VERSION) + MAC_BYTES :])  # noqa: S301 - our own test's entry
    assert set(saved) == {"runs", "messages"}, "no widget key (note, say), nothing unpicklable"

    tampered = bytearray(entry)
    tampered[-5] ^= 0x01
    client.set(key, bytes(tampered))
    ran, moved_id = first_run_moved(second, page, page.cookies())
    assert ran.has_text("runs: 1"), "a tampered entry restores nothing"
    assert f"an entry for session {moved_id} failed its signature check" in second.log()


def test_without_the_route_cookie_nothing_is_saved(replicas, redis_url):
    first, _ = replicas
    client = store(redis_url)
    before = set(client.scan_iter(f"{KEY_PREFIX}*"))
    page = StreamlitSession(first.base_url, timeout=20)
    page.open()
    page.click("say")
    page.close()
    assert set(client.scan_iter(f"{KEY_PREFIX}*")) == before


def test_with_the_store_down_pages_go_on_and_the_failure_is_logged(tmp_path):
    port = free_port()  # nothing listens there
    with replica(f"redis://127.0.0.1:{port}/0", password_file(tmp_path)) as lonely:
        page = StreamlitSession(lonely.base_url, cookies={"st_route": ROUTE}, timeout=20)
        page.open()
        assert page.click("say").has_text("messages: ['message 1']")
        page.close()
        assert "the store failed on save" in lonely.log()


def errors_counted(server: Server) -> float:
    """streamlit_serving_session_store_operations_total{outcome="error"}, summed over ops."""
    return sum(
        value
        for (name, labels), value in scrape(server).items()
        if name == "streamlit_serving_session_store_operations_total" and ("outcome", "error") in labels
    )


def test_the_store_requires_its_password_and_a_wrong_one_is_a_store_that_is_down(redis_store, tmp_path):
    """Redis refuses a client without the password; a replica given a wrong one serves its pages
    as without a store, and logs and counts the failure. Neither redis-server's arguments nor its
    environment hold the password (what `ps` and `docker inspect` show)."""
    with pytest.raises(redis.AuthenticationError):
        redis.Redis.from_url(redis_store.url).get("x")
    with pytest.raises(redis.AuthenticationError):
        redis.Redis.from_url(redis_store.url, password=secrets.token_hex(8)).get("x")
    pid = redis_store.process.pid
    for exposed in (f"/proc/{pid}/cmdline", f"/proc/{pid}/environ"):
        assert PASSWORD.encode() not in Path(exposed).read_bytes(), exposed
    rendered = redis_store.password_file.parent / "session-store.conf"
    assert rendered.stat().st_mode & 0o777 == 0o600
    wrong = password_file(tmp_path, secrets.token_hex(32))
    with replica(redis_store.url, wrong) as refused:
        page = StreamlitSession(refused.base_url, cookies={"st_route": ROUTE}, timeout=20)
        page.open()
        assert page.click("say").has_text("messages: ['message 1']")
        assert page.click("say").has_text("messages: ['message 1', 'message 2']")
        page.close()
        log = refused.log()
        assert "session store: the store failed on save (AuthenticationError: " in log, log[-2000:]
        assert log.count("the store failed") == 1, "one line per outage"
        assert errors_counted(refused) >= 1
        assert PASSWORD not in log


def test_an_unchanged_state_is_not_written_again_and_one_over_the_cap_removes_the_entry(redis_url):
    """The store's own rules, on the real Redis (no server): a run that changed nothing writes
    nothing; a state over the cap is not saved and its earlier entry goes (a move never brings
    back an older state)."""
    from streamlit.runtime.state.session_state import SessionState

    from streamlit_serving.session_store import SessionStore

    client = store(redis_url)
    saver = SessionStore(client, lambda: SECRET, max_bytes=1024, ttl_seconds=600)
    saver.connected("sid", {"st_route": ROUTE}, {}, None)
    state = SessionState()
    state._new_session_state["x"] = "small"
    key = entry_key(Keys.from_secret(SECRET), ROUTE, "sid", "")
    saver.save("sid", state)
    assert client.get(key) is not None
    assert 590 < client.ttl(key) <= 600
    client.delete(key)
    saver.save("sid", state)
    assert client.get(key) is None, "unchanged: not written again"
    state._new_session_state["x"] = "changed"
    saver.save("sid", state)
    assert client.get(key) is not None
    state._new_session_state["x"] = "b" * 2000
    saver.save("sid", state)
    assert client.get(key) is None, "over the cap: the earlier entry is removed"


def test_a_signed_entry_that_no_longer_unpickles_restores_nothing_and_is_logged(redis_url, capfd):
    """An entry this app signed whose classes are gone (a renamed module): dropped with a log line."""
    from streamlit.runtime.state.session_state import SessionState

    from streamlit_serving.session_store import SessionStore, sign

    client = store(redis_url)
    keys = Keys.from_secret(SECRET)
    key = entry_key(keys, ROUTE, "gone-session", "")
    payload = b"cnomodule\nThing\n)R."  # a pickle of nomodule.Thing(): its module is gone
    client.set(key, sign(keys, key, payload), ex=60)
    restorer = SessionStore(client, lambda: SECRET, max_bytes=1024, ttl_seconds=600)
    restorer.connected("new-session", {"st_route": ROUTE}, {}, "gone-session")
    state = SessionState()
    restorer.restore("new-session", state)
    assert dict(state._new_session_state) == {}
    assert "could not be unpickled" in capfd.readouterr().err
