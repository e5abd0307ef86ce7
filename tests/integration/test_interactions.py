"""What each kind of pick makes the real server run, seen over the WebSocket protocol."""

from __future__ import annotations

import calendar
import re
from datetime import date
from typing import TYPE_CHECKING

import pytest

from sales_load.page import DATE_WIDGET, DashboardSession
from streamlit_load.client import EARLY_FOR_RERUN, FRAGMENT_SUCCESS, SUCCESS, StreamlitClientError

if TYPE_CHECKING:
    from local_server import Server

MONTHLY = "Daily sales for all products"
TOTALS = "Total sales for all products"


def test_first_run_finds_the_date_widget_and_its_fragment(session: DashboardSession) -> None:
    """Ids come from the deltas: the widget's id ends with its user key, the fragment id is a
    hash, and the first run is one whole-script run showing January 2023."""
    first = session.initial
    assert first is not None
    widget = session.widget_id(DATE_WIDGET)
    assert re.fullmatch(r"\$\$ID-[0-9a-f]+-date", widget)
    assert session.widget_id("Pick a day") == widget
    fragment = session.fragment_of(DATE_WIDGET)
    assert re.fullmatch(r"[0-9a-f]{32}", fragment)
    assert session.seen_fragment_ids == {fragment}
    assert session.session_id
    assert session.page_script_hash
    assert first.kind == "initial"
    assert first.outcomes == [SUCCESS]
    assert first.runs == [()]
    assert first.fragment_ids == {fragment}
    assert first.outside_fragment
    assert first.has_text("Best sellers, January 1, 2023")
    assert first.has_text(f"{MONTHLY}, January 2023")
    assert first.has_text(f"{TOTALS}, January 2023")


def test_a_second_open_is_refused_not_leaked(session: DashboardSession) -> None:
    """`with` already connected: a second open() would leave the first socket (and its server
    session) dangling, so it raises instead, and the session keeps working."""
    with pytest.raises(StreamlitClientError, match="already connected"):
        session.open()
    assert session.pick_date("2023-01-03").outcomes == [FRAGMENT_SUCCESS]


@pytest.mark.parametrize("message_cache", [True, False], ids=["browser-cache", "no-cache"])
def test_same_month_pick_runs_only_the_fragment(server: Server, message_cache: bool) -> None:
    """A pick in the current month reruns the fragment alone: one fragment run, every delta
    tagged with the fragment's id, no monthly view, and fewer messages and bytes than a full
    rerun of the same pick."""
    with DashboardSession(server.base_url, timeout=20, message_cache=message_cache) as session:
        fragment = session.fragment_of(DATE_WIDGET)
        picked = session.pick_date("2023-01-15")
        full = session.pick_date("2023-01-15", fragment=False)

    assert picked.kind == "fragment"
    assert picked.outcomes == [FRAGMENT_SUCCESS]
    assert picked.runs == [(fragment,)]
    assert set(picked.delta_fragments) == {fragment}
    assert not picked.outside_fragment
    assert picked.has_text("Best sellers, January 15, 2023")
    assert picked.has_text("Worst sellers, January 15, 2023")
    assert not picked.has_text(MONTHLY)
    assert not picked.has_text(TOTALS)
    assert picked.deltas < full.deltas
    assert picked.messages < full.messages
    assert picked.bytes_received < full.bytes_received


def test_full_rerun_runs_the_whole_script(session: DashboardSession) -> None:
    """The same pick without a fragment id reruns everything: one whole-script run, deltas
    outside the fragment, the monthly headers, and the fragment's own deltas too."""
    fragment = session.fragment_of(DATE_WIDGET)
    full = session.pick_date("2023-01-20", fragment=False)
    assert full.kind == "full"
    assert full.outcomes == [SUCCESS]
    assert full.runs == [()]
    assert full.outside_fragment
    assert full.delta_fragments[fragment] > 0
    assert full.has_text("Daily vs monthly sales, by product")
    assert full.has_text("Best sellers, January 20, 2023")
    assert full.has_text(f"{MONTHLY}, January 2023")
    assert full.has_text(f"{TOTALS}, January 2023")


def test_new_month_pick_runs_the_fragment_then_the_whole_script(session: DashboardSession) -> None:
    """A pick in another month: the fragment run calls st.rerun() (FINISHED_EARLY_FOR_RERUN),
    then a whole-script run shows the new month; the next same-month pick is fragment-only."""
    fragment = session.fragment_of(DATE_WIDGET)
    moved = session.change_month(date(2023, 2, 3))
    assert moved.kind == "month_change"
    assert moved.outcomes == [EARLY_FOR_RERUN, SUCCESS]
    assert moved.runs == [(fragment,), ()]
    assert moved.outside_fragment
    assert moved.has_text(f"{MONTHLY}, February 2023")
    assert moved.has_text(f"{TOTALS}, February 2023")
    assert moved.has_text("Best sellers, February 3, 2023")
    assert not moved.has_text(f"{MONTHLY}, January 2023")

    same_month = session.pick_date("2023-02-28")
    assert same_month.outcomes == [FRAGMENT_SUCCESS]
    assert not same_month.outside_fragment
    assert same_month.has_text("Best sellers, February 28, 2023")


def test_one_pick_in_every_month_of_2023(session: DashboardSession) -> None:
    """January's last day is a same-month pick; each later month's last day is a month
    change whose full run shows that month."""
    january = session.pick_date("2023-01-31")
    assert january.outcomes == [FRAGMENT_SUCCESS]
    assert january.has_text("Best sellers, January 31, 2023")
    for month in range(2, 13):
        day = date(2023, month, calendar.monthrange(2023, month)[1])
        moved = session.change_month(day)
        assert moved.has_text(f"{MONTHLY}, {day:%B %Y}"), moved.texts
        assert moved.has_text(f"Best sellers, {day:%B} {day.day}, 2023"), moved.texts
