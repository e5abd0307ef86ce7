"""The OpenID provider's settings (the secret file SERVE_OIDC_FILE) -> Streamlit's ``[auth]``.

Streamlit's sign-in (``st.login``, Authlib underneath) reads its provider from the ``[auth]``
section of a ``secrets.toml``. The image has a read-only root and must never carry a secret, so
the provider's settings arrive at run time as one file, mounted as a compose/Swarm secret or a
Kubernetes Secret, and ``serve.py`` renders them into a private ``secrets.toml`` on the tmpfs
before the server starts. The file (TOML)::

    server_metadata_url = "https://accounts.google.com/.well-known/openid-configuration"
    client_id = "1234.apps.googleusercontent.com"
    client_secret = "..."
    redirect_uri = "https://dashboard.example.com/oauth2callback"   # the proxy's public URL

    [client_kwargs]        # optional: more parameters of the authorization request
    prompt = "login"

A missing, unknown or malformed key stops the start (exit 64) naming it. The sign-in cookie is
signed with the app's cookie secret (``STREAMLIT_SERVER_COOKIE_SECRET``, which the image's
entrypoint reads from a secret file shared by every replica), so a cookie set by one replica is
valid on all of them; the file must not bring a second one.
"""

from __future__ import annotations

import atexit
import ipaddress
import json
import os
import shutil
import tempfile
import tomllib
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from urllib.parse import urlsplit

from .settings import ServingSettings, SettingsError

REQUIRED_KEYS = ("server_metadata_url", "client_id", "client_secret", "redirect_uri")
OPTIONAL_KEYS = ("client_kwargs",)
# Authorization parameters Authlib/Streamlit set themselves; a client_kwargs entry would break them.
RESERVED_KWARGS = ("state", "nonce", "redirect_uri", "client_id", "response_type", "code_challenge")
CALLBACK_PATH = "/oauth2callback"  # Streamlit's callback route (and its post-logout redirect)
COOKIE_SECRET_VARIABLE = "STREAMLIT_SERVER_COOKIE_SECRET"  # noqa: S105 - a variable name
MIN_COOKIE_SECRET = 32
SECRETS_FILES_VARIABLE = "STREAMLIT_SECRETS_FILES"  # Streamlit's secrets.files option


def _loopback(host: str) -> bool:
    """localhost, *.localhost (browsers resolve it to this machine) or a loopback address."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url(source: str, key: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"{source}: {key}={value!r} is not an absolute http(s) URL")
    return value


def _redirect_uri(source: str, value: str) -> str:
    _url(source, "redirect_uri", value)
    parts = urlsplit(value)
    if parts.query or parts.fragment or not parts.path.endswith(CALLBACK_PATH):
        raise SettingsError(
            f"{source}: redirect_uri={value!r} must be the app's public URL ending in {CALLBACK_PATH} "
            "(no query), e.g. https://dashboard.example.com/oauth2callback"
        )
    if parts.scheme != "https" and not _loopback(parts.hostname or ""):
        # The identity cookie is not marked Secure by Streamlit: over plain HTTP it would travel in clear.
        raise SettingsError(f"{source}: redirect_uri={value!r} must use https (http only on localhost)")
    return value


def _client_kwargs(source: str, value: object) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise SettingsError(f"{source}: client_kwargs must be a table ([client_kwargs])")
    kwargs: dict[str, str] = {}
    for name, item in value.items():
        if not isinstance(item, str) or not item.strip():
            raise SettingsError(f"{source}: client_kwargs.{name} must be a non-empty string")
        if name in RESERVED_KWARGS:
            raise SettingsError(f"{source}: client_kwargs.{name} is set by the sign-in itself; remove it")
        kwargs[name] = item
    scope = kwargs.get("scope")
    if scope is not None and not {"openid", "email"} <= set(scope.split()):
        raise SettingsError(f"{source}: client_kwargs.scope={scope!r} must include openid and email")
    return kwargs


def read_provider(path: Path) -> dict[str, object]:
    """The provider settings of ``path``, checked: {key: value} as Streamlit's [auth] takes them."""
    source = f"SERVE_OIDC_FILE={path}"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SettingsError(f"{source} cannot be read: {error}") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"{source} is not valid TOML: {error}") from None
    unknown = sorted(set(raw) - set(REQUIRED_KEYS) - set(OPTIONAL_KEYS))
    if "cookie_secret" in unknown:
        raise SettingsError(
            f"{source}: cookie_secret does not belong here: the app's cookie secret "
            f"({COOKIE_SECRET_VARIABLE}_FILE) signs the sign-in cookie on every replica"
        )
    if unknown:
        known = ", ".join((*REQUIRED_KEYS, *OPTIONAL_KEYS))
        raise SettingsError(f"{source}: unknown key(s) {', '.join(unknown)} (known: {known})")
    provider: dict[str, object] = {}
    for key in REQUIRED_KEYS:
        value = raw.get(key)
        if value is None:
            raise SettingsError(f"{source}: {key} is missing")
        if not isinstance(value, str) or not value.strip() or value != value.strip():
            raise SettingsError(f"{source}: {key} must be a non-empty string without surrounding spaces")
        provider[key] = value
    _url(source, "server_metadata_url", str(provider["server_metadata_url"]))
    _redirect_uri(source, str(provider["redirect_uri"]))
    if "client_kwargs" in raw:
        provider["client_kwargs"] = _client_kwargs(source, raw["client_kwargs"])
    return provider


def cookie_secret(env: Mapping[str, str]) -> str:
    secret = env.get(COOKIE_SECRET_VARIABLE, "")
    if len(secret) < MIN_COOKIE_SECRET:
        raise SettingsError(
            f"{COOKIE_SECRET_VARIABLE} is {'unset' if not secret else 'shorter than 32 characters'}: "
            "SERVE_AUTH=oidc signs the sign-in cookie with it, the same on every replica "
            f"(the image reads it from {COOKIE_SECRET_VARIABLE}_FILE, a secret file)"
        )
    return secret


def _toml_string(value: str) -> str:
    """A TOML basic string: JSON's escapes (\\", \\\\, \\n, \\uXXXX) are TOML's too."""
    return json.dumps(value, ensure_ascii=False)


def render_auth_section(provider: Mapping[str, object], secret: str) -> str:
    """The ``[auth]`` section of secrets.toml for ``provider`` (see read_provider)."""
    lines = ["[auth]", f"cookie_secret = {_toml_string(secret)}"]
    lines += [f"{key} = {_toml_string(str(provider[key]))}" for key in REQUIRED_KEYS]
    kwargs = provider.get("client_kwargs")
    if isinstance(kwargs, Mapping) and kwargs:
        lines.append("[auth.client_kwargs]")
        lines += [f"{_toml_string(name)} = {_toml_string(value)}" for name, value in kwargs.items()]
    return "\n".join(lines) + "\n"


def install_auth_secrets(settings: ServingSettings, env: MutableMapping[str, str]) -> Path | None:
    """With SERVE_AUTH=oidc: check the provider file and the cookie secret, write Streamlit's
    secrets.toml into a new private directory (removed at exit) and point Streamlit's
    ``secrets.files`` at it (after the usual locations, so its [auth] wins). Returns its path."""
    if not settings.sign_in:
        return None
    assert settings.oidc_file is not None  # load_serving_settings() requires it with SERVE_AUTH=oidc
    section = render_auth_section(read_provider(settings.oidc_file), cookie_secret(env))
    directory = Path(tempfile.mkdtemp(prefix="serving-auth-"))  # mode 0700
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    target = directory / "secrets.toml"
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(section)
    usual = env.get(SECRETS_FILES_VARIABLE) or " ".join(
        str(folder / ".streamlit/secrets.toml") for folder in (Path.home(), Path.cwd())
    )
    env[SECRETS_FILES_VARIABLE] = f"{usual} {target}"
    return target
