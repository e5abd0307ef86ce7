"""sales_dashboard.shared: one chart or table per content, for every session, bounded."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.io
import pytest

from sales_dashboard.charts import ranked_bar_chart
from sales_dashboard.panels import money_table
from sales_dashboard.shared import shared


def sales(*values: float, day: str = "2023-03-03") -> pd.Series:
    names = [f"Widget {letter}" for letter in "ABCDEFGHIJ"[: len(values)]]
    return pd.Series(values, index=pd.Index(names), name=pd.Timestamp(day))


def spec(figure) -> str:
    return plotly.io.to_json(figure, validate=False)


def build_counter():
    built = []

    def build(values: pd.Series, *options):
        built.append(values)
        return (values.copy(), options)

    return build, built


def test_equal_content_is_built_once_and_the_same_object_is_returned():
    build, built = build_counter()
    cached = shared(build, 8)
    first = cached(sales(3.0, 1.0), "title")
    assert cached(sales(3.0, 1.0), "title") is first
    assert len(built) == 1


@pytest.mark.parametrize(
    "other",
    [
        (sales(3.0, 2.0), "title"),  # a changed value
        (sales(3.0, 1.0, day="2023-03-04"), "title"),  # another day's series
        (sales(3.0, 1.0).rename(index={"Widget B": "Widget Z"}), "title"),  # another product
        (sales(3.0, 1.0), "other title"),  # another option
    ],
)
def test_any_change_of_content_builds_anew(other):
    build, built = build_counter()
    cached = shared(build, 8)
    cached(sales(3.0, 1.0), "title")
    cached(*other)
    assert len(built) == 2


def test_the_builder_sees_the_series_it_was_given():
    """Rebuilt from the key: same values (gaps too), names, series name and index name."""
    build, built = build_counter()
    original = sales(3.5, float("nan"), 1.25).rename_axis("product")
    shared(build, 8)(original)
    pd.testing.assert_series_equal(built[0], original)


def test_the_cache_is_bounded_lru():
    build, built = build_counter()
    cached = shared(build, 2)
    for value in (1.0, 2.0, 3.0):
        cached(sales(value))
    cached(sales(3.0))  # still cached
    cached(sales(1.0))  # evicted: built again
    assert len(built) == 4
    assert cached.cache_info().maxsize == 2


def test_zero_entries_means_no_cache():
    build, _ = build_counter()
    assert shared(build, 0) is build


def test_a_shared_chart_and_table_equal_freshly_built_ones():
    values = pd.Series(np.linspace(900.0, 1100.0, 10), index=[f"Widget {c}" for c in "KLMNOPQRST"])
    chart = shared(ranked_bar_chart, 16)(values, "Top 10 products", "#2e7d32", 390)
    assert spec(chart) == spec(ranked_bar_chart(values, "Top 10 products", "#2e7d32", 390))
    table = shared(money_table, 16)(values, "Sales 2023-03-03")
    assert table.equals(money_table(values, "Sales 2023-03-03"))
    assert table.column_names == ["Sales 2023-03-03", "__index_level_0__"]


def month(*rows: tuple[float, float], start: str = "2023-03-01") -> pd.DataFrame:
    days = pd.date_range(start, periods=len(rows), freq="D", name="date")
    return pd.DataFrame(list(rows), index=days, columns=pd.Index(["Widget A", "Widget B"], dtype=object))


def test_a_dataframe_is_cached_by_content_and_rebuilt_as_given():
    """A month's table: equal content built once; the builder sees the same frame (labels, dates,
    values, gaps); any changed value, day or product builds anew."""
    build, built = build_counter()
    cached = shared(build, 8)
    original = month((1.0, 2.0), (3.0, float("nan")), (5.0, 6.0))
    first = cached(original, "March 2023")
    assert cached(month((1.0, 2.0), (3.0, float("nan")), (5.0, 6.0)), "March 2023") is first
    pd.testing.assert_frame_equal(built[0], original, check_freq=False)
    cached(month((1.0, 2.0), (3.0, 4.0), (5.0, 6.0)), "March 2023")
    cached(month((1.0, 2.0), (3.0, float("nan")), (5.0, 6.0), start="2023-04-01"), "March 2023")
    cached(original.rename(columns={"Widget B": "Widget C"}), "March 2023")
    assert len(built) == 4


def test_a_series_and_a_frame_of_the_same_numbers_never_share_an_entry():
    build, built = build_counter()
    cached = shared(build, 8)
    frame = month((1.0, 2.0))
    series = frame.iloc[0].rename(None)
    cached(frame)
    cached(series)
    assert len(built) == 2
