"""A page that comes back on a replica that never held its session (streamlit_serving/failover.py).

Streamlit's frontend asks for no run when it reconnects after a whole-page run, so the new
session on the other replica holds no fragment; its next same-month pick is a fragment rerun,
which stock Streamlit drops without a word. Here two servers stand for two replicas: the page ran
on one, comes back on the other with only its widget states, URL and fragment id, as the
frontend does, and its pick must be answered.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from sales_load.page import DATE_WIDGET, DashboardSession, PageMode
from streamlit_load.client import FRAGMENT_SUCCESS, SUCCESS, InteractionTimeout
from streamlit_load.client.messages import date_state
from streamlit_load.local_server import Server, running_server

MODE_SERVERS = {"fragment": "server", "views": "views_server", "plain": "plain_server"}


@pytest.fixture(scope="module")
def other_replica() -> Iterator[Server]:
    with running_server(env={"SERVE_WARMUP": "off"}) as started:
        yield started


def test_a_fragment_pick_on_a_new_replica_after_a_whole_page_run_gets_the_whole_page(
    server: Server, other_replica: Server
) -> None:
    with DashboardSession(server.base_url, timeout=20) as page:
        page.change_month("2023-04-11")  # its last run: the whole page (no run asked on reconnect)
        widget, fragment, url = page.widget_id(DATE_WIDGET), page.fragment_of(DATE_WIDGET), page.query_string
    assert url == "date=2023-04-11"

    moved = DashboardSession(f"{other_replica.base_url}/?{url}", timeout=20)
    moved.connect()  # the frontend's reconnect: a socket, no run
    try:
        moved.set_widget_state(date_state(widget, "2023-04-20"))  # the user's next pick ...
        answered = moved.rerun(fragment)  # ... a fragment rerun, as the frontend sends it
        assert answered.outcomes == ["FINISHED_SUCCESSFULLY"], "a whole-page run, not silence"
        assert answered.outside_fragment
        assert answered.has_text("Best sellers, April 20, 2023")
        assert answered.has_text("Daily sales for all products, April 2023")
        again = moved.pick_date("2023-04-22")  # from then on, fragment runs as usual
        assert again.outcomes == ["FINISHED_FRAGMENT_RUN_SUCCESSFULLY"]
        assert not again.outside_fragment
    finally:
        moved.close()


def test_a_session_that_ran_still_drops_a_stale_fragment_rerun(other_replica: Server) -> None:
    """Streamlit's own rule is kept once a session has run: a fragment that a full run removed is
    stale, and its rerun gets no answer."""
    with DashboardSession(other_replica.base_url, timeout=20) as page:
        with pytest.raises(InteractionTimeout):
            page.rerun("0" * 32, timeout=3)
        assert page.pick_date("2023-01-05").outcomes == ["FINISHED_FRAGMENT_RUN_SUCCESSFULLY"]


@pytest.mark.parametrize("first_pick", ["2023-04-20", "2023-06-03"], ids=["same-month", "other-month"])
@pytest.mark.parametrize("mode", list(MODE_SERVERS))
def test_in_every_mode_a_page_that_came_back_silently_to_a_new_session_goes_on(
    request: pytest.FixtureRequest, mode: str, first_pick: str
) -> None:
    """The protocol client's ``resume`` and the app together, in each page mode: after a
    whole-page run (here the link's first load) the client comes back asking for no run, as the
    frontend does; its socket reaches a session that never ran (the holder is gone: no session id
    to resume); the user's next pick, in the month or in another, is answered with its day, and
    the picks after it run as the mode says."""
    server = request.getfixturevalue(MODE_SERVERS[mode])
    page_mode = PageMode.from_env(server.env)
    assert page_mode.name == mode
    with DashboardSession(f"{server.base_url}/?date=2023-04-11", timeout=20, mode=page_mode) as page:
        held = page.session_id
        page.close()
        page.session_id = ""  # the replica that held it is gone: the socket gets a new session
        assert page.resume() is None, "after a whole-page run the frontend asks for no run"
        assert page.query_string == "date=2023-04-11"

        answered = page.pick_date(first_pick)
        day = date.fromisoformat(first_pick)
        assert answered.outcomes == [SUCCESS], "a whole-page run (fragment modes: failover.py), not silence"
        assert answered.has_text(f"Best sellers, {day:%B %-d, %Y}")
        assert answered.has_text(f"Daily sales for all products, {day:%B %Y}")
        assert page.session_id not in ("", held), "a new session answered"
        assert page.query_string == f"date={first_pick}"

        again = page.pick_date(day.replace(day=22))  # then the mode's own runs, as before the move
        assert again.outcomes == [FRAGMENT_SUCCESS if page_mode.fragment else SUCCESS]
        assert again.has_text(f"Best sellers, {day:%B} 22, 2023")
        moved = page.change_month("2023-09-05")  # raises unless the mode's month-change outcomes
        assert moved.has_text("Daily sales for all products, September 2023")
