"""The picked day lives in the page's URL (``?date=YYYY-MM-DD``, the picker bound to it) on a real
server, in each page mode: a link opens its day and month, a pick rewrites the URL without making
a fragment pick a full rerun, a page opened from the URL another session left shows its day, and
each bad form of the parameter gets a one-line notice and the first day, never an error."""

from __future__ import annotations

import pytest

from sales_load.page import DashboardSession, PageMode
from sales_load.picks import expect_fragment, expect_full
from streamlit_load.local_server import Server

MODE_SERVERS = {"fragment": "server", "views": "views_server", "plain": "plain_server"}
NOTICE = "Link ignored: "
FIRST = ("Best sellers, January 1, 2023", "Daily sales for all products, January 2023")
BAD_LINKS = {
    "garbage": "date=yesterday",
    "wrong format, day first": "date=09-03-2023",
    "wrong format, slashes": "date=2023/03/09",
    "wrong format, no zeros": "date=2023-3-9",
    "not a calendar day": "date=2023-02-30",
    "out of range, after": "date=2024-05-01",
    "out of range, before": "date=2022-12-31",
    "repeated": "date=2023-03-09&date=2023-04-01",
    "empty": "date=",
    "very long": "date=" + "2023-03-09" * 400,
}


@pytest.fixture(params=list(MODE_SERVERS))
def mode_server(request: pytest.FixtureRequest) -> Server:
    """The server of each page mode (tutorial fragment, views, plain): one each per test session."""
    return request.getfixturevalue(MODE_SERVERS[request.param])


def page(server: Server, query: str = "") -> DashboardSession:
    """A session opened (by `with`) on ``/?query``, as a browser opens a link, in the server's mode."""
    url = f"{server.base_url}/?{query}" if query else server.base_url
    return DashboardSession(url, timeout=20, mode=PageMode.from_env(server.env))


def notices(texts: list[str]) -> list[str]:
    return [text for text in texts if text.startswith(NOTICE)]


def test_a_link_opens_its_day_and_its_month(mode_server: Server) -> None:
    with page(mode_server, "date=2023-03-09") as session:
        opened = session.initial
        assert opened.outcomes == ["FINISHED_SUCCESSFULLY"]
        assert opened.has_text("Best sellers, March 9, 2023")
        assert opened.has_text("Daily sales for all products, March 2023")
        assert opened.has_text("Total sales for all products, March 2023")
        assert notices(opened.texts) == []
        assert session.query_string == "date=2023-03-09", "a good link stays as it is"


def test_every_pick_rewrites_the_url_and_a_fragment_pick_stays_one(mode_server: Server) -> None:
    with page(mode_server, "date=2023-03-09") as session:
        assert session.url_bindings, "the picker is bound to the URL (its element says so)"
        (binding,) = session.url_bindings.values()
        assert (binding.param, binding.default) == ("date", ("2023-01-01",)), "`date`, none at the first day"
        assert (binding.low, binding.high) == ("2023-01-01", "2023-12-31")

        same_month = session.pick_date("2023-03-20")
        assert same_month.has_text("Best sellers, March 20, 2023")
        if session.mode.fragment:
            expect_fragment(same_month)  # binding the URL added no run outside the fragment
        else:
            expect_full(same_month)
        assert session.query_string == "date=2023-03-20"

        session.change_month("2023-05-02")
        assert session.query_string == "date=2023-05-02"
        back_to_first = session.change_month("2023-01-01")
        assert back_to_first.has_text(FIRST[0])
        assert session.query_string == "", "the first day is the page without a parameter"


def test_a_page_opened_from_the_url_a_session_left_shows_its_day(mode_server: Server) -> None:
    """A reload, a shared link, a user whose replica went away: the URL alone brings the day back."""
    with page(mode_server) as first:
        first.change_month("2023-08-17")
        left = first.query_string
    assert left == "date=2023-08-17"
    with page(mode_server, left) as second:
        assert second.initial.has_text("Best sellers, August 17, 2023")
        assert second.initial.has_text("Daily sales for all products, August 2023")
        assert second.url_date().isoformat() == "2023-08-17"


def test_a_resumed_session_sends_its_url_and_shows_its_day(server: Server) -> None:
    """``resume`` is the browser's reconnect: a whole-page rerun with the page's widget states and URL."""
    with page(server, "date=2023-06-05") as session:
        session.pick_date("2023-06-21")
        session.close()
        resumed = session.resume()
        assert resumed.outcomes == ["FINISHED_SUCCESSFULLY"]
        assert resumed.has_text("Best sellers, June 21, 2023")
        assert resumed.has_text("Daily sales for all products, June 2023")
        assert session.query_string == "date=2023-06-21"
        assert session.connects == 2


@pytest.mark.parametrize("link", list(BAD_LINKS.values()), ids=list(BAD_LINKS))
def test_a_bad_link_gets_a_notice_and_the_first_day(server: Server, link: str) -> None:
    with page(server, f"keep=1&{link}") as session:
        opened = session.initial
        assert opened.outcome == "FINISHED_SUCCESSFULLY", "never an exception page"
        assert opened.exceptions == []
        assert opened.has_text(FIRST[0])
        assert opened.has_text(FIRST[1])
        (notice,) = notices(opened.texts)
        assert notice.endswith("Showing 2023-01-01.")
        assert "\n" not in notice
        assert len(notice) <= 72, "one line at desktop width, whatever the link held"
        assert session.query_string == "keep=1", "the bad day is taken out of the URL, the rest kept"

        picked = session.pick_date("2023-01-20")  # the picker is bound again after the notice
        assert picked.has_text("Best sellers, January 20, 2023")
        assert session.query_string == "keep=1&date=2023-01-20"
        assert notices(picked.texts) == [], "the notice goes with the next pick"


@pytest.mark.parametrize("mode", ["views", "plain"])
def test_a_bad_link_is_handled_in_the_other_modes_too(request: pytest.FixtureRequest, mode: str) -> None:
    server = request.getfixturevalue(MODE_SERVERS[mode])
    with page(server, BAD_LINKS["repeated"]) as session:  # the form Streamlit itself would follow
        assert session.initial.has_text(FIRST[0])
        assert len(notices(session.initial.texts)) == 1
        assert session.query_string == ""
        session.change_month("2023-04-04")
        assert session.query_string == "date=2023-04-04"
