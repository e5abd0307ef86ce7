"""Community Cloud's conventions on a real engine: an app with a packages.txt (jq, from Debian's
archive) and a .streamlit/secrets.toml, deployed with `make up APP_DIR=...` and nothing else (sign-in
off). The package is in the hardened image, the page reads its secret through st.secrets and the
environment (seen through the proxy with the protocol client; the page shows a digest, never the
value), and neither the image nor `docker inspect` of the container holds the value. A package
Debian does not have stops the build, naming it."""

from __future__ import annotations

import hashlib
import os
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from streamlit_load.client.session import StreamlitSession
from streamlit_load.local_server import free_port

from .conftest import ROOT, as_typed, run

SECRET = f"conv-{secrets.token_hex(12)}"
DIGEST = hashlib.sha256(SECRET.encode()).hexdigest()[:16]
APP = """\
import hashlib
import os
import subprocess

import streamlit as st

st.title("Conventions")
token = st.secrets["API_TOKEN"]
st.write("secret digest " + hashlib.sha256(token.encode()).hexdigest()[:16])
st.write("environment matches " + str(os.environ.get("API_TOKEN") == token))
st.write("retries " + os.environ.get("RETRIES", "unset"))
st.write("database " + st.secrets["connections"]["db"]["dialect"])
st.write("jq says " + subprocess.run(["jq", "-n", "1+1"], capture_output=True, text=True).stdout.strip())
"""


@pytest.fixture(scope="session")
def users_stack() -> None:
    """This module builds and starts a stack of its own and needs no other: the tier's autouse
    user's stack (conftest.py) is not started for it alone (it is when the whole tier runs)."""
    return None


def make(target: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["make", "-s", target], cwd=ROOT, env=as_typed(env), capture_output=True, text=True)


@pytest.fixture(scope="module")
def conventions_app(tmp_path_factory) -> Path:
    app = tmp_path_factory.mktemp("conventions") / f"conv-conventions-{os.getpid()}"
    (app / ".streamlit").mkdir(parents=True)
    (app / "streamlit_app.py").write_text(APP)
    (app / "packages.txt").write_text("# Community Cloud's format\njq\n")
    secrets_file = app / ".streamlit" / "secrets.toml"
    secrets_file.write_text(
        f'API_TOKEN = "{SECRET}"\nRETRIES = 3\n\n[connections.db]\ndialect = "postgresql"\n'
    )
    secrets_file.chmod(0o600)  # as a careful user keeps it: the stack hands the app's UID a copy
    return app


@pytest.fixture(scope="module")
def stack(
    docker: str, images: dict[str, str], local_tls: Path, conventions_app: Path, tmp_path_factory
) -> Iterator[dict[str, str]]:
    cookie = tmp_path_factory.mktemp("conventions-secret") / "cookie_secret"
    cookie.write_text("b" * 64)
    cookie.chmod(0o644)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TLS_", "SERVE_")) and k != "APP_MAIN"}
    name = conventions_app.name
    env = {**base, "APP_DIR": str(conventions_app), "APP_IMAGE": f"{name}:dev",
           "PROXY_IMAGE": images["PROXY_IMAGE"], "STACK_PROJECT": name,
           "PROXY_PORT": str(free_port()), "PROXY_TLS_PORT": str(free_port()),
           "LOCAL_TLS_DIR": str(local_tls), "COOKIE_SECRET_FILE": str(cookie),
           "APP_SECRETS_DIR": str(tmp_path_factory.mktemp("conventions-app-secrets")),
           "IMAGES_PREBUILT": "0", "SKIP_BUILD": "1"}  # fmt: skip
    try:
        built = subprocess.run(
            ["scripts/deploy/build-images.sh", "app"], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert built.returncode == 0, built.stderr[-4000:]
        up = make("up", env)
        assert up.returncode == 0, f"make up failed:\n{up.stderr[-4000:]}"
        assert SECRET not in up.stdout + up.stderr
        env["URL"] = up.stdout.split()[-1]
        yield env
    finally:
        make("down", env)
        run(docker, "volume", "rm", "-f", f"{name}_prometheus-data", check=False)  # compose made it
        run(docker, "rmi", "-f", f"{name}:dev", check=False)
        run("scripts/deploy/stage-app.sh", check=False)  # build/app-src back to the example


def app_container(docker: str, project: str) -> str:
    return run(docker, "ps", "-q", "--filter", f"label=com.docker.compose.project={project}",
               "--filter", "label=com.docker.compose.service=app").stdout.split()[0]  # fmt: skip


def test_the_page_reads_its_secret_and_its_environment_through_the_proxy(stack):
    with StreamlitSession(stack["URL"], timeout=60) as session:
        page = session.initial
        assert page.outcomes == ["FINISHED_SUCCESSFULLY"], page.texts[:5]
        for shown in (f"secret digest {DIGEST}", "environment matches True", "retries 3",
                      "database postgresql", "jq says 2"):  # fmt: skip
            assert page.has_text(shown), (shown, page.texts[:8])
        assert not page.has_text(SECRET)


def test_the_secret_is_in_no_image_layer_and_nothing_docker_inspect_shows(docker, stack):
    container = app_container(docker, stack["STACK_PROJECT"])
    inspected = run(docker, "inspect", container).stdout
    image = run(docker, "image", "inspect", stack["APP_IMAGE"]).stdout
    history = run(docker, "history", "--no-trunc", stack["APP_IMAGE"]).stdout
    for shown in (inspected, image, history):
        assert SECRET not in shown
    # The process's environment at exec (/proc/1/environ: what the engine gave it) lacks it too;
    # only the mounted secret file holds it, readable by the app's user.
    environ = run(docker, "exec", container, "cat", "/proc/1/environ").stdout
    assert "API_TOKEN" not in environ
    assert SECRET not in environ
    assert run(docker, "exec", container, "find", "/srv", "/opt", "-name", "secrets.toml").stdout == ""
    logs = run(docker, "logs", container)
    assert SECRET not in logs.stdout + logs.stderr
    assert "environment variables of this process: API_TOKEN, RETRIES" in logs.stderr


def test_packages_txt_is_installed_in_the_hardened_image_without_apt_lists(docker, stack):
    container = app_container(docker, stack["STACK_PROJECT"])
    assert run(docker, "exec", container, "jq", "--version").stdout.startswith("jq-")
    assert run(docker, "exec", container, "id", "-u").stdout.strip() == "10001"
    assert run(docker, "exec", container, "ls", "-A", "/var/lib/apt/lists").stdout == ""
    # The installer and the list are gone from the image's /tmp (the container's is a tmpfs).
    left = run(docker, "run", "--rm", "--entrypoint", "ls", stack["APP_IMAGE"], "-A", "/tmp").stdout
    assert left == ""
    readonly = run(docker, "inspect", "-f", "{{.HostConfig.ReadonlyRootfs}}", container).stdout.strip()
    assert readonly == "true"


def test_a_package_debian_does_not_have_stops_the_build_naming_it(tmp_path):
    app = tmp_path / "conv-bogus-app"
    app.mkdir()
    (app / "streamlit_app.py").write_text("import streamlit as st\n")
    (app / "packages.txt").write_text("jq\nno-such-package-conv\n")
    tag = f"conv-bogus-{os.getpid()}:dev"
    env = {**os.environ, "APP_DIR": str(app), "APP_IMAGE": tag, "IMAGES_PREBUILT": "0"}
    try:
        built = subprocess.run(
            ["scripts/deploy/build-images.sh", "app"], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert built.returncode != 0
        assert "packages.txt: no Debian package named: no-such-package-conv" in built.stderr, built.stderr[
            -3000:
        ]
    finally:
        run("scripts/deploy/stage-app.sh", check=False)
