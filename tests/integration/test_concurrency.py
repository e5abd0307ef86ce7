"""Several sessions at once: in plain threads, and in greenlets under gevent's monkey-patching
(how Locust runs its users)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from sales_load.page import DashboardSession
from streamlit_load.client import EARLY_FOR_RERUN, FRAGMENT_SUCCESS, SUCCESS

if TYPE_CHECKING:
    from local_server import Server

SESSIONS = 6


def journey(base_url: str, month: int) -> dict[str, object]:
    """Open, pick a day (fragment), rerun it fully, change month; what each step showed."""
    with DashboardSession(base_url, timeout=60) as session:
        day = session.pick_date(f"2023-01-{month + 10:02d}")
        full = session.pick_date(f"2023-01-{month + 10:02d}", fragment=False)
        moved = session.change_month(f"2023-{month:02d}-15")
        return {
            "session_id": session.session_id,
            "fragment": day.outcomes,
            "fragment_only": not day.outside_fragment,
            "full": full.outcomes,
            "month_change": moved.outcomes,
            "monthly_header": [t for t in moved.texts if t.startswith("Daily sales")],
        }


def check(results: list[dict[str, object]]) -> None:
    assert len({r["session_id"] for r in results}) == SESSIONS
    for month, result in enumerate(results, start=2):
        assert result["fragment"] == [FRAGMENT_SUCCESS]
        assert result["fragment_only"] is True
        assert result["full"] == [SUCCESS]
        assert result["month_change"] == [EARLY_FOR_RERUN, SUCCESS]
        assert result["monthly_header"] == [f"Daily sales for all products, {date(2023, month, 1):%B %Y}"]


def test_sessions_in_plain_threads(server: Server) -> None:
    """Six sessions, one thread each, interleaving their interactions on one server."""
    with ThreadPoolExecutor(SESSIONS) as pool:
        results = list(pool.map(journey, [server.base_url] * SESSIONS, range(2, 2 + SESSIONS)))
    check(results)


GEVENT_DRIVER = """
from gevent import monkey
monkey.patch_all()

import json, sys
import gevent
from test_concurrency import journey

greenlets = [gevent.spawn(journey, sys.argv[1], month) for month in range(2, 2 + int(sys.argv[2]))]
gevent.joinall(greenlets, raise_error=True)
assert monkey.is_module_patched("socket")
print(json.dumps([g.value for g in greenlets]))
"""


def test_sessions_in_greenlets_under_gevent(server: Server) -> None:
    """The same six journeys as greenlets in a process patched by gevent (like Locust):
    websocket-client's blocking socket calls then yield to the other greenlets."""
    here = str(Path(__file__).parent)
    env = {**os.environ, "PYTHONPATH": here}  # the kit is installed; this module for the driver
    done = subprocess.run(
        [sys.executable, "-c", GEVENT_DRIVER, server.base_url, str(SESSIONS)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    check(json.loads(done.stdout.strip().splitlines()[-1]))
