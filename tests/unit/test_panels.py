"""sales_dashboard.panels and .warmup: what the views show, built once and shared, and the warm-up
that builds it ahead of the first pick."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pandas as pd
import plotly.io
import pytest
from streamlit import dataframe_util

from sales_dashboard.charts import TOTAL_COLOR, ranked_bar_chart
from sales_dashboard.data import generate_sales
from sales_dashboard.panels import CHART_HEIGHT, MONEY, build_month, day_panels, month_of, month_panel
from sales_dashboard.settings import Settings
from sales_dashboard.warmup import cache_sizes, days_that_fit, warm

DATA = generate_sales(26, 2023, 2023)


def old_month_table(data: pd.DataFrame, day: date) -> pd.DataFrame:
    """What the monthly view handed st.dataframe before its outputs were shared."""
    table = month_of(data, day).copy()
    table.index = table.index.strftime("%Y-%m-%d")
    return table


@pytest.mark.parametrize("products", [26, 1000])
def test_the_shared_month_table_reaches_the_browser_byte_for_byte_as_before(products):
    """Streamlit sends the cached Arrow table exactly as it sent the DataFrame it converted itself:
    the same bytes on the wire, so the same table on the page."""
    data = generate_sales(products, 2023, 2023)
    month = build_month(month_of(data, date(2023, 2, 14)), "February 2023")
    before = dataframe_util.convert_pandas_df_to_arrow_bytes(old_month_table(data, date(2023, 2, 14)))
    assert dataframe_util.convert_arrow_table_to_arrow_bytes(month.table) == before
    assert month.column_config == {product: MONEY for product in data.columns}


def test_the_month_total_and_chart_are_the_months():
    month = build_month(month_of(DATA, date(2023, 2, 14)), "February 2023")
    assert month.total == f"${DATA.loc['2023-02'].to_numpy().sum():,.2f}"
    totals = DATA.loc["2023-02"].sum().sort_values(ascending=False)
    expected = ranked_bar_chart(totals, "Monthly total per product, February 2023", TOTAL_COLOR, CHART_HEIGHT)
    assert plotly.io.to_json(month.figure, validate=False) == plotly.io.to_json(expected, validate=False)


def test_a_month_is_built_once_for_every_session_and_day_of_it():
    first = month_panel(DATA, date(2023, 6, 1), 64)
    assert month_panel(DATA, date(2023, 6, 30), 64) is first
    assert month_panel(DATA, date(2023, 7, 1), 64) is not first


def test_day_panels_are_the_days_best_and_worst():
    best, worst = day_panels(DATA, date(2023, 7, 4), 64)
    assert best.label == worst.label == "Sales 2023-07-04"
    row = DATA.loc["2023-07-04"]
    assert best.table.column("Sales 2023-07-04").to_pylist() == sorted(row, reverse=True)[:10]
    assert worst.table.column("Sales 2023-07-04").to_pylist() == sorted(row)[:10]
    assert day_panels(DATA, date(2023, 7, 4), 64)[0].figure is best.figure


def test_after_the_warm_up_every_pick_of_the_year_finds_its_outputs_built():
    """warm() builds through the views' own functions: afterwards a pick of any day (its panels
    and its month) builds nothing new. The pauses keep it to a quarter of a core."""
    settings = Settings(shared_cache=1000)
    pauses: list[float] = []
    warmed = warm(DATA, settings, pause=pauses.append)
    assert (warmed.days, warmed.of_days, warmed.months) == (365, 365, 12)
    assert cache_sizes(1000) == {"tables": 730, "charts": 730, "months": 12}
    assert len(pauses) == 365 + 12
    assert sum(pauses) == pytest.approx(3 * warmed.cpu_seconds, rel=0.2)
    for day in pd.date_range("2023-01-01", "2023-12-31").date:
        day_panels(DATA, day, 1000)
        month_panel(DATA, day, 1000)
    assert cache_sizes(1000) == {"tables": 730, "charts": 730, "months": 12}


def test_the_warm_up_stops_where_the_cache_is_full():
    """A cache of 20 entries per kind holds 10 days: the warm-up builds those (from the first day,
    the page's), not a year that would evict itself."""
    assert list(days_that_fit(DATA, 20).date) == list(pd.date_range("2023-01-01", periods=10).date)
    warmed = warm(DATA, replace(Settings(), shared_cache=20), pause=lambda _: None)
    assert (warmed.days, warmed.months) == (10, 1)
    assert cache_sizes(20) == {"tables": 20, "charts": 20, "months": 1}
