"""The two halves of the page: the daily view (picker, the day's best and worst sellers) and the
monthly view. Both are plain functions; ``page_views(settings)`` returns them wrapped as the
settings ask:

| SALES_FRAGMENT | SALES_MONTH_RERUN | daily view       | monthly view       | a day in another month   |
|----------------|-------------------|------------------|--------------------|--------------------------|
| on             | app (default)     | fragment         | plain code         | the fragment calls        |
|                |                   |                  |                    | st.rerun(): whole script  |
| on             | views             | fragment, keyed  | fragment, keyed    | the picker's on_change    |
|                |                   |                  |                    | reruns the two fragments  |
| off            | app               | plain code       | plain code         | (every pick reruns all)   |

A day in the same month reruns the daily fragment alone in both fragment modes.

The picked day lives in the page's URL, ``?date=YYYY-MM-DD`` (the picker's key, ``date``, is the
parameter's name): the picker is bound to it (``bind="query-params"``), so a shared link or a
reload opens that day and its month, and a pick rewrites the URL in place (the browser replaces
it, no history entry: Back leaves the dashboard, as for any view setting). A link whose ``date``
is not one day of the data (garbage, another format, out of range, repeated, empty) shows a
one-line notice and the first day, and is taken out of the URL (``link_problem``); that costs one
rerun, after which the picker is bound again.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import date
from functools import cache

import pandas as pd
import streamlit as st

from .panels import CHART_HEIGHT, MONEY, Ranked, day_panels, month_panel, month_start
from .settings import Settings

PICKER_HEIGHT = 110  # the picker box and the month's total beside it, same height to line up
DATE_KEY = "date"  # the picker's key, and so its URL parameter: ?date=2023-03-09
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
SHOWN_CHARACTERS = 12  # of a bad link value in the notice (a link may carry kilobytes)
LINK_NOTICE_KEY = "link_notice"  # a bad link's notice, kept over the rerun that resets the picker
PREVIOUS_KEY = "previous_date"
DAILY_VIEW_KEY = "daily_view"  # fragment keys (SALES_MONTH_RERUN=views): st.rerun(scope=[...])
MONTHLY_VIEW_KEY = "monthly_view"
CHART_CONFIG = {"displayModeBar": False}

View = Callable[[pd.DataFrame, Settings], None]


def selected_day(data: pd.DataFrame) -> date:
    """The picked day, or the first day of the data before anything was picked."""
    picked = st.session_state.get(DATE_KEY)
    return picked if isinstance(picked, date) else data.index[0].date()


def link_problem(values: list[str], first: date, last: date) -> str | None:
    """Why the URL's ``date`` values cannot be shown (None: no ``date``, or one day of the data).

    Stricter than Streamlit's own parsing of a bound date (which also takes 2023/03/09, 2023-3-9
    and the first of several values): the page writes YYYY-MM-DD only, so anything else in a link
    was typed or mangled, and the reader is told rather than shown a guess.
    """
    if not values:
        return None
    if len(values) > 1:
        return f"it names {len(values)} days"
    value = values[0]
    shown = value if len(value) <= SHOWN_CHARACTERS else value[:SHOWN_CHARACTERS] + "…"
    if not ISO_DAY.fullmatch(value):
        return f'"{shown}" is not YYYY-MM-DD'
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return f'"{shown}" is no calendar day'
    if not first <= day <= last:
        return f"{day:%Y-%m-%d} is outside the data"
    return None


def remember_pick(picked: date) -> bool:
    """Note `picked` as the last pick; True if it lies in another month than the pick before."""
    previous = st.session_state.get(PREVIOUS_KEY, picked)
    st.session_state[PREVIOUS_KEY] = picked
    return month_start(picked) != month_start(previous)


def rerun_views_on_new_month() -> None:
    """The picker's on_change (SALES_MONTH_RERUN=views): a day in another month reruns the daily
    and monthly views only (the title and intro stay); a day in the same month returns, so the
    daily fragment reruns alone as usual."""
    picked = st.session_state.get(DATE_KEY)
    if isinstance(picked, date) and remember_pick(picked):
        st.rerun(scope=[DAILY_VIEW_KEY, MONTHLY_VIEW_KEY])


def _ranked_panel(heading: str, panel: Ranked) -> None:
    # No fixed height: a fixed-height box would hide the chart below its fold when the
    # columns stack on a narrow screen. The money column sizes to its values, so they stay
    # in view in the table's share of the panel.
    with st.container(border=True):
        st.subheader(heading)
        table, chart = st.columns([2, 3])
        table.dataframe(panel.table, column_config={panel.label: MONEY})
        chart.plotly_chart(panel.figure, config=CHART_CONFIG)


def daily_view(data: pd.DataFrame, settings: Settings) -> None:
    """Picker and the day's best/worst sellers."""
    first, last = data.index[0].date(), data.index[-1].date()
    views_rerun = settings.month_rerun == "views"
    notice = st.session_state.pop(LINK_NOTICE_KEY, None)
    if notice:  # the rerun after a bad link: the picker back on the first day, bound again
        st.session_state[DATE_KEY] = first
    problem = link_problem(st.query_params.get_all(DATE_KEY), first, last)
    with st.container(height=PICKER_HEIGHT):
        picked = st.date_input(
            "Pick a day",
            value=first,
            min_value=first,
            max_value=last,
            key=DATE_KEY,
            format="YYYY-MM-DD",
            on_change=rerun_views_on_new_month if views_rerun else None,
            # Unbound for the one run that meets a bad link, so Streamlit follows none of it
            # (it would take the first of several days, or 2023/03/09) and the page may take it
            # out of the URL; the rerun binds the picker again.
            bind=None if problem else "query-params",
        )
    if problem:
        if DATE_KEY in st.query_params:
            del st.query_params[DATE_KEY]
        st.session_state[LINK_NOTICE_KEY] = f"Link ignored: {problem}. Showing {first:%Y-%m-%d}."
        st.rerun()
    if notice:
        st.warning(notice, icon="⚠️")
    if not isinstance(picked, date):  # the user cleared the field
        st.info(f"Pick a day between {first:%Y-%m-%d} and {last:%Y-%m-%d}.")
        return

    # In a fragment run, a new month must reach the monthly view: rerun the whole page (the
    # tutorial's way). With views, the picker's callback has already rerun both views, so this
    # only fires when no callback ran. Without fragments the whole page is running already.
    if remember_pick(picked) and settings.fragment:
        st.rerun()

    time.sleep(settings.demo_delay_seconds)
    best, worst = day_panels(data, picked, settings.shared_cache)
    day = f"{picked:%B %-d, %Y}"
    _ranked_panel(f"Best sellers, {day}", best)
    _ranked_panel(f"Worst sellers, {day}", worst)


def monthly_view(data: pd.DataFrame, settings: Settings) -> None:
    """The month of the picked day: its total, every day's sales and each product's total."""
    day = selected_day(data)
    time.sleep(settings.demo_delay_seconds)
    month = month_panel(data, day, settings.shared_cache)
    with st.container(height=PICKER_HEIGHT):  # beside the picker; stacks under it on a phone
        st.metric(f"Total sales, {day:%B %Y}", month.total)
    with st.container(border=True):
        st.subheader(f"Daily sales for all products, {day:%B %Y}")
        st.dataframe(month.table, column_config=month.column_config, height=CHART_HEIGHT)
    with st.container(border=True):
        st.subheader(f"Total sales for all products, {day:%B %Y}")
        st.plotly_chart(month.figure, config=CHART_CONFIG)


@cache
def page_views(settings: Settings) -> tuple[View, View]:
    """(daily view, monthly view) as ``settings`` ask (see the table above)."""
    if not settings.fragment:
        return daily_view, monthly_view
    if settings.month_rerun == "views":
        return st.fragment(daily_view, key=DAILY_VIEW_KEY), st.fragment(monthly_view, key=MONTHLY_VIEW_KEY)
    return st.fragment(daily_view), monthly_view
