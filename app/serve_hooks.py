"""The sales dashboard's hooks into the serving layer (streamlit_serving/hooks.py)."""

from __future__ import annotations

from prometheus_client.registry import Collector

from sales_dashboard import TITLE
from sales_dashboard.cache_metrics import SharedCacheCollector
from sales_dashboard.settings import load_settings

SIGN_IN_TITLE = TITLE  # the sign-in page's heading (SERVE_AUTH=oidc: the layer gates every run)


def check() -> None:
    """The app's own settings (SALES_*), before the server starts: a bad one stops it (exit 64)."""
    load_settings()


def warm_up() -> None:
    """Fill the shared cache (SALES_SHARED_CACHE > 0) with every day's and month's outputs."""
    settings = load_settings()
    if settings.shared_cache > 0:
        from sales_dashboard.warmup import run_warmup  # the heavy imports too, only now

        run_warmup(settings)


def collectors() -> list[Collector]:
    return [SharedCacheCollector()]
