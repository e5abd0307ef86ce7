"""Things built once per content and then shared by every session of the process.

The sales table is the same for every user, so the chart and the table of a day are too: a
fragment rerun that shows a day someone has seen before need not build them again. Building
them is most of a fragment rerun's own work (a plotly figure validates every property, about
1.5-4 ms a chart; pandas to Arrow about 0.8 ms a table).

``shared(build, entries)`` puts ``build(values, *options)`` behind one LRU cache of ``entries``
results (``SALES_SHARED_CACHE``; 0: no cache, every call builds). The key is the content itself
(the labels, the values as bytes, the options), so new data can never show an old result, and it
hashes in microseconds (Streamlit's ``st.cache_resource`` hashes a Series in ~0.7 ms, more than
a cached chart saves). Results must be treated as read-only: Streamlit only reads a figure
(``to_dict``) or an Arrow table, and nothing in the app changes one after it is built.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from functools import cache, lru_cache
from typing import Any, TypeVar

import numpy as np
import pandas as pd

T = TypeVar("T")
_CACHES: dict[str, Callable[[], Any]] = {}  # builder name -> its cache's cache_info


def cache_stats() -> dict[str, Any]:
    """``functools`` cache info (hits, misses, currsize) of every shared cache made so far, by
    builder name; the app's metrics read them when scraped (app/sales_dashboard/metrics.py)."""
    return {name: info() for name, info in list(_CACHES.items())}


@cache  # one cache per builder and size, for the whole process
def shared(build: Callable[..., T], entries: int) -> Callable[..., T]:
    """``build(values: pd.Series, *options)``, cached by content when ``entries`` > 0."""
    if entries <= 0:
        return build

    @lru_cache(maxsize=entries)
    def rebuild(index: tuple[Hashable, str, tuple], name: Hashable, values: bytes, *options: Hashable) -> T:
        index_name, dtype, labels = index
        series = pd.Series(
            np.frombuffer(values, dtype="float64"),
            index=pd.Index(labels, name=index_name, dtype=dtype),
            name=name,
        )
        return build(series, *options)

    def cached(values: pd.Series, *options: Hashable) -> T:
        index = (values.index.name, str(values.index.dtype), tuple(values.index))
        return rebuild(index, values.name, values.to_numpy(dtype="float64").tobytes(), *options)

    cached.cache_info = rebuild.cache_info  # type: ignore[attr-defined]
    _CACHES[build.__name__] = rebuild.cache_info
    return cached
