"""deploy/compose.yaml holds the stack's contract: hardening on every service, the image defaults of
deploy/images.tsv, the app reachable only through the proxy, one cookie secret for all replicas."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from streamlit_serving.settings import ServingSettings

ROOT = Path(__file__).resolve().parents[2]
#: Where every SERVE_ (the serving layer's) name is read; an app's own reach it through APP_ENV_FILE.
SETTINGS_FILES = (ROOT / "streamlit_serving/settings.py").read_text()
GENERIC_FILES = ("compose.yaml", "compose.oidc.yaml", "compose.oidc-dev.yaml", "compose.production.yaml",
                 "swarm/stack.yaml", "swarm/observability.yaml", "swarm/oidc.yaml")  # fmt: skip
COMPOSE = yaml.safe_load((ROOT / "deploy/compose.yaml").read_text())
SERVICES = COMPOSE["services"]


def rendered_compose(path: str, env: dict[str, str]) -> dict:
    """``path`` as compose reads it (``docker-compose config``, offline: no engine), with the
    images of deploy/images.tsv, SERVE_AUTH for the Swarm stack, and ``env``."""
    images = {variable: "image:dev" for variable in listed_images()}
    done = subprocess.run(
        ["docker-compose", "--file", path, "config"],
        cwd=ROOT, env={"PATH": os.environ["PATH"], **images, "SERVE_AUTH": "none-public", **env},
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return yaml.safe_load(done.stdout)


def listed_images() -> dict[str, str]:
    """{variable: default tag} from deploy/images.tsv."""
    rows = [line.split("\t") for line in (ROOT / "deploy/images.tsv").read_text().splitlines()]
    return {row[1]: row[2] for row in rows if row[0] and not row[0].startswith("#")}


def test_compose_spec_without_version_key():
    assert "version" not in COMPOSE
    assert set(SERVICES) == {"app", "proxy", "proxy-metrics", "prometheus"}


def test_observability_is_an_opt_in_profile_with_prometheus_on_loopback():
    """`make up OBSERVABILITY=1` (scripts/deploy/stack.sh) turns the profile on; without it only app and
    proxy start. Prometheus' page has no authentication: the host's loopback by default."""
    for service in ("proxy-metrics", "prometheus"):
        assert SERVICES[service]["profiles"] == ["observability"]
    for service in ("app", "proxy"):
        assert "profiles" not in SERVICES[service]
    assert SERVICES["prometheus"]["ports"] == ["${PROMETHEUS_BIND:-127.0.0.1}:${PROMETHEUS_PORT:-9090}:9090"]
    assert "ports" not in SERVICES["proxy-metrics"]
    assert (
        SERVICES["proxy"]["environment"]["PROXY_LOG_EXPORTER"] == "${PROXY_LOG_EXPORTER-proxy-metrics:5140}"
    )


@pytest.mark.parametrize("service", ["app", "proxy", "proxy-metrics", "prometheus"])
def test_every_service_is_hardened(service):
    spec = SERVICES[service]
    assert spec["read_only"] is True
    assert spec["tmpfs"] == ["/tmp"]
    assert spec["cap_drop"] == ["ALL"]
    assert "no-new-privileges:true" in spec["security_opt"]
    assert spec["restart"] == "unless-stopped"
    limits = rendered_compose("deploy/compose.yaml", {})["services"][service]["deploy"]["resources"]["limits"]
    assert float(limits["cpus"]) > 0
    assert re.fullmatch(r"\d+[mg]", limits["memory"])


def test_images_are_the_image_list_s_variables_with_no_default_of_their_own():
    """The tags come from deploy/images.tsv, named after the app (scripts/deploy/images.sh): a default
    here would name one app's images in every copy of the template."""
    variables = set()
    development = yaml.safe_load((ROOT / "deploy/compose.oidc-dev.yaml").read_text())["services"]
    swarm = yaml.safe_load((ROOT / "deploy/swarm/stack.yaml").read_text())["services"]
    observed = yaml.safe_load((ROOT / "deploy/swarm/observability.yaml").read_text())["services"]
    store = yaml.safe_load((ROOT / "deploy/compose.session-store.yaml").read_text())["services"]
    swarm_store = yaml.safe_load((ROOT / "deploy/swarm/session-store.yaml").read_text())["services"]
    overlays = [*development.values(), *observed.values(), *store.values(), *swarm_store.values()]
    for spec in [*SERVICES.values(), *swarm.values(), *overlays]:
        if "image" not in spec:  # observability.yaml's proxy: only its environment added
            continue
        variable = re.fullmatch(r"\$\{(\w+):\?[^}]+\}", spec["image"])
        assert variable, spec["image"]
        variables.add(variable[1])
    assert variables == set(listed_images())
    assert all("{name}" in tag for tag in listed_images().values())


def test_the_swarm_session_store_is_reached_at_its_task_s_own_address():
    """No virtual IP for the store either (deploy/swarm/session-store.yaml): without IPVS a VIP
    answers nothing, and every save and restore timed out on this machine until it was dnsrr."""
    store = yaml.safe_load((ROOT / "deploy/swarm/session-store.yaml").read_text())["services"][
        "session-store"
    ]
    assert store["deploy"]["endpoint_mode"] == "dnsrr"


def test_the_app_s_own_settings_come_from_one_env_file_and_no_file_names_the_example():
    """An app's own settings (whatever names it reads) reach its containers through APP_ENV_FILE
    alone (scripts/deploy/stack.sh and swarm.sh make it absolute; /dev/null when unset)."""
    swarm = yaml.safe_load((ROOT / "deploy/swarm/stack.yaml").read_text())["services"]["app"]
    for spec, default in ((SERVICES["app"], "./app-settings.env"), (swarm, "../app-settings.env")):
        assert spec["env_file"] == [f"${{APP_ENV_FILE:-{default}}}"]  # deploy/app-settings.env: empty
        assert all(key.startswith(("SERVE_", "STREAMLIT_")) for key in spec["environment"])
    for name in GENERIC_FILES:
        text = (ROOT / "deploy" / name).read_text()
        assert not re.search("sales", text, re.IGNORECASE), name
    settings = (ROOT / "deploy/app-settings.env").read_text().splitlines()
    assert all(line.startswith("#") for line in settings)


def test_only_the_proxy_is_published_and_waits_for_a_healthy_app():
    assert "ports" not in SERVICES["app"]
    assert SERVICES["app"]["expose"] == ["8501", "9464"]  # Streamlit; the app's metrics
    assert SERVICES["proxy"]["ports"] == [
        "${PROXY_BIND:-127.0.0.1}:${PROXY_PORT:-8080}:8080",  # plain HTTP: redirects to HTTPS
        "${PROXY_BIND:-127.0.0.1}:${PROXY_TLS_PORT:-8443}:8443",  # this machine only by default
    ]
    assert SERVICES["proxy"]["depends_on"] == {"app": {"condition": "service_healthy"}}


def test_cookie_secret_comes_from_a_secret_file_never_from_the_environment():
    app = SERVICES["app"]
    assert app["secrets"] == ["cookie_secret"]
    secret_path = "/run/secrets/cookie_secret"  # noqa: S105 - a path, not a secret
    assert app["environment"]["STREAMLIT_SERVER_COOKIE_SECRET_FILE"] == secret_path
    assert "STREAMLIT_SERVER_COOKIE_SECRET" not in app["environment"]
    assert COMPOSE["secrets"]["cookie_secret"]["file"].startswith("${COOKIE_SECRET_FILE:-")


def test_the_proxy_serves_tls_from_secret_files_and_redirects_to_the_published_port():
    proxy = SERVICES["proxy"]
    environment = proxy["environment"]
    assert environment["PROXY_TLS"] == "${PROXY_TLS:-on}"
    assert proxy["secrets"] == ["tls_cert", "tls_key"]
    assert environment["PROXY_TLS_CERT"] == "/run/secrets/tls_cert"
    assert environment["PROXY_TLS_KEY"] == "/run/secrets/tls_key"
    assert environment["PROXY_TLS_PUBLIC_PORT"] == "${PROXY_TLS_PORT:-8443}"  # what the redirect names
    assert COMPOSE["secrets"]["tls_cert"]["file"].startswith("${TLS_CERT_FILE:-")
    assert COMPOSE["secrets"]["tls_key"]["file"].startswith("${TLS_KEY_FILE:-")


def test_every_proxy_setting_reaches_the_compose_and_swarm_proxy():
    entrypoint = (ROOT / "deploy/proxy/entrypoint.sh").read_text()
    known = set(re.findall(r'^: "\$\{((?:APP|PROXY)_[A-Z_]+):=', entrypoint, re.MULTILINE))
    assert {"PROXY_TLS", "PROXY_TRUSTED_HOPS", "PROXY_HSTS_MAX_AGE"} <= known
    swarm = yaml.safe_load((ROOT / "deploy/swarm/stack.yaml").read_text())["services"]["proxy"]
    # The Swarm stack's observability file (merged by OBSERVABILITY=1) sets the log exporter.
    observed = yaml.safe_load((ROOT / "deploy/swarm/observability.yaml").read_text())["services"]["proxy"]
    # APP_HOST/APP_PORT keep the entrypoint's defaults (the service is `app` on 8501 in both).
    settings = known - {"APP_HOST", "APP_PORT"}
    assert settings <= set(SERVICES["proxy"]["environment"])
    assert settings <= set(swarm["environment"]) | set(observed["environment"])


def test_app_settings_pass_through_without_second_defaults():
    # Unset in the shell means unset in the container: the defaults live in settings.py alone.
    environment = SERVICES["app"]["environment"]
    settings = {key: value for key, value in environment.items() if key.startswith("SERVE_")}
    assert settings.pop("SERVE_OIDC_FILE") == "/run/secrets/oidc"  # where the secret is mounted
    assert settings.pop("SERVE_SESSION_STORE_PASSWORD_FILE") == "/run/secrets/session_store_password"  # too
    assert settings
    assert set(settings.values()) == {None}


def test_every_app_setting_reaches_the_compose_and_swarm_app():
    known = set(re.findall(r'"(SERVE_[A-Z_]+)"', SETTINGS_FILES))
    swarm = yaml.safe_load((ROOT / "deploy/swarm/stack.yaml").read_text())["services"]["app"]
    assert known
    assert known <= set(SERVICES["app"]["environment"])
    assert known <= set(swarm["environment"])


def test_stop_grace_covers_the_drain_and_the_stop():
    """SIGTERM drains first (at most SERVE_DRAIN_SECONDS), then Streamlit stops and Python exits
    (measured up to ~11 s on a saturated host): SIGKILL must not come before both are done."""
    swarm = yaml.safe_load((ROOT / "deploy/swarm/stack.yaml").read_text())["services"]["app"]
    for spec in (SERVICES["app"], swarm):
        grace = int(re.fullmatch(r"(\d+)s", spec["stop_grace_period"]).group(1))
        assert grace >= ServingSettings().drain_seconds + 15


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"APP_REPLICAS": "three"}, "APP_REPLICAS='three' is not a whole number from 1 to 999"),
        ({"APP_REPLICAS": "0"}, "APP_REPLICAS='0' is not a whole number from 1 to 999"),
        ({"STACK_PROJECT": "My Stack"}, "STACK_PROJECT='My Stack' is not a compose project name"),
        ({"APP_DATA": "yes"}, "stack: APP_DATA='yes' is not 0 or 1"),
        ({"APP_NETWORK": "my net"}, "stack: APP_NETWORK='my net' is not a Docker network name"),
    ],
)
def test_stack_script_refuses_bad_settings_before_starting_anything(env, message):
    """Exit 64 and one line naming the variable; no engine is started or needed for this."""
    result = subprocess.run(
        ["bash", "scripts/deploy/stack.sh", "up"],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 64
    assert message in result.stderr


def test_swarm_observability_file_matches_the_compose_profile():
    """deploy/swarm/observability.yaml (merged into the stack by `OBSERVABILITY=1 make swarm-up`):
    the same images and settings as the compose profile, dnsrr so DNS discovery sees each task
    (no VIPs without IPVS), Prometheus' port in host mode, its data on a volume."""
    swarm = yaml.safe_load((ROOT / "deploy/swarm/observability.yaml").read_text())["services"]
    assert set(swarm) == {"proxy", "proxy-metrics", "prometheus"}
    for service in ("proxy-metrics", "prometheus"):
        assert swarm[service]["image"] == SERVICES[service]["image"]
        assert swarm[service]["deploy"]["endpoint_mode"] == "dnsrr"
        assert swarm[service]["read_only"] is True
        assert swarm[service]["cap_drop"] == ["ALL"]
    assert swarm["proxy"]["deploy"] == {"endpoint_mode": "dnsrr"}
    assert swarm["proxy-metrics"]["environment"] == SERVICES["proxy-metrics"]["environment"]
    (port,) = swarm["prometheus"]["ports"]
    assert (port["target"], port["published"], port["mode"]) == (9090, "${PROMETHEUS_PORT:-9090}", "host")
    assert "prometheus-data:/prometheus" in swarm["prometheus"]["volumes"]


def load(path: str) -> dict:
    return yaml.safe_load((ROOT / path).read_text())


def test_sign_in_override_mounts_the_provider_file_where_the_app_reads_it():
    oidc = load("deploy/compose.oidc.yaml")
    app = oidc["services"]["app"]
    assert app["environment"] == {"SERVE_AUTH": "oidc"}
    assert oidc["services"]["proxy"]["environment"] == {"SERVE_AUTH": "oidc"}  # the same value, for uploads
    assert "SERVE_AUTH" in SERVICES["proxy"]["environment"]  # compose.yaml: from where the app's comes
    assert app["secrets"] == ["cookie_secret", "oidc"]
    assert SERVICES["app"]["environment"]["SERVE_OIDC_FILE"] == "/run/secrets/oidc"  # compose's secret path
    assert oidc["secrets"]["oidc"]["file"].startswith("${OIDC_FILE:?")  # no default: never a stray file


def test_production_override_requires_sign_in_and_knows_no_development_provider():
    production = load("deploy/compose.production.yaml")
    assert production["services"]["app"]["environment"] == {
        "SERVE_AUTH": "${SERVE_AUTH:-oidc}",
        "SERVE_AUTH_REQUIRED": "on",
    }
    # The proxy refuses uploads without the sign-in cookie when the app signs in: the same value.
    assert production["services"]["proxy"]["environment"] == {"SERVE_AUTH": "${SERVE_AUTH:-oidc}"}
    assert set(production["services"]) == {"app", "proxy"}
    for path in ("deploy/compose.yaml", "deploy/compose.oidc.yaml", "deploy/compose.production.yaml"):
        assert "oidc-dev" not in (ROOT / path).read_text().replace("compose.oidc-dev.yaml", "")


def test_development_provider_is_hardened_and_reachable_from_this_machine_only():
    dev = load("deploy/compose.oidc-dev.yaml")
    (name,) = dev["services"]
    provider = dev["services"][name]
    assert provider["read_only"] is True
    assert provider["cap_drop"] == ["ALL"]
    assert "no-new-privileges:true" in provider["security_opt"]
    assert provider["image"].startswith("${OIDC_DEV_IMAGE:?")  # deploy/images.tsv's, named after the app
    (port,) = provider["ports"]
    assert port.startswith("127.0.0.1:")
    # One issuer name for the browser (*.localhost is this machine) and for the app (the alias).
    issuer = provider["environment"]["OIDC_ISSUER"]
    assert issuer == "http://oidc-dev.localhost:${OIDC_DEV_PORT:-9400}"
    assert provider["networks"]["default"]["aliases"] == ["oidc-dev.localhost"]
    assert provider["secrets"] == ["oidc_dev_client_secret"]


def test_swarm_stack_makes_the_sign_in_choice_explicit():
    services = load("deploy/swarm/stack.yaml")["services"]
    app = services["app"]
    assert app["environment"]["SERVE_AUTH"].startswith("${SERVE_AUTH:?")
    # The proxy refuses uploads without the sign-in cookie when the app signs in: the same value.
    assert services["proxy"]["environment"]["SERVE_AUTH"] == app["environment"]["SERVE_AUTH"]
    assert app["environment"]["SERVE_AUTH_REQUIRED"] == "on"
    assert app["environment"]["SERVE_OIDC_FILE"] == "/run/secrets/oidc"
    oidc = load("deploy/swarm/oidc.yaml")
    secrets = {secret["source"]: secret for secret in oidc["services"]["app"]["secrets"]}
    assert secrets["oidc"] == {
        "source": "oidc",
        "target": "oidc",
        "uid": "10001",
        "gid": "10001",
        "mode": 0o400,
    }
    assert oidc["secrets"]["oidc"]["file"].startswith("${OIDC_FILE:?")


@pytest.mark.parametrize("path", sorted(Path(ROOT, "deploy/swarm").glob("*.yaml")))
def test_swarm_required_variable_messages_survive_docker_stack_deploy(path):
    """`docker stack deploy` reads `${VAR:?message}` as `${VAR-default}` when the message holds a
    hyphen: the task then gets the message's tail as its value (SERVE_AUTH='in) or none...')."""
    for message in re.findall(r"\$\{\w+:\?([^}]*)\}", path.read_text()):
        assert "-" not in message, f"{path.name}: {message!r}"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "swarm: set SERVE_AUTH=oidc (sign-in, with OIDC_FILE) or SERVE_AUTH=none-public"),
        (
            {"SERVE_AUTH": "none"},
            "swarm: set SERVE_AUTH=oidc (sign-in, with OIDC_FILE) or SERVE_AUTH=none-public",
        ),
        ({"SERVE_AUTH": "oidc"}, "swarm: SERVE_AUTH=oidc needs OIDC_FILE"),
        ({"SERVE_AUTH": "none-public", "APP_DATA": "2"}, "swarm: APP_DATA='2' is not 0 or 1"),
        (
            {"SERVE_AUTH": "none-public", "APP_NETWORK": "-net"},
            "swarm: APP_NETWORK='-net' is not a Docker network name",
        ),
    ],
)
def test_swarm_script_refuses_a_missing_sign_in_choice_before_deploying(env, message):
    result = subprocess.run(
        ["bash", "scripts/deploy/swarm.sh", "up"],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 64
    assert message in result.stderr


#: Every compose and Swarm file with services: each service's log is rotated by the engine.
SERVICE_FILES = (
    "deploy/compose.yaml",
    "deploy/compose.oidc-dev.yaml",
    "deploy/swarm/stack.yaml",
    "deploy/swarm/observability.yaml",
)
ROTATED = {"driver": "json-file", "options": {"max-size": "10m", "max-file": "5"}}


@pytest.mark.parametrize("path", SERVICE_FILES)
def test_every_service_log_is_rotated_from_one_anchor(path):
    """nginx logs a JSON line per request and Docker's json-file log has no limit by default: every
    service of every stack gets the file's one `x-logging` anchor (the proxy of
    swarm/observability.yaml is stack.yaml's, merged)."""
    text = (ROOT / path).read_text()
    document = yaml.safe_load(text)
    assert document["x-logging"] == ROTATED
    assert text.count("&logging") == 1
    for name, service in document["services"].items():
        if path.endswith("observability.yaml") and name == "proxy":
            continue
        assert service["logging"] == ROTATED, f"{path}: {name}"


def test_the_swarm_overlay_is_encrypted():
    """TLS ends at the proxy: cookies and OpenID tokens cross the nodes on this network."""
    networks = yaml.safe_load((ROOT / "deploy/swarm/stack.yaml").read_text())["networks"]
    assert networks["backend"]["driver"] == "overlay"
    assert networks["backend"]["driver_opts"] == {"encrypted": ""}


@pytest.mark.parametrize(
    ("path", "engine"), [("deploy/compose.data.yaml", "compose"), ("deploy/swarm/data.yaml", "swarm")]
)
def test_the_data_volume_is_opt_in_mounted_where_serve_data_dir_points(path, engine):
    """APP_DATA=1 adds the file (stack.sh, swarm.sh); the app's one writable, persistent place: a
    named volume at /srv/data, the image's directory owned by the app's user (Dockerfile)."""
    spec = yaml.safe_load((ROOT / path).read_text())
    app = spec["services"]["app"]
    assert app["environment"] == {"SERVE_DATA_DIR": "/srv/data"}
    assert app["volumes"] == ["app-data:/srv/data"]
    assert spec["volumes"] == {"app-data": None}
    script = (ROOT / f"scripts/deploy/{'stack' if engine == 'compose' else 'swarm'}.sh").read_text()
    assert path in script
    assert "install -d -o 10001 -g 10001 -m 0750 /srv/data" in (ROOT / "Dockerfile").read_text()
    # Not in the base files: without APP_DATA=1 nothing is writable but /tmp.
    assert "/srv/data" not in yaml.safe_dump(SERVICES["app"])


@pytest.mark.parametrize(
    ("files", "own"),
    [
        (("deploy/compose.yaml", "deploy/compose.app-network.yaml"), "default"),
        (("deploy/swarm/stack.yaml", "deploy/swarm/app-network.yaml"), "backend"),
    ],
)
def test_app_network_joins_the_app_alone_to_your_network_besides_the_stack_s(files, own):
    """APP_NETWORK adds the file (stack.sh, swarm.sh): the app's replicas on the stack's own network
    (the proxy reaches them there) and on the user's, an external one the stack never makes or
    removes (docs/your-app.md, "A database beside the stack"); no other service joins it."""
    images = {variable: "image:dev" for variable in listed_images()}
    env = {"PATH": os.environ["PATH"], **images, "SERVE_AUTH": "none-public", "APP_NETWORK": "weather-net"}
    args = ["docker-compose", *(item for path in files for item in ("--file", path)), "config"]
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    rendered = yaml.safe_load(done.stdout)
    assert set(rendered["services"]["app"]["networks"]) == {own, "app-network"}
    assert rendered["networks"]["app-network"] == {"name": "weather-net", "external": True}
    for name, service in rendered["services"].items():
        if name != "app":
            assert "app-network" not in service.get("networks", {}), name
    script = (ROOT / f"scripts/deploy/{'stack' if own == 'default' else 'swarm'}.sh").read_text()
    assert files[1] in script
    # Unset, the file says what is missing instead of joining a network named "".
    unset = {key: value for key, value in env.items() if key != "APP_NETWORK"}
    refused = subprocess.run(
        args, cwd=ROOT, env=unset, capture_output=True, text=True, check=False, timeout=60
    )
    assert refused.returncode != 0
    assert "set APP_NETWORK to the name of" in refused.stderr


@pytest.mark.parametrize("path", ["deploy/compose.yaml", "deploy/swarm/stack.yaml"])
def test_the_app_s_serving_toml_sets_each_replica_s_limits_on_compose_and_swarm(path, tmp_path):
    """What `make up` and `make swarm-up` export (app_source --stack-env) gives the app's service
    the limits of its serving.toml [replicas]; without them (empty) the files' 1 CPU and 1024 MB.
    Swarm's replicas: the file's count unless APP_REPLICAS is set (swarm.sh), else 3."""
    app = tmp_path / "sized"
    app.mkdir()
    (app / "streamlit_app.py").write_text("import streamlit as st\n")
    (app / "serving.toml").write_text("[replicas]\ncount = 2\ncpus = 0.5\nmemory_mb = 768\n")
    done = subprocess.run(
        ["python3", "-m", "streamlit_serving.app_source", "--stack-env"],
        cwd=ROOT, env={**os.environ, "APP_DIR": str(app)}, capture_output=True, text=True, check=True,
    )  # fmt: skip
    exported = dict(line.split("=", 1) for line in done.stdout.splitlines())
    sized = rendered_compose(path, exported)["services"]["app"]["deploy"]
    assert (float(sized["resources"]["limits"]["cpus"]), sized["resources"]["limits"]["memory"]) == (
        0.5,
        "768m",
    )
    empty = {"APP_CPUS": "", "APP_MEMORY_MB": ""}
    default = rendered_compose(path, empty)["services"]["app"]["deploy"]
    assert (float(default["resources"]["limits"]["cpus"]), default["resources"]["limits"]["memory"]) == (
        1.0,
        "1024m",
    )
    # The proxy keeps its own limits.
    assert (
        rendered_compose(path, exported)["services"]["proxy"]["deploy"]["resources"]["limits"]["memory"]
        == "320m"
    )
    if path.startswith("deploy/swarm"):
        assert default["replicas"] == 3
        assert (
            rendered_compose(path, {"APP_REPLICAS": exported["SERVING_TOML_REPLICAS"]})["services"]["app"][
                "deploy"
            ]["replicas"]
            == 2
        )
        script = (ROOT / "scripts/deploy/swarm.sh").read_text()
        assert "export APP_REPLICAS=$SERVING_TOML_REPLICAS" in script
    else:
        assert (
            "replicas=${APP_REPLICAS:-${SERVING_TOML_REPLICAS:-1}}"
            in (ROOT / "scripts/deploy/stack.sh").read_text()
        )
