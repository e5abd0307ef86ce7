"""Routing that survives scale events (issue 34): a live session stays on its replica whatever
replicas are added or removed, and only the sessions of a replica that went away move.

A page of files (tests/apps/files: an image and a download the replica keeps in memory, and an
uploader) is open in 9 sessions through the compose stack's proxy, 2 replicas. The stack grows to
3 and shrinks to 2 again. After each step every session reconnects (as the frontend does when its
WebSocket drops: the cookies it holds, its session id), reruns, and fetches what its page names,
and uploads a file, each request routed by the proxy on its own. Every one must reach the replica
that holds the session: 0 failed media, download or upload requests, and each session keeps its
id except those of the replica removed. Before the st_replica cookie (nginx.conf), the proxy
hashed the browser's cookie over whatever replicas DNS returned, and adding one sent about 1/3
of the sessions' new requests elsewhere (404 for their images).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from streamlit_load.client import StreamlitSession

from .conftest import ROOT, Stack, built_app_image, replica_ids, run, started_stack

APP = ROOT / "tests" / "apps" / "files"
SESSIONS = 9


@pytest.fixture(scope="module")
def files_image(docker: str, images: dict[str, str]) -> Iterator[str]:
    with built_app_image(docker, APP, f"files-app-test:{os.getpid()}") as tag:
        yield tag


@pytest.fixture(scope="module")
def files_stack(
    docker: str, images: dict[str, str], files_image: str, local_tls: Path, tmp_path_factory
) -> Iterator[Stack]:
    with started_stack(
        docker, {**images, "APP_IMAGE": files_image}, tmp_path_factory.mktemp("secrets"), local_tls,
        "affinity", 2,
        # one client address opens every page here: limits for one user would refuse the many
        PROXY_UPLOAD_RATE_PER_CLIENT="100r/s", PROXY_UPLOAD_BURST_PER_CLIENT="200",
        PROXY_RATE_PER_CLIENT="100r/s", PROXY_BURST_PER_CLIENT="400",
    ) as stack:  # fmt: skip
        yield stack


def scale(stack: Stack, replicas: int) -> None:
    """Scale the app to ``replicas`` and wait until the proxy routes to exactly those."""
    stack.compose("up", "--detach", "--no-build", "--no-recreate", "--scale", f"app={replicas}")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        (proxy,) = stack.containers("proxy")
        logs = run(stack.docker, "logs", proxy).stderr
        changes = [
            line
            for line in logs.splitlines()
            if line.startswith(("proxy: upstream", "proxy: replicas changed"))
        ]
        if changes and len(changes[-1].split("->")[1].split()) == replicas:
            time.sleep(1)  # nginx's reload, a moment after the log line
            return
        time.sleep(1)
    pytest.fail(f"the proxy never routed to {replicas} replicas:\n{logs[-2000:]}")


def files(session: StreamlitSession) -> list[str]:
    """Rerun the page, fetch every file it names and upload one: the requests that failed."""
    page = session.rerun()
    assert "FINISHED_SUCCESSFULLY" in page.outcomes, page.outcomes
    assert len(page.media) == 2, page.media  # the image and the download
    failed = []
    for url in page.media:
        status, body = session.get_file(url)
        if status != 200 or not body:
            failed.append(f"GET {url}: {status}")
    ((_, upload),) = session.file_urls(["a.txt"])
    if (status := session.put_file(upload, b"x" * 1000)) != 204:
        failed.append(f"PUT {upload}: {status}")
    elif (status := session.delete_file(upload)) != 204:
        failed.append(f"DELETE {upload}: {status}")
    return failed


def use(session: StreamlitSession, live: bool = True) -> list[str]:
    """The page used on its open socket (``live``: an old nginx worker may hold it after a
    reload), then again after it came back as the frontend does when its socket drops (the
    cookies it holds, its session id): the requests that failed ([] if none)."""
    failed = files(session) if live else []
    session.reconnect()
    return failed + files(session)


def test_sessions_stay_on_their_replica_through_scale_out_and_in(files_stack: Stack) -> None:
    sessions = [StreamlitSession(files_stack.url, timeout=30) for _ in range(SESSIONS)]
    try:
        for session in sessions:
            session.open()
        held = {id(s): (s.session_id, s.cookies().get("st_replica")) for s in sessions}
        ids = replica_ids(files_stack)
        assert {replica for _, replica in held.values()} <= set(ids), (held, ids)  # each named its replica

        scale(files_stack, 3)  # a replica added: nobody moves
        failed = [problem for session in sessions for problem in use(session)]
        assert failed == [], failed
        moved = [s for s in sessions if s.session_id != held[id(s)][0]]
        assert moved == [], f"{len(moved)} sessions moved when a replica was added"
        assert all(s.cookies().get("st_replica") == held[id(s)][1] for s in sessions)

        # A replica removed (compose removes the newest: one no session was on), then one that
        # holds sessions: scale back to 2 and stop one of the two first replicas too.
        scale(files_stack, 2)
        failed = [problem for session in sessions for problem in use(session)]
        assert failed == [], failed
        assert [s for s in sessions if s.session_id != held[id(s)][0]] == []

        victim_id, victim = next((r, ids[r]) for _, r in held.values())
        on_victim = {id(s) for s in sessions if held[id(s)][1] == victim_id}
        run(files_stack.docker, "stop", "--time", "15", victim)  # drains on SIGTERM, as a scale-in does
        run(files_stack.docker, "rm", victim)
        scale(files_stack, 1)
        failed = [
            problem for session in sessions for problem in use(session, live=id(session) not in on_victim)
        ]
        assert failed == [], failed
        moved = {id(s) for s in sessions if s.session_id != held[id(s)][0]}
        assert moved == on_victim, "only the sessions of the replica removed moved"
        assert all(s.cookies().get("st_replica") in replica_ids(files_stack) for s in sessions)
    finally:
        for session in sessions:
            session.close()
