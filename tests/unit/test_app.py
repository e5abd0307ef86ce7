"""The page through Streamlit's AppTest: figures checked against the data computed independently,
in each of the page's modes (SALES_FRAGMENT, SALES_MONTH_RERUN): the very same page in all three."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from sales_dashboard.data import generate_sales

ENTRY = str(Path(__file__).resolve().parents[2] / "app" / "streamlit_app.py")
DATA = generate_sales(26, 2023, 2023)


MODES = {
    "fragment": {},
    "views": {"SALES_MONTH_RERUN": "views"},
    "plain": {"SALES_FRAGMENT": "off"},
}


@pytest.fixture(params=list(MODES))
def app(request, monkeypatch) -> Iterator[AppTest]:
    for name, value in MODES[request.param].items():
        monkeypatch.setenv(name, value)
    st.cache_resource.clear()  # the page reads its settings once per process (st.cache_resource)
    yield AppTest.from_file(ENTRY, default_timeout=60).run()
    st.cache_resource.clear()


def tables(app: AppTest):
    return [frame.value for frame in app.dataframe]


def test_first_page_shows_january_first(app):
    assert not app.exception
    assert app.title[0].value == "Daily vs monthly sales, by product"
    assert [h.value for h in app.subheader] == [
        "Best sellers, January 1, 2023",
        "Worst sellers, January 1, 2023",
        "Daily sales for all products, January 2023",
        "Total sales for all products, January 2023",
    ]


@pytest.mark.parametrize("day", [date(2023, 1, 1), date(2023, 2, 28), date(2023, 7, 4), date(2023, 12, 31)])
def test_best_and_worst_ten_match_the_data(app, day):
    app.date_input(key="date").set_value(day).run()
    assert not app.exception
    row = DATA.loc[str(day)]
    expected_best = sorted(row.items(), key=lambda kv: -kv[1])[:10]
    expected_worst = sorted(row.items(), key=lambda kv: kv[1])[:10]
    best, worst = tables(app)[:2]
    assert list(zip(best.index, best.iloc[:, 0], strict=True)) == expected_best
    assert list(zip(worst.index, worst.iloc[:, 0], strict=True)) == expected_worst


def test_monthly_table_and_header_follow_a_month_change(app):
    app.date_input(key="date").set_value(date(2023, 3, 15)).run()
    assert "Daily sales for all products, March 2023" in [h.value for h in app.subheader]
    month = tables(app)[2]
    assert len(month) == 31
    assert month.index[0] == "2023-03-01"
    expected_totals = DATA.loc["2023-03"].sum()
    assert month.sum().round(2).to_dict() == expected_totals.round(2).to_dict()


def test_month_change_remembers_the_previous_date(app):
    app.date_input(key="date").set_value(date(2023, 5, 2)).run()
    assert app.session_state["previous_date"] == date(2023, 5, 2)


def test_month_total_beside_the_picker_is_the_months_sales_in_dollars(app):
    app.date_input(key="date").set_value(date(2023, 2, 10)).run()
    total = DATA.loc["2023-02"].to_numpy().sum()
    assert [(m.label, m.value) for m in app.metric] == [("Total sales, February 2023", f"${total:,.2f}")]
