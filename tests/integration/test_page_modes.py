"""The page's modes on real servers, proven from the WebSocket frames: SALES_MONTH_RERUN=views
reruns exactly the two views on a month change (title and intro untouched), SALES_FRAGMENT=off
reruns the whole page on every pick, and SERVE_WARMUP fills the shared cache (or does not)."""

from __future__ import annotations

import time
from datetime import date

import pytest

from sales_load.page import DATE_WIDGET, DashboardSession, PageMode
from streamlit_load.client import EARLY_FOR_RERUN, FRAGMENT_SUCCESS, SUCCESS, UnexpectedOutcome
from streamlit_load.local_server import Server, running_server

TITLE = "Daily vs monthly sales, by product"
INTRO = "Sales of 26 products"
MONTHLY = "Daily sales for all products"
TOTALS = "Total sales for all products"
WARMUP_LOG = "warm-up: 365 of 365 days and 12 months built"


def session_for(server: Server, *, message_cache: bool = True) -> DashboardSession:
    """A session (opened by `with`) that knows the mode the server was started in."""
    mode = PageMode.from_env(server.env)
    return DashboardSession(server.base_url, timeout=20, message_cache=message_cache, mode=mode)


def test_views_mode_draws_both_views_as_fragments(views_server: Server) -> None:
    """The first run is the whole page; the daily and the monthly view each are a fragment of
    their own, and the title and intro belong to none."""
    with session_for(views_server) as session:
        first = session.initial
        assert first is not None
        assert first.outcomes == [SUCCESS]
        daily = session.fragment_of(DATE_WIDGET)
        (monthly,) = session.seen_fragment_ids - {daily}
        assert set(first.delta_fragments) == {"", daily, monthly}
        assert first.has_text(TITLE)
        assert first.has_text(f"{MONTHLY}, January 2023")


@pytest.mark.parametrize("message_cache", [True, False], ids=["browser-cache", "no-cache"])
def test_views_mode_month_change_reruns_exactly_the_two_views(views_server: Server, message_cache: bool):
    """A day in another month: the picker's on_change reruns the daily and monthly fragments
    (st.rerun(scope=[...])) instead of the script. The frames show the fragment run the browser
    asked for giving way, then one run of exactly those two fragments, every delta tagged with
    one of them: nothing outside them (the title, the intro) is sent again, and both views show
    the new month."""
    with session_for(views_server, message_cache=message_cache) as session:
        daily = session.fragment_of(DATE_WIDGET)
        (monthly,) = session.seen_fragment_ids - {daily}
        moved = session.change_month(date(2023, 3, 5))
        full = session.pick_date("2023-03-06", fragment=False)

    assert moved.outcomes == [EARLY_FOR_RERUN, FRAGMENT_SUCCESS]
    assert moved.runs[0] == (daily,)
    assert set(moved.runs[1]) == {daily, monthly}
    assert len(moved.runs) == 2
    assert set(moved.delta_fragments) == {daily, monthly}
    assert not moved.outside_fragment
    assert not moved.has_text(TITLE)
    assert not moved.has_text(INTRO)
    assert moved.has_text("Best sellers, March 5, 2023")
    assert moved.has_text(f"{MONTHLY}, March 2023")
    assert moved.has_text(f"{TOTALS}, March 2023")
    # The page's own deltas are what a full run adds: the two views' run sends fewer.
    assert full.outside_fragment
    assert full.has_text(TITLE)
    assert moved.deltas < full.deltas


def test_views_mode_same_month_pick_reruns_the_daily_view_alone(views_server: Server) -> None:
    """The callback returns for a day in the same month: the daily fragment reruns alone, as in
    the tutorial's mode; the monthly view is not sent."""
    with session_for(views_server) as session:
        daily = session.fragment_of(DATE_WIDGET)
        picked = session.pick_date("2023-01-20")
        back = session.change_month("2023-02-01")
        again = session.pick_date("2023-02-02")
    assert picked.outcomes == [FRAGMENT_SUCCESS]
    assert picked.runs == [(daily,)]
    assert set(picked.delta_fragments) == {daily}
    assert not picked.has_text(MONTHLY)
    assert back.has_text(f"{MONTHLY}, February 2023")
    assert again.runs == [(daily,)]
    assert again.has_text("Best sellers, February 2, 2023")


def test_views_mode_every_month_of_the_year(views_server: Server) -> None:
    with session_for(views_server) as session:
        for month in range(2, 13):
            moved = session.change_month(date(2023, month, 15))
            assert moved.has_text(f"{MONTHLY}, {date(2023, month, 1):%B %Y}"), moved.texts
            assert not moved.outside_fragment


def test_the_client_refuses_a_month_change_the_mode_does_not_explain(views_server: Server) -> None:
    """Told the page is the tutorial's (a whole-script run after the fragment), the client sees
    the views' run instead and says so: the outcome check can fail."""
    with (
        DashboardSession(views_server.base_url, timeout=20) as session,
        pytest.raises(UnexpectedOutcome, match="FINISHED_FRAGMENT_RUN_SUCCESSFULLY"),
    ):
        session.change_month("2023-04-01")


def test_plain_mode_has_no_fragment_and_a_pick_reruns_the_whole_page(plain_server: Server) -> None:
    """SALES_FRAGMENT=off: no fragment anywhere; a pick in the same month is one whole-script
    run, the title, intro and monthly view sent again, the same page as with the fragment."""
    with session_for(plain_server) as session:
        assert session.seen_fragment_ids == set()
        with pytest.raises(KeyError, match="not inside a fragment"):
            session.fragment_of(DATE_WIDGET)
        picked = session.pick_date("2023-01-15")
    assert picked.outcomes == [SUCCESS]
    assert picked.runs == [()]
    assert set(picked.delta_fragments) == {""}
    assert picked.has_text(TITLE)
    assert picked.has_text(INTRO)
    assert picked.has_text("Best sellers, January 15, 2023")
    assert picked.has_text("Worst sellers, January 15, 2023")
    assert picked.has_text(f"{MONTHLY}, January 2023")
    assert picked.has_text(f"{TOTALS}, January 2023")


def test_plain_mode_month_change_is_one_whole_script_run(plain_server: Server) -> None:
    """No fragment to call st.rerun(): a day in another month is one run, not two."""
    with session_for(plain_server) as session:
        moved = session.change_month("2023-05-09")
        same = session.pick_date("2023-05-10")
    assert moved.outcomes == [SUCCESS]
    assert moved.runs == [()]
    assert moved.has_text(f"{MONTHLY}, May 2023")
    assert moved.has_text("Best sellers, May 9, 2023")
    assert same.has_text(f"{MONTHLY}, May 2023")


def wait_for_log(server: Server, text: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if text in server.log():
            return True
        time.sleep(0.2)
    return False


def test_warm_up_fills_the_shared_cache_after_health_and_pages_work_meanwhile() -> None:
    """SERVE_WARMUP=on (the default): the server is healthy and serves a page before the warm-up
    has finished; then the warm-up reports the cache filled: every day's two tables and two
    charts and every month."""
    with running_server() as server:
        assert WARMUP_LOG not in server.log()  # healthy before the warm-up is done
        with DashboardSession(server.base_url, timeout=20) as session:
            assert session.pick_date("2023-08-08").has_text("Best sellers, August 8, 2023")
        assert wait_for_log(server, WARMUP_LOG, 120), server.log()
        assert "the shared cache holds 730 tables, 730 charts, 12 months" in server.log()
        # SERVE_GC_THRESHOLDS and SERVE_GC_FREEZE's defaults (gc_tuning.py): set at start, and the
        # freeze once the warm-up has ended (the modules and the warmed caches).
        assert "garbage collection thresholds 50000,10,10 (SERVE_GC_THRESHOLDS)" in server.log()
        assert wait_for_log(server, "objects frozen after the warm-up (SERVE_GC_FREEZE=on)", 10), server.log()
        log = server.log()
        assert log.index(WARMUP_LOG) < log.index("objects frozen after the warm-up")
        assert server.healthy()


def test_warm_up_off_builds_nothing_ahead(plain_server: Server) -> None:
    """SERVE_WARMUP=off: no warm-up runs (the plain server has been up for the tests above), and
    SERVE_GC_FREEZE's freeze came once the server was healthy."""
    assert not wait_for_log(plain_server, "warm-up", 2)
    assert "objects frozen once the server was healthy (SERVE_GC_FREEZE=on)" in plain_server.log()
