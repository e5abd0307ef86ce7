"""The one function that returns the sales table.

The table is wide: a DatetimeIndex named ``date`` (one row per day) and one float column
of sales in US dollars per product. By default it is generated from a fixed seed, so every
process, replica and restart shows the same numbers. Set ``SALES_DATA_PATH`` to a CSV or
Parquet file of the same shape (a ``date`` column, then one column per product) to use
your own.
"""

from __future__ import annotations

import string
from itertools import count, product
from pathlib import Path

import numpy as np
import pandas as pd

from .settings import Settings

MEAN_DAILY_SALES = 1_000.0
SALES_SPREAD = 300.0


class DataError(ValueError):
    """The configured sales source cannot be used; the message says why."""


def product_names(n: int) -> list[str]:
    """'Widget A' .. 'Widget Z', then 'Widget AA', 'Widget AB', ... (spreadsheet order)."""
    names: list[str] = []
    for width in count(1):
        for letters in product(string.ascii_uppercase, repeat=width):
            if len(names) == n:
                return names
            names.append("Widget " + "".join(letters))
    raise AssertionError("unreachable")  # pragma: no cover


def generate_sales(product_count: int, seed: int, year: int) -> pd.DataFrame:
    """Daily sales for every day of `year`, drawn in one vectorised call from `seed`."""
    rng = np.random.default_rng(seed)
    days = pd.date_range(f"{year}-01-01", f"{year}-12-31", freq="D", name="date")
    averages = rng.normal(MEAN_DAILY_SALES, SALES_SPREAD, product_count)
    sales = rng.normal(averages, SALES_SPREAD, (len(days), product_count))
    sales = np.clip(sales, 0.0, None).round(2)
    return pd.DataFrame(sales, index=days, columns=product_names(product_count))


def read_sales_file(path: Path) -> pd.DataFrame:
    """Read and check a user's CSV/Parquet file; raise DataError with the reason."""
    if not path.is_file():
        raise DataError(f"SALES_DATA_PATH: {path} is not a readable file")
    try:
        frame = pd.read_parquet(path) if path.suffix.lower() == ".parquet" else pd.read_csv(path)
    except Exception as exc:
        raise DataError(f"SALES_DATA_PATH: cannot read {path}: {exc}") from exc
    if "date" not in frame.columns:
        raise DataError(f"SALES_DATA_PATH: {path} has no 'date' column")
    if len(frame.columns) < 2 or frame.empty:
        raise DataError(f"SALES_DATA_PATH: {path} needs a 'date' column, product columns and rows")
    try:
        index = pd.DatetimeIndex(pd.to_datetime(frame.pop("date")), name="date").normalize()
    except (ValueError, TypeError) as exc:
        raise DataError(f"SALES_DATA_PATH: {path}: bad value in 'date': {exc}") from exc
    if index.has_duplicates:
        raise DataError(f"SALES_DATA_PATH: {path}: a day appears more than once")
    bad = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad:
        raise DataError(f"SALES_DATA_PATH: {path}: non-numeric product columns {bad[:5]}")
    frame.index = index
    frame.columns = [str(c) for c in frame.columns]
    return frame.astype("float64").sort_index()


def load_sales(settings: Settings) -> pd.DataFrame:
    """The sales table the app shows: the user's file if configured, else the generated set."""
    if settings.data_path is not None:
        frame = read_sales_file(settings.data_path)
    else:
        frame = generate_sales(settings.product_count, settings.seed, settings.year)
    # Product names as plain Python strings: pandas 3 keeps string labels in an Arrow array,
    # and picking ten of them from it (Arrow's take) cost ~0.3 ms on every fragment rerun.
    frame.columns = pd.Index(frame.columns, dtype=object)
    return frame
