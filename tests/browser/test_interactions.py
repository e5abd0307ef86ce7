"""Picking days as a person does, and proving from the page what reran.

A same-month pick must rerun the daily fragment only: the browser sends a fragment rerun, the
server answers with that fragment's deltas only, and the monthly view's DOM is not touched
(a MutationObserver on it records nothing, its element nodes are the same objects).
"""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from .dashboard import Dashboard


def test_same_month_pick_reruns_only_the_daily_view(dashboard: Dashboard) -> None:
    page = dashboard.page
    monthly_headings = dashboard.headings(Dashboard.MONTHLY)
    monthly_tables = dashboard.tables(Dashboard.MONTHLY)
    old_best, _ = dashboard.tables(Dashboard.DAILY)
    marked = page.evaluate("() => window.__e2e.markElements(1, 'before-pick')")
    page.evaluate("() => { window.__e2e.watch('daily', 0); window.__e2e.watch('monthly', 1); }")

    run = dashboard.pick(date(2023, 1, 15))

    # The wire: one fragment rerun, answered by deltas of that fragment only.
    assert len(run.reruns) == 1
    fragment = run.reruns[0].rerun_script.fragment_id
    assert fragment, "the browser asked for a fragment rerun"
    assert run.dates_sent == ["2023-01-15"]
    assert run.delta_fragments, "the fragment sent its elements"
    assert set(run.delta_fragments) == {fragment}, "no delta outside the daily fragment"
    assert run.outcomes == ["FINISHED_FRAGMENT_RUN_SUCCESSFULLY"]

    # The daily view: headers, tables and charts show January 15.
    assert dashboard.headings(Dashboard.DAILY) == [
        "Best sellers, January 15, 2023",
        "Worst sellers, January 15, 2023",
    ]
    best, worst = dashboard.tables(Dashboard.DAILY)
    assert best["header"][-1] == worst["header"][-1] == "Sales 2023-01-15"
    assert best["rows"] != old_best["rows"]
    best_chart, worst_chart = dashboard.charts(Dashboard.DAILY)
    assert best_chart["bars"] == [row[0] for row in best["rows"]]
    assert worst_chart["bars"] == [row[0] for row in worst["rows"]]

    # The monthly view: not re-rendered at all.
    mutations = page.evaluate("() => window.__e2e.mutations")
    assert mutations["daily"], "control: the observer sees the daily view change"
    assert mutations["monthly"] == [], "the monthly view's DOM changed"
    assert page.evaluate("() => window.__e2e.marked(1, 'before-pick')") == {"total": marked, "marked": marked}
    assert dashboard.headings(Dashboard.MONTHLY) == monthly_headings
    assert dashboard.tables(Dashboard.MONTHLY) == monthly_tables


def test_other_month_pick_updates_both_views(dashboard: Dashboard) -> None:
    page = dashboard.page
    page.evaluate("() => window.__e2e.watch('monthly', 1)")

    run = dashboard.pick(date(2023, 3, 8))

    assert run.reruns[0].rerun_script.fragment_id, "the pick itself reruns the fragment"
    assert "" in run.delta_fragments, "then st.rerun() reran the whole script"
    assert run.outcomes[-1] == "FINISHED_SUCCESSFULLY"
    assert dashboard.headings(Dashboard.DAILY) == [
        "Best sellers, March 8, 2023",
        "Worst sellers, March 8, 2023",
    ]
    assert dashboard.headings(Dashboard.MONTHLY) == [
        "Daily sales for all products, March 2023",
        "Total sales for all products, March 2023",
    ]
    month = dashboard.tables(Dashboard.MONTHLY)[0]
    assert month["rows"][0][0] == "2023-03-01"
    assert all(row[0].startswith("2023-03-") for row in month["rows"])
    assert [chart["title"] for chart in dashboard.charts(Dashboard.MONTHLY)] == [
        "Monthly total per product, March 2023"
    ]
    assert page.evaluate("() => window.__e2e.mutations")["monthly"], "the monthly view was redrawn"


@pytest.mark.parametrize("typed", ["2024-02-03", "2022-12-31"])
def test_date_outside_2023_is_refused(dashboard: Dashboard, typed: str) -> None:
    page = dashboard.page
    mark = dashboard.wire.mark()

    dashboard.type_date(typed)

    expect(dashboard.date_field()).to_have_attribute("data-invalid", "true")
    # Streamlit's words vary with what was typed ("on or before 2023-12-31", "between ...").
    expect(page.get_by_role("alert")).to_contain_text("Date set outside allowed range")
    assert dashboard.headings(Dashboard.DAILY)[0] == "Best sellers, January 1, 2023"
    # A valid pick afterwards works, and is the only date the browser ever sent: the refused
    # one would have gone out before it.
    dashboard.pick(date(2023, 1, 9))
    assert dashboard.wire.run_since(mark).dates_sent == ["2023-01-09"]
    assert dashboard.headings(Dashboard.DAILY)[0] == "Best sellers, January 9, 2023"
    assert dashboard.date_field().get_attribute("data-invalid") is None
    assert dashboard.watch.problems() == []
