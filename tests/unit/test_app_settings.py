"""The app's name (streamlit_serving/app_settings.py, read from its serving.toml): what names its
images, compose project, Swarm stack and registry path. The example declares its own; an app
without one is named after its directory, the repository's own ``app/`` after the repository (a
copy of the template is not named "app"); a bad name stops with exit 64 naming the file and key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from streamlit_serving.app_settings import (
    MAX_NAME,
    MIN_CPUS,
    MIN_MEMORY_MB,
    ORIGIN_KINDS,
    SETTINGS_FILE,
    AppSettingsError,
    BrowserPolicy,
    Limits,
    load_app_settings,
    load_limits,
)
from streamlit_serving.app_source import REPO


def name_of(app_dir: Path | str, **extra: str) -> subprocess.CompletedProcess[str]:
    """``python3 -m streamlit_serving.app_source --name``, as scripts/deploy/images.sh runs it."""
    env = {**os.environ, "APP_DIR": str(app_dir), **extra}
    return subprocess.run(
        [sys.executable, "-m", "streamlit_serving.app_source", "--name"],
        cwd=REPO, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip


def an_app(directory: Path, settings: str | None = None) -> Path:
    directory.mkdir(parents=True)
    (directory / "streamlit_app.py").write_text("import streamlit as st\nst.write('hi')\n")
    if settings is not None:
        (directory / SETTINGS_FILE).write_text(settings)
    return directory


def test_the_example_declares_its_name_in_its_own_file():
    assert (REPO / "app" / SETTINGS_FILE).is_file()
    done = name_of("app")
    assert (done.returncode, done.stdout) == (0, "sales-dashboard\n"), done.stderr
    # The images of deploy/images.tsv are named after it.
    env = {k: v for k, v in os.environ.items() if not k.endswith("_IMAGE")}
    images = subprocess.run(
        ["scripts/deploy/images.sh", "--env"], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert "APP_IMAGE=sales-dashboard:dev\nPROXY_IMAGE=sales-dashboard-proxy:dev\n" in images.stdout


def test_an_app_without_a_name_is_named_after_its_directory(tmp_path):
    assert name_of(an_app(tmp_path / "Inventory_Board 2")).stdout == "inventory-board-2\n"
    assert name_of(an_app(tmp_path / "orders", "# no name here\n")).stdout == "orders\n"
    assert name_of(an_app(tmp_path / "x", 'name = "stock-levels"\n')).stdout == "stock-levels\n"


def test_the_repository_s_own_app_folder_is_named_after_the_repository(tmp_path):
    """A copy of the template (``my-dashboard``) whose ``app/`` was replaced by the user's app
    without a serving.toml is named ``my-dashboard``, not ``app``."""
    repo = tmp_path / "My-Dashboard"
    app = an_app(repo / "app")
    assert load_app_settings(app, repo).name == "my-dashboard"
    assert load_app_settings(an_app(repo / "tools"), repo).name == "tools"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ('name = "Sales"\n', "name='Sales' must be lower-case letters"),
        ('name = "-sales"\n', "name='-sales' must be"),
        ('name = "sales-"\n', "name='sales-' must be"),
        ('name = "my_app"\n', "name='my_app' must be"),
        ('name = ""\n', "name='' must be"),
        ("name = 42\n", "name=42 must be"),
        (f'name = "{"a" * (MAX_NAME + 1)}"\n', f"is {MAX_NAME + 1} characters, at most {MAX_NAME}"),
        ('nmae = "x"\n', "unknown key 'nmae'"),
        ('name = "x\n', "not readable TOML"),
    ],
)
def test_a_bad_name_stops_with_64_naming_the_file_and_key(tmp_path, settings, message):
    app = an_app(tmp_path / "app-under-test", settings)
    with pytest.raises(AppSettingsError, match=r"serving\.toml"):
        load_app_settings(app, REPO)
    done = name_of(app)
    assert done.returncode == 64
    assert str(app / SETTINGS_FILE) in done.stderr
    assert message in done.stderr
    assert done.stdout == ""


def test_a_bad_name_stops_the_stacks_before_anything_is_built(tmp_path):
    """scripts/deploy/images.sh (which make up, swarm-up, images and push read) exits 64 with the message."""
    app = an_app(tmp_path / "bad", 'name = "Bad Name"\n')
    scripts = [
        ["scripts/deploy/images.sh"],
        ["scripts/deploy/stack.sh", "up"],
        ["scripts/deploy/swarm.sh", "up"],
    ]
    assert_scripts_stop(app, scripts, "serving.toml: name='Bad Name'")


# --- [browser]: the app's extra CSP origins and permissions ------------------------------------


def proxy_env_of(app_dir: Path | str) -> subprocess.CompletedProcess[str]:
    """``python3 -m streamlit_serving.app_source --proxy-env``, as scripts/deploy/stack.sh runs it."""
    env = {**os.environ, "APP_DIR": str(app_dir)}
    return subprocess.run(
        [sys.executable, "-m", "streamlit_serving.app_source", "--proxy-env"],
        cwd=REPO, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip


STRICT = {f"PROXY_CSP_{kind.upper()}": "" for kind in ORIGIN_KINDS} | {
    "PROXY_PERMISSIONS": "",
    "PROXY_CSP_INLINE_SCRIPTS": "",
}
DEFAULT_LIMITS = {"PROXY_UPLOAD_MB": "16"}  # [limits] upload_mb's default, nginx's 16m as before


def env_lines(done: subprocess.CompletedProcess[str]) -> dict[str, str]:
    assert done.returncode == 0, done.stderr
    return dict(line.split("=", 1) for line in done.stdout.splitlines())


def assert_scripts_stop(app: Path, scripts: list[list[str]], message: str, **extra: str) -> None:
    """Each script, run for the app in ``app`` (as a user would, no image tags given), exits 64
    with ``message`` on stderr, before anything is built."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("_IMAGE")}
    for script in scripts:
        app_env = {**env, "APP_DIR": str(app), "SERVE_AUTH": "none-public", **extra}
        done = subprocess.run(
            script, cwd=REPO, env=app_env, capture_output=True, text=True, check=False, timeout=60
        )
        assert done.returncode == 64, (script, done.stderr)
        assert message in done.stderr


DEPLOY_SCRIPTS = [
    ["scripts/deploy/stack.sh", "up"],
    ["scripts/deploy/swarm.sh", "up"],
    ["scripts/deploy/k8s-name.sh"],
]


def assert_deploy_scripts_stop(app: Path, message: str, tmp_path: Path) -> None:
    """make up's, make swarm-up's and k8s-name.sh's scripts exit 64 with ``message`` (no overlay
    is written: K8S_OVERLAYS names none)."""
    assert_scripts_stop(app, DEPLOY_SCRIPTS, message, K8S_OVERLAYS=str(tmp_path / "none"))


def assert_app_source_refuses(app: Path, key: str, message: str) -> None:
    """``load_app_settings`` raises naming the file; ``--proxy-env`` and ``--name`` (the stacks
    read either first) exit 64 naming the file, the key and the problem, and print nothing on stdout."""
    with pytest.raises(AppSettingsError, match=r"serving\.toml"):
        load_app_settings(app, REPO)
    for done in (proxy_env_of(app), name_of(app)):
        assert done.returncode == 64, done.stdout
        assert f"{app / SETTINGS_FILE}: " in done.stderr
        assert key in done.stderr, done.stderr
        assert message in done.stderr, done.stderr
        assert done.stdout == ""


def test_without_a_browser_table_every_proxy_variable_is_empty(tmp_path):
    """The strict default: the example, an app without serving.toml, one with a name alone. Every
    variable is printed, so a value left in the shell never loosens the policy."""
    assert env_lines(proxy_env_of("app")) == STRICT | DEFAULT_LIMITS
    assert env_lines(proxy_env_of(an_app(tmp_path / "bare"))) == STRICT | DEFAULT_LIMITS
    assert env_lines(proxy_env_of(an_app(tmp_path / "named", 'name = "x"\n'))) == STRICT | DEFAULT_LIMITS
    assert env_lines(proxy_env_of(an_app(tmp_path / "empty", "[browser]\n"))) == STRICT | DEFAULT_LIMITS


def test_the_browser_table_becomes_the_proxy_s_variables(tmp_path):
    app = an_app(
        tmp_path / "maps",
        """name = "maps"
[browser]
img = ["https://*.cartocdn.com", "http://127.0.0.1:8000"]
media = ["https://videos.example.com"]
connect = ["https://basemaps.cartocdn.com", "https://tiles.basemaps.cartocdn.com", "https://cdn.jsdelivr.net"]
frame = ["https://www.youtube.com", "https://www.youtube.com"]
script = ["https://cdn.example.org:8443"]
font = ["https://fonts.gstatic.com"]
style = ["https://fonts.googleapis.com"]
permissions = ["camera", "microphone", "clipboard-write"]
inline_scripts = true
""",
    )
    settings = load_app_settings(app, REPO)
    assert settings.name == "maps"
    assert settings.browser.origins["frame"] == ("https://www.youtube.com",)  # repeats once
    expected = {
        "PROXY_CSP_IMG": "https://*.cartocdn.com http://127.0.0.1:8000",
        "PROXY_CSP_MEDIA": "https://videos.example.com",
        "PROXY_CSP_CONNECT": "https://basemaps.cartocdn.com https://tiles.basemaps.cartocdn.com https://cdn.jsdelivr.net",
        "PROXY_CSP_FRAME": "https://www.youtube.com",
        "PROXY_CSP_SCRIPT": "https://cdn.example.org:8443",
        "PROXY_CSP_FONT": "https://fonts.gstatic.com",
        "PROXY_CSP_STYLE": "https://fonts.googleapis.com",
        "PROXY_PERMISSIONS": "camera microphone clipboard-write",
        "PROXY_CSP_INLINE_SCRIPTS": "on",
    }
    assert env_lines(proxy_env_of(app)) == expected | DEFAULT_LIMITS
    assert BrowserPolicy().proxy_env() == STRICT


@pytest.mark.parametrize(
    ("browser", "key", "message"),
    [
        ('img = ["*"]', "[browser] img", "'*' is not an origin"),
        ('img = ["https:"]', "[browser] img", "'https:' is not an origin"),
        ('img = ["data:"]', "[browser] img", "is not an origin"),
        ("script = [\"'unsafe-inline'\"]", "[browser] script", "is not an origin"),
        ("style = [\"'unsafe-eval'\"]", "[browser] style", "is not an origin"),
        ('frame = ["https://a.example.com; script-src *"]', "[browser] frame", "is not an origin"),
        ('frame = ["https://a.example.com,https://b.example.com"]', "[browser] frame", "is not an origin"),
        ('media = ["https://a.example.com https://b.example.com"]', "[browser] media", "is not an origin"),
        ('media = ["\\"https://a.example.com\\""]', "[browser] media", "is not an origin"),
        ('connect = ["ftp://files.example.com"]', "[browser] connect", "is not an origin"),
        ('connect = ["https://example.com/path"]', "[browser] connect", "is not an origin"),
        ('connect = ["wss://example.com"]', "[browser] connect", "is not an origin"),
        ('font = ["https://*.com"]', "[browser] font", "every host of a top-level domain"),
        ('font = ["https://fonts.example.com:70000"]', "[browser] font", "port 70000"),
        ('font = ["https://fonts.example.com:0"]', "[browser] font", "port 0"),
        ('img = "https://a.example.com"', "[browser] img", "must be a list"),
        ("img = [42]", "[browser] img", "42 is not an origin"),
        ('permissions = ["usb"]', "[browser] permissions", "'usb' is not one of camera"),
        ('permissions = "camera"', "[browser] permissions", "must be a list"),
        ('images = ["https://a.example.com"]', "[browser] images", "unknown key"),
        ('inline_scripts = "yes"', "[browser] inline_scripts", "must be true or false, got 'yes'"),
        ("inline_scripts = 1", "[browser] inline_scripts", "must be true or false, got 1"),
    ],
)
def test_a_bad_browser_value_stops_with_64_naming_the_file_and_key(tmp_path, browser, key, message):
    assert_app_source_refuses(an_app(tmp_path / "bad-browser", f"[browser]\n{browser}\n"), key, message)


def test_browser_must_be_a_table(tmp_path):
    done = proxy_env_of(an_app(tmp_path / "flat", 'browser = "camera"\n'))
    assert done.returncode == 64
    assert "browser must be a table" in done.stderr


def test_a_bad_browser_value_stops_the_stacks_and_k8s_name_before_anything_is_built(tmp_path):
    app = an_app(tmp_path / "bad", '[browser]\nimg = ["*"]\n')
    assert_deploy_scripts_stop(app, "serving.toml: [browser] img: '*' is not an origin", tmp_path)


# --- [limits]: the upload and message sizes ----------------------------------------------------


def test_without_a_limits_table_the_sizes_are_16_and_4(tmp_path):
    for app in (an_app(tmp_path / "bare"), an_app(tmp_path / "named", 'name = "x"\n'),
                an_app(tmp_path / "empty", "[limits]\n")):  # fmt: skip
        assert load_app_settings(app, REPO).limits == Limits(16, 4) == load_limits(app)
    assert load_app_settings(REPO / "app", REPO).limits == Limits(16, 4)  # the example


def test_the_limits_table_sets_both_sizes_and_upload_mb_reaches_the_proxy(tmp_path):
    app = an_app(tmp_path / "uploads", "[limits]\nupload_mb = 200\nmessage_mb = 50\n")
    assert load_app_settings(app, REPO).limits == Limits(upload_mb=200, message_mb=50) == load_limits(app)
    assert env_lines(proxy_env_of(app)) == STRICT | {"PROXY_UPLOAD_MB": "200"}  # message_mb: Streamlit only
    bounds = an_app(tmp_path / "bounds", "[limits]\nupload_mb = 1024\nmessage_mb = 1\n")
    assert load_limits(bounds) == Limits(1024, 1)
    assert env_lines(proxy_env_of(an_app(tmp_path / "one", "[limits]\nmessage_mb = 200\n"))) == (
        STRICT | DEFAULT_LIMITS
    )


@pytest.mark.parametrize(
    ("limits", "key", "message"),
    [
        ("upload_mb = 0", "[limits] upload_mb", "0 must be a whole number of MB, 1 to 1024"),
        ("upload_mb = 1025", "[limits] upload_mb", "1025 must be a whole number of MB, 1 to 1024"),
        ("upload_mb = -5", "[limits] upload_mb", "-5 must be"),
        ("upload_mb = 16.5", "[limits] upload_mb", "16.5 must be"),
        ('upload_mb = "50"', "[limits] upload_mb", "'50' must be"),
        ('upload_mb = "50m"', "[limits] upload_mb", "'50m' must be"),
        ("upload_mb = true", "[limits] upload_mb", "True must be"),
        ("message_mb = 0", "[limits] message_mb", "0 must be a whole number of MB, 1 to 200"),
        ("message_mb = 201", "[limits] message_mb", "201 must be a whole number of MB, 1 to 200"),
        ("upload = 50", "[limits] upload", "unknown key"),
    ],
)
def test_a_bad_limit_stops_with_64_naming_the_file_and_key(tmp_path, limits, key, message):
    app = an_app(tmp_path / "bad-limits", f"[limits]\n{limits}\n")
    with pytest.raises(AppSettingsError, match=r"serving\.toml"):
        load_limits(app)  # what the app's server reads at start (pinned.py)
    assert_app_source_refuses(app, key, message)


def test_limits_must_be_a_table(tmp_path):
    done = proxy_env_of(an_app(tmp_path / "flat", "limits = 50\n"))
    assert done.returncode == 64
    assert "limits must be a table" in done.stderr


def test_a_bad_limit_stops_the_stacks_and_k8s_name_before_anything_is_built(tmp_path):
    app = an_app(tmp_path / "bad", "[limits]\nupload_mb = 4096\n")
    assert_deploy_scripts_stop(
        app, "serving.toml: [limits] upload_mb: 4096 must be a whole number of MB, 1 to 1024", tmp_path
    )


# --- [replicas] and [egress]: the replicas, their CPU and memory, the app's connections ---------


def stack_env_of(app_dir: Path | str) -> subprocess.CompletedProcess[str]:
    """``python3 -m streamlit_serving.app_source --stack-env``, as stack.sh and swarm.sh run it."""
    env = {**os.environ, "APP_DIR": str(app_dir)}
    return subprocess.run(
        [sys.executable, "-m", "streamlit_serving.app_source", "--stack-env"],
        cwd=REPO, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip


ENGINE_DEFAULTS = {"APP_CPUS": "", "APP_MEMORY_MB": "", "SERVING_TOML_REPLICAS": ""}


def test_without_replicas_or_egress_every_engine_keeps_its_own_values(tmp_path):
    """Empty variables (compose.yaml's and stack.yaml's 1.0 CPU and 1024 MB, stack.sh's 1 replica,
    Swarm's 3), and the committed overlays' serving-patch.yaml and serving-egress.yaml are what
    k8s-name.sh writes for the example: the Deployment named alone, a no-op JSON patch."""
    for app in ("app", an_app(tmp_path / "bare"), an_app(tmp_path / "empty", "[replicas]\n[egress]\n")):
        done = stack_env_of(app)
        assert env_lines(done) == STRICT | DEFAULT_LIMITS | ENGINE_DEFAULTS
        assert "egress" not in done.stderr
    settings = load_app_settings(REPO / "app", REPO)
    for overlay in ("dev", "production"):
        directory = REPO / "deploy/k8s/overlays" / overlay
        assert (directory / "serving-patch.yaml").read_text() == settings.replicas.k8s_patch()
        assert (directory / "serving-egress.yaml").read_text() == settings.egress.k8s_patch()
    assert "spec:" not in settings.replicas.k8s_patch()
    assert "op: test" in settings.egress.k8s_patch()


def test_the_replicas_table_reaches_compose_and_swarm(tmp_path):
    app = an_app(tmp_path / "big", "[replicas]\ncount = 4\nmax = 8\ncpus = 1.5\nmemory_mb = 2048\n")
    replicas = load_app_settings(app, REPO).replicas
    assert (replicas.count, replicas.max, replicas.millicpus, replicas.memory_mb) == (4, 8, 1500, 2048)
    assert env_lines(stack_env_of(app)) == STRICT | DEFAULT_LIMITS | {
        "APP_CPUS": "1.5", "APP_MEMORY_MB": "2048", "SERVING_TOML_REPLICAS": "4",
    }  # fmt: skip
    whole = an_app(tmp_path / "whole", "[replicas]\ncpus = 2\n")
    assert env_lines(stack_env_of(whole))["APP_CPUS"] == "2"
    assert env_lines(stack_env_of(whole))["SERVING_TOML_REPLICAS"] == ""
    # --proxy-env (the proxy's, k8s-name.sh's browser-policy.env) stays the proxy's alone.
    assert env_lines(proxy_env_of(app)) == STRICT | DEFAULT_LIMITS


def test_the_lower_bounds_are_what_each_engine_guarantees_a_replica():
    """A limit below a request (Kubernetes) or a reservation (Swarm) would be refused by the engine:
    the bounds are at least both, so any accepted value deploys."""
    deployment = yaml.safe_load((REPO / "deploy/k8s/base/deployment.yaml").read_text())
    (container,) = [c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == "app"]
    requests = container["resources"]["requests"]
    assert int(requests["cpu"].removesuffix("m")) <= MIN_CPUS * 1000
    assert int(requests["memory"].removesuffix("Mi")) <= MIN_MEMORY_MB
    swarm = yaml.safe_load((REPO / "deploy/swarm/stack.yaml").read_text())["services"]["app"]
    reservations = swarm["deploy"]["resources"]["reservations"]
    assert float(reservations["cpus"]) <= MIN_CPUS
    assert int(reservations["memory"].removesuffix("m")) <= MIN_MEMORY_MB


@pytest.mark.parametrize(
    ("table", "key", "message"),
    [
        ("[replicas]\ncount = 0", "[replicas] count", "0 must be a whole number, 1 to 999"),
        ("[replicas]\ncount = 1000", "[replicas] count", "1000 must be a whole number, 1 to 999"),
        ('[replicas]\ncount = "3"', "[replicas] count", "'3' must be a whole number"),
        ("[replicas]\ncount = 2.5", "[replicas] count", "2.5 must be a whole number"),
        ("[replicas]\ncount = true", "[replicas] count", "True must be a whole number"),
        ("[replicas]\nmax = 4", "[replicas] max", "4 needs count"),
        ("[replicas]\ncount = 3\nmax = 2", "[replicas] max", "2 must be a whole number, 3 to 999"),
        ("[replicas]\ncpus = 0.1", "[replicas] cpus", "0.1 must be a number of CPUs, 0.25 to 64"),
        ("[replicas]\ncpus = 65", "[replicas] cpus", "65 must be a number of CPUs"),
        ("[replicas]\ncpus = 0.3333", "[replicas] cpus", "with at most three decimals"),
        ('[replicas]\ncpus = "1"', "[replicas] cpus", "'1' must be a number of CPUs"),
        (
            "[replicas]\nmemory_mb = 256",
            "[replicas] memory_mb",
            "256 must be a whole number of MB, 384 to 262144",
        ),
        ('[replicas]\nmemory_mb = "1g"', "[replicas] memory_mb", "'1g' must be a whole number of MB"),
        ("[replicas]\nmemory = 512", "[replicas] memory", "unknown key"),
        ('[egress]\nallow = ["10.0.0.0/8"]', "[egress] allow", "'10.0.0.0/8' is not \"CIDR:PORT\""),
        ('[egress]\nallow = ["10.0.0.1/8:5432"]', "[egress] allow", "'10.0.0.1/8:5432' is not"),
        ('[egress]\nallow = ["10.0.0.0/8:0"]', "[egress] allow", "a TCP port 1-65535"),
        ('[egress]\nallow = ["10.0.0.0/8:70000"]', "[egress] allow", "'10.0.0.0/8:70000' is not"),
        ('[egress]\nallow = ["db.example.com:5432"]', "[egress] allow", "'db.example.com:5432' is not"),
        ('[egress]\nallow = ["10.0.0.0/33:5432"]', "[egress] allow", "is not"),
        ('[egress]\nallow = ["10.0.0.0/8:5432/udp"]', "[egress] allow", "is not"),
        ("[egress]\nallow = [5432]", "[egress] allow", "5432 is not"),
        ('[egress]\nallow = "10.0.0.0/8:5432"', "[egress] allow", "must be a list"),
        ('[egress]\ndeny = ["10.0.0.0/8:5432"]', "[egress] deny", "unknown key"),
    ],
)
def test_a_bad_replicas_or_egress_value_stops_with_64_naming_the_file_and_key(tmp_path, table, key, message):
    assert_app_source_refuses(an_app(tmp_path / "bad-table", f"{table}\n"), key, message)


@pytest.mark.parametrize("table", ["replicas", "egress"])
def test_replicas_and_egress_must_be_tables(tmp_path, table):
    done = proxy_env_of(an_app(tmp_path / "flat", f"{table} = 3\n"))
    assert done.returncode == 64
    assert f"{table} must be a table" in done.stderr


def test_a_bad_replicas_value_stops_the_stacks_and_k8s_name_before_anything_is_built(tmp_path):
    app = an_app(tmp_path / "bad", "[replicas]\nmemory_mb = 100\n")
    assert_deploy_scripts_stop(
        app, "serving.toml: [replicas] memory_mb: 100 must be a whole number of MB, 384 to 262144", tmp_path
    )


def test_app_replicas_from_the_shell_wins_over_the_file_s_count_and_is_checked(tmp_path):
    """The file's count is stack.sh's default; APP_REPLICAS given wins, and is checked as before."""
    app = an_app(tmp_path / "counted", "[replicas]\ncount = 3\n")
    assert_scripts_stop(
        app,
        [["scripts/deploy/stack.sh", "up"]],
        "APP_REPLICAS='three' is not a whole number",
        APP_REPLICAS="three",
    )


def test_egress_on_compose_and_swarm_is_said_to_be_unenforced(tmp_path):
    app = an_app(
        tmp_path / "db", '[egress]\nallow = ["10.0.0.0/8:5432", "203.0.113.7:443", "10.0.0.0/8:5432"]\n'
    )
    assert load_app_settings(app, REPO).egress.allow == (("10.0.0.0/8", 5432), ("203.0.113.7/32", 443))
    done = stack_env_of(app)
    assert env_lines(done) == STRICT | DEFAULT_LIMITS | ENGINE_DEFAULTS
    assert f"app: {app / SETTINGS_FILE} [egress] allow is for Kubernetes' NetworkPolicy alone" in done.stderr
    assert "compose and Swarm have no egress control" in done.stderr
