"""The session store's keys, signatures and filters (streamlit_serving/session_store.py), on real
Streamlit session states (AppTest runs of a page with widgets); its settings (settings.py) and the
start's exit 64 for a bad one (serve.py). The store against a real Redis, through two servers, is
tests/integration/test_session_store.py."""

from __future__ import annotations

import pickle
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from streamlit_serving.session_store import (
    KEY_PREFIX,
    MAC_BYTES,
    VERSION,
    Keys,
    entry_key,
    identity_of,
    own_state,
    pickled,
    restore_into,
    sign,
    verified,
)
from streamlit_serving.settings import SettingsError, load_serving_settings

REPO = Path(__file__).resolve().parents[2]
KEYS = Keys.from_secret("s" * 64)
ROUTE = "0123456789abcdef" * 2
USER = {"is_logged_in": True, "iss": "https://id.example", "sub": "42", "email": "a@example.com"}


def test_the_key_binds_the_browser_the_session_and_the_user():
    key = entry_key(KEYS, ROUTE, "session-1", "")
    assert key.startswith(KEY_PREFIX)
    assert key == entry_key(KEYS, ROUTE, "session-1", "")
    others = {
        entry_key(KEYS, "f" * 32, "session-1", ""),  # another browser
        entry_key(KEYS, ROUTE, "session-2", ""),  # another session
        entry_key(KEYS, ROUTE, "session-1", identity_of(USER)),  # signed in
        entry_key(Keys.from_secret("t" * 64), ROUTE, "session-1", ""),  # another secret
        entry_key(KEYS, ROUTE + "session-1", "", ""),  # no ambiguity in the joining
    }
    assert key not in others
    assert len(others) == 5
    assert "session-1" not in key
    assert ROUTE not in key


def test_identity_is_the_signed_in_user_only():
    assert identity_of({}) == ""
    assert identity_of({"is_logged_in": False, "email": "a@example.com"}) == ""
    assert identity_of(USER) != identity_of({**USER, "sub": "43"})
    assert identity_of(USER) != identity_of({**USER, "email": "b@example.com"})


def test_a_signed_entry_verifies_and_any_change_is_refused():
    key = entry_key(KEYS, ROUTE, "s", "")
    entry = sign(KEYS, key, b"payload")
    assert entry.startswith(VERSION)
    assert verified(KEYS, key, entry) == b"payload"
    flipped = bytearray(entry)
    flipped[-1] ^= 1
    assert verified(KEYS, key, bytes(flipped)) is None  # the payload changed
    assert verified(KEYS, entry_key(KEYS, ROUTE, "t", ""), entry) is None  # moved to another key
    assert verified(Keys.from_secret("t" * 64), key, entry) is None  # another secret
    assert verified(KEYS, key, entry[: len(VERSION) + MAC_BYTES - 1]) is None  # cut short
    assert verified(KEYS, key, b"s2" + entry[2:]) is None  # another version
    assert verified(KEYS, key, b"") is None


def page() -> None:
    import streamlit as st

    st.session_state.setdefault("history", [])
    st.session_state.setdefault("count", 0)
    st.session_state.count += 1
    st.text_input("Note", key="note")
    st.button("Go", key="go")
    st.checkbox("Unkeyed")
    with st.form("form"):
        st.text_input("In form", key="in_form")
        st.form_submit_button("Send", key="send")
    st.chat_input("Say", key="chat")
    st.file_uploader("File", key="upload")


def ran_page() -> AppTest:
    app = AppTest.from_function(page)
    app.run()
    app.text_input(key="note").input("typed").run()
    assert not app.exception
    return app


def test_only_the_app_s_own_keys_are_saved_never_a_widget_s_or_streamlit_s():
    app = ran_page()
    state = app._session_state._state
    assert own_state(state) == {"history": [], "count": 2}


def test_a_value_set_in_this_run_is_the_one_saved():
    app = ran_page()
    state = app._session_state._state
    state._new_session_state["count"] = 7  # what st.session_state.count = 7 does in a run
    assert own_state(state)["count"] == 7


def test_unpicklable_values_are_left_out_by_name():
    payload, skipped = pickled({"a": 1, "lock": threading.Lock(), "b": [1, 2], "fn": lambda: 1})
    assert sorted(skipped) == ["fn", "lock"]
    assert pickle.loads(payload) == {"a": 1, "b": [1, 2]}  # noqa: S301 - made just above
    assert pickled({"a": 1}) == (pickle.dumps({"a": 1}, protocol=pickle.HIGHEST_PROTOCOL), [])


def test_a_restore_never_puts_back_a_widget_id_or_an_internal_key_or_overwrites():
    app = AppTest.from_function(page)
    state = app._session_state._state  # a session that has not run yet
    state._new_session_state["count"] = 99  # already there: kept
    restored = restore_into(
        state,
        {
            "history": ["hi"],
            "count": 3,
            "$$ID-0123-note": "x",  # a widget id
            "$$STREAMLIT_INTERNAL_KEY_x": 1,
            5: "not a str key",
        },
    )
    assert restored == ["history"]
    app.run()
    assert app.session_state["history"] == ["hi"]
    assert app.session_state["count"] == 100


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:6379/0", "scheme"),
        ("redis:///0", "no host"),
        ("redis://:secret@store:6379/0", "password"),
        ("redis://user:secret@store:6379/0", "password"),
        ("redis://store:99999/0", "not a URL"),
        ("redis://store:6379/zero", "database number"),
        ("redis://store:6379/0?x=1", "database number"),
    ],
)
def test_a_bad_store_url_names_the_setting(url, reason):
    with pytest.raises(SettingsError, match=f"SERVE_SESSION_STORE.*{reason}"):
        load_serving_settings({"SERVE_SESSION_STORE": url})


def test_store_settings_are_read_with_their_defaults_and_limits():
    off = load_serving_settings({})
    assert (off.session_store, off.session_store_max_kb, off.session_store_ttl_seconds) == ("", 256, 3600)
    on = load_serving_settings(
        {
            "SERVE_SESSION_STORE": " redis://session-store:6379/2 ",
            "SERVE_SESSION_STORE_MAX_KB": "64",
            "SERVE_SESSION_STORE_TTL_SECONDS": "600",
        }
    )
    assert (on.session_store, on.session_store_max_kb, on.session_store_ttl_seconds) == (
        "redis://session-store:6379/2", 64, 600,
    )  # fmt: skip
    assert load_serving_settings({"SERVE_SESSION_STORE": "redis://store"}).session_store == "redis://store"
    for name, value in (("SERVE_SESSION_STORE_MAX_KB", "0"), ("SERVE_SESSION_STORE_TTL_SECONDS", "59")):
        with pytest.raises(SettingsError, match=name):
            load_serving_settings({name: value})


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SERVE_SESSION_STORE": "redis//store"}, "SERVE_SESSION_STORE='redis//store'"),
        ({"SERVE_SESSION_STORE": "redis://store:6379/0"}, "STREAMLIT_SERVER_COOKIE_SECRET is unset"),
    ],
)
def test_the_start_stops_with_exit_64_naming_the_setting(env, message):
    command = [sys.executable, "-m", "streamlit_serving", "run", "app/streamlit_app.py"]
    clean = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", **env}
    result = subprocess.run(
        command, cwd=REPO, env=clean, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 64, result.stderr
    assert message in result.stderr


@pytest.mark.parametrize("overlay", ["deploy/compose.session-store.yaml", "deploy/swarm/session-store.yaml"])
def test_the_store_s_service_is_hardened_unpublished_and_named_by_the_app_s_url(overlay):
    import yaml

    services = yaml.safe_load((REPO / overlay).read_text())["services"]
    store = services["session-store"]
    assert "ports" not in store, "reached on the stack's network only"
    assert store["read_only"] is True
    assert store["cap_drop"] == ["ALL"]
    assert store["deploy"]["resources"]["limits"]["memory"] == "256m"
    url = services["app"]["environment"]["SERVE_SESSION_STORE"]
    assert url == "${SERVE_SESSION_STORE:-redis://session-store:6379/0}"
    assert load_serving_settings({"SERVE_SESSION_STORE": "redis://session-store:6379/0"}).session_store


def test_the_store_image_keeps_nothing_on_disk_and_bounds_its_memory():
    conf = (REPO / "deploy/session-store/redis.conf").read_text()
    settings = dict(line.split(" ", 1) for line in conf.splitlines() if line and not line.startswith("#"))
    assert (settings["save"], settings["appendonly"], settings["dir"]) == ('""', "no", "/tmp")
    assert settings["maxmemory-policy"] == "volatile-ttl"  # every entry has a TTL
    dockerfile = (REPO / "deploy/session-store/Dockerfile").read_text()
    assert 'CMD ["--maxmemory", "200mb"]' in dockerfile  # under the 256m of the services above
    assert "HEALTHCHECK" in dockerfile
