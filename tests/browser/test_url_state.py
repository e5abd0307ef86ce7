"""The picked day in the page's URL, in Chromium through the proxy: a shared link opens its day
and month; a pick rewrites the address in place, and a same-month pick is still a fragment-only
rerun (proven from the frames: the browser rewrites its URL itself, the server sends nothing for
it); a reload keeps the day; Back leaves the dashboard (picks add no history entry) and Forward
brings it back on its day; a bad link gets a one-line notice and the first day."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from .dashboard import DESKTOP, NARROW, SCREENSHOTS, Dashboard

Open = Callable[..., Dashboard]


def loaded_anew(dashboard: Dashboard, navigate: Callable[[], object]) -> None:
    """``navigate`` (a reload, Forward) and wait until the page's first run there has ended."""
    mark = dashboard.wire.mark()
    navigate()
    dashboard.wire.wait_run_end(mark, timeout=60)
    dashboard.settle()


def test_a_shared_link_opens_its_day_and_its_month(open_dashboard: Open) -> None:
    dashboard = open_dashboard(query="date=2023-03-09")
    assert dashboard.page.url.endswith("/?date=2023-03-09")
    assert dashboard.date_field().inner_text().split() == ["2023", "-", "03", "-", "09"]
    assert dashboard.headings(Dashboard.DAILY)[0] == "Best sellers, March 9, 2023"
    assert dashboard.headings(Dashboard.MONTHLY) == [
        "Daily sales for all products, March 2023",
        "Total sales for all products, March 2023",
    ]
    assert dashboard.watch.csp_violations == []
    assert dashboard.watch.page_errors == []


def test_a_pick_rewrites_the_url_in_place_and_a_same_month_pick_stays_a_fragment_run(
    open_dashboard: Open,
) -> None:
    dashboard = open_dashboard(query="date=2023-03-09")
    page = dashboard.page
    history = page.evaluate("() => history.length")
    page.evaluate("() => window.__e2e.watch('monthly', 1)")

    run = dashboard.pick(date(2023, 3, 20))

    (rerun,) = run.reruns
    fragment = rerun.rerun_script.fragment_id
    assert fragment, "a fragment rerun, as before the URL was bound"
    # Streamlit's frontend rewrites the address itself (history.replaceState); the rerun it sends
    # carries the address before or after that rewrite (both seen: the order is the frontend's).
    assert rerun.rerun_script.query_string in {"date=2023-03-09", "date=2023-03-20"}
    assert set(run.delta_fragments) == {fragment}, "no delta outside the daily fragment"
    assert run.outcomes == ["FINISHED_FRAGMENT_RUN_SUCCESSFULLY"]
    kinds = {msg.WhichOneof("type") for msg in run.received}
    assert "page_info_changed" not in kinds, "the browser rewrote its URL; the server sent nothing for it"
    assert page.evaluate("() => window.__e2e.mutations")["monthly"] == [], "the monthly view untouched"
    assert page.url.endswith("/?date=2023-03-20")
    assert page.evaluate("() => history.length") == history, "replaced in place, no history entry"

    dashboard.pick(date(2023, 5, 2))  # another month: the whole page, and the URL follows
    assert page.url.endswith("/?date=2023-05-02")
    assert dashboard.headings(Dashboard.MONTHLY)[0] == "Daily sales for all products, May 2023"
    dashboard.pick(date(2023, 1, 1))
    assert page.url.endswith("/"), "the first day is the page without a parameter"
    assert page.evaluate("() => history.length") == history
    assert dashboard.watch.csp_violations == []
    assert dashboard.watch.page_errors == []


def test_reload_keeps_the_day_back_leaves_and_forward_returns(open_dashboard: Open) -> None:
    dashboard = open_dashboard()
    page = dashboard.page
    dashboard.pick(date(2023, 6, 5))
    dashboard.pick(date(2023, 6, 21))

    loaded_anew(dashboard, page.reload)
    assert page.url.endswith("/?date=2023-06-21")
    assert dashboard.headings(Dashboard.DAILY)[0] == "Best sellers, June 21, 2023"
    assert dashboard.headings(Dashboard.MONTHLY)[0] == "Daily sales for all products, June 2023"

    page.go_back()  # the picks made no history entries: Back leaves the dashboard
    assert page.url == "about:blank"
    loaded_anew(dashboard, page.go_forward)
    assert page.url.endswith("/?date=2023-06-21")
    assert dashboard.headings(Dashboard.DAILY)[0] == "Best sellers, June 21, 2023"
    assert dashboard.watch.csp_violations == []
    assert dashboard.watch.page_errors == []


def test_a_bad_link_shows_a_one_line_notice_and_the_first_day(open_dashboard: Open) -> None:
    for name, viewport in (("desktop", DESKTOP), ("narrow", NARROW)):
        dashboard = open_dashboard(viewport=viewport, query="date=2023-02-30")
        page = dashboard.page
        notice = page.get_by_text("Link ignored:")
        assert notice.inner_text() == 'Link ignored: "2023-02-30" is no calendar day. Showing 2023-01-01.'
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / f"bad-link-{name}.png")
        if name == "desktop":
            line = page.evaluate("(e) => parseFloat(getComputedStyle(e).lineHeight)", notice.element_handle())
            assert notice.bounding_box()["height"] < 1.5 * line, "one line at desktop width"
        assert page.url.endswith("/"), "the bad day is taken out of the address"
        assert dashboard.headings(Dashboard.DAILY)[0] == "Best sellers, January 1, 2023"
        assert dashboard.headings(Dashboard.MONTHLY)[0] == "Daily sales for all products, January 2023"
        assert dashboard.layout_faults() == []
        assert dashboard.watch.csp_violations == []
    assert dashboard.watch.page_errors == []

    dashboard.pick(date(2023, 1, 20))  # the picker is bound again: the pick goes into the URL
    assert page.url.endswith("/?date=2023-01-20")
    assert page.get_by_text("Link ignored:").count() == 0, "the notice goes with the next pick"
