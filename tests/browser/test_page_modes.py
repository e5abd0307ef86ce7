"""The page's other modes in the browser, on the session's stack: its app container is recreated
with each mode's settings in turn, then as it was (three recreations, about 10 s each, instead of
a stack per mode).

SALES_FRAGMENT=off: a pick reruns the whole page, proven as test_interactions proves a fragment-only
run: the browser asks for a whole-script rerun (no fragment id), every delta belongs to no fragment,
and the title is sent again; the page looks the same. SALES_MONTH_RERUN=views: a month change
reruns the two views and nothing else: the title and intro neither arrive again nor change in the
DOM, and both views show the new month.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date

import pytest

from .dashboard import Dashboard
from .stack import Stack

TITLE = "Daily vs monthly sales, by product"
# Records every DOM change of the page's title and intro (the first two elements of the page).
WATCH_HEADER = """() => {
  window.__e2eHeader = [];
  const main = document.querySelector('[data-testid="stMainBlockContainer"] [data-testid="stVerticalBlock"]');
  const [title, intro] = main.querySelectorAll(':scope > [data-testid="stElementContainer"]');
  for (const element of [title, intro]) {
    new MutationObserver((list) => window.__e2eHeader.push(...list.map((m) => m.type)))
      .observe(element, {subtree: true, childList: true, attributes: true, characterData: true});
  }
  return [title.innerText.trim(), intro.innerText.trim().slice(0, 16)];
}"""


@pytest.fixture(scope="module")
def app_settings(stack: Stack) -> Iterator[Callable[[dict[str, str]], Stack]]:
    """app_settings(settings): the stack's app recreated with ``settings`` (once per change); the
    app as it was after the module."""
    current: dict[str, str] = {}

    def switch(settings: dict[str, str]) -> Stack:
        if settings != current:
            # One replica is enough to show a mode (and three starting at once slow the machine).
            stack.recreate_app({**settings, "APP_REPLICAS": "1"})
            current.clear()
            current.update(settings)
        return stack

    yield switch
    if current:
        stack.recreate_app({})


@pytest.fixture(scope="module")
def plain(app_settings: Callable[[dict[str, str]], Stack]) -> Stack:
    return app_settings({"SALES_FRAGMENT": "off"})


@pytest.fixture(scope="module")
def views(app_settings: Callable[[dict[str, str]], Stack]) -> Stack:
    return app_settings({"SALES_MONTH_RERUN": "views"})


def test_without_fragments_a_pick_reruns_the_whole_page(plain: Stack, dashboard: Dashboard) -> None:
    page = dashboard.page
    assert page.evaluate(WATCH_HEADER) == [TITLE, "Sales of 26 prod"]
    page.evaluate("() => { window.__e2e.watch('daily', 0); window.__e2e.watch('monthly', 1); }")

    run = dashboard.pick(date(2023, 1, 15))

    # The wire: one rerun of the whole script, answered by deltas of no fragment, title included.
    assert len(run.reruns) == 1
    assert run.reruns[0].rerun_script.fragment_id == "", "the browser asked for a whole-script rerun"
    assert run.dates_sent == ["2023-01-15"]
    assert run.delta_fragments, "the page sent its elements"
    assert set(run.delta_fragments) == {""}, "every delta outside any fragment"
    assert TITLE in run.texts
    assert "Daily sales for all products, January 2023" in run.texts
    assert run.outcomes == ["FINISHED_SUCCESSFULLY"]

    # The same page as with the fragment: the daily view shows the pick, the month stays.
    assert dashboard.headings(Dashboard.DAILY) == [
        "Best sellers, January 15, 2023",
        "Worst sellers, January 15, 2023",
    ]
    best, worst = dashboard.tables(Dashboard.DAILY)
    assert best["header"][-1] == worst["header"][-1] == "Sales 2023-01-15"
    assert dashboard.headings(Dashboard.MONTHLY) == [
        "Daily sales for all products, January 2023",
        "Total sales for all products, January 2023",
    ]
    assert page.evaluate("() => window.__e2e.mutations")["daily"], "the daily view was redrawn"
    assert dashboard.watch.problems() == []


def test_without_fragments_a_month_change_is_one_run(plain: Stack, dashboard: Dashboard) -> None:
    run = dashboard.pick(date(2023, 3, 8))
    assert [msg.rerun_script.fragment_id for msg in run.reruns] == [""]
    assert run.outcomes == ["FINISHED_SUCCESSFULLY"], "no fragment run ending early, no second run"
    assert dashboard.headings(Dashboard.MONTHLY)[0] == "Daily sales for all products, March 2023"
    assert dashboard.tables(Dashboard.MONTHLY)[0]["rows"][0][0] == "2023-03-01"
    assert dashboard.watch.problems() == []


def test_views_mode_month_change_reruns_only_the_two_views(views: Stack, dashboard: Dashboard) -> None:
    page = dashboard.page
    assert page.evaluate(WATCH_HEADER) == [TITLE, "Sales of 26 prod"]
    page.evaluate("() => window.__e2e.watch('monthly', 1)")

    run = dashboard.pick(date(2023, 3, 8))

    # The wire: the browser asks for the daily fragment; the two views' run answers.
    (rerun,) = run.reruns
    daily = rerun.rerun_script.fragment_id
    assert daily, "the pick reruns the daily fragment"
    assert run.outcomes == ["FINISHED_EARLY_FOR_RERUN", "FINISHED_FRAGMENT_RUN_SUCCESSFULLY"]
    fragments = set(run.delta_fragments)
    assert daily in fragments
    assert len(fragments) == 2, "the daily and the monthly fragment, nothing else"
    assert "" not in fragments, "no delta outside the two views"
    assert TITLE not in run.texts

    # The page: both views show March; the title and intro were not touched.
    assert dashboard.headings(Dashboard.DAILY)[0] == "Best sellers, March 8, 2023"
    assert dashboard.headings(Dashboard.MONTHLY) == [
        "Daily sales for all products, March 2023",
        "Total sales for all products, March 2023",
    ]
    assert dashboard.tables(Dashboard.MONTHLY)[0]["rows"][0][0] == "2023-03-01"
    assert [chart["title"] for chart in dashboard.charts(Dashboard.MONTHLY)] == [
        "Monthly total per product, March 2023"
    ]
    assert page.evaluate("() => window.__e2e.mutations")["monthly"], "the monthly view was redrawn"
    assert page.evaluate("() => window.__e2eHeader") == [], "the title or intro changed"
    assert dashboard.watch.problems() == []
