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
| SALES_DRAIN_SECONDS        | 10          | on SIGTERM: seconds to let running script runs finish   |
|                            |             | and move sessions off before stopping (sales_dashboard/ |
|                            |             | drain.py); 0 = stop at once, as stock Streamlit          |
| SALES_FRAGMENT             | on          | on: the daily view is a fragment (a pick reruns it alone); |
|                            |             | off: the same page as plain code, every pick reruns it all |
| SALES_MONTH_RERUN          | app         | a pick in another month reruns: app = the whole script     |
|                            |             | (the tutorial's st.rerun()); views = the daily and monthly |
|                            |             | views only (keyed fragments, st.rerun(scope=[...]) from the |
|                            |             | picker's on_change); needs SALES_FRAGMENT=on               |
| SALES_WARMUP               | on          | on: once the server is healthy, a background thread builds |
|                            |             | every day's and month's charts and tables into the shared |
|                            |             | cache (2 entries a day per kind: a year needs 730)        |
| SALES_AUTH                 | none        | oidc: sign-in (st.login) before any figure; none: open;  |
|                            |             | none-public: open where sign-in is required (logged)     |
| SALES_AUTH_REQUIRED        | off         | on: refuse SALES_AUTH=none or unset (production files)   |
| SALES_ALLOWED_EMAILS       | (empty)     | verified e-mails let in, comma-separated                 |
| SALES_ALLOWED_DOMAINS      | (empty)     | e-mail domains let in, comma-separated; * = every        |
|                            |             | verified e-mail the provider vouches for                 |
| SALES_AUTH_MAX_AGE_HOURS   | 12          | a sign-in older than this must sign in again (1-720)     |
| SALES_OIDC_FILE            | (empty)     | the provider's settings: a secret file (TOML; keys in    |
|                            |             | sales_dashboard/oidc_config.py)                          |

Bad values fail at start-up with a message naming the variable, never silently fall back.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_PRODUCT_COUNT = 100_000
MAX_DEMO_DELAY_SECONDS = 30.0
TABLE_CACHES = ("shared", "copy")
MONTH_RERUNS = ("app", "views")
MAX_SHARED_CACHE = 100_000
MAX_DRAIN_SECONDS = 3600.0
SWITCHES = {"on": True, "off": False}
AUTH_MODES = ("none", "oidc", "none-public")
MAX_AUTH_AGE_HOURS = 720  # Streamlit's own identity cookie lasts 30 days
EVERY_DOMAIN = "*"
_EMAIL = re.compile(r"[^@\s,]+@([a-z0-9-]+\.)+[a-z0-9-]+")
_DOMAIN = re.compile(r"([a-z0-9-]+\.)+[a-z0-9-]+")


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
    fragment: bool = True
    month_rerun: str = "app"
    warmup: bool = True
    auth: str = "none"
    auth_required: bool = False
    allowed_emails: frozenset[str] = frozenset()
    allowed_domains: frozenset[str] = frozenset()
    auth_max_age_hours: int = 12
    oidc_file: Path | None = None
    drain_seconds: float = 10.0

    @property
    def sign_in(self) -> bool:
        """True when every visitor must sign in before seeing a figure."""
        return self.auth == "oidc"


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


def _read_switch(env: dict[str, str], name: str, default: str) -> bool:
    return SWITCHES[_read_choice(env, name, default, tuple(SWITCHES))]


def _read_list(env: dict[str, str], name: str, pattern: re.Pattern[str], what: str) -> frozenset[str]:
    """A comma-separated list, lower-cased; every item must match ``pattern``."""
    items = [item.strip().lower() for item in env.get(name, "").split(",")]
    items = [item for item in items if item]
    for item in items:
        if not pattern.fullmatch(item):
            raise SettingsError(f"{name}: {item!r} is not {what}")
    return frozenset(items)


def _read_auth(env: dict[str, str]) -> dict[str, Any]:
    """SALES_AUTH and what it needs. With sign-in on, nobody is let in unless named by an
    allowed e-mail or domain: an empty list is a mistake, never "everyone"."""
    raw = env.get("SALES_AUTH", "").strip().lower()
    required = _read_switch(env, "SALES_AUTH_REQUIRED", "off")
    if required and raw in ("", "none"):
        raise SettingsError(
            f"SALES_AUTH={raw!r} is refused here (SALES_AUTH_REQUIRED=on): set SALES_AUTH=oidc for "
            "sign-in, or SALES_AUTH=none-public to serve every figure to anyone who reaches the proxy"
        )
    auth = _read_choice(env, "SALES_AUTH", "none", AUTH_MODES)
    emails = _read_list(env, "SALES_ALLOWED_EMAILS", _EMAIL, "an e-mail address")
    raw_domains = env.get("SALES_ALLOWED_DOMAINS", "").strip()
    if raw_domains == EVERY_DOMAIN:
        domains = frozenset({EVERY_DOMAIN})
    else:
        what = f"a domain name (or {EVERY_DOMAIN} alone)"
        domains = _read_list(env, "SALES_ALLOWED_DOMAINS", _DOMAIN, what)
    if auth == "oidc" and not emails and not domains:
        raise SettingsError(
            "SALES_AUTH=oidc lets nobody in: set SALES_ALLOWED_EMAILS and/or SALES_ALLOWED_DOMAINS "
            f"(SALES_ALLOWED_DOMAINS={EVERY_DOMAIN} lets in every verified e-mail of the provider)"
        )
    raw_file = env.get("SALES_OIDC_FILE", "").strip()
    if auth == "oidc" and not raw_file:
        raise SettingsError("SALES_OIDC_FILE is not set: SALES_AUTH=oidc needs the provider's settings file")
    return {
        "auth": auth,
        "auth_required": required,
        "allowed_emails": emails,
        "allowed_domains": domains,
        "auth_max_age_hours": _read_int(env, "SALES_AUTH_MAX_AGE_HOURS", 12, 1, MAX_AUTH_AGE_HOURS),
        "oidc_file": Path(raw_file) if raw_file else None,
    }


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Read the settings from `env` (default: the process environment)."""
    env = dict(os.environ if env is None else env)
    raw_path = env.get("SALES_DATA_PATH", "").strip()
    data_path = Path(raw_path) if raw_path else None
    if data_path is not None and data_path.suffix.lower() not in {".csv", ".parquet"}:
        raise SettingsError(f"SALES_DATA_PATH={raw_path!r} must end in .csv or .parquet")
    fragment = _read_switch(env, "SALES_FRAGMENT", "on")
    month_rerun = _read_choice(env, "SALES_MONTH_RERUN", "app", MONTH_RERUNS)
    if not fragment and month_rerun != "app":
        raise SettingsError(
            f"SALES_MONTH_RERUN={month_rerun!r} needs SALES_FRAGMENT=on (without fragments every pick "
            "reruns the whole script): use app or unset it"
        )
    return Settings(
        data_path=data_path,
        product_count=_read_int(env, "SALES_PRODUCT_COUNT", 26, 1, MAX_PRODUCT_COUNT),
        seed=_read_int(env, "SALES_SEED", 2023, 0, 2**32 - 1),
        year=_read_int(env, "SALES_YEAR", 2023, 1900, 2999),
        demo_delay_seconds=_read_float(env, "SALES_DEMO_DELAY_SECONDS", 0.0, 0.0, MAX_DEMO_DELAY_SECONDS),
        table_cache=_read_choice(env, "SALES_TABLE_CACHE", "shared", TABLE_CACHES),
        shared_cache=_read_int(env, "SALES_SHARED_CACHE", 1024, 0, MAX_SHARED_CACHE),
        tcp_nodelay=_read_switch(env, "SALES_TCP_NODELAY", "on"),
        fragment=fragment,
        month_rerun=month_rerun,
        warmup=_read_switch(env, "SALES_WARMUP", "on"),
        drain_seconds=_read_float(env, "SALES_DRAIN_SECONDS", 10.0, 0.0, MAX_DRAIN_SECONDS),
        metrics_port=_read_int(env, "SALES_METRICS_PORT", 9464, 0, 65535),
        **_read_auth(env),
    )
