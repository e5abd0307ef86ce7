"""Environment -> typed settings. The one home of every app setting.

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
| SALES_TCP_NODELAY          | on          | on: TCP_NODELAY on the server's sockets (app/serve.py); |
|                            |             | off: Streamlit's stock sockets (Nagle, ~40 ms stalls)    |
| SALES_METRICS_PORT         | 9464        | the app's Prometheus metrics (sales_dashboard/metrics.py) |
|                            |             | on this port, all interfaces; 0 = none                   |

Bad values fail at start-up with a message naming the variable, never silently fall back.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

MAX_PRODUCT_COUNT = 100_000
MAX_DEMO_DELAY_SECONDS = 30.0
TABLE_CACHES = ("shared", "copy")
MAX_SHARED_CACHE = 100_000
SWITCHES = {"on": True, "off": False}


class SettingsError(ValueError):
    """An environment variable holds a value the app cannot use."""


@dataclass(frozen=True)
class Settings:
    data_path: Path | None = None
    product_count: int = 26
    seed: int = 2023
    year: int = 2023
    demo_delay_seconds: float = 0.0
    table_cache: str = "shared"
    shared_cache: int = 1024
    tcp_nodelay: bool = True
    metrics_port: int = 9464


def _read_int(env: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a whole number") from None
    if not low <= value <= high:
        raise SettingsError(f"{name}={value} is outside {low}..{high}")
    return value


def _read_float(env: dict[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a number") from None
    if not low <= value <= high:  # also rejects nan
        raise SettingsError(f"{name}={value} is outside {low}..{high}")
    return value


def _read_choice(env: dict[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in choices:
        raise SettingsError(f"{name}={raw!r} is not one of {', '.join(choices)}")
    return raw


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Read the settings from `env` (default: the process environment)."""
    env = dict(os.environ if env is None else env)
    raw_path = env.get("SALES_DATA_PATH", "").strip()
    data_path = Path(raw_path) if raw_path else None
    if data_path is not None and data_path.suffix.lower() not in {".csv", ".parquet"}:
        raise SettingsError(f"SALES_DATA_PATH={raw_path!r} must end in .csv or .parquet")
    return Settings(
        data_path=data_path,
        product_count=_read_int(env, "SALES_PRODUCT_COUNT", 26, 1, MAX_PRODUCT_COUNT),
        seed=_read_int(env, "SALES_SEED", 2023, 0, 2**32 - 1),
        year=_read_int(env, "SALES_YEAR", 2023, 1900, 2999),
        demo_delay_seconds=_read_float(env, "SALES_DEMO_DELAY_SECONDS", 0.0, 0.0, MAX_DEMO_DELAY_SECONDS),
        table_cache=_read_choice(env, "SALES_TABLE_CACHE", "shared", TABLE_CACHES),
        shared_cache=_read_int(env, "SALES_SHARED_CACHE", 1024, 0, MAX_SHARED_CACHE),
        tcp_nodelay=SWITCHES[_read_choice(env, "SALES_TCP_NODELAY", "on", tuple(SWITCHES))],
        metrics_port=_read_int(env, "SALES_METRICS_PORT", 9464, 0, 65535),
    )
