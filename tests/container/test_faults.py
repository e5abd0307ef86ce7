"""Faults on a compose stack of its own (one app replica, so a dead app is a dead service):
the proxy restarted under load, the app killed under load, the app stopped with SIGTERM.

Each test prints what it measured (time to serve new sessions again, exit codes); the figures
go to docs/operations.md. Tests leave the stack running and healthy for the next one.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from sales_load.page import DashboardSession
from streamlit_load.client import StreamlitClientError

from .conftest import Stack, run, started_stack
from .test_stack import SECURITY_HEADERS, request

FAULT_TIMEOUT = 120  # seconds a stack gets to come back (start period + health interval + slack)
PERSON_PAUSE_SECONDS = 0.1  # between a user's picks: a person's pace, under the rerun limit (10/s)


@pytest.fixture(scope="module")
def fault_stack(docker: str, images: dict[str, str], local_tls, tmp_path_factory) -> Iterator[Stack]:
    with started_stack(
        docker, images, tmp_path_factory.mktemp("secrets"), local_tls, "salesfault", 1
    ) as started:
        yield started


@dataclass
class Load:
    """Users picking days through the proxy in background threads, reconnecting after errors."""

    url: str
    users: int = 3
    ok: int = 0
    errors: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> Load:
        users = range(self.users)
        self.threads = [threading.Thread(target=self._user, args=(i,), daemon=True) for i in users]
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def wait_served(self, more_than: int = 0, timeout: float = 90) -> None:
        """Waits until the users have made more than ``more_than`` picks in all."""
        deadline = time.monotonic() + timeout
        while self.ok <= more_than:
            assert time.monotonic() < deadline, f"users served {self.ok} picks; errors {self.errors[-3:]}"
            time.sleep(0.5)

    def _user(self, index: int) -> None:
        day = 0
        while not self.stop.is_set():
            try:
                with DashboardSession(self.url, timeout=30) as session:
                    while not self.stop.is_set():
                        day = day % 27 + 1
                        session.pick_date(f"2023-01-{day:02d}")
                        self.ok += 1
                        self.stop.wait(PERSON_PAUSE_SECONDS)  # a person's pace: under the rerun limit
            except (StreamlitClientError, OSError) as exc:
                self.errors.append(f"{type(exc).__name__}: {str(exc)[:80]}")
                self.stop.wait(0.5)


def inspect(stack: Stack, name: str) -> dict:
    return json.loads(run(stack.docker, "inspect", name).stdout)[0]


def wait_for_new_session(url: str, since: float, timeout: float = FAULT_TIMEOUT) -> float:
    """Seconds from ``since`` until a new session runs the page through the proxy."""
    while time.monotonic() - since < timeout:
        try:
            with DashboardSession(url, timeout=30) as session:
                if session.initial.outcomes == ["FINISHED_SUCCESSFULLY"]:
                    return time.monotonic() - since
        except (StreamlitClientError, OSError):
            time.sleep(0.5)
    pytest.fail(f"no new session served within {timeout} s")


def crash(stack: Stack, container: str, app_image: str) -> None:
    """SIGKILL to the app's process from the host's PID namespace, as the OOM killer would.
    (`docker kill` counts as a manual stop, which the restart policy leaves alone.) Sent by a
    throwaway container running as the app's own UID, so no root or CAP_KILL is needed."""
    pid = inspect(stack, container)["State"]["Pid"]
    result = run(
        stack.docker, "run", "--rm", "--pid=host", "--network=none", "--user=10001:10001",
        "--entrypoint=python3", app_image, "-c", f"import os, signal; os.kill({pid}, signal.SIGKILL)",
        check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def test_app_killed_under_load_gets_502_at_once_and_comes_back(fault_stack, app_image):
    (app,) = fault_stack.containers("app")
    restarts = inspect(fault_stack, app)["RestartCount"]
    with Load(fault_stack.url) as load:
        load.wait_served()
        crash(fault_stack, app, app_image)
        killed = time.monotonic()
        # While the app is down: the friendly page, at once (no hang on a dead upstream).
        started = time.monotonic()
        status, headers, body = request(fault_stack.url, "/")
        answered = time.monotonic() - started
        print(f"while down: {status} in {answered * 1000:.0f} ms")
        if status != 200:  # the restart policy may already have the app back
            assert status in (502, 503, 504)
            assert b"This app is restarting" in body
            for name in SECURITY_HEADERS:
                assert headers[name]
        assert answered < 2
        back = wait_for_new_session(fault_stack.url, killed)
        load.wait_served(more_than=load.ok)  # the users get going again
    state = inspect(fault_stack, app)
    print(f"app killed: new sessions served again after {back:.1f} s; users saw {len(load.errors)} errors")
    assert state["RestartCount"] == restarts + 1
    assert state["State"]["Running"]


def test_proxy_restart_under_load_clients_reconnect_app_untouched(fault_stack):
    (app,) = fault_stack.containers("app")
    (proxy,) = fault_stack.containers("proxy")
    app_started = inspect(fault_stack, app)["State"]["StartedAt"]
    with Load(fault_stack.url) as load:
        load.wait_served()
        restarted = time.monotonic()
        result = run(fault_stack.docker, "restart", proxy, check=False)
        assert result.returncode == 0, result.stderr
        back = wait_for_new_session(fault_stack.url, restarted)
        load.wait_served(more_than=load.ok)  # the users reconnect
    print(f"proxy restarted: new sessions served after {back:.1f} s; users saw {len(load.errors)} errors")
    assert inspect(fault_stack, app)["State"]["StartedAt"] == app_started  # no app restart


def test_sigterm_stops_the_app_gracefully_within_the_stop_timeout(fault_stack):
    (app,) = fault_stack.containers("app")
    grace = 30  # stop_grace_period in deploy/compose.yaml
    with DashboardSession(fault_stack.url) as session:
        assert session.initial.outcomes == ["FINISHED_SUCCESSFULLY"]
        started = time.monotonic()
        result = run(fault_stack.docker, "stop", "--time", str(grace), app, check=False)
        took = time.monotonic() - started
    try:
        assert result.returncode == 0, result.stderr
        state = inspect(fault_stack, app)["State"]
        logs = run(fault_stack.docker, "logs", "--tail", "5", app)
        print(f"SIGTERM: exit code {state['ExitCode']} after {took:.1f} s")
        assert state["ExitCode"] == 0  # Streamlit's own shutdown, not SIGKILL (137)
        assert not state["OOMKilled"]
        assert took < grace
        assert "Stopping..." in logs.stdout + logs.stderr
        # With the only replica stopped its address is gone: a request waits out
        # proxy_connect_timeout (2 s) and gets the 504 page (nginx never marks the only server of
        # a group as failed); once the proxy's DNS check (PROXY_DNS_INTERVAL, 5 s) has seen the
        # name stop resolving, the 502 page comes at once.
        answers = []
        stopped = time.monotonic()
        while not answers or answers[-1][1] >= 1:
            assert time.monotonic() - stopped < 5 + 2 * 2 + 3, f"no quick 502 page: {answers}"
            started = time.monotonic()
            status, _, body = request(fault_stack.url, "/")
            answers.append((status, time.monotonic() - started))
            assert status in (502, 503, 504)
            assert b"This app is restarting" in body
        print("while stopped: " + ", ".join(f"{status} in {took:.2f} s" for status, took in answers))
        assert all(took < 2 + 2 for _, took in answers)
        assert answers[-1][0] == 502
    finally:
        run(fault_stack.docker, "start", app, check=False)
    assert wait_for_new_session(fault_stack.url, time.monotonic()) < FAULT_TIMEOUT
