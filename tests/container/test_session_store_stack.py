"""The session store on the compose stack, as the README's recipe starts it (`SESSION_STORE=1 make up
... APP_REPLICAS=2`): a page's own st.session_state survives the loss of its replica.

The store's test app (tests/apps/session_store: a chat-like list and a run counter in the app's own
state) is open through the proxy; its list is built, then the replica that holds the page (its
st_replica cookie) is stopped as a scale-in or a rolling update stops it (SIGTERM: it drains and
closes the page's socket). The page comes back as the frontend does (the same cookies, its old
session id) and lands on the other replica, whose first run already sees the list. Without the
store (Streamlit keeps session state in process memory) it would see an empty one.

The store requires its password, which `make up` made in a file (SESSION_STORE_PASSWORD_FILE)
and mounted as a compose secret into the store and the app: no container's environment,
arguments or labels (`docker inspect`) and no process's command line hold it.
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
    secrets = tmp_path_factory.mktemp("secrets")
    with started_stack(
        docker, {**images, "APP_IMAGE": store_app_image}, secrets, local_tls, "sessionstore", 2,
        SESSION_STORE="1", SESSION_STORE_PASSWORD_FILE=str(secrets / "store" / "session_store_password"),
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


def test_the_store_requires_the_password_make_up_made_and_nothing_shows_it(store_stack: Stack) -> None:
    path = Path(store_stack.env["SESSION_STORE_PASSWORD_FILE"])
    password = path.read_text().strip()  # made by `make up` (scripts/deploy/secret-file.sh)
    assert len(password) == 64
    assert f"secret-file: made a new session_store_password in {path}" in store_stack.log
    (store,) = store_stack.containers("session-store")
    refused = store_stack.exec(store, "redis-cli", "-p", "6379", "ping")
    assert "NOAUTH" in refused.stdout, refused.stdout + refused.stderr
    healthy = store_stack.exec(store, "/usr/local/bin/healthcheck.sh")  # AUTH on stdin, then PING
    assert healthy.returncode == 0, healthy.stderr
    rendered = store_stack.exec(store, "stat", "-c", "%a %u", "/tmp/session-store.conf").stdout.split()
    assert rendered == ["600", "10006"]
    command_line = store_stack.exec(store, "cat", "/proc/1/cmdline").stdout.replace("\0", " ")
    assert command_line.startswith("redis-server "), command_line
    assert password not in command_line
    # The test above stopped one replica, and compose v1's `ps` still lists it: read the running ones.
    running = [app for app in store_stack.containers("app") if is_running(store_stack, app)]
    assert running, store_stack.containers("app")
    for container in (store, *running):
        inspected = run(store_stack.docker, "inspect", container).stdout
        assert password not in inspected, container
        environ = store_stack.exec(container, "cat", "/proc/1/environ")
        assert environ.returncode == 0, (container, environ.stderr)
        assert environ.stdout, container
        assert password not in environ.stdout, container
    mounted = store_stack.exec(running[0], "cat", "/run/secrets/session_store_password")
    assert mounted.stdout.strip() == password, mounted.stderr


def is_running(stack: Stack, container: str) -> bool:
    return run(stack.docker, "inspect", "-f", "{{.State.Running}}", container).stdout.strip() == "true"
