"""A page that comes back on a replica that never held its session (app/sales_dashboard/failover.py).

Streamlit's frontend asks for no run when it reconnects after a whole-page run, so the new
session on the other replica holds no fragment; its next same-month pick is a fragment rerun,
which stock Streamlit drops without a word. Here two servers stand for two replicas: the page ran
on one, comes back on the other with only its widget states, URL and fragment id, as the
frontend does, and its pick must be answered.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sales_load.local_server import Server, running_server
from streamlit_client import DATE_WIDGET, InteractionTimeout, StreamlitSession
from streamlit_client.messages import date_state


@pytest.fixture(scope="module")
def other_replica() -> Iterator[Server]:
    with running_server(env={"SALES_WARMUP": "off"}) as started:
        yield started


def test_a_fragment_pick_on_a_new_replica_after_a_whole_page_run_gets_the_whole_page(
    server: Server, other_replica: Server
) -> None:
    with StreamlitSession(server.base_url, timeout=20) as page:
        page.change_month("2023-04-11")  # its last run: the whole page (no run asked on reconnect)
        widget, fragment, url = page.widget_id(DATE_WIDGET), page.fragment_of(DATE_WIDGET), page.query_string
    assert url == "date=2023-04-11"

    moved = StreamlitSession(f"{other_replica.base_url}/?{url}", timeout=20)
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
    with StreamlitSession(other_replica.base_url, timeout=20) as page:
        with pytest.raises(InteractionTimeout):
            page.rerun("0" * 32, timeout=3)
        assert page.pick_date("2023-01-05").outcomes == ["FINISHED_FRAGMENT_RUN_SUCCESSFULLY"]
