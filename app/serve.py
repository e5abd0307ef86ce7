"""Start the app: ``python app/serve.py run app/streamlit_app.py [options]``.

Streamlit's own command line (``python -m streamlit``), with three things first:

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
3. The app's Prometheus metrics (``sales_dashboard/metrics.py``): script runs by kind and
   outcome, their duration and CPU, the shared caches, on ``SALES_METRICS_PORT`` (a port of
   their own, never routed by the proxy). A port that cannot be bound stops the start (exit 64).
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable

from sales_dashboard import metrics
from sales_dashboard.settings import SettingsError, load_settings

EXIT_BAD_SETTINGS = 64  # EX_USAGE, as deploy/app/entrypoint.sh uses for a bad secret file


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


def main() -> int:
    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"serve: {error}", file=sys.stderr)
        return EXIT_BAD_SETTINGS
    if settings.tcp_nodelay:
        enable_tcp_nodelay()
    try:
        metrics.install(settings)
    except OSError as error:
        print(f"serve: SALES_METRICS_PORT={settings.metrics_port} cannot be served: {error}", file=sys.stderr)
        return EXIT_BAD_SETTINGS
    from streamlit.web.cli import main as streamlit_main

    return streamlit_main(prog_name="streamlit")


if __name__ == "__main__":
    sys.exit(main())
