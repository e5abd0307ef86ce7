"""First views as cheap as repeats: fill the shared cache in the background (SERVE_WARMUP=on).

Once the server is healthy, a daemon thread of the server process (started by the serving layer's
warm-up hook, app/serve_hooks.py, which imports this module only then) builds every month's and every
day's outputs through the same functions the views call (``panels.py``), so the first pick of any
day finds its charts and tables built. It never delays health or the first page (it waits for the
runtime to be ready, then starts), and it leaves the live users the CPU: after each step it sleeps
``(1 / DUTY - 1)`` times as long as the step took, so it holds at most a quarter of one core (and
of the GIL) while it runs. It warms no more days than the cache holds (``SALES_SHARED_CACHE``
entries per kind, two per day), starting at the first day, which the page opens on. It logs what
it built and how long it took; an error (say an unreadable SALES_DATA_PATH) is logged and ends the
warm-up, never the server.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
from streamlit.logger import get_logger

from .charts import ranked_bar_chart
from .data import load_sales
from .panels import build_month, day_panels, money_table, month_panel
from .settings import Settings
from .shared import shared

DUTY = 0.25  # the share of one core the warm-up may hold while it runs
PER_DAY = 2  # cache entries a day takes in each kind (best and worst: two tables, two charts)


@dataclass(frozen=True)
class Warmed:
    """What one warm-up built."""

    days: int  # days warmed
    of_days: int  # days in the data
    months: int
    cpu_seconds: float  # the warm-up thread's own CPU time
    wall_seconds: float  # start to end, pauses included


def cache_sizes(cache_entries: int) -> dict[str, int]:
    """Entries the shared cache holds now, per kind (what the warm-up filled, plus any pick's)."""
    kinds = {"tables": money_table, "charts": ranked_bar_chart, "months": build_month}
    return {kind: shared(build, cache_entries).cache_info().currsize for kind, build in kinds.items()}


def days_that_fit(data: pd.DataFrame, cache_entries: int) -> pd.DatetimeIndex:
    """The days whose outputs the cache holds at once, from the first day on."""
    return data.index[: max(cache_entries // PER_DAY, 0)]


def warm(data: pd.DataFrame, settings: Settings, pause: Callable[[float], None] = time.sleep) -> Warmed:
    """Build each month's outputs, then its days', through the shared cache, pausing after each
    step so the thread holds at most ``DUTY`` of a core."""
    start, cpu_start = time.perf_counter(), time.thread_time()
    days = days_that_fit(data, settings.shared_cache)
    months = 0
    for _, month_days in pd.Series(days, index=days).groupby(days.to_period("M")):
        steps = [lambda day=month_days.iloc[0]: month_panel(data, day.date(), settings.shared_cache)]
        steps += [lambda day=day: day_panels(data, day.date(), settings.shared_cache) for day in month_days]
        for step in steps:
            began = time.thread_time()
            step()
            pause((time.thread_time() - began) * (1 / DUTY - 1))
        months += 1
    return Warmed(
        days=len(days),
        of_days=len(data.index),
        months=months,
        cpu_seconds=time.thread_time() - cpu_start,
        wall_seconds=time.perf_counter() - start,
    )


def run_warmup(settings: Settings) -> None:
    """Load the data, warm the cache and log what was built (app/serve_hooks.py's warm_up, which
    the serving layer runs in a background thread once the server is healthy)."""
    log = get_logger(__name__)
    try:
        warmed = warm(load_sales(settings), settings)
    except Exception:
        log.exception("warm-up: stopped by an error; pages build their charts as users pick")
        return
    sizes = ", ".join(f"{count} {kind}" for kind, count in cache_sizes(settings.shared_cache).items())
    log.info(
        "warm-up: %d of %d days and %d months built in %.1f s (%.2f s of CPU); the shared cache "
        "holds %s (SALES_SHARED_CACHE=%d per kind)",
        warmed.days,
        warmed.of_days,
        warmed.months,
        warmed.wall_seconds,
        warmed.cpu_seconds,
        sizes,
        settings.shared_cache,
    )
