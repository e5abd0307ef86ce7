"""Session state that survives a replica's loss (``SERVE_SESSION_STORE=redis://host:port/db``).

Streamlit keeps ``st.session_state`` in the replica's memory only: a page that moves to another
replica (a drain, a crash, a rolling update, a scale-in) is rebuilt there from its widget states
and URL, and the app's own state (a chat's history, a form's progress) is gone. With the store on:

- **Saved**: after every script run that finishes (whole page or fragment; not one cut short for
  a rerun), the session's own keys of ``st.session_state``, pickled, signed (HMAC-SHA256 with a key
  derived from the app's cookie secret, ``server.cookieSecret``: the one that signs Streamlit's
  sign-in cookie), into Redis with a TTL (``SERVE_SESSION_STORE_TTL_SECONDS``). Skipped, with one
  log line naming the key: a value that cannot be pickled. Not saved, logged, and the session's
  earlier entry removed (so a move never brings back an older state): a state over
  ``SERVE_SESSION_STORE_MAX_KB``. A run that changed nothing is not written again (until half
  the TTL has passed, which renews it).
- **Not saved, so never restored**: keys owned by widgets (Streamlit rebuilds those from the
  frontend's widget states, and a button, a form's submit, a chat input or a file uploader must
  not replay), Streamlit's internal keys, and uploaded files (they live on the old replica).
- **Keyed** by HMAC(secret, the ``st_route`` cookie + the session id + the signed-in user): only
  the browser holding that HttpOnly cookie (set by the proxy, nginx.conf) gets it back, and with
  sign-in only the same user. The session id alone appears in upload URLs and so in logs; it is
  not enough. A request without ``st_route`` (no proxy: ``make run``) saves and restores nothing.
- **Restored** when a page reconnects with its old session id (the third WebSocket subprotocol,
  Streamlit 1.67's ``_parse_subprotocols``) to a replica that does not hold that session: the
  new session gets the state before its first run starts (before widget callbacks too), so the
  app's first line sees it. A reload opens a new session (no old id): nothing is restored, as in
  Streamlit.
- **Refused**: an entry whose signature does not match (tampered, another secret, moved to
  another key: the signature covers the key) is dropped with a log line, never unpickled.
- **The password**: the store requires one (Redis' ``requirepass``), read from a secret file,
  ``SERVE_SESSION_STORE_PASSWORD_FILE`` (default ``/run/secrets/session_store_password``, where
  the stacks mount it), once at start: never in the URL, the environment or an image. A missing,
  empty or unreadable file stops the start (exit 64, naming the setting); a wrong password is a
  store that fails (below), as is a server that wants none.
- **Store down** (or refusing the password): the app goes on as without it; one log line when
  the store fails and one when it is back; failures are counted
  (``streamlit_serving_session_store_operations_total{outcome="error"}``); for
  ``RETRY_SECONDS`` after a failure the store is not tried (no run waits for a dead store more
  than once per ``RETRY_SECONDS``).

Hooks (Streamlit 1.67, checked by ``install``): ``Runtime.connect_session`` (the socket's cookies,
user and old session id), ``SessionState.on_script_will_rerun`` and
``ScriptRunContext.on_script_start`` (the restore, on the run's script thread, whichever comes
first), ``ScriptRunner._on_script_finished`` (the save, on the script thread, after the run's
end was sent) and ``AppSession.shutdown`` (forgets the session's binding, not its entry: a
session ends when its replica stops, which is when the entry is needed).
"""

from __future__ import annotations

import hashlib
import hmac
import pickle  # entries are verified (HMAC) before unpickling
import re
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .settings import SettingsError

ROUTE_COOKIE = "st_route"  # the proxy's HttpOnly browser id (nginx.conf); never st_replica
MAX_ROUTE_LENGTH = 256
KEY_PREFIX = "streamlit_serving:session:"
VERSION = b"s1"
MAC_BYTES = 32
OVER_CAP = b"over the cap"  # a binding's last_mac once its entry was removed for size
RETRY_SECONDS = 5.0  # after a store failure, runs skip the store this long
SOCKET_TIMEOUT_SECONDS = 0.5  # a store that answers slower than this counts as down
_DB = re.compile(r"/?(\d{0,5})")
PASSWORD_VARIABLE = "SERVE_SESSION_STORE_PASSWORD_FILE"  # noqa: S105 - the setting's name


def described(error: BaseException) -> str:
    """``Type: message`` (redis' own repr of its errors hides the message)."""
    return f"{type(error).__name__}: {error}"


def log(text: str) -> None:
    print(f"session store: {text}", file=sys.stderr, flush=True)


def check_url(name: str, raw: str) -> str:
    """``raw`` if it is a usable ``redis://host[:port][/db]`` URL, else SettingsError naming
    ``name``. No password in the URL: it would sit in the environment (it comes from
    SERVE_SESSION_STORE_PASSWORD_FILE, read_password)."""
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as error:
        raise SettingsError(f"{name}={raw!r} is not a URL: {error}") from None
    if parts.scheme not in ("redis", "rediss"):
        raise SettingsError(f"{name}={raw!r}: the scheme must be redis:// (or rediss:// for TLS)")
    if not parts.hostname:
        raise SettingsError(f"{name}={raw!r} names no host (redis://host:port/db)")
    if parts.username or parts.password:
        raise SettingsError(
            f"{name}: a user or password in the URL is refused (it would sit in the environment): "
            f"put the password in a secret file, {PASSWORD_VARIABLE}"
        )
    if port == 0:
        raise SettingsError(f"{name}={raw!r}: port 0")
    if parts.query or parts.fragment or not _DB.fullmatch(parts.path):
        raise SettingsError(f"{name}={raw!r}: after host:port only /<database number> may follow")
    return raw


def read_password(path: Path) -> str:
    """The store's password: the one line of the secret file ``path`` (surrounding whitespace and
    the final newline dropped). Missing, unreadable, empty or several lines: SettingsError naming
    PASSWORD_VARIABLE, never the content."""
    source = f"{PASSWORD_VARIABLE}={path}"
    try:
        password = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        why = error.strerror if isinstance(error, OSError) and error.strerror else type(error).__name__
        raise SettingsError(
            f"{source} cannot be read ({why}): the session store's password, a secret file "
            "(make up SESSION_STORE=1 makes one in deploy/secrets/)"
        ) from None
    if not password:
        raise SettingsError(f"{source} is empty: the session store's password, one line")
    if "\n" in password or "\r" in password:
        raise SettingsError(f"{source} holds more than one line: the session store's password is one line")
    return password


# -- keys, signatures, what is saved -----------------------------------------------------------


@dataclass(frozen=True)
class Keys:
    """The two keys derived from the cookie secret: one names entries, one signs them."""

    name: bytes
    sign: bytes

    @classmethod
    def from_secret(cls, secret: str | bytes) -> Keys:
        raw = secret.encode() if isinstance(secret, str) else secret
        derive = lambda label: hmac.new(raw, label, hashlib.sha256).digest()  # noqa: E731
        return cls(
            derive(b"streamlit_serving session store: key"), derive(b"streamlit_serving session store: mac")
        )


def identity_of(user_info: Mapping[str, Any]) -> str:
    """The signed-in user as the key binds it ("" when nobody is signed in)."""
    if not user_info.get("is_logged_in"):
        return ""
    parts = (user_info.get("iss"), user_info.get("sub"), user_info.get("email"))
    return "\x1f".join("" if part is None else str(part) for part in parts)


def entry_key(keys: Keys, route: str, session_id: str, identity: str) -> str:
    message = "\0".join((route, session_id, identity)).encode()
    return KEY_PREFIX + hmac.new(keys.name, message, hashlib.sha256).hexdigest()


def sign(keys: Keys, key: str, payload: bytes) -> bytes:
    """The entry stored under ``key``: version, MAC over key and payload, payload."""
    mac = hmac.new(keys.sign, VERSION + key.encode() + b"\0" + payload, hashlib.sha256).digest()
    return VERSION + mac + payload


def verified(keys: Keys, key: str, entry: bytes) -> bytes | None:
    """The payload of ``entry`` if its signature is good for ``key``, else None."""
    head = len(VERSION) + MAC_BYTES
    if len(entry) < head or not entry.startswith(VERSION):
        return None
    mac, payload = entry[len(VERSION) : head], entry[head:]
    expected = hmac.new(keys.sign, VERSION + key.encode() + b"\0" + payload, hashlib.sha256).digest()
    return payload if hmac.compare_digest(mac, expected) else None


def _not_replayable(value: Any) -> bool:
    """Values that name something of the old replica (uploaded files)."""
    from streamlit.runtime.uploaded_file_manager import UploadedFile

    return isinstance(value, UploadedFile)


def own_state(state: Any) -> dict[str, Any]:
    """The keys of a SessionState that are the app's own (not a widget's, not Streamlit's), with
    their current values."""
    from streamlit.runtime.state.common import is_element_id
    from streamlit.runtime.state.session_state import STREAMLIT_INTERNAL_KEY_PREFIX

    widget_keys = state._key_id_mapper
    values = {**state._old_state, **state._new_session_state}
    return {
        key: value
        for key, value in values.items()
        if isinstance(key, str)
        and not is_element_id(key)
        and not key.startswith(STREAMLIT_INTERNAL_KEY_PREFIX)
        and key not in widget_keys
        and not _not_replayable(value)
    }


def pickled(values: Mapping[str, Any]) -> tuple[bytes, list[str]]:
    """(the payload, the keys left out because their values cannot be pickled)."""
    try:
        return pickle.dumps(dict(values), protocol=pickle.HIGHEST_PROTOCOL), []
    except Exception:  # noqa: BLE001 - anything a value's __reduce__ raises
        kept: dict[str, Any] = {}
        skipped: list[str] = []
        for key, value in values.items():
            try:
                pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:  # noqa: BLE001
                skipped.append(key)
            else:
                kept[key] = value
        return pickle.dumps(kept, protocol=pickle.HIGHEST_PROTOCOL), skipped


def restore_into(state: Any, values: Mapping[str, Any]) -> list[str]:
    """Put ``values`` into a SessionState that has not run yet (as the app's own keys); returns
    the keys restored. A key a widget or Streamlit owns is never put back."""
    from streamlit.runtime.state.common import is_element_id
    from streamlit.runtime.state.session_state import STREAMLIT_INTERNAL_KEY_PREFIX

    restored = []
    for key, value in values.items():
        if (
            not isinstance(key, str)
            or is_element_id(key)
            or key.startswith(STREAMLIT_INTERNAL_KEY_PREFIX)
            or key in state._key_id_mapper
            or key in state._new_session_state
            or key in state._old_state
        ):
            continue
        state._new_session_state[key] = value
        restored.append(key)
    return restored


# -- the store -----------------------------------------------------------------------------------


@dataclass
class Binding:
    """What a live session's entry is keyed by, and what it last saved."""

    route: str
    identity: str
    restore_from: str | None = None  # the old session id, until the first run restored it
    last_mac: bytes = b""
    last_saved: float = float("-inf")
    skipped_logged: set[str] = field(default_factory=set)
    over_cap_logged: bool = False


class Metrics:
    def __init__(self, registry: Any = None) -> None:
        from prometheus_client import REGISTRY, Counter, Histogram

        registry = REGISTRY if registry is None else registry
        self.operations = Counter(
            "streamlit_serving_session_store_operations",
            "Session store operations by kind (save, restore) and outcome",
            ["op", "outcome"],
            registry=registry,
        )
        self.seconds = Histogram(
            "streamlit_serving_session_store_seconds",
            "Wall time of the session store's operations (pickling, signing and Redis)",
            ["op"],
            buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
            registry=registry,
        )
        self.bytes = Histogram(
            "streamlit_serving_session_store_entry_bytes",
            "Size of the entries saved",
            buckets=(1024, 4096, 16384, 65536, 262144, 1048576),
            registry=registry,
        )


class SessionStore:
    """Save and restore the app's own session state in Redis (``client``: a redis.Redis)."""

    def __init__(
        self,
        client: Any,
        secret: Callable[[], str],
        max_bytes: int,
        ttl_seconds: int,
        metrics: Metrics | None = None,
    ) -> None:
        self.client = client
        self._secret = secret
        self._keys: Keys | None = None
        self.max_bytes = max_bytes
        self.ttl = ttl_seconds
        self.metrics = metrics
        self.bindings: dict[str, Binding] = {}
        self._lock = threading.Lock()
        self._down_until = float("-inf")
        self._down = False

    @property
    def keys(self) -> Keys:
        if self._keys is None:
            self._keys = Keys.from_secret(self._secret())
        return self._keys

    # event loop thread
    def connected(self, session_id: str, cookies: Mapping[str, str], user_info: Mapping[str, Any],
                  old_session_id: str | None) -> None:  # fmt: skip
        """A socket reached session ``session_id`` (``old_session_id``: the id the page asked
        for, None on a first load). A new session for an old id gets that id's state at its
        first run."""
        route = str(cookies.get(ROUTE_COOKIE, ""))
        if len(route) > MAX_ROUTE_LENGTH:
            route = ""
        identity = identity_of(user_info)
        with self._lock:
            binding = self.bindings.get(session_id)
            if binding is None:
                moved = old_session_id and old_session_id != session_id and route
                self.bindings[session_id] = Binding(route, identity, old_session_id if moved else None)
            elif (binding.route, binding.identity) != (route, identity):
                # the same session on a new socket with other cookies: save under the new key
                binding.route, binding.identity, binding.last_mac = route, identity, b""

    def forget(self, session_id: str) -> None:
        with self._lock:
            self.bindings.pop(session_id, None)

    # script thread
    def restore(self, session_id: str, state: Any) -> None:
        """Before the first run of a session that came from elsewhere: its state from the store."""
        with self._lock:
            binding = self.bindings.get(session_id)
            if binding is None or binding.restore_from is None:
                return
            old, binding.restore_from = binding.restore_from, None
        if not binding.route:
            return
        key = entry_key(self.keys, binding.route, old, binding.identity)
        started = time.perf_counter()
        ok, entry = self._call("restore", lambda: self.client.get(key))
        if not ok:
            return
        if entry is None:
            self._count("restore", "none")
            return
        payload = verified(self.keys, key, entry)
        if payload is None:
            log(f"an entry for session {session_id} failed its signature check: refused, not unpickled")
            self._count("restore", "refused")
            return
        try:
            values = pickle.loads(payload)  # noqa: S301 - signed by this app's secret, checked above
            if not isinstance(values, dict):
                raise TypeError(f"a {type(values).__name__}, not a dict")
        except Exception as error:  # noqa: BLE001 - a class the app no longer has, ...
            why = described(error)
            log(f"an entry for session {session_id} could not be unpickled ({why}): nothing restored")
            self._count("restore", "refused")
            return
        restored = restore_into(state, values)
        self._observe("restore", started)
        self._count("restore", "restored")
        log(f"session {session_id} restored {len(restored)} key(s) of the session it continues")

    def save(self, session_id: str, state: Any) -> None:
        """After a finished run: the session's own state into the store (see the module docstring)."""
        binding = self.bindings.get(session_id)
        if binding is None or not binding.route:
            return
        now = time.monotonic()
        if now < self._down_until:
            self._count("save", "skipped")
            return  # not even pickled while the store rests
        started = time.perf_counter()
        payload, skipped = pickled(own_state(state))
        for name in skipped:
            if name not in binding.skipped_logged:
                binding.skipped_logged.add(name)
                log(f"st.session_state[{name!r}] cannot be pickled: not saved (session {session_id})")
        key = entry_key(self.keys, binding.route, session_id, binding.identity)
        if len(payload) > self.max_bytes:
            if not binding.over_cap_logged:
                binding.over_cap_logged = True
                cap = self.max_bytes // 1024
                log(f"session {session_id}'s state is {len(payload) // 1024} kB, over "
                    f"SERVE_SESSION_STORE_MAX_KB={cap}: not saved (its earlier entry removed)")  # fmt: skip
            if binding.last_mac != OVER_CAP and self._call("save", lambda: self.client.delete(key))[0]:
                binding.last_mac = OVER_CAP
            self._count("save", "over_cap")
            return
        binding.over_cap_logged = False
        entry = sign(self.keys, key, payload)
        mac = entry[len(VERSION) : len(VERSION) + MAC_BYTES]
        if mac == binding.last_mac and now - binding.last_saved < self.ttl / 2:
            self._count("save", "unchanged")
            return
        if not self._call("save", lambda: self.client.set(key, entry, ex=self.ttl))[0]:
            return
        binding.last_mac, binding.last_saved = mac, now
        self._observe("save", started)
        self._count("save", "saved")
        if self.metrics is not None:
            self.metrics.bytes.observe(len(entry))

    def _call(self, op: str, action: Callable[[], Any]) -> tuple[bool, Any]:
        """(True, ``action()``'s result), or (False, None) when the store failed (logged once per
        outage, counted) or is resting after a failure."""
        if time.monotonic() < self._down_until:
            self._count(op, "skipped")
            return False, None
        try:
            result = action()
        except Exception as error:  # noqa: BLE001 - redis' errors, OSError, timeouts
            self._down_until = time.monotonic() + RETRY_SECONDS
            if not self._down:
                self._down = True
                retry = f"retried in {RETRY_SECONDS:g} s"
                log(f"the store failed on {op} ({described(error)}): pages go on without it, {retry}")
            self._count(op, "error")
            return False, None
        if self._down:
            self._down = False
            log("the store answers again")
        return True, result

    def _count(self, op: str, outcome: str) -> None:
        if self.metrics is not None:
            self.metrics.operations.labels(op, outcome).inc()

    def _observe(self, op: str, started: float) -> None:
        if self.metrics is not None:
            self.metrics.seconds.labels(op).observe(time.perf_counter() - started)


# -- wiring into Streamlit ---------------------------------------------------------------------


def _cookie_secret() -> str:
    from streamlit import config

    return str(config.get_option("server.cookieSecret"))


def redis_client(url: str, password: str) -> Any:
    import redis

    return redis.Redis.from_url(
        url,
        password=password,
        socket_timeout=SOCKET_TIMEOUT_SECONDS,
        socket_connect_timeout=SOCKET_TIMEOUT_SECONDS,
    )


def install(url: str, password: str, max_kb: int, ttl_seconds: int) -> SessionStore:
    """Wire the store into Streamlit (before the server starts; see the module docstring)."""
    from streamlit.runtime.app_session import AppSession
    from streamlit.runtime.runtime import Runtime
    from streamlit.runtime.scriptrunner import script_runner
    from streamlit.runtime.scriptrunner_utils.script_run_context import ScriptRunContext, get_script_run_ctx
    from streamlit.runtime.state.session_state import SessionState

    ScriptRunner = script_runner.ScriptRunner
    Event = script_runner.ScriptRunnerEvent
    connect = getattr(Runtime, "connect_session", None)
    finished = getattr(ScriptRunner, "_on_script_finished", None)
    will_rerun = getattr(SessionState, "on_script_will_rerun", None)
    on_start = getattr(ScriptRunContext, "on_script_start", None)
    shutdown = getattr(AppSession, "shutdown", None)
    if None in (connect, finished, will_rerun, on_start, shutdown):
        raise RuntimeError(
            "this Streamlit lacks a hook the session store needs (Runtime.connect_session, "
            "ScriptRunner._on_script_finished, SessionState.on_script_will_rerun, "
            "ScriptRunContext.on_script_start, AppSession.shutdown): update "
            "streamlit_serving/session_store.py (tests/integration/test_session_store.py)"
        )
    store = SessionStore(redis_client(url, password), _cookie_secret, max_kb * 1024, ttl_seconds, Metrics())
    saved_events = (Event.SCRIPT_STOPPED_WITH_SUCCESS, Event.FRAGMENT_STOPPED_WITH_SUCCESS)

    def connect_session(self: Any, client: Any, user_info: Any, existing_session_id: str | None = None,
                        **options: Any) -> str:  # fmt: skip
        session_id = connect(self, client, user_info, existing_session_id=existing_session_id, **options)
        try:
            cookies = client.client_context.cookies
        except AttributeError:
            cookies = {}
        store.connected(session_id, cookies, user_info or {}, existing_session_id)
        return session_id

    def restore_first(self: Any, *args: Any, **kwargs: Any) -> None:
        context = get_script_run_ctx()
        if context is not None:
            store.restore(context.session_id, self)
        return will_rerun(self, *args, **kwargs)

    def start(self: Any) -> None:
        store.restore(self.session_id, self.session_state._state)
        return on_start(self)

    def on_finished(self: Any, ctx: Any, event: Any, premature_stop: bool, *args: Any, **kwargs: Any) -> None:
        finished(self, ctx, event, premature_stop, *args, **kwargs)
        if event in saved_events and not premature_stop:
            try:
                store.save(ctx.session_id, self._session_state._state)
            except Exception as error:  # noqa: BLE001 - never break a session for the store
                log(f"save failed for session {ctx.session_id}: {described(error)}")

    def shutdown_forgetting(self: Any, *args: Any, **kwargs: Any) -> None:
        store.forget(self.id)
        return shutdown(self, *args, **kwargs)

    Runtime.connect_session = connect_session
    SessionState.on_script_will_rerun = restore_first
    ScriptRunContext.on_script_start = start
    ScriptRunner._on_script_finished = on_finished
    AppSession.shutdown = shutdown_forgetting
    return store
