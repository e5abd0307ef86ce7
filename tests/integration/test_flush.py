"""streamlit_serving/flush.py on the real server: the runtime's flush cycle visits only the
sessions with something to send, and nothing is lost by it. Many sessions are open and idle while
others pick days and change months: every interaction gets its whole answer, each idle session
still gets its own when it acts (nothing was left in a queue the cycle skipped), and every other
reader of the session list (Streamlit's own active_sessions, the serving layer's gauge) still
counts every session."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date

from sales_load.page import DashboardSession
from streamlit_load.local_server import Server

from .test_metrics import sessions_become, streamlit_active_sessions

IDLE, BUSY = 24, 3


def journey(base_url: str, month: int) -> list[str]:
    with DashboardSession(base_url, timeout=30) as session:
        seen = []
        for day in (3, 9, 17):
            page = session.pick_date(f"2023-{month:02d}-{day:02d}")
            seen.append(page.texts[0] if page.texts else "")
            assert page.has_text(f"Best sellers, {page_month(month)} {day}, 2023"), page.texts[:5]
        moved = session.change_month(f"2023-{month + 1:02d}-05")
        assert moved.has_text(f"Daily sales for all products, {page_month(month + 1)} 2023"), moved.texts[:5]
        return seen


def page_month(month: int) -> str:
    return date(2023, month, 1).strftime("%B")


def test_idle_sessions_are_skipped_without_losing_a_message(server: Server) -> None:
    baseline = int(sessions_become(server, 0, within=35.0))
    idle = [DashboardSession(server.base_url, timeout=30) for _ in range(IDLE)]
    try:
        for session in idle:
            session.open()
        assert sessions_become(server, baseline + IDLE) == baseline + IDLE
        with ThreadPoolExecutor(BUSY) as pool:  # busy sessions while the idle ones sit there
            for done in pool.map(lambda month: journey(server.base_url, month), range(2, 2 + BUSY)):
                assert len(done) == 3
        # Streamlit's own count and the gauge read the whole list: the loop's view is its own.
        assert streamlit_active_sessions(server) == baseline + IDLE
        for index, session in enumerate(idle):  # each idle one still gets every message it is owed
            day = 1 + index % 28
            page = session.pick_date(f"2023-01-{day:02d}")
            assert page.has_text(f"Best sellers, January {day}, 2023"), (index, page.texts[:5])
    finally:
        for session in idle:
            session.close()
