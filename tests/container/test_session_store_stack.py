"""The session store on the compose stack, as the README's recipe starts it (`SESSION_STORE=1 make up
... APP_REPLICAS=2`): a page's own st.session_state survives the loss of its replica.

The store's test app (tests/apps/session_store: a chat-like list and a run counter in the app's own
state) is open through the proxy; its list is built, then the replica that holds the page (its
st_replica cookie) is stopped as a scale-in or a rolling update stops it (SIGTERM: it drains and
closes the page's socket). The page comes back as the frontend does (the same cookies, its old
session id) and lands on the other replica, whose first run already sees the list. Without the
store (Streamlit keeps session state in process memory) it would see an empty one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from streamlit_load.client import StreamlitSession

from .conftest import ROOT, Stack, built_app_image, replica_ids, run, started_stack

APP = ROOT / "tests" / "apps" / "session_store"


@pytest.fixture(scope="module")
def store_app_image(docker: str, images: dict[str, str]) -> Iterator[str]:
    with built_app_image(docker, APP, f"store-app-test:{os.getpid()}") as tag:
        yield tag


@pytest.fixture(scope="module")
def store_stack(
    docker: str, images: dict[str, str], store_app_image: str, local_tls: Path, tmp_path_factory
) -> Iterator[Stack]:
    with started_stack(
        docker, {**images, "APP_IMAGE": store_app_image}, tmp_path_factory.mktemp("secrets"), local_tls,
        "sessionstore", 2, SESSION_STORE="1",
    ) as stack:  # fmt: skip
        yield stack


def test_a_page_keeps_its_own_state_when_its_replica_stops(store_stack: Stack) -> None:
    assert len(store_stack.containers("session-store")) == 1  # SESSION_STORE=1 added it
    page = StreamlitSession(store_stack.url, timeout=30)
    try:
        page.open()
        page.click("say")
        built = page.click("say")
        assert built.has_text("messages: ['message 1', 'message 2']"), built.texts
        old_id, replica = page.session_id, page.cookies().get("st_replica")
        replicas = replica_ids(store_stack)
        assert replica in replicas, (replica, replicas)

        run(store_stack.docker, "stop", "--time", "15", replicas[replica])  # drains on SIGTERM
        moved = page.resume(in_flight=True)  # the frontend's reconnect, and its rerun
        assert moved is not None
        assert page.session_id != old_id, "a new session, on the other replica"
        assert page.cookies().get("st_replica") != replica
        assert moved.has_text("seen at start: runs=3 messages=2"), moved.texts
        assert moved.has_text("messages: ['message 1', 'message 2']")
        again = page.click("say")  # and it goes on from there
        assert again.has_text("messages: ['message 1', 'message 2', 'message 3']"), again.texts
    finally:
        page.close()
    (other,) = set(replicas.values()) - {replicas[replica]}
    logs = run(store_stack.docker, "logs", other).stderr
    assert f"session store: session {page.session_id} restored 2 key(s)" in logs, logs[-2000:]
