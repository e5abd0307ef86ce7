"""Environment -> typed settings of the example app. The one home of every ``SALES_`` setting;
the serving layer's own (``SERVE_``: sign-in, drain, metrics, rerun limit, ...) live in
``streamlit_serving/settings.py``.

| variable                   | default     | meaning                                                  |
|----------------------------|-------------|----------------------------------------------------------|
| SALES_DATA_PATH            | (empty)     | CSV or Parquet file with your own sales; empty = generated |
| SALES_PRODUCT_COUNT        | 26          | generated products: Widget A .. Z, then AA, AB .. |
| SALES_SEED                 | 2023        | seed of the generated set: same seed, same numbers everywhere |
| SALES_YEAR                 | 2023        | year of the generated set                                 |
| SALES_DEMO_DELAY_SECONDS   | 0           | artificial delay per view, to show the fragment off      |
| SALES_TABLE_CACHE          | shared      | shared: one read-only table (st.cache_resource); copy: a |
|                            |             | fresh copy on every full run (st.cache_data)             |
| SALES_SHARED_CACHE         | 1024        | charts and tables kept for every session, per kind (LRU;   |
|                            |             | a chart 20-40 kB, a table ~1 kB); 0 = build them every run |
| SALES_FRAGMENT             | on          | on: the daily view is a fragment (a pick reruns it alone); |
|                            |             | off: the same page as plain code, every pick reruns it all |
| SALES_MONTH_RERUN          | app         | a pick in another month reruns: app = the whole script     |
|                            |             | (the tutorial's st.rerun()); views = the daily and monthly |
|                            |             | views only (keyed fragments, st.rerun(scope=[...]) from the |
|                            |             | picker's on_change); needs SALES_FRAGMENT=on               |

Bad values fail at start-up with a message naming the variable (``serve_hooks.check`` runs this
before the server starts), never silently fall back. A serving setting under its old ``SALES_``
name is refused with its new name, so an old deployment file cannot silently lose its sign-in.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from streamlit_serving.settings import SettingsError, read_choice, read_float, read_int, read_switch

MAX_PRODUCT_COUNT = 100_000
MAX_DEMO_DELAY_SECONDS = 30.0
TABLE_CACHES = ("shared", "copy")
MONTH_RERUNS = ("app", "views")
MAX_SHARED_CACHE = 100_000
# Serving settings this app once read itself, now the serving layer's (SERVE_...).
RENAMED = tuple(
    f"SALES_{name}"
    for name in (
        "TCP_NODELAY", "METRICS_PORT", "DRAIN_SECONDS", "WARMUP", "RERUN_RATE", "RERUN_BURST", "AUTH",
        "AUTH_REQUIRED", "ALLOWED_EMAILS", "ALLOWED_DOMAINS", "AUTH_MAX_AGE_HOURS", "OIDC_FILE",
    )
)  # fmt: skip

__all__ = ["Settings", "SettingsError", "load_settings"]


@dataclass(frozen=True)
class Settings:
    data_path: Path | None = None
    product_count: int = 26
    seed: int = 2023
    year: int = 2023
    demo_delay_seconds: float = 0.0
    table_cache: str = "shared"
    shared_cache: int = 1024
    fragment: bool = True
    month_rerun: str = "app"


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read the settings from `env` (default: the process environment)."""
    env = dict(os.environ if env is None else env)
    renamed = [name for name in RENAMED if name in env]
    if renamed:
        moves = ", ".join(f"{name} -> SERVE_{name.removeprefix('SALES_')}" for name in renamed)
        raise SettingsError(f"renamed: {moves} (the serving layer's settings; see docs/operations.md)")
    raw_path = env.get("SALES_DATA_PATH", "").strip()
    data_path = Path(raw_path) if raw_path else None
    if data_path is not None and data_path.suffix.lower() not in {".csv", ".parquet"}:
        raise SettingsError(f"SALES_DATA_PATH={raw_path!r} must end in .csv or .parquet")
    fragment = read_switch(env, "SALES_FRAGMENT", "on")
    month_rerun = read_choice(env, "SALES_MONTH_RERUN", "app", MONTH_RERUNS)
    if not fragment and month_rerun != "app":
        raise SettingsError(
            f"SALES_MONTH_RERUN={month_rerun!r} needs SALES_FRAGMENT=on (without fragments every pick "
            "reruns the whole script): use app or unset it"
        )
    return Settings(
        data_path=data_path,
        product_count=read_int(env, "SALES_PRODUCT_COUNT", 26, 1, MAX_PRODUCT_COUNT),
        seed=read_int(env, "SALES_SEED", 2023, 0, 2**32 - 1),
        year=read_int(env, "SALES_YEAR", 2023, 1900, 2999),
        demo_delay_seconds=read_float(env, "SALES_DEMO_DELAY_SECONDS", 0.0, 0.0, MAX_DEMO_DELAY_SECONDS),
        table_cache=read_choice(env, "SALES_TABLE_CACHE", "shared", TABLE_CACHES),
        shared_cache=read_int(env, "SALES_SHARED_CACHE", 1024, 0, MAX_SHARED_CACHE),
        fragment=fragment,
        month_rerun=month_rerun,
    )
