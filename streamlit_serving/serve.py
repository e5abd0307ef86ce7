"""Start any Streamlit app: ``python -m streamlit_serving run <app>/streamlit_app.py [options]``.

Streamlit's own command line (``python -m streamlit``), with these things first:

1. The settings are read before the server starts: the serving layer's (``settings.py``,
   ``SERVE_*``) and the app's own, through its ``check()`` hook (``hooks.py``). A bad value stops
   the start with a message naming the variable (exit 64) instead of breaking every page view; a
   ``serve_hooks.py`` that fails to import stops it with the app's traceback (exit 64).
2. TCP_NODELAY on every connection (``SERVE_TCP_NODELAY=on``, the default). Streamlit 1.67
   binds its listening socket itself with ``socket.socket(family)``, so the socket's protocol
   is 0, and asyncio sets TCP_NODELAY only on connections whose protocol is ``IPPROTO_TCP``.
   Without it each interaction stalls ~40 ms: the server's second small write waits (Nagle)
   for the ACK of its first, which the client delays. Here the listening socket's file is
   re-opened as an ``IPPROTO_TCP`` socket, so asyncio sets TCP_NODELAY on every accepted
   connection, as it does for servers it binds itself. ``off`` keeps Streamlit's sockets.
3. Sign-in (``SERVE_AUTH=oidc``): the provider's secret file is checked and rendered into the
   ``secrets.toml`` Streamlit reads (``oidc_config.py``); a bad one stops the start (exit 64).
   Every run of the app (whole-script, fragment, and the widget callbacks before it) is checked by
   the gate (``auth.py``), whatever the app's own code does: nobody runs its first line before
   signing in, nor after the sign-in expires. A link opened before signing in is where the page
   opens after it (``sign_in_link.py``). The sign-in mode is logged at every
   start, loudly when the app is public where sign-in is required (``SERVE_AUTH=none-public``).
4. The app's warm-up (``SERVE_WARMUP=on`` and a ``warm_up()`` hook): a background thread that
   waits for the server to be healthy, then runs it.
5. A drain on SIGTERM (``SERVE_DRAIN_SECONDS`` > 0, the default): the replica stops taking
   sessions, lets running script runs finish and moves its sessions to the other replicas before
   Streamlit stops (``drain.py``).
6. Prometheus metrics (``metrics.py``): script runs by kind and outcome, their duration and CPU,
   the memory limit and the app's own collectors (a ``collectors()`` hook), on
   ``SERVE_METRICS_PORT`` (a port of their own, never routed by the proxy). A port that cannot be
   bound stops the start (exit 64).
7. A per-session limit on reruns inside the WebSocket (``SERVE_RERUN_RATE`` > 0, the default;
   ``rerun_limit.py``): a client flooding reruns is closed with 1008.
8. Uploads only from a session whose page has a file uploader and (with sign-in) that passed the
   gate, to file ids handed to it, and capped per session (``SERVE_UPLOAD_MAX_FILES``,
   ``SERVE_UPLOAD_MAX_MB``; ``uploads.py``): anything else gets 403 or 413, and nothing is stored.
9. A page that comes back on a replica that never held its session gets a whole-page run for its
   first fragment pick there, which Streamlit would drop (``failover.py``).
10. Session state that survives a replica's loss (``SERVE_SESSION_STORE=redis://...``,
   ``session_store.py``): the app's own ``st.session_state`` saved to Redis after each finished
   run, signed with the cookie secret (which must then be set, ≥ 32 characters: exit 64), and
   restored when the page reconnects to another replica. The store's password comes from a secret
   file (``SERVE_SESSION_STORE_PASSWORD_FILE``; missing, empty or unreadable: exit 64).
11. The production-critical Streamlit options (XSRF, CORS, error details, toolbar, headless, file
   watcher, telemetry, upload and message size caps) are pinned whatever a config file or
   variable says: passed as the last command-line flags, which win over every file
   (``pinned.py``); the two size caps are the app's ``serving.toml`` ``[limits]`` (16 and 4 MB
   without it; a bad value: exit 64 naming the file and key). Each value overridden is logged, one
   line per option; a config file that is not valid TOML stops the start (exit 64, naming it).
   The template's production defaults (its ``.streamlit/config.toml``) go the same way, before
   them, each only where no config file, variable or flag sets that option: the app's own wins.
12. The app's own ``.streamlit/secrets.toml``, mounted as a secret file (``app_secrets.py``):
   read by ``st.secrets`` beside the sign-in's ``[auth]``, its top-level keys environment
   variables of this process (never the container's); not valid TOML: exit 64 naming the file.
13. The working directory is where the app's relative paths start, as Streamlit's own
   ``streamlit run`` does: the template's starters give it the app's root (APP_DIR), as Community
   Cloud runs an app from its repository's root: the image (its WORKDIR, /srv/app/app, and its
   entrypoint), ``make run`` (it changes to APP_DIR) and ``make up``'s first run (in the image's
   WORKDIR). Streamlit reads the app's ``.streamlit/config.toml`` there. The start logs the
   directory, with a warning when it does not hold the main script.
14. The app's persistent data directory (``SERVE_DATA_DIR``, a volume the stacks mount at
   ``/srv/data`` when asked): checked writable at start (exit 64 naming it), said in the log.
15. Python's garbage collector set for many sessions (``SERVE_GC_THRESHOLDS``, ``SERVE_GC_FREEZE``;
   ``gc_tuning.py``): fewer full collections, each scanning less, so the GIL is not held for
   half a second every few seconds under load.
"""

from __future__ import annotations

import os
import socket
import sys
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path

from . import auth, drain, failover, metrics, rerun_limit, session_store, sign_in_link, uploads
from .app_secrets import install_app_secrets
from .app_secrets import notice as secrets_notice
from .gc_tuning import apply_thresholds, start_freeze
from .hooks import HOOKS_FILE, AppHooks, load_hooks, main_script, start_warmup
from .oidc_config import COOKIE_SECRET_VARIABLE, MIN_COOKIE_SECRET, install_auth_secrets
from .pinned import guard_set_option, pinned_argv
from .settings import ServingSettings, SettingsError, load_serving_settings

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
            "streamlit_serving/serve.py, or start with SERVE_TCP_NODELAY=off"
        )
    starlette_server._bind_socket = bind_with_tcp_protocol(bind)


def auth_notice(settings: ServingSettings) -> str:
    """The line every start logs about who may see the app."""
    if settings.auth == "oidc":
        allowed = sorted(settings.allowed_emails | settings.allowed_domains)
        source = (
            ""
            if settings.allowed_file is None
            else f" (SERVE_ALLOWED_FILE={settings.allowed_file}, re-read when it changes)"
        )
        return (
            f"serve: sign-in on (SERVE_AUTH=oidc): {len(allowed)} allowed e-mail(s)/domain(s){source}, "
            f"sign-ins valid {settings.auth_max_age_hours} h"
        )
    if settings.auth == "none-public":
        return (
            "serve: WARNING: SERVE_AUTH=none-public: sign-in is OFF where it is required; the "
            "app is public to anyone who reaches this app"
        )
    return "serve: sign-in off (SERVE_AUTH=none): anyone who reaches this app sees all of it"


def check_store(settings: ServingSettings, env: Mapping[str, str]) -> str | None:
    """With SERVE_SESSION_STORE: the cookie secret that signs its entries is set (the same on every
    replica, else no replica could read another's entries), the Redis client is installed, and
    the store's password is read from its file (returned; None with the store off)."""
    if not settings.session_store:
        return None
    secret = env.get(COOKIE_SECRET_VARIABLE, "")
    if len(secret) < MIN_COOKIE_SECRET:
        raise SettingsError(
            f"{COOKIE_SECRET_VARIABLE} is {'unset' if not secret else 'shorter than 32 characters'}: "
            "SERVE_SESSION_STORE signs its entries with it, the same on every replica "
            f"(the image reads it from {COOKIE_SECRET_VARIABLE}_FILE, a secret file)"
        )
    try:
        import redis  # noqa: F401
    except ImportError:
        raise SettingsError(
            "SERVE_SESSION_STORE is set but the redis package is missing: re-lock the app's "
            "requirements (make lock APP_DIR=...), which takes the serving layer's requirements/serving.in"
        ) from None
    assert settings.session_store_password_file is not None  # load_serving_settings sets it with the store
    return session_store.read_password(settings.session_store_password_file)


def home_notice(settings: ServingSettings, script: Path, cwd: Path | None = None) -> str:
    """The start's line about where the app runs (the working directory: its relative paths start
    there) and where it may keep data."""
    cwd = Path.cwd() if cwd is None else cwd
    data = (
        f"its data directory SERVE_DATA_DIR={settings.data_dir} "
        "(writable; it persists where a volume is mounted)"
        if settings.data_dir is not None
        else "no data directory (SERVE_DATA_DIR unset: make up APP_DATA=1 mounts one)"
    )
    where = f"serve: the app runs in {cwd} (its relative paths start there)"
    if not Path(os.path.abspath(script)).is_relative_to(cwd):
        where += (
            f"; WARNING: that directory does not hold the main script {script}: start it from the "
            "app's root, as make run and the image do"
        )
    return f"{where}; {data}"


def app_hooks(argv: list[str]) -> AppHooks:
    """The hooks of the app that ``argv`` runs (hooks.py). Raises SettingsError when its main
    script is missing; an error importing ``serve_hooks.py`` is the app's own and propagates."""
    script = main_script(argv)
    if script is None:
        return AppHooks()
    if not script.is_file():
        raise SettingsError(f"the app's main script {script} is not a file")
    return load_hooks(script)


def main() -> int:
    argv = sys.argv[1:]
    try:
        settings = load_serving_settings()
        script = main_script(argv)
        # The app's secrets first (its keys in os.environ before its code is imported), then the
        # sign-in's [auth] after them in Streamlit's secrets files.
        secrets = install_app_secrets(os.environ, script, settings.sign_in)
        install_auth_secrets(settings, os.environ)
        store_password = check_store(settings, os.environ)
        hooks = app_hooks(argv)
        overrides: list[str] = []
        if script is not None:  # `run`: the template's defaults and the options pinned over every
            argv, overrides = pinned_argv(argv, script)  # config file and variable
    except SettingsError as error:
        print(f"serve: {error}", file=sys.stderr)
        return EXIT_BAD_SETTINGS
    except Exception:  # noqa: BLE001 - the app's own error: its traceback, then exit 64
        traceback.print_exc()
        print(f"serve: the app's {HOOKS_FILE} failed to import (traceback above)", file=sys.stderr)
        return EXIT_BAD_SETTINGS
    try:
        if hooks.check is not None:
            hooks.check()  # the app's own settings
    except ValueError as error:  # SettingsError or the app's own
        print(f"serve: {error}", file=sys.stderr)
        return EXIT_BAD_SETTINGS
    print(auth_notice(settings), file=sys.stderr)
    print(secrets_notice(secrets), file=sys.stderr)
    if script is not None:
        print(home_notice(settings, script), file=sys.stderr)
    for line in overrides:
        print(line, file=sys.stderr)
    if script is not None:
        guard_set_option()  # and while the app runs: st.set_option cannot undo a pin
    if settings.tcp_nodelay:
        enable_tcp_nodelay()
    if settings.sign_in:
        auth.install(hooks.sign_in_title)
        sign_in_link.install()
    try:
        metrics.install(settings.metrics_port, hooks.collectors() if hooks.collectors else ())
    except OSError as error:
        print(f"serve: SERVE_METRICS_PORT={settings.metrics_port} cannot be served: {error}", file=sys.stderr)
        return EXIT_BAD_SETTINGS
    if settings.rerun_rate > 0:  # inside the drain's gate, which must see every socket first
        rerun_limit.install(settings.rerun_rate, settings.rerun_burst)
    uploads.install(settings.upload_max_files, settings.upload_max_mb, settings.sign_in)
    if settings.drain_seconds > 0:
        drain.install(settings.drain_seconds)
    failover.install()
    if settings.session_store and store_password is not None:
        session_store.install(
            settings.session_store,
            store_password,
            settings.session_store_max_kb,
            settings.session_store_ttl_seconds,
        )
        print(
            f"serve: session store on (SERVE_SESSION_STORE={settings.session_store}, its password "
            f"from SERVE_SESSION_STORE_PASSWORD_FILE={settings.session_store_password_file})",
            file=sys.stderr,
        )
    print(apply_thresholds(settings.gc_thresholds), file=sys.stderr)
    start_freeze(settings.gc_freeze, start_warmup(hooks, settings.warmup))
    from streamlit.web.cli import main as streamlit_main

    return streamlit_main(args=argv, prog_name="streamlit")
