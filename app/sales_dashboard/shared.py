"""Things built once per content and then shared by every session of the process.

The sales table is the same for every user, so the chart and the table of a day are too: a
fragment rerun that shows a day someone has seen before need not build them again. Building
them is most of a fragment rerun's own work (a plotly figure validates every property, about
1.5-4 ms a chart; pandas to Arrow about 0.8 ms a table).

The same holds for a month: every full rerun would otherwise copy the month's table, format its
dates, convert it to Arrow and total it again (about 10 ms at 1,000 products), so the monthly view's
outputs are shared the same way, and a fragment/full ratio measures the fragment, not the cache.

``shared(build, entries)`` puts ``build(values, *options)`` behind one LRU cache of ``entries``
results (``SALES_SHARED_CACHE``; 0: no cache, every call builds). ``values`` is a float Series or
DataFrame. The key is the content itself (the labels, the values as bytes, the options), so new
data can never show an old result, and it hashes in microseconds (Streamlit's
``st.cache_resource`` hashes a Series in ~0.7 ms, more than a cached chart saves). Results must be
treated as read-only: Streamlit only reads a figure (``to_dict``), an Arrow table or a column
config (it deep-copies each entry), and nothing in the app changes one after it is built.
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
    builder name; the app's metrics read them when scraped (cache_metrics.py)."""
    return {name: info() for name, info in list(_CACHES.items())}


Values = pd.Series | pd.DataFrame
IndexKey = tuple[Hashable, str, tuple]  # name, dtype, labels


def _index_key(index: pd.Index) -> IndexKey:
    return (index.name, str(index.dtype), tuple(index))


def _index(key: IndexKey) -> pd.Index:
    name, dtype, labels = key
    return pd.Index(labels, name=name, dtype=dtype)


@cache  # one cache per builder and size, for the whole process
def shared(build: Callable[..., T], entries: int) -> Callable[..., T]:
    """``build(values: pd.Series | pd.DataFrame, *options)``, cached by content when ``entries`` > 0."""
    if entries <= 0:
        return build

    @lru_cache(maxsize=entries)
    def rebuild(
        index: IndexKey, columns: IndexKey | None, name: Hashable, values: bytes, *options: Hashable
    ) -> T:
        array = np.frombuffer(values, dtype="float64")
        if columns is None:
            return build(pd.Series(array, index=_index(index), name=name), *options)
        table = array.reshape(len(index[2]), len(columns[2]))
        return build(pd.DataFrame(table, index=_index(index), columns=_index(columns)), *options)

    def cached(values: Values, *options: Hashable) -> T:
        frame = isinstance(values, pd.DataFrame)
        columns, name = (_index_key(values.columns), None) if frame else (None, values.name)
        content = values.to_numpy(dtype="float64").tobytes()
        return rebuild(_index_key(values.index), columns, name, content, *options)

    cached.cache_info = rebuild.cache_info  # type: ignore[attr-defined]
    _CACHES[build.__name__] = rebuild.cache_info
    return cached
