"""An app's own production settings: ``serving.toml`` beside its main script, optional, the one
home of what the stacks need to know about *this* app. Read here and nowhere else.

| key  | default                        | meaning                                                  |
|------|--------------------------------|----------------------------------------------------------|
| name | the app directory's name; for  | names the app's stacks and images: the images            |
|      | the repository's own ``app/``, | (``<name>:dev``, ``<name>-proxy:dev``, … from            |
|      | the repository's directory     | deploy/images.tsv), the compose project, the Swarm stack,|
|      | name (so a copy of the         | the registry path (``ghcr.io/<owner>/<repo>/<name>``),   |
|      | template that replaced         | the Grafana dashboard; ``[a-z0-9][a-z0-9-]*``, at most   |
|      | ``app/`` is named after its    | 40 characters (``<name>-proxy-metrics`` stays a          |
|      | repository, not "app")         | Kubernetes DNS label, 63)                                |

The ``[browser]`` table: what the app's pages may load from other origins, and the browser
features they may use. The proxy sends a strict Content-Security-Policy and Permissions-Policy on
every response; without this table (the default) no third-party origin and no camera, microphone
or location is allowed. Each key is optional; the origins are added to that CSP directive only.

| key (``[browser]``) | CSP directive | what needs it                                          |
|---------------------|---------------|--------------------------------------------------------|
| img                 | img-src       | ``st.image``/markdown/avatars/``ImageColumn`` by URL   |
| media               | media-src     | ``st.video``/``st.audio`` by URL                       |
| connect             | connect-src   | map basemaps (style, tiles, glyphs), Vega URL data     |
| frame               | frame-src     | ``components.iframe``, components declared with a URL  |
| script              | script-src    | a component's or page's scripts from another host      |
| font                | font-src      | web fonts from another host                            |
| style               | style-src     | style sheets from another host                         |
| permissions         | (Permissions-Policy) | ``camera`` (``st.camera_input``), ``microphone`` |
|                     |               | (``st.audio_input``), ``geolocation``,                 |
|                     |               | ``clipboard-read``, ``clipboard-write``: each ``(self)``|

Each origin kind is a list of origins: ``https://`` or ``http://``, a host name or IPv4 address
(a leading ``*.`` allows its subdomains, as CSP does), an optional port; nothing else (no path, no
``*`` alone, no bare scheme such as ``https:``, no ``'unsafe-*'`` or other keyword, no ``;``,
``,``, quotes or spaces). ``permissions`` is a list of those five names. A bad value stops the
start with exit 64 naming the file and the key (``[browser] img``). The scripts hand them to the
proxy as ``PROXY_CSP_<KIND>`` and ``PROXY_PERMISSIONS`` (space-separated), which the proxy's
entrypoint checks again and renders (deploy/proxy/entrypoint.sh).

The ``[limits]`` table: the sizes the app's users may send. Each key is optional, a whole number
of MB; without the table (the default) the limits are today's.

| key (``[limits]``) | default | range   | reaches                                                        |
|--------------------|---------|---------|----------------------------------------------------------------|
| upload_mb          | 16      | 1..1024 | the proxy's ``client_max_body_size`` (``PROXY_UPLOAD_MB``) and |
|                    |         |         | the cap of Streamlit's ``server.maxUploadSize`` (pinned.py):   |
|                    |         |         | one value, so nginx never refuses what Streamlit would take    |
| message_mb         | 4       | 1..200  | the cap of Streamlit's ``server.maxMessageSize`` (pinned.py),  |
|                    |         |         | the largest WebSocket message each way (Streamlit only)        |

The app's own ``.streamlit/config.toml`` may still set a lower ``maxUploadSize`` or
``maxMessageSize``; a higher one is lowered to these. A bad value (not a whole number, out of
range) stops the start with exit 64 naming the file and the key (``[limits] upload_mb``): the
stacks' scripts and the app's server (pinned.py reads the file in the app's directory at start).

A derived name (no ``name`` key) is the directory's name lower-cased, with every run of other
characters made one ``-``. A ``name`` given in the file is taken as written, or refused: exit 64
with a message naming the file and the key. Unknown keys are refused the same way, so a typo is
not silently ignored. Standard library only (``tomllib``): the host's python3 runs it.

    python3 -m streamlit_serving.app_source --name        # prints the name of APP_DIR's app
    python3 -m streamlit_serving.app_source --proxy-env   # prints PROXY_CSP_*=..., PROXY_PERMISSIONS=...
                                                          # and PROXY_UPLOAD_MB=...
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

SETTINGS_FILE = "serving.toml"
MAX_NAME = 40
NAME = re.compile(r"[a-z0-9][a-z0-9-]*")
KEYS = frozenset({"name", "browser", "limits"})
# [browser]'s origin kinds, each the CSP directive it extends and the proxy's variable.
ORIGIN_KINDS = ("img", "media", "connect", "frame", "script", "font", "style")
PERMISSIONS = ("camera", "microphone", "geolocation", "clipboard-read", "clipboard-write")
BROWSER_KEYS = frozenset({*ORIGIN_KINDS, "permissions"})
# [limits]: each key's default and range (whole MB). The defaults are the serving layer's caps
# (pinned.py: PROXY_BODY_LIMIT_MB, MESSAGE_LIMIT_MB, and why) and the proxy entrypoint's
# PROXY_UPLOAD_MB default; tests/unit/test_streamlit_config.py checks they agree.
DEFAULT_UPLOAD_MB = 16
DEFAULT_MESSAGE_MB = 4
LIMITS = {"upload_mb": (DEFAULT_UPLOAD_MB, 1, 1024), "message_mb": (DEFAULT_MESSAGE_MB, 1, 200)}
# scheme://host[:port]; the host a DNS name (optionally "*." first) or an IPv4 address. The
# proxy's entrypoint checks the same (deploy/proxy/entrypoint.sh, valid_origin).
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?"
ORIGIN = re.compile(rf"https?://(\*\.)?{_LABEL}(\.{_LABEL})*(:[0-9]{{1,5}})?")


class AppSettingsError(ValueError):
    """The app's serving.toml cannot be read or holds a value the stacks cannot use."""


@dataclass(frozen=True)
class BrowserPolicy:
    """The ``[browser]`` table: extra origins per CSP kind, and the permissions granted."""

    origins: dict[str, tuple[str, ...]] = field(default_factory=dict)
    permissions: tuple[str, ...] = ()

    def proxy_env(self) -> dict[str, str]:
        """The proxy's variables, every one of them (empty: nothing extra, today's strict policy)."""
        env = {f"PROXY_CSP_{kind.upper()}": " ".join(self.origins.get(kind, ())) for kind in ORIGIN_KINDS}
        env["PROXY_PERMISSIONS"] = " ".join(self.permissions)
        return env


@dataclass(frozen=True)
class Limits:
    """The ``[limits]`` table: the sizes (whole MB) the app's users may send."""

    upload_mb: int = DEFAULT_UPLOAD_MB
    message_mb: int = DEFAULT_MESSAGE_MB

    def proxy_env(self) -> dict[str, str]:
        """The proxy's variable: its request body limit, the same value as Streamlit's upload cap."""
        return {"PROXY_UPLOAD_MB": str(self.upload_mb)}


@dataclass(frozen=True)
class AppSettings:
    name: str
    browser: BrowserPolicy = field(default_factory=BrowserPolicy)
    limits: Limits = field(default_factory=Limits)

    def proxy_env(self) -> dict[str, str]:
        """Every variable the stacks hand the proxy from this file (``--proxy-env``)."""
        return self.browser.proxy_env() | self.limits.proxy_env()


def check_name(name: object, where: str) -> str:
    """``name`` if it can name an image, a compose project, a Swarm stack and a DNS label."""
    if not isinstance(name, str) or not NAME.fullmatch(name) or name.endswith("-"):
        raise AppSettingsError(
            f"{where}: name={name!r} must be lower-case letters, digits and '-', starting with a letter "
            "or digit and not ending with '-' ([a-z0-9][a-z0-9-]*)"
        )
    if len(name) > MAX_NAME:
        raise AppSettingsError(
            f"{where}: name={name!r} is {len(name)} characters, at most {MAX_NAME} "
            "(<name>-proxy-metrics must stay a 63-character DNS label)"
        )
    return name


def derived_name(directory: Path, repo: Path) -> str:
    """The name of an app without a ``name`` key: its directory's, or for the repository's own
    ``app/`` the repository's directory's (the name the user gave their copy of the template)."""
    source = repo if directory == (repo / "app").resolve() else directory
    name = re.sub(r"[^a-z0-9]+", "-", source.name.lower()).strip("-")[:MAX_NAME].rstrip("-")
    return check_name(
        name, f'the name of directory {source} (add name = "..." to {directory / SETTINGS_FILE})'
    )


def check_origin(origin: object, where: str) -> str:
    """``origin`` if it is scheme://host[:port] as the proxy's CSP takes it."""
    if not isinstance(origin, str) or not ORIGIN.fullmatch(origin):
        raise AppSettingsError(
            f"{where}: {origin!r} is not an origin: https://host or http://host, optionally *. before "
            "the host and :port after it (no path, no '*' alone, no bare scheme, no keyword such as "
            "'unsafe-inline', no ';', ',', quotes or spaces)"
        )
    if origin.split("://", 1)[1].startswith("*.") and origin.split(":")[1].count(".") < 2:
        raise AppSettingsError(
            f"{where}: {origin!r} allows every host of a top-level domain: name one domain"
        )
    port = origin.rpartition(":")[2]
    if origin.count(":") == 2 and not 1 <= int(port) <= 65535:
        raise AppSettingsError(f"{where}: {origin!r} has port {port}, not 1-65535")
    return origin


def check_browser(table: object, path: Path) -> BrowserPolicy:
    """The ``[browser]`` table, checked key by key (errors name ``[browser] KEY``)."""
    if not isinstance(table, dict):
        raise AppSettingsError(f"{path}: browser must be a table ([browser]), got {table!r}")
    unknown = sorted(set(table) - BROWSER_KEYS)
    if unknown:
        raise AppSettingsError(
            f"{path}: unknown key '[browser] {unknown[0]}' (known: {', '.join(sorted(BROWSER_KEYS))})"
        )
    origins: dict[str, tuple[str, ...]] = {}
    for kind, values in table.items():
        where = f"{path}: [browser] {kind}"
        if not isinstance(values, list):
            raise AppSettingsError(f"{where} must be a list of strings, e.g. {kind} = [...], got {values!r}")
        if kind == "permissions":
            continue
        origins[kind] = tuple(dict.fromkeys(check_origin(value, where) for value in values))
    permissions = table.get("permissions", [])
    for permission in permissions:
        if permission not in PERMISSIONS:
            raise AppSettingsError(
                f"{path}: [browser] permissions: {permission!r} is not one of {', '.join(PERMISSIONS)}"
            )
    return BrowserPolicy(origins, tuple(dict.fromkeys(permissions)))


def check_limits(table: object, path: Path) -> Limits:
    """The ``[limits]`` table, checked key by key (errors name ``[limits] KEY``)."""
    if not isinstance(table, dict):
        raise AppSettingsError(f"{path}: limits must be a table ([limits]), got {table!r}")
    unknown = sorted(set(table) - set(LIMITS))
    if unknown:
        raise AppSettingsError(
            f"{path}: unknown key '[limits] {unknown[0]}' (known: {', '.join(sorted(LIMITS))})"
        )
    sizes: dict[str, int] = {}
    for key, (default, low, high) in LIMITS.items():
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise AppSettingsError(
                f"{path}: [limits] {key}: {value!r} must be a whole number of MB, {low} to {high}"
            )
        sizes[key] = value
    return Limits(upload_mb=sizes["upload_mb"], message_mb=sizes["message_mb"])


def read_settings_file(path: Path) -> dict[str, object]:
    """The tables of a serving.toml, its top-level keys checked (none unknown)."""
    try:
        values = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise AppSettingsError(f"{path}: not readable TOML: {error}") from None
    unknown = sorted(set(values) - KEYS)
    if unknown:
        raise AppSettingsError(f"{path}: unknown key {unknown[0]!r} (known: {', '.join(sorted(KEYS))})")
    return values


def load_limits(directory: Path) -> Limits:
    """The ``[limits]`` of the app in ``directory``, from its serving.toml if any: what the app's
    server reads at start (pinned.py), without the name and browser policy the stacks use."""
    path = directory / SETTINGS_FILE
    if not path.is_file():
        return Limits()
    values = read_settings_file(path)
    return check_limits(values["limits"], path) if "limits" in values else Limits()


def load_app_settings(directory: Path, repo: Path) -> AppSettings:
    """The settings of the app in ``directory`` (absolute), from its serving.toml if any."""
    path = directory / SETTINGS_FILE
    if not path.is_file():
        return AppSettings(name=derived_name(directory, repo))
    values = read_settings_file(path)
    browser = check_browser(values["browser"], path) if "browser" in values else BrowserPolicy()
    limits = check_limits(values["limits"], path) if "limits" in values else Limits()
    if "name" not in values:
        return AppSettings(name=derived_name(directory, repo), browser=browser, limits=limits)
    return AppSettings(name=check_name(values["name"], str(path)), browser=browser, limits=limits)
