"""Environment -> typed settings of the serving layer, for any app. The one home of every
``SERVE_`` setting (an app's own settings live with the app, as the example's do, and reach the
stacks through its env file, APP_ENV_FILE; its name through its serving.toml, app_settings.py).

| variable                   | default     | meaning                                                  |
|----------------------------|-------------|----------------------------------------------------------|
| SERVE_TCP_NODELAY          | on          | on: TCP_NODELAY on the server's sockets (serve.py);      |
|                            |             | off: Streamlit's stock sockets (Nagle, ~40 ms stalls)    |
| SERVE_METRICS_PORT         | 9464        | the app's Prometheus metrics (metrics.py) on this port,  |
|                            |             | all interfaces; 0 = none                                 |
| SERVE_DRAIN_SECONDS        | 10          | on SIGTERM: seconds to let running script runs finish    |
|                            |             | and move sessions off before stopping (drain.py);        |
|                            |             | 0 = stop at once, as stock Streamlit                     |
| SERVE_WARMUP               | on          | on: once the server is healthy, run the app's warm_up()  |
|                            |             | hook (hooks.py) in a background thread; off: never       |
| SERVE_GC_THRESHOLDS        | 50000,10,10 | gc.set_threshold(t0, t1, t2) at start (gc_tuning.py);   |
|                            |             | python: Python's own (700, 10, 10)                       |
| SERVE_GC_FREEZE            | on          | on: gc.freeze() once healthy and warmed up; off: never   |
| SERVE_RERUN_RATE           | 10          | reruns a session may ask for per second, after its burst |
|                            |             | (rerun_limit.py); over it the socket is closed with      |
|                            |             | 1008; 0 = no limit                                       |
| SERVE_RERUN_BURST          | 40          | reruns a session may ask for at once (the bucket's size) |
| SERVE_UPLOAD_MAX_FILES     | 10          | uploaded files a session may hold at once (uploads.py);  |
|                            |             | over it an upload gets 413 and nothing is stored         |
| SERVE_UPLOAD_MAX_MB        | (see right) | megabytes of uploaded files a session may hold at once   |
|                            |             | (each file is also capped by server.maxUploadSize); unset: |
|                            |             | 32, or twice server.maxUploadSize when that is more      |
| SERVE_AUTH                 | none        | oidc: sign-in (st.login) before any page content; none:  |
|                            |             | open; none-public: open where sign-in is required (logged) |
| SERVE_AUTH_REQUIRED        | off         | on: refuse SERVE_AUTH=none or unset (production files)   |
| SERVE_ALLOWED_EMAILS       | (empty)     | verified e-mails let in, comma-separated                 |
| SERVE_ALLOWED_DOMAINS      | (empty)     | e-mail domains let in, comma-separated; * = every        |
|                            |             | verified e-mail the provider vouches for                 |
| SERVE_ALLOWED_FILE         | (empty)     | instead of the two lists: a file of allowed e-mails and  |
|                            |             | domains, one a line (# comments); re-read by the gate    |
|                            |             | when it changes (auth.py), no restart                    |
| SERVE_AUTH_MAX_AGE_HOURS   | 12          | a sign-in older than this must sign in again (1-720)     |
| SERVE_OIDC_FILE            | (empty)     | the provider's settings: a secret file (TOML; keys in    |
|                            |             | oidc_config.py)                                          |
| SERVE_APP_SECRETS_FILE     | (see right) | the app's own secrets.toml, a secret file: st.secrets    |
|                            |             | and environment variables of the app's process; unset:   |
|                            |             | /run/secrets/app_secrets.toml if there (app_secrets.py)  |
| SERVE_SESSION_STORE        | (empty)     | redis://host:port/db: the app's own st.session_state is  |
|                            |             | saved there after each finished run and restored when a  |
|                            |             | page moves to another replica (session_store.py);        |
|                            |             | empty: off                                               |
| SERVE_SESSION_STORE_PASSWORD_FILE | (see right) | the store's password, a secret file (one line), |
|                            |             | read with SERVE_SESSION_STORE; unset:                    |
|                            |             | /run/secrets/session_store_password (missing, empty or   |
|                            |             | unreadable: exit 64)                                     |
| SERVE_SESSION_STORE_MAX_KB | 256         | a session's pickled state over this is not saved (1-65536) |
| SERVE_SESSION_STORE_TTL_SECONDS | 3600   | an entry lives this long after its last save (60-604800) |
| SERVE_DATA_DIR             | (empty)     | the app's persistent, writable directory (an absolute    |
|                            |             | path, a directory this user may write; else exit 64): a  |
|                            |             | volume the stacks mount at /srv/data (make up            |
|                            |             | APP_DATA=1); the app reads the variable; empty: none     |

Bad values fail at start-up with a message naming the variable, never silently fall back. The
``read_*`` helpers are for apps' own settings too, so every setting fails the same way.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

MAX_DRAIN_SECONDS = 3600.0
MAX_RERUN_RATE = 1000.0
MAX_RERUN_BURST = 10_000
MAX_UPLOAD_FILES = 10_000
MAX_UPLOAD_MB = 100_000
SWITCHES = {"on": True, "off": False}
AUTH_MODES = ("none", "oidc", "none-public")
MAX_STORE_KB = 65_536
MAX_STORE_TTL_SECONDS = 7 * 24 * 3600
STORE_PASSWORD_MOUNTED = Path("/run/secrets/session_store_password")  # the compose and Swarm secret's target
MAX_AUTH_AGE_HOURS = 720  # Streamlit's own identity cookie lasts 30 days
EVERY_DOMAIN = "*"
GC_PYTHON = "python"  # SERVE_GC_THRESHOLDS: keep Python's own
# A young collection every 50,000 new objects: no full collection in make bench-cliff's windows at
# 1,750-2,500 readers, against one every 4-20 s with Python's 700 (docs/benchmarks.md).
GC_THRESHOLDS = (50_000, 10, 10)
MAX_GC_YOUNG = 10_000_000
MAX_GC_OLDER = 10_000
_EMAIL = re.compile(r"[^@\s,]+@([a-z0-9-]+\.)+[a-z0-9-]+")
_DOMAIN = re.compile(r"([a-z0-9-]+\.)+[a-z0-9-]+")


class SettingsError(ValueError):
    """An environment variable holds a value the app cannot use."""


@dataclass(frozen=True)
class ServingSettings:
    tcp_nodelay: bool = True
    metrics_port: int = 9464
    warmup: bool = True
    auth: str = "none"
    auth_required: bool = False
    allowed_emails: frozenset[str] = frozenset()
    allowed_domains: frozenset[str] = frozenset()
    allowed_file: Path | None = None
    auth_max_age_hours: int = 12
    oidc_file: Path | None = None
    drain_seconds: float = 10.0
    rerun_rate: float = 10.0
    rerun_burst: int = 40
    upload_max_files: int = 10
    upload_max_mb: int | None = None  # unset: uploads.session_cap_mb derives it
    session_store: str = ""
    session_store_password_file: Path | None = None  # set when session_store is
    session_store_max_kb: int = 256
    session_store_ttl_seconds: int = 3600
    data_dir: Path | None = None
    gc_thresholds: tuple[int, int, int] | None = GC_THRESHOLDS  # None: Python's own (gc_tuning.py)
    gc_freeze: bool = True

    @property
    def sign_in(self) -> bool:
        """True when every visitor must sign in before seeing any page content."""
        return self.auth == "oidc"


def read_int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
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


def read_float(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
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


def read_choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw not in choices:
        raise SettingsError(f"{name}={raw!r} is not one of {', '.join(choices)}")
    return raw


def read_switch(env: Mapping[str, str], name: str, default: str) -> bool:
    return SWITCHES[read_choice(env, name, default, tuple(SWITCHES))]


def read_list(env: Mapping[str, str], name: str, pattern: re.Pattern[str], what: str) -> frozenset[str]:
    """A comma-separated list, lower-cased; every item must match ``pattern``."""
    items = [item.strip().lower() for item in env.get(name, "").split(",")]
    items = [item for item in items if item]
    for item in items:
        if not pattern.fullmatch(item):
            raise SettingsError(f"{name}: {item!r} is not {what}")
    return frozenset(items)


def read_allowed_file(path: Path) -> tuple[frozenset[str], frozenset[str]]:
    """The allowed e-mails and domains of the file SERVE_ALLOWED_FILE=``path``: one a line,
    lower-cased; blank lines and ``#`` comments ignored; ``*`` alone: every verified e-mail. An
    unreadable file, a bad line or no entry raises SettingsError naming the file (and line)."""
    source = f"SERVE_ALLOWED_FILE={path}"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SettingsError(f"{source} cannot be read: {error}") from None
    emails: set[str] = set()
    domains: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        item = line.split("#", 1)[0].strip().lower()
        if not item:
            continue
        if item == EVERY_DOMAIN:
            domains.add(item)
        elif "@" in item:
            if not _EMAIL.fullmatch(item):
                raise SettingsError(f"{source}: line {number}: {item!r} is not an e-mail address")
            emails.add(item)
        elif _DOMAIN.fullmatch(item):
            domains.add(item)
        else:
            raise SettingsError(f"{source}: line {number}: {item!r} is not an e-mail or a domain")
    if EVERY_DOMAIN in domains and (emails or len(domains) > 1):
        raise SettingsError(f"{source}: {EVERY_DOMAIN} (every verified e-mail) must be the only entry")
    if not emails and not domains:
        raise SettingsError(f"{source} lets nobody in: it has no e-mail address or domain")
    return frozenset(emails), frozenset(domains)


def _read_auth(env: Mapping[str, str]) -> dict[str, Any]:
    """SERVE_AUTH and what it needs. With sign-in on, nobody is let in unless named by an
    allowed e-mail or domain: an empty list is a mistake, never "everyone"."""
    raw = env.get("SERVE_AUTH", "").strip().lower()
    required = read_switch(env, "SERVE_AUTH_REQUIRED", "off")
    if required and raw in ("", "none"):
        raise SettingsError(
            f"SERVE_AUTH={raw!r} is refused here (SERVE_AUTH_REQUIRED=on): set SERVE_AUTH=oidc for "
            "sign-in, or SERVE_AUTH=none-public to serve the app to anyone who reaches the proxy"
        )
    auth = read_choice(env, "SERVE_AUTH", "none", AUTH_MODES)
    emails = read_list(env, "SERVE_ALLOWED_EMAILS", _EMAIL, "an e-mail address")
    raw_domains = env.get("SERVE_ALLOWED_DOMAINS", "").strip()
    if raw_domains == EVERY_DOMAIN:
        domains = frozenset({EVERY_DOMAIN})
    else:
        what = f"a domain name (or {EVERY_DOMAIN} alone)"
        domains = read_list(env, "SERVE_ALLOWED_DOMAINS", _DOMAIN, what)
    raw_allowed = env.get("SERVE_ALLOWED_FILE", "").strip()
    allowed_file = Path(raw_allowed) if raw_allowed else None
    if allowed_file is not None:
        if emails or domains:
            raise SettingsError(
                "SERVE_ALLOWED_FILE and SERVE_ALLOWED_EMAILS/SERVE_ALLOWED_DOMAINS are all set: the "
                "allow-list has one home; keep the file or the two lists"
            )
        emails, domains = read_allowed_file(allowed_file)
    if auth == "oidc" and not emails and not domains:
        raise SettingsError(
            "SERVE_AUTH=oidc lets nobody in: set SERVE_ALLOWED_EMAILS and/or SERVE_ALLOWED_DOMAINS, "
            f"or SERVE_ALLOWED_FILE (SERVE_ALLOWED_DOMAINS={EVERY_DOMAIN} lets in every verified e-mail "
            "of the provider)"
        )
    raw_file = env.get("SERVE_OIDC_FILE", "").strip()
    if auth == "oidc" and not raw_file:
        raise SettingsError("SERVE_OIDC_FILE is not set: SERVE_AUTH=oidc needs the provider's settings file")
    return {
        "auth": auth,
        "auth_required": required,
        "allowed_emails": emails,
        "allowed_domains": domains,
        "allowed_file": allowed_file,
        "auth_max_age_hours": read_int(env, "SERVE_AUTH_MAX_AGE_HOURS", 12, 1, MAX_AUTH_AGE_HOURS),
        "oidc_file": Path(raw_file) if raw_file else None,
    }


def load_serving_settings(env: Mapping[str, str] | None = None) -> ServingSettings:
    """Read the serving settings from `env` (default: the process environment)."""
    env = dict(os.environ if env is None else env)
    return ServingSettings(
        tcp_nodelay=read_switch(env, "SERVE_TCP_NODELAY", "on"),
        warmup=read_switch(env, "SERVE_WARMUP", "on"),
        drain_seconds=read_float(env, "SERVE_DRAIN_SECONDS", 10.0, 0.0, MAX_DRAIN_SECONDS),
        metrics_port=read_int(env, "SERVE_METRICS_PORT", 9464, 0, 65535),
        rerun_rate=read_float(env, "SERVE_RERUN_RATE", 10.0, 0.0, MAX_RERUN_RATE),
        rerun_burst=read_int(env, "SERVE_RERUN_BURST", 40, 1, MAX_RERUN_BURST),
        upload_max_files=read_int(env, "SERVE_UPLOAD_MAX_FILES", 10, 1, MAX_UPLOAD_FILES),
        upload_max_mb=(
            read_int(env, "SERVE_UPLOAD_MAX_MB", 32, 1, MAX_UPLOAD_MB)
            if env.get("SERVE_UPLOAD_MAX_MB", "").strip()
            else None
        ),
        session_store=_read_store_url(env),
        session_store_password_file=_read_store_password_file(env),
        session_store_max_kb=read_int(env, "SERVE_SESSION_STORE_MAX_KB", 256, 1, MAX_STORE_KB),
        session_store_ttl_seconds=read_int(
            env, "SERVE_SESSION_STORE_TTL_SECONDS", 3600, 60, MAX_STORE_TTL_SECONDS
        ),
        data_dir=read_data_dir(env),
        gc_thresholds=read_gc_thresholds(env),
        gc_freeze=read_switch(env, "SERVE_GC_FREEZE", "on"),
        **_read_auth(env),
    )


def read_gc_thresholds(env: Mapping[str, str]) -> tuple[int, int, int] | None:
    """SERVE_GC_THRESHOLDS: unset (GC_THRESHOLDS), ``python`` (Python's own: None) or three whole
    numbers ``t0,t1,t2`` (gc.set_threshold's: t0 1..MAX_GC_YOUNG, t1 and t2 1..MAX_GC_OLDER)."""
    name = "SERVE_GC_THRESHOLDS"
    raw = env.get(name, "").strip().lower()
    if not raw:
        return GC_THRESHOLDS
    if raw == GC_PYTHON:
        return None
    parts = [part.strip() for part in raw.split(",")]
    if len(parts) != 3 or not all(part.isdigit() for part in parts):
        raise SettingsError(f"{name}={raw!r} is not {GC_PYTHON} or three whole numbers t0,t1,t2")
    young, middle, old = (int(part) for part in parts)
    if not 1 <= young <= MAX_GC_YOUNG or not all(1 <= value <= MAX_GC_OLDER for value in (middle, old)):
        raise SettingsError(f"{name}={raw}: t0 must be 1..{MAX_GC_YOUNG}, t1 and t2 1..{MAX_GC_OLDER}")
    return young, middle, old


def read_data_dir(env: Mapping[str, str]) -> Path | None:
    """SERVE_DATA_DIR: empty (none), else an absolute path to a directory this process may write."""
    raw = env.get("SERVE_DATA_DIR", "").strip()
    if not raw:
        return None
    path = Path(raw)
    if not path.is_absolute():
        raise SettingsError(
            f"SERVE_DATA_DIR={raw!r} is not an absolute path (the app's data directory, e.g. /srv/data)"
        )
    if not path.is_dir():
        raise SettingsError(
            f"SERVE_DATA_DIR={raw} is not a directory: mount the data volume there "
            '(make up APP_DATA=1; docs/your-app.md, "Data that persists")'
        )
    if not os.access(path, os.W_OK | os.X_OK):
        raise SettingsError(
            f"SERVE_DATA_DIR={raw} is not writable by this process (uid {os.getuid()}): the image's "
            "user is 10001 (on Kubernetes: the pod's fsGroup)"
        )
    return path


def _read_store_url(env: Mapping[str, str]) -> str:
    """SERVE_SESSION_STORE: empty (off) or a redis:// URL (session_store.check_url)."""
    raw = env.get("SERVE_SESSION_STORE", "").strip()
    if not raw:
        return ""
    from .session_store import check_url

    return check_url("SERVE_SESSION_STORE", raw)


def _read_store_password_file(env: Mapping[str, str]) -> Path | None:
    """SERVE_SESSION_STORE_PASSWORD_FILE, with the store on: as set, else the mounted secret's path
    (the file itself is read once, at start: session_store.read_password)."""
    if not env.get("SERVE_SESSION_STORE", "").strip():
        return None
    raw = env.get("SERVE_SESSION_STORE_PASSWORD_FILE", "").strip()
    return Path(raw) if raw else STORE_PASSWORD_MOUNTED


@cache
def current() -> ServingSettings:
    """The process's serving settings, read once (serve.py has checked them before the server
    started, so a page never meets a bad value here)."""
    return load_serving_settings()
