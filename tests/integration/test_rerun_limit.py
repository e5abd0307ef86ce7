"""The per-session rerun limit (streamlit_serving/rerun_limit.py) on the real server: a session that
floods reruns is closed with 1008 and logged, within its bucket it is served as before, and other
sessions keep their latency while a flooder keeps coming back.

The session-wide ``server`` runs the shipped defaults (SERVE_RERUN_BURST=40, SERVE_RERUN_RATE=10).
"""

from __future__ import annotations

import math
import re
import threading
import time

import psutil

from sales_load.bystander import compare, p95
from sales_load.page import DATE_WIDGET, DashboardSession
from streamlit_load.client import InteractionTimeout
from streamlit_load.client.messages import rerun_msg
from streamlit_load.local_server import Server, running_server
from streamlit_serving.rerun_limit import CLOSE_REASON, POLICY_VIOLATION
from streamlit_serving.settings import ServingSettings

from .test_protocol_abuse import ALLOWED_SLOWDOWN, NOISE_MS  # the same bound as every abuse test

BURST = ServingSettings().rerun_burst
RATE = ServingSettings().rerun_rate
RECONNECT_SECONDS = 1.0  # how soon the cut-off flooder comes back


def rerun_bytes(session: DashboardSession) -> bytes:
    return rerun_msg(
        widget_states=session._widget_states.values(),
        page_script_hash=session.page_script_hash,
        page_url=session.page_url + (f"?{session.query_string}" if session.query_string else ""),
        fragment_id=session.fragment_of(DATE_WIDGET),
        query_string=session.query_string,
    ).SerializeToString()


def flood(session: DashboardSession, count: int = BURST + 10) -> int | None:
    """Send `count` fragment reruns back to back; the close code the server then sends (None if
    it leaves the socket open). A count the socket's buffers take at once, so every rerun is
    written before the close arrives."""
    session.set_date("2023-01-17")
    payload = rerun_bytes(session)
    for _ in range(count):
        session.send_raw(payload)
    try:
        return session.wait_closed(10)
    except InteractionTimeout:
        return None


def test_a_rerun_flood_is_closed_with_1008_and_logged(server: Server, session: DashboardSession) -> None:
    process = psutil.Process(server.pid)
    before = server.log().count("rerun-limit:")
    cpu_before = sum(process.cpu_times()[:2])
    with DashboardSession(server.base_url, timeout=20) as flooder:
        assert flood(flooder) == POLICY_VIOLATION
        assert not flooder.connected
    cpu = sum(process.cpu_times()[:2]) - cpu_before
    print(f"{BURST + 10} reruns sent at once, cut off after the burst: {cpu:.2f} s server CPU")
    time.sleep(0.5)
    lines = [line for line in server.log().splitlines() if line.startswith("rerun-limit:")][before:]
    assert len(lines) == 1, lines
    assert f"1008 {CLOSE_REASON}" in lines[0]
    # The first rerun past the bucket: BURST + 1, plus the tokens it refilled (RATE a second) since
    # the socket opened, while the page's first run and the flood went (the line says how long,
    # to 0.1 s): on a busy machine the first run alone can take 0.1 s, one token more.
    refused, seconds = re.search(r"rerun (\d+) in ([\d.]+) s", lines[0]).groups()
    assert BURST + 1 <= int(refused) <= BURST + 1 + math.floor(RATE * (float(seconds) + 0.05)), lines[0]
    assert "client 127.0.0.1" in lines[0]
    # The flooder's neighbour and a new session are served as before.
    assert session.pick_date("2023-01-18").has_text("Best sellers, January 18, 2023")
    with DashboardSession(server.base_url, timeout=20) as fresh:
        assert fresh.pick_date("2023-01-19").has_text("Best sellers, January 19, 2023")


def test_a_burst_within_the_bucket_is_served_to_its_last_rerun(server: Server) -> None:
    """BURST reruns at once pass (each new one stops the run before it, as ever); the session ends
    on the last and keeps working once the bucket has refilled a little."""
    with DashboardSession(server.base_url, timeout=30) as user:
        user.set_date("2023-01-24")
        payload = rerun_bytes(user)
        for _ in range(BURST - 1):  # the page's first run took one token
            user.send_raw(payload)
        quiet = user.idle(3)
        assert user.connected, "closed within its bucket"
        assert "FINISHED_FRAGMENT_RUN_SUCCESSFULLY" in quiet.outcomes
        time.sleep(1 / ServingSettings().rerun_rate)
        assert user.pick_date("2023-01-25").has_text("Best sellers, January 25, 2023")


def test_the_bucket_refills_at_the_rate() -> None:
    """A bucket of 3 refilled at 0.5 a second: the page's first run leaves 2; after 2.2 s it is
    full again (3, not 4: the bucket caps), so three reruns at once pass and a fourth closes."""
    env = {"SERVE_RERUN_BURST": "3", "SERVE_RERUN_RATE": "0.5", "SERVE_WARMUP": "off"}
    with running_server(env=env) as small:
        with DashboardSession(small.base_url, timeout=30) as user:
            time.sleep(2.2)
            user.set_date("2023-01-03")
            payload = rerun_bytes(user)
            for _ in range(3):
                user.send_raw(payload)
            assert "FINISHED_FRAGMENT_RUN_SUCCESSFULLY" in user.idle(1.5).outcomes
            assert user.connected
            user.send_raw(payload)
            assert user.wait_closed(10) == POLICY_VIOLATION
        assert "rerun-limit: closed" in small.log()


def test_without_a_limit_a_flood_is_served() -> None:
    """SERVE_RERUN_RATE=0: no limit (stock Streamlit): 100 reruns at once keep the socket open."""
    with (
        running_server(env={"SERVE_RERUN_RATE": "0", "SERVE_WARMUP": "off"}) as open_server,
        DashboardSession(open_server.base_url, timeout=30) as user,
    ):
        user.set_date("2023-01-26")
        payload = rerun_bytes(user)
        for _ in range(100):
            user.send_raw(payload)
        user.idle(3)
        assert user.connected
        assert "rerun-limit" not in open_server.log()


def test_other_sessions_keep_their_latency_while_a_flooder_comes_back(server: Server) -> None:
    """A client that floods, is cut off, reconnects a second later and floods again, for as long
    as the bystander measures: the bystander's p95 stays within the bound of the other abuse
    tests. (Faster reconnects are new sessions, each a whole first run: what the proxy's
    per-client request and WebSocket limits bound, not this one.)"""
    cut_off: list[int | None] = []

    def flooder(stop: threading.Event) -> None:
        while not stop.is_set():
            with DashboardSession(server.base_url, timeout=20) as session:
                cut_off.append(flood(session))
            stop.wait(RECONNECT_SECONDS)

    comparison = compare(server.base_url, flooder)
    print(comparison.describe(), f"; flooder cut off {cut_off.count(POLICY_VIOLATION)} times")
    assert not comparison.activity_errors, comparison.activity_errors[:3]
    assert cut_off
    assert set(cut_off) == {POLICY_VIOLATION}
    assert p95(comparison.under_ms) <= p95(comparison.baseline_ms) * ALLOWED_SLOWDOWN + NOISE_MS
    assert server.healthy()


def test_an_app_that_knows_nothing_of_the_limit_is_guarded_all_the_same(hello_app) -> None:
    """Streamlit's hello demo under the serving layer's defaults: a flood of whole-page reruns is
    closed with 1008 and logged, as the example's fragment reruns are; a new session is served."""
    with running_server(app=hello_app / "streamlit_app.py") as hello:
        with DashboardSession(hello.base_url, timeout=20) as flooder:
            payload = rerun_msg(
                widget_states=(), page_script_hash=flooder.page_script_hash,
                page_url=flooder.page_url, query_string="",
            ).SerializeToString()  # fmt: skip
            for _ in range(BURST + 10):
                flooder.send_raw(payload)
            assert flooder.wait_closed(10) == POLICY_VIOLATION
        time.sleep(0.5)
        assert f"1008 {CLOSE_REASON}" in hello.log()
        with DashboardSession(hello.base_url, timeout=60) as fresh:
            assert fresh.initial.has_text("Welcome to Streamlit! 👋")
