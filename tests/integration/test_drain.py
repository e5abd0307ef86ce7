"""The drain on SIGTERM (streamlit_serving/drain.py) on a real server: a replica that is told to
stop refuses new sessions at once, lets the run a user waits for finish, closes every session so
its browser reconnects elsewhere, then exits. Stock Streamlit (SERVE_DRAIN_SECONDS=0) cuts the
run off: that is what the drain is for."""

from __future__ import annotations

import signal
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field

import websocket

from sales_load.page import DashboardSession
from streamlit_load.client import Interaction
from streamlit_load.client.errors import SessionClosed
from streamlit_load.local_server import Server, running_server

DELAY = 1.0  # SALES_DEMO_DELAY_SECONDS: a full run sleeps this long in each of the two views
SIGTERM_AFTER = 0.3  # seconds into the run


@dataclass
class PickDuringStop:
    """A whole-page pick, and what the session saw after it, with SIGTERM sent mid-run."""

    sent_at: float = 0.0
    result: Interaction | None = None
    error: Exception | None = None
    close_code: int | None = None
    ended_at: float = 0.0
    events: list[str] = field(default_factory=list)


def pick_then_sigterm(server: Server, session: DashboardSession) -> tuple[PickDuringStop, threading.Thread]:
    seen = PickDuringStop()

    def pick() -> None:
        seen.sent_at = time.monotonic()
        try:
            seen.result = session.pick_date("2023-01-15", fragment=False)
            seen.ended_at = time.monotonic()
            seen.close_code = session.wait_closed(10)
        except SessionClosed as exc:
            seen.error = exc
            seen.ended_at = time.monotonic()

    worker = threading.Thread(target=pick)
    worker.start()
    time.sleep(SIGTERM_AFTER)
    assert worker.is_alive(), "the run ended before SIGTERM: make DELAY longer"
    server.process.send_signal(signal.SIGTERM)
    return seen, worker


def health(base_url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def websocket_status(base_url: str) -> int:
    """The HTTP status a new WebSocket to the app gets (101 when it opens)."""
    ws = websocket.WebSocket()
    try:
        ws.connect(base_url.replace("http", "ws", 1) + "/_stcore/stream", subprotocols=["streamlit"],
                   origin=base_url, timeout=5)  # fmt: skip
    except websocket.WebSocketBadStatusException as refused:
        return refused.status_code
    ws.close()
    return 101


def exit_code(server: Server, timeout: float) -> int | None:
    try:
        return server.process.wait(timeout)
    except Exception:  # noqa: BLE001 - TimeoutExpired: still running
        return None


def test_sigterm_refuses_new_sessions_lets_the_run_finish_and_moves_every_session() -> None:
    with running_server(env={"SALES_DEMO_DELAY_SECONDS": str(DELAY)}) as server:
        idle = DashboardSession(server.base_url, timeout=20)
        busy = DashboardSession(server.base_url, timeout=20)
        idle.open(), busy.open()
        seen, worker = pick_then_sigterm(server, busy)
        stopped = time.monotonic()

        time.sleep(0.2)
        assert health(server.base_url) == (503, "draining\n"), "health flips first"
        assert websocket_status(server.base_url) == 503, "a new session is refused before the upgrade"
        assert idle.wait_closed(2) == 1012, "an idle session is closed at once (service restart)"
        idle_closed = time.monotonic()
        worker.join(30)

        assert seen.error is None, f"the run was cut off: {seen.error}"
        assert seen.result.outcomes == ["FINISHED_SUCCESSFULLY"]
        assert seen.result.has_text("Best sellers, January 15, 2023")
        assert seen.close_code == 1012, "the busy session is closed once its run is delivered"
        assert idle_closed < seen.ended_at, "the idle session did not wait for the busy one"
        assert exit_code(server, 10) == 0
        took = time.monotonic() - stopped
        assert took < 2 * DELAY + 5, f"the drain took {took:.1f} s"
        log = server.log()
        assert "drain: SIGTERM: draining 2 session(s), at most 10 s" in log
        assert "drain: moved 2 session(s) in" in log
        assert "0 still open" in log


def test_the_drain_is_bounded_by_sales_drain_seconds() -> None:
    env = {"SALES_DEMO_DELAY_SECONDS": "5", "SERVE_DRAIN_SECONDS": "0.5"}
    with running_server(env=env) as server, DashboardSession(server.base_url, timeout=20) as busy:
        seen, worker = pick_then_sigterm(server, busy)
        assert exit_code(server, 4) == 0, "the drain did not give up after 0.5 s"
        worker.join(30)
        assert isinstance(seen.error, SessionClosed), "a run longer than the drain is cut off"
        assert "drain: moved 0 session(s) in 0.5" in server.log()
        assert "1 still open (cut off by the stop)" in server.log()


def test_a_second_sigterm_stops_at_once() -> None:
    env = {"SALES_DEMO_DELAY_SECONDS": "5", "SERVE_DRAIN_SECONDS": "60"}
    with running_server(env=env) as server, DashboardSession(server.base_url, timeout=20) as busy:
        _, worker = pick_then_sigterm(server, busy)
        time.sleep(0.3)
        server.process.send_signal(signal.SIGTERM)
        assert exit_code(server, 4) == 0
        worker.join(30)
        assert "drain: second SIGTERM: stopping now" in server.log()


def test_stock_streamlit_cuts_the_running_run_off() -> None:
    """SERVE_DRAIN_SECONDS=0 is Streamlit 1.67 as shipped: SIGTERM closes every socket at once and
    the interaction in flight is lost. If this starts failing, Streamlit drains by itself now."""
    env = {"SALES_DEMO_DELAY_SECONDS": str(DELAY), "SERVE_DRAIN_SECONDS": "0"}
    with running_server(env=env) as server, DashboardSession(server.base_url, timeout=20) as busy:
        seen, worker = pick_then_sigterm(server, busy)
        worker.join(30)
        assert isinstance(seen.error, SessionClosed), seen.result
        assert seen.ended_at - seen.sent_at < DELAY + SIGTERM_AFTER, "cut off, not finished"
        assert exit_code(server, 10) == 0
        assert "drain:" not in server.log()
