"""The two halves of the page: the daily fragment and the monthly view."""

from __future__ import annotations

import time
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import streamlit as st

from .charts import BEST_COLOR, TOTAL_COLOR, WORST_COLOR, ranked_bar_chart
from .settings import Settings
from .shared import shared

TOP_N = 10
PICKER_HEIGHT = 110  # the picker box and the month's total beside it, same height to line up
CHART_HEIGHT = 390  # as tall as a ten-row table; the month's table scrolls inside the same height
DATE_KEY = "selected_date"
PREVIOUS_KEY = "previous_date"
MONEY = st.column_config.NumberColumn(format="dollar")


def month_start(day: date) -> date:
    return day.replace(day=1)


def selected_day(data: pd.DataFrame) -> date:
    """The picked day, or the first day of the data before anything was picked."""
    picked = st.session_state.get(DATE_KEY)
    return picked if isinstance(picked, date) else data.index[0].date()


def best_and_worst(data: pd.DataFrame, day: date, n: int = TOP_N) -> tuple[pd.Series, pd.Series]:
    """The `n` best-selling products of `day` (descending) and the `n` worst (ascending).

    Same result as ``nlargest``/``nsmallest`` (ties in column order, missing values last), with
    one stable numpy sort each: 0.1 ms instead of 3.5 ms, on every fragment rerun.
    """
    stamp = pd.Timestamp(day)
    values = data.loc[stamp].to_numpy(dtype="float64")
    missing = np.isnan(values)
    known, unknown = np.flatnonzero(~missing), np.flatnonzero(missing)
    best = np.concatenate([known[np.argsort(-values[known], kind="stable")], unknown])[:n]
    worst = np.concatenate([known[np.argsort(values[known], kind="stable")], unknown])[:n]
    # Plain constructors: a third of the cost of sales.iloc[...] (pandas' take), same Series.
    return (
        pd.Series(values[best], index=data.columns[best], name=stamp),
        pd.Series(values[worst], index=data.columns[worst], name=stamp),
    )


def month_of(data: pd.DataFrame, day: date) -> pd.DataFrame:
    """Every day of `day`'s month: rows are days, columns products."""
    start = pd.Timestamp(month_start(day))
    return data.loc[start : start + pd.offsets.MonthEnd(0)]


def money_table(values: pd.Series, label: str) -> pa.Table:
    """`values` as a one-column table headed `label`, in Arrow (what st.dataframe sends anyway)."""
    return pa.Table.from_pandas(values.rename(label).to_frame())


def _ranked_panel(
    heading: str, values: pd.Series, title: str, color: str, label: str, settings: Settings
) -> None:
    # No fixed height: a fixed-height box would hide the chart below its fold when the
    # columns stack on a narrow screen. The money column sizes to its values, so they stay
    # in view in the table's share of the panel.
    with st.container(border=True):
        st.subheader(heading)
        table, chart = st.columns([2, 3])
        money = shared(money_table, settings.shared_cache)(values, label)
        table.dataframe(money, column_config={label: MONEY})
        figure = shared(ranked_bar_chart, settings.shared_cache)(values, title, color, CHART_HEIGHT)
        chart.plotly_chart(figure, config={"displayModeBar": False})


@st.fragment
def daily_view(data: pd.DataFrame, settings: Settings) -> None:
    """Picker and the day's best/worst sellers. Reruns alone unless the month changes."""
    first, last = data.index[0].date(), data.index[-1].date()
    with st.container(height=PICKER_HEIGHT):
        picked = st.date_input(
            "Pick a day",
            value=first,
            min_value=first,
            max_value=last,
            key=DATE_KEY,
            format="YYYY-MM-DD",
        )
    if not isinstance(picked, date):  # the user cleared the field
        st.info(f"Pick a day between {first:%Y-%m-%d} and {last:%Y-%m-%d}.")
        return

    previous = st.session_state.get(PREVIOUS_KEY, picked)
    st.session_state[PREVIOUS_KEY] = picked
    if month_start(picked) != month_start(previous):
        st.rerun()  # the monthly view must follow: rerun the whole page

    time.sleep(settings.demo_delay_seconds)
    best, worst = best_and_worst(data, picked)
    label = f"Sales {picked:%Y-%m-%d}"
    day = f"{picked:%B %-d, %Y}"
    _ranked_panel(f"Best sellers, {day}", best, f"Top {len(best)} products", BEST_COLOR, label, settings)
    bottom = f"Bottom {len(worst)} products"
    _ranked_panel(f"Worst sellers, {day}", worst, bottom, WORST_COLOR, label, settings)


def monthly_view(data: pd.DataFrame, settings: Settings) -> None:
    """The month of the picked day: every day's sales and each product's total."""
    day = selected_day(data)
    time.sleep(settings.demo_delay_seconds)
    month = month_of(data, day)
    with st.container(height=PICKER_HEIGHT):  # beside the picker; stacks under it on a phone
        st.metric(f"Total sales, {day:%B %Y}", f"${month.to_numpy().sum():,.2f}")
    with st.container(border=True):
        st.subheader(f"Daily sales for all products, {day:%B %Y}")
        table = month.copy()
        table.index = table.index.strftime("%Y-%m-%d")
        st.dataframe(
            table,
            column_config={name: MONEY for name in table.columns},
            height=CHART_HEIGHT,
        )
    with st.container(border=True):
        st.subheader(f"Total sales for all products, {day:%B %Y}")
        totals = month.sum().sort_values(ascending=False)
        title = f"Monthly total per product, {day:%B %Y}"
        figure = shared(ranked_bar_chart, settings.shared_cache)(totals, title, TOTAL_COLOR, CHART_HEIGHT)
        st.plotly_chart(figure, config={"displayModeBar": False})
