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
| inline_scripts      | script-src    | ``true``: ``'unsafe-inline'`` for the ``<script>`` in  |
|                     |               | ``components.html``/``st.iframe`` HTML (their srcdoc   |
|                     |               | frames inherit the page's policy); default ``false``   |

Each origin kind is a list of origins: ``https://`` or ``http://``, a host name or IPv4 address
(a leading ``*.`` allows its subdomains, as CSP does), an optional port; nothing else (no path, no
``*`` alone, no bare scheme such as ``https:``, no ``'unsafe-*'`` or other keyword, no ``;``,
``,``, quotes or spaces). ``permissions`` is a list of those five names. ``inline_scripts`` is
``true`` or ``false``: true trades the script hashes of the strict policy for ``'unsafe-inline'``
(a browser ignores ``'unsafe-inline'`` beside a hash), so any inline script on the page runs: only
for an app that renders its own HTML with scripts. A bad value stops the
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

The ``[replicas]`` table: how many replicas of the app run, and the CPU and memory each may use.
Each key is optional; without it every engine keeps its own value, as before: compose 1 replica
(``make up``), Swarm 3, Kubernetes the overlay's autoscaler (dev 1-2, production 3-10), and 1 CPU,
1024 MB per replica (deploy/compose.yaml, deploy/swarm/stack.yaml, deploy/k8s/base/deployment.yaml).

| key (``[replicas]``) | range       | compose (``make up``), Swarm       | Kubernetes (k8s-name.sh)      |
|----------------------|-------------|------------------------------------|-------------------------------|
| count                | 1..999      | the replicas (``APP_REPLICAS`` in  | the autoscaler's minimum and  |
|                      |             | the shell still wins)              | the Deployment's start        |
| max                  | count..999  | (no autoscaling: unused)           | the autoscaler's maximum;     |
|                      |             |                                    | needs count; default count    |
| cpus                 | 0.25..64    | the app container's CPU limit      | its CPU limit (millicores)    |
| memory_mb            | 384..262144 | the app container's memory (MB)    | its memory limit (Mi)         |

``cpus`` has at most three decimals (Kubernetes counts millicores). The lower bounds are what each
replica is guaranteed (Kubernetes requests 250m and 384Mi, Swarm reserves 0.25 CPU and 256 MB): a
limit below them is refused, as the engines would refuse it later.

The ``[egress]`` table: what the app's pods may connect to on Kubernetes. ``allow`` is a list of
``"CIDR:PORT"`` (TCP), e.g. ``"10.0.0.0/8:5432"``, ``"203.0.113.7:443"`` (one address: /32),
``"fd00::/8:6379"``; each becomes a rule of the app's NetworkPolicy, and with any of them its pods
may also ask the cluster's DNS (port 53, as the proxy's may). Without it the app's pods open
no connection (dev) or only DNS and HTTPS for sign-in (production), as before. Compose and Swarm
have no egress control: the app's containers reach any address, and ``make up``/``make swarm-up``
say so when the table is set. A network with host bits set (``10.0.0.1/8``), a port outside
1-65535 or anything else stops with exit 64 naming the file and ``[egress] allow``.

The rerun limit is not a key here: it is the serving layer's ``SERVE_RERUN_RATE`` and
``SERVE_RERUN_BURST`` (settings.py, their one home; docs/settings.md), set per deployment.

A derived name (no ``name`` key) is the directory's name lower-cased, with every run of other
characters made one ``-``. A ``name`` given in the file is taken as written, or refused: exit 64
with a message naming the file and the key. Unknown keys are refused the same way, so a typo is
not silently ignored. Standard library only (``tomllib``): the host's python3 runs it.

    python3 -m streamlit_serving.app_source --name        # prints the name of APP_DIR's app
    python3 -m streamlit_serving.app_source --proxy-env   # prints PROXY_CSP_*=..., PROXY_PERMISSIONS=...
                                                          # and PROXY_UPLOAD_MB=...
    python3 -m streamlit_serving.app_source --stack-env   # the same, then APP_CPUS, APP_MEMORY_MB and
                                                          # SERVING_TOML_REPLICAS (compose, Swarm)
    python3 -m streamlit_serving.app_source --k8s-patch   # the overlays' serving-patch.yaml
    python3 -m streamlit_serving.app_source --k8s-egress  # the overlays' serving-egress.yaml
"""

from __future__ import annotations

import ipaddress
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

SETTINGS_FILE = "serving.toml"
MAX_NAME = 40
NAME = re.compile(r"[a-z0-9][a-z0-9-]*")
KEYS = frozenset({"name", "browser", "limits", "replicas", "egress"})
# [browser]'s origin kinds, each the CSP directive it extends and the proxy's variable.
ORIGIN_KINDS = ("img", "media", "connect", "frame", "script", "font", "style")
PERMISSIONS = ("camera", "microphone", "geolocation", "clipboard-read", "clipboard-write")
BROWSER_KEYS = frozenset({*ORIGIN_KINDS, "permissions", "inline_scripts"})
# [limits]: each key's default and range (whole MB). The defaults are the serving layer's caps
# (pinned.py: PROXY_BODY_LIMIT_MB, MESSAGE_LIMIT_MB, and why) and the proxy entrypoint's
# PROXY_UPLOAD_MB default; tests/unit/test_streamlit_config.py checks they agree.
DEFAULT_UPLOAD_MB = 16
DEFAULT_MESSAGE_MB = 4
LIMITS = {"upload_mb": (DEFAULT_UPLOAD_MB, 1, 1024), "message_mb": (DEFAULT_MESSAGE_MB, 1, 200)}
# [replicas]: each key's range. The lower bounds of cpus and memory_mb are what a replica is
# guaranteed (deploy/k8s/base/deployment.yaml's requests, deploy/swarm/stack.yaml's reservations):
# a limit below a request is refused by the engines; tests/unit/test_app_settings.py checks them.
MAX_REPLICAS = 999  # as stack.sh's APP_REPLICAS
MIN_CPUS, MAX_CPUS = 0.25, 64
MIN_MEMORY_MB, MAX_MEMORY_MB = 384, 262144
REPLICAS_KEYS = frozenset({"count", "max", "cpus", "memory_mb"})
EGRESS_KEYS = frozenset({"allow"})
# The DNS rule the app's pods get with any [egress] allow: the proxy's (base/proxy-networkpolicy.yaml;
# kube-dns pods, NodeLocal DNSCache, GKE's metadata server; port 53), tests/unit/test_k8s.py checks it.
DNS_RULE = {
    "to": [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
        },
        {"ipBlock": {"cidr": "169.254.20.10/32"}},
        {"ipBlock": {"cidr": "169.254.169.254/32"}},
    ],
    "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
}
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
    inline_scripts: bool = False

    def proxy_env(self) -> dict[str, str]:
        """The proxy's variables, every one of them (empty: nothing extra, today's strict policy)."""
        env = {f"PROXY_CSP_{kind.upper()}": " ".join(self.origins.get(kind, ())) for kind in ORIGIN_KINDS}
        env["PROXY_PERMISSIONS"] = " ".join(self.permissions)
        env["PROXY_CSP_INLINE_SCRIPTS"] = "on" if self.inline_scripts else ""
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
class Replicas:
    """The ``[replicas]`` table; None: the engine's own value (compose.yaml, stack.yaml, the k8s base)."""

    count: int | None = None
    max: int | None = None
    millicpus: int | None = None  # cpus x 1000
    memory_mb: int | None = None

    def stack_env(self) -> dict[str, str]:
        """Compose's and Swarm's variables (empty: the stack file's default)."""
        cpus = "" if self.millicpus is None else f"{self.millicpus / 1000:g}"
        return {
            "APP_CPUS": cpus,
            "APP_MEMORY_MB": "" if self.memory_mb is None else str(self.memory_mb),
            "SERVING_TOML_REPLICAS": "" if self.count is None else str(self.count),
        }

    def k8s_patch(self) -> str:
        """The overlays' strategic-merge patch: the app container's limits, its Deployment's start
        and its autoscaler's bounds; only what is set (nothing: the Deployment's name alone)."""
        lines = [
            "# The app's replicas and each one's CPU and memory limits, written by",
            "# scripts/deploy/k8s-name.sh from the app's serving.toml ([replicas];",
            "# streamlit_serving/app_settings.py): edit that file, not this one. Nothing set there:",
            "# the base's and the overlay's values stay.",
            "apiVersion: apps/v1",
            "kind: Deployment",
            "metadata:",
            "  name: app",
        ]
        limits = []
        if self.millicpus is not None:
            limits.append(f"              cpu: {self.millicpus}m")
        if self.memory_mb is not None:
            limits.append(f"              memory: {self.memory_mb}Mi")
        if self.count is not None or limits:
            lines.append("spec:")
        if self.count is not None:
            lines.append(f"  replicas: {self.count}")
        if limits:
            lines += ["  template:", "    spec:", "      containers:", "        - name: app",
                      "          resources:", "            limits:", *limits]  # fmt: skip
        if self.count is not None:
            lines += ["---", "apiVersion: autoscaling/v2", "kind: HorizontalPodAutoscaler", "metadata:",
                      "  name: app", "spec:", f"  minReplicas: {self.count}",
                      f"  maxReplicas: {self.max or self.count}"]  # fmt: skip
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Egress:
    """The ``[egress]`` table: (network, TCP port) pairs the app's pods may connect to (Kubernetes)."""

    allow: tuple[tuple[str, int], ...] = ()

    def k8s_patch(self) -> str:
        """The overlays' JSON patch of the app's NetworkPolicy: a rule per pair appended, after the
        DNS rule; nothing allowed: a no-op (the overlay's egress stays)."""
        lines = [
            "# The app's egress, written by scripts/deploy/k8s-name.sh from the app's serving.toml",
            "# ([egress] allow; streamlit_serving/app_settings.py): edit that file, not this one. Appended",
            "# to the app's NetworkPolicy after the overlay's own rules; nothing allowed: none added.",
        ]
        if not self.allow:
            return "\n".join([*lines, "- op: test", "  path: /kind", "  value: NetworkPolicy"]) + "\n"
        rules = [DNS_RULE] + [
            {"to": [{"ipBlock": {"cidr": network}}], "ports": [{"port": port, "protocol": "TCP"}]}
            for network, port in self.allow
        ]
        ops = [json.dumps({"op": "add", "path": "/spec/egress/-", "value": rule}) for rule in rules]
        return "\n".join([*lines, *(f"- {op}" for op in ops)]) + "\n"


@dataclass(frozen=True)
class AppSettings:
    name: str
    browser: BrowserPolicy = field(default_factory=BrowserPolicy)
    limits: Limits = field(default_factory=Limits)
    replicas: Replicas = field(default_factory=Replicas)
    egress: Egress = field(default_factory=Egress)

    def proxy_env(self) -> dict[str, str]:
        """Every variable the stacks hand the proxy from this file (``--proxy-env``)."""
        return self.browser.proxy_env() | self.limits.proxy_env()

    def stack_env(self) -> dict[str, str]:
        """What compose and Swarm take from this file (``--stack-env``): the proxy's and the replicas'."""
        return self.proxy_env() | self.replicas.stack_env()


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


def check_table(table: object, path: Path, name: str, keys: frozenset[str]) -> dict[str, object]:
    """``table`` if it is a table of known keys (errors name ``[NAME] KEY``)."""
    if not isinstance(table, dict):
        raise AppSettingsError(f"{path}: {name} must be a table ([{name}]), got {table!r}")
    unknown = sorted(set(table) - keys)
    if unknown:
        raise AppSettingsError(
            f"{path}: unknown key '[{name}] {unknown[0]}' (known: {', '.join(sorted(keys))})"
        )
    return table


def check_whole(value: object, where: str, low: int, high: int, unit: str = "") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise AppSettingsError(f"{where}: {value!r} must be a whole number{unit}, {low} to {high}")
    return value


def check_browser(table: object, path: Path) -> BrowserPolicy:
    """The ``[browser]`` table, checked key by key (errors name ``[browser] KEY``)."""
    table = check_table(table, path, "browser", BROWSER_KEYS)
    origins: dict[str, tuple[str, ...]] = {}
    table = dict(table)
    inline_scripts = table.pop("inline_scripts", False)
    if not isinstance(inline_scripts, bool):
        raise AppSettingsError(
            f"{path}: [browser] inline_scripts must be true or false, got {inline_scripts!r}"
        )
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
    return BrowserPolicy(origins, tuple(dict.fromkeys(permissions)), inline_scripts)


def check_limits(table: object, path: Path) -> Limits:
    """The ``[limits]`` table, checked key by key (errors name ``[limits] KEY``)."""
    table = check_table(table, path, "limits", frozenset(LIMITS))
    sizes = {
        key: check_whole(table.get(key, default), f"{path}: [limits] {key}", low, high, " of MB")
        for key, (default, low, high) in LIMITS.items()
    }
    return Limits(upload_mb=sizes["upload_mb"], message_mb=sizes["message_mb"])


def check_replicas(table: object, path: Path) -> Replicas:
    """The ``[replicas]`` table, checked key by key (errors name ``[replicas] KEY``)."""
    table = check_table(table, path, "replicas", REPLICAS_KEYS)
    where = f"{path}: [replicas]"
    count = table.get("count")
    if count is not None:
        count = check_whole(count, f"{where} count", 1, MAX_REPLICAS)
    top = table.get("max")
    if top is not None:
        if count is None:
            raise AppSettingsError(f"{where} max: {top!r} needs count, the autoscaler's minimum")
        top = check_whole(top, f"{where} max", count, MAX_REPLICAS)
    millicpus = None
    if "cpus" in table:
        cpus = table["cpus"]
        if (
            isinstance(cpus, bool) or not isinstance(cpus, int | float) or not MIN_CPUS <= cpus <= MAX_CPUS
            or abs(cpus * 1000 - round(cpus * 1000)) > 1e-6
        ):  # fmt: skip
            raise AppSettingsError(
                f"{where} cpus: {cpus!r} must be a number of CPUs, {MIN_CPUS:g} to {MAX_CPUS}, "
                "with at most three decimals"
            )
        millicpus = round(cpus * 1000)
    memory_mb = table.get("memory_mb")
    if memory_mb is not None:
        memory_mb = check_whole(memory_mb, f"{where} memory_mb", MIN_MEMORY_MB, MAX_MEMORY_MB, " of MB")
    return Replicas(count=count, max=top, millicpus=millicpus, memory_mb=memory_mb)


def check_egress(table: object, path: Path) -> Egress:
    """The ``[egress]`` table: ``allow``, a list of "CIDR:PORT" (errors name ``[egress] allow``)."""
    table = check_table(table, path, "egress", EGRESS_KEYS)
    where = f"{path}: [egress] allow"
    values = table.get("allow", [])
    if not isinstance(values, list):
        raise AppSettingsError(f'{where} must be a list of "CIDR:PORT" strings, got {values!r}')
    allow: list[tuple[str, int]] = []
    for value in values:
        network, _, port = value.rpartition(":") if isinstance(value, str) else ("", "", "")
        try:
            cidr = str(ipaddress.ip_network(network, strict=True))
        except ValueError:
            cidr = ""
        if not cidr or not re.fullmatch(r"[0-9]{1,5}", port) or not 1 <= int(port) <= 65535:
            raise AppSettingsError(
                f'{where}: {value!r} is not "CIDR:PORT": an IPv4 or IPv6 network without host bits '
                '(10.0.0.0/8, 203.0.113.7, fd00::/8) and a TCP port 1-65535, e.g. "10.0.0.0/8:5432"'
            )
        allow.append((cidr, int(port)))
    return Egress(tuple(dict.fromkeys(allow)))


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
    replicas = check_replicas(values["replicas"], path) if "replicas" in values else Replicas()
    egress = check_egress(values["egress"], path) if "egress" in values else Egress()
    name = derived_name(directory, repo) if "name" not in values else check_name(values["name"], str(path))
    return AppSettings(name=name, browser=browser, limits=limits, replicas=replicas, egress=egress)
