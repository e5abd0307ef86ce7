"""The session store's password: read by the serving layer from a secret file
(SERVE_SESSION_STORE_PASSWORD_FILE, streamlit_serving/session_store.read_password), by the store's
image from its own (deploy/session-store/entrypoint.sh, which renders requirepass), made once by
scripts/deploy/secret-file.sh and mounted as a compose and a Swarm secret, never an environment
value. What a bad file does (exit 64 naming the setting) is checked here; the password against a
real Redis is tests/integration/test_session_store.py, on the compose stack
tests/container/test_session_store_stack.py, on Kubernetes tests/unit/test_k8s_session_store.py."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from test_app_conventions import compose_config

from streamlit_serving.session_store import read_password
from streamlit_serving.settings import STORE_PASSWORD_MOUNTED, SettingsError, load_serving_settings

REPO = Path(__file__).resolve().parents[2]
VARIABLE = "SERVE_SESSION_STORE_PASSWORD_FILE"
ENTRYPOINT = REPO / "deploy/session-store/entrypoint.sh"
PASSWORD = secrets.token_hex(32)


def password_file(folder: Path, content: str | None) -> Path:
    """``folder``/password holding ``content``; None: no such file; "dir": a directory there."""
    path = folder / "password"
    if content == "dir":
        path.mkdir()
    elif content is not None:
        path.write_text(content)
    return path


def test_the_file_is_the_setting_or_the_mounted_secret_and_only_with_the_store_on(tmp_path):
    assert load_serving_settings({VARIABLE: str(tmp_path / "p")}).session_store_password_file is None
    on = {"SERVE_SESSION_STORE": "redis://store:6379/0"}
    assert load_serving_settings(on).session_store_password_file == STORE_PASSWORD_MOUNTED
    assert Path("/run/secrets/session_store_password") == STORE_PASSWORD_MOUNTED  # compose's, Swarm's
    given = load_serving_settings({**on, VARIABLE: f" {tmp_path / 'p'} "}).session_store_password_file
    assert given == tmp_path / "p"


def test_the_password_is_the_file_s_one_line(tmp_path):
    assert read_password(password_file(tmp_path, f"{PASSWORD}\n")) == PASSWORD


@pytest.mark.parametrize(
    ("content", "problem"),
    [(None, "cannot be read (No such file or directory)"), ("", "is empty"), (" \n", "is empty"),
     ("one\ntwo\n", "holds more than one line"), ("dir", "cannot be read (Is a directory)")],
)  # fmt: skip
def test_a_bad_file_names_the_setting_never_the_content(tmp_path, content, problem):
    path = password_file(tmp_path, content)
    with pytest.raises(SettingsError) as raised:
        read_password(path)
    assert str(raised.value).startswith(f"{VARIABLE}={path} {problem}")
    assert "one\ntwo" not in str(raised.value)
    assert "two" not in str(raised.value)


@pytest.mark.parametrize("content", [None, ""])
def test_the_start_stops_with_exit_64_naming_the_password_setting(tmp_path, content):
    path = password_file(tmp_path, content)
    env = {
        "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "SERVE_METRICS_PORT": "0",
        "SERVE_SESSION_STORE": "redis://127.0.0.1:9/0", "STREAMLIT_SERVER_COOKIE_SECRET": "c" * 64,
        VARIABLE: str(path),
    }  # fmt: skip
    command = [sys.executable, "-m", "streamlit_serving", "run", "app/streamlit_app.py"]
    result = subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 64, result.stderr
    assert f"serve: {VARIABLE}={path} " in result.stderr


@pytest.mark.parametrize(
    ("content", "problem"),
    [(None, "cannot be read"), ("", "is empty"), ("two words", "must be one line of letters"),
     ("one\ntwo", "must be one line of letters"), ('"quoted"', "must be one line of letters")],
)  # fmt: skip
def test_the_store_s_entrypoint_refuses_a_bad_file_with_64_before_redis_starts(tmp_path, content, problem):
    path = password_file(tmp_path, content)
    env = {
        "PATH": "/usr/bin:/bin",
        "SESSION_STORE_PASSWORD_FILE": str(path),
        "SESSION_STORE_CONF_DIR": str(tmp_path),
    }
    result = subprocess.run(
        ["sh", ENTRYPOINT], env=env, capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 64, result.stderr
    assert f"session-store: SESSION_STORE_PASSWORD_FILE={path} {problem}" in result.stderr
    assert not (tmp_path / "session-store.conf").exists(), "nothing rendered"


def test_the_image_takes_the_password_from_the_file_only():
    """No ENV, ARG or command-line argument holds it: the entrypoint renders requirepass into a
    file of the store's user alone and the health check sends AUTH on redis-cli's standard input."""
    dockerfile = (REPO / "deploy/session-store/Dockerfile").read_text()
    instructions = "\n".join(line for line in dockerfile.splitlines() if not line.startswith("#"))
    assert "requirepass" not in instructions
    assert "PASSWORD" not in instructions
    assert 'ENTRYPOINT ["/usr/local/bin/entrypoint.sh"]' in dockerfile
    assert 'CMD ["/usr/local/bin/healthcheck.sh"]' in dockerfile
    conf = (REPO / "deploy/session-store/redis.conf").read_text().splitlines()
    assert not [line for line in conf if line.startswith("requirepass")]
    entrypoint = ENTRYPOINT.read_text()
    assert "umask 077" in entrypoint
    assert "printf 'include %s\\nrequirepass %s\\n'" in entrypoint  # a builtin: no argv
    check = (REPO / "deploy/session-store/healthcheck.sh").read_text()
    assert "printf 'AUTH %s\\nPING\\n' \"$password\" | redis-cli -p 6379" in check
    assert "-a " not in check
    assert "REDISCLI_AUTH" not in check
    for script in (ENTRYPOINT, REPO / "deploy/session-store/healthcheck.sh"):
        assert os.access(script, os.X_OK), script  # COPY keeps the mode


def test_secret_file_makes_a_random_password_once_and_keeps_it(tmp_path):
    path = tmp_path / "secrets" / "session_store_password"
    env = {**os.environ, "SESSION_STORE_PASSWORD_FILE": str(path)}
    script = [str(REPO / "scripts/deploy/secret-file.sh"), "session_store_password"]
    made = subprocess.run(script, env=env, capture_output=True, text=True, check=True)
    assert made.stdout == f"{path}\n"
    first = path.read_text()
    assert len(first.strip()) == 64
    assert read_password(path) == first.strip()
    assert path.stat().st_mode & 0o777 == 0o644  # readable by the store's and the app's UIDs
    assert (path.parent.stat().st_mode & 0o777) == 0o700
    subprocess.run(script, env=env, capture_output=True, text=True, check=True)
    assert path.read_text() == first, "kept"
    bad = subprocess.run([script[0], "other"], capture_output=True, text=True, check=False)
    assert bad.returncode == 64


def test_compose_mounts_the_one_secret_into_the_store_and_the_app_and_no_environment_holds_it(tmp_path):
    password = tmp_path / "session_store_password"
    password.write_text(PASSWORD)
    config = compose_config("compose.yaml", "compose.session-store.yaml",
                            SESSION_STORE_IMAGE="s", SESSION_STORE_PASSWORD_FILE=str(password))  # fmt: skip
    app, store = config["services"]["app"], config["services"]["session-store"]
    assert sorted(s["source"] for s in app["secrets"]) == ["cookie_secret", "session_store_password"]
    assert [s["source"] for s in store["secrets"]] == ["session_store_password"]
    assert config["secrets"]["session_store_password"]["file"] == str(password)
    assert app["environment"][VARIABLE] == str(STORE_PASSWORD_MOUNTED)
    assert "environment" not in store  # the image's default path: /run/secrets/session_store_password
    assert PASSWORD not in yaml.safe_dump(config)


def test_swarm_gives_each_service_the_secret_for_its_own_user_alone():
    stack = yaml.safe_load((REPO / "deploy/swarm/session-store.yaml").read_text())
    for service, uid in (("app", "10001"), ("session-store", "10006")):
        (mount,) = (
            s for s in stack["services"][service]["secrets"] if s["source"] == "session_store_password"
        )
        assert (mount["target"], mount["uid"], mount["gid"], mount["mode"]) == (
            "session_store_password", uid, uid, 0o400,
        )  # fmt: skip
    swarm_app = yaml.safe_load((REPO / "deploy/swarm/stack.yaml").read_text())["services"]["app"]
    assert swarm_app["environment"][VARIABLE] == str(STORE_PASSWORD_MOUNTED)
    assert stack["secrets"]["session_store_password"]["file"].startswith("${SESSION_STORE_PASSWORD_FILE")
    swarm = (REPO / "scripts/deploy/swarm.sh").read_text()
    assert "SESSION_STORE_PASSWORD_FILE=$(scripts/deploy/secret-file.sh session_store_password)" in swarm


def test_every_file_the_store_s_image_copies_is_in_the_build_context():
    """.dockerignore is an allow-list: a file the Dockerfile copies but the list leaves out fails
    the build (the entrypoint and the health check were, once)."""
    allowed = [line[1:] for line in (REPO / ".dockerignore").read_text().splitlines() if line.startswith("!")]
    dockerfile = (REPO / "deploy/session-store/Dockerfile").read_text()
    sources = [
        source
        for line in dockerfile.splitlines()
        if line.startswith("COPY ") and "--from" not in line
        for source in line.split()[1:-1]
    ]
    assert len(sources) == 3
    for source in sources:
        assert any(source == item or (item.endswith("/") and source.startswith(item)) for item in allowed), (
            source
        )
