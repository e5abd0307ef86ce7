"""Start the app: ``python app/serve.py run app/streamlit_app.py [options]``.

Streamlit's own command line (``python -m streamlit``), with these things first:

1. The settings (``sales_dashboard/settings.py``) are read before the server starts, so a bad
   value stops the start with a message naming the variable (exit 64) instead of breaking
   every page view.
2. TCP_NODELAY on every connection (``SALES_TCP_NODELAY=on``, the default). Streamlit 1.67
   binds its listening socket itself with ``socket.socket(family)``, so the socket's protocol
   is 0, and asyncio sets TCP_NODELAY only on connections whose protocol is ``IPPROTO_TCP``.
   Without it each interaction stalls ~40 ms: the server's second small write waits (Nagle)
   for the ACK of its first, which the client delays. Here the listening socket's file is
   re-opened as an ``IPPROTO_TCP`` socket, so asyncio sets TCP_NODELAY on every accepted
   connection, as it does for servers it binds itself. ``off`` keeps Streamlit's sockets.
3. Sign-in (``SALES_AUTH=oidc``): the provider's secret file is checked and rendered into the
   ``secrets.toml`` Streamlit reads (``sales_dashboard/oidc_config.py``); a bad one stops the
   start (exit 64). The sign-in mode is logged at every start, loudly when the figures are public
   where sign-in is required (``SALES_AUTH=none-public``).
4. The shared cache's warm-up (``SALES_WARMUP=on``, ``sales_dashboard/warmup.py``): a background
   thread that waits for the server to be healthy, then builds every day's charts and tables.
5. A drain on SIGTERM (``SALES_DRAIN_SECONDS`` > 0, the default): the replica stops taking
   sessions, lets running script runs finish and moves its sessions to the other replicas before
   Streamlit stops (``sales_dashboard/drain.py``).
6. The app's Prometheus metrics (``sales_dashboard/metrics.py``): script runs by kind and
   outcome, their duration and CPU, the shared caches, on ``SALES_METRICS_PORT`` (a port of
   their own, never routed by the proxy). A port that cannot be bound stops the start (exit 64).
7. A per-session limit on reruns inside the WebSocket (``SALES_RERUN_RATE`` > 0, the default;
   ``sales_dashboard/rerun_limit.py``): a client flooding reruns is closed with 1008.
8. A page that comes back on a replica that never held its session gets a whole-page run for its
   first fragment pick there, which Streamlit would drop (``sales_dashboard/failover.py``).
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from collections.abc import Callable

from sales_dashboard import drain, failover, metrics, rerun_limit
from sales_dashboard.oidc_config import install_auth_secrets
from sales_dashboard.settings import Settings, SettingsError, load_settings

EXIT_BAD_SETTINGS = 64  # EX_USAGE, as deploy/app/entrypoint.sh uses for a bad secret file
WARMUP_POLL_SECONDS = 0.25  # how often the warm-up thread looks whether the server is healthy


def bind_with_tcp_protocol(bind: Callable[..., socket.socket]) -> Callable[..., socket.socket]:
    """Wrap Streamlit's socket binder so the socket it returns says it is TCP."""

    def bind_tcp(*args: object, **kwargs: object) -> socket.socket:
        sock = bind(*args, **kwargs)
        return socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())

    return bind_tcp


def enable_tcp_nodelay() -> None:
    """Make every connection Streamlit accepts a TCP_NODELAY one (see the module docstring)."""
    from streamlit.web.server.starlette import starlette_server

    bind = getattr(starlette_server, "_bind_socket", None)
    if bind is None:
        raise RuntimeError(
            "this Streamlit no longer has starlette_server._bind_socket: check whether it sets "
            "TCP_NODELAY itself (tests/integration/test_server_sockets.py), then update "
            "app/serve.py, or start with SALES_TCP_NODELAY=off"
        )
    starlette_server._bind_socket = bind_with_tcp_protocol(bind)


def auth_notice(settings: Settings) -> str:
    """The line every start logs about who may see the figures."""
    if settings.auth == "oidc":
        allowed = sorted(settings.allowed_emails | settings.allowed_domains)
        return (
            f"serve: sign-in on (SALES_AUTH=oidc): {len(allowed)} allowed e-mail(s)/domain(s), "
            f"sign-ins valid {settings.auth_max_age_hours} h"
        )
    if settings.auth == "none-public":
        return (
            "serve: WARNING: SALES_AUTH=none-public: sign-in is OFF where it is required; every "
            "figure is public to anyone who reaches this app"
        )
    return "serve: sign-in off (SALES_AUTH=none): anyone who reaches this app sees every figure"


def server_ready() -> bool | None:
    """True once Streamlit's runtime serves browsers (/_stcore/health answers ok), None if it is
    stopping or stopped, False before."""
    from streamlit.runtime import Runtime
    from streamlit.runtime.runtime import RuntimeState

    if not Runtime.exists():
        return False
    state = Runtime.instance().state
    if state in (RuntimeState.STOPPING, RuntimeState.STOPPED):
        return None
    return state != RuntimeState.INITIAL


def warm_up_when_ready(settings: Settings) -> None:
    """Wait for the server to be healthy, then warm the shared cache (the heavy imports too)."""
    while (ready := server_ready()) is False:
        time.sleep(WARMUP_POLL_SECONDS)
    if ready:
        from sales_dashboard.warmup import run_warmup

        run_warmup(settings)


def start_warmup(settings: Settings) -> threading.Thread | None:
    """The warm-up thread (SALES_WARMUP=on and a shared cache to fill), started; else None."""
    if not settings.warmup or settings.shared_cache <= 0:
        return None
    thread = threading.Thread(target=warm_up_when_ready, args=(settings,), name="sales-warmup", daemon=True)
    thread.start()
    return thread


def main() -> int:
    try:
        settings = load_settings()
        install_auth_secrets(settings, os.environ)
    except SettingsError as error:
        print(f"serve: {error}", file=sys.stderr)
        return EXIT_BAD_SETTINGS
    print(auth_notice(settings), file=sys.stderr)
    if settings.tcp_nodelay:
        enable_tcp_nodelay()
    try:
        metrics.install(settings)
    except OSError as error:
        print(f"serve: SALES_METRICS_PORT={settings.metrics_port} cannot be served: {error}", file=sys.stderr)
        return EXIT_BAD_SETTINGS
    if settings.rerun_rate > 0:  # inside the drain's gate, which must see every socket first
        rerun_limit.install(settings.rerun_rate, settings.rerun_burst)
    if settings.drain_seconds > 0:
        drain.install(settings.drain_seconds)
    failover.install()
    start_warmup(settings)
    from streamlit.web.cli import main as streamlit_main

    return streamlit_main(prog_name="streamlit")


if __name__ == "__main__":
    sys.exit(main())
