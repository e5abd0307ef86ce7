"""docs/deploy.md's recipes for a container host, run as written: "Compose on a VM" (`make up` with
production settings) and "Plain `docker run`". Only what a test must replace is replaced (the
pushed images by the session's, /etc/sales-dashboard by a directory of the test's, ports 80/443
and 8501 by free ones, the clone by this checkout), and each replacement must find its text, so a
recipe changed in the docs is a recipe changed here.

What they must do: refuse to start without a sign-in choice, start with sign-in on, make the
cookie secret, and leave no secret in what `docker inspect` shows of any container.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from streamlit_load.client.tls import client_context
from streamlit_load.local_server import free_port

from .conftest import ROOT, as_typed, run

DOCS = ROOT / "docs/deploy.md"
AS_ROOT = ROOT / "scripts/setup/as-root.sh"
# A provider the app never reaches before someone signs in: the stack starts and stays healthy.
OIDC_TOML = """server_metadata_url = "https://idp.invalid/.well-known/openid-configuration"
client_id = "sales-dashboard"
client_secret = "{client_secret}"
redirect_uri = "https://dashboard.example.com/oauth2callback"
"""


def recipe(heading: str) -> str:
    """The first ```bash block under ``heading`` in docs/deploy.md."""
    text = DOCS.read_text()
    section = text[text.index(f"\n{heading}\n") :]
    found = re.search(r"```bash\n(.*?)```", section, re.S)
    assert found, f"no bash block under {heading}"
    return found.group(1)


def replace(block: str, replacements: dict[str, str]) -> str:
    for old, new in replacements.items():
        assert old in block, f"the recipe no longer holds {old!r}"
        block = block.replace(old, new)
    return block


def bash(script: str, env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """The script as a user types it in bash, `sudo` being scripts/setup/as-root.sh (root needs none)."""
    prelude = f'set -e\nsudo() {{ "{AS_ROOT}" "$@"; }}\n'
    return subprocess.run(["bash", "-c", prelude + script], cwd=ROOT, env=as_typed(env), capture_output=True,
                          text=True, timeout=timeout, check=False)  # fmt: skip


def no_secret_in_inspect(docker: str, containers: list[str], values: dict[str, str]) -> None:
    assert containers
    inspected = run(docker, "inspect", *containers).stdout
    for what, value in values.items():
        assert value
        assert value not in inspected, f"{what} is in `docker inspect`"
    for container in json.loads(inspected):
        for variable in container["Config"]["Env"]:
            assert not variable.startswith("STREAMLIT_SERVER_COOKIE_SECRET="), container["Name"]


@pytest.fixture
def etc(tmp_path: Path) -> Iterator[Path]:
    """Stands in for /etc/sales-dashboard; the recipes make it root's (sudo install -d)."""
    directory = tmp_path / "etc-sales-dashboard"
    yield directory
    subprocess.run([str(AS_ROOT), "rm", "-rf", str(directory)], check=False)


def test_compose_on_a_vm_refuses_open_starts_with_sign_in_and_inspect_shows_no_secret(
    docker, images, local_tls, etc, tmp_path
):
    port, tls_port = free_port(), free_port()
    etc.mkdir()
    shutil.copy(local_tls / "cert.pem", etc / "fullchain.pem")
    shutil.copy(local_tls / "key.pem", etc / "privkey.pem")
    (etc / "privkey.pem").chmod(0o644)  # readable by the proxy's UID in the container
    client_secret = secrets.token_hex(24)
    (etc / "oidc.toml").write_text(OIDC_TOML.format(client_secret=client_secret))
    (etc / "oidc.toml").chmod(0o644)
    cookie_file = tmp_path / "secrets" / "cookie_secret"  # not there yet: `make up` makes it
    block = recipe("### Compose on a VM")
    clone, rest = block.split("\n", 1)
    assert clone.startswith("git clone ")  # this checkout stands in for the clone
    script = replace(rest, {
        "ghcr.io/OWNER/REPO/sales-dashboard:1.2.3": images["APP_IMAGE"],
        "ghcr.io/OWNER/REPO/sales-dashboard-proxy:1.2.3": images["PROXY_IMAGE"],
        "/etc/sales-dashboard/": f"{etc}/",
        "PROXY_PORT=80 ": f"PROXY_PORT={port} ",
        "PROXY_TLS_PORT=443\n": f"PROXY_TLS_PORT={tls_port}\n",
    })  # fmt: skip
    project = f"vmrecipe{port}"
    env = {
        **{key: value for key, value in os.environ.items()
           if not key.startswith(("TLS_", "OIDC_", "SERVE_", "PROXY_", "STACK_"))},
        "STACK_PROJECT": project, "COOKIE_SECRET_FILE": str(cookie_file),
    }  # fmt: skip

    # Without a sign-in choice (no OIDC_FILE, no SERVE_AUTH): refused before anything starts.
    refused = bash(replace(script, {f"export OIDC_FILE={etc}/oidc.toml ": "export "}), env, timeout=120)
    assert refused.returncode == 2  # make's own status for a failed recipe (stack.sh exits 64)
    assert "STACK_PRODUCTION=1 requires sign-in: set OIDC_FILE" in refused.stderr, refused.stderr
    assert "or SERVE_AUTH=none-public" in refused.stderr
    assert run(docker, "ps", "-aq", "--filter", f"label=com.docker.compose.project={project}").stdout == ""
    assert not cookie_file.exists()

    up = bash(script, env)
    try:
        assert up.returncode == 0, up.stderr[-4000:]
        assert up.stdout.splitlines()[-1] == f"https://localhost:{tls_port}/"
        assert "stack: sign-in is on (SERVE_AUTH=oidc)" in up.stderr
        assert "WARNING: the proxy listens on every interface of this host (PROXY_BIND=0.0.0.0," in up.stderr
        assert "bypass ufw and firewalld" in up.stderr
        assert f"secret-file: made a new cookie_secret in {cookie_file}" in up.stderr
        cookie_secret = cookie_file.read_text().strip()
        containers = run(
            docker, "ps", "-q", "--filter", f"label=com.docker.compose.project={project}"
        ).stdout.split()
        assert len(containers) == 2  # the app and the proxy
        published = "".join(run(docker, "port", container).stdout for container in containers)
        assert f"8443/tcp -> 0.0.0.0:{tls_port}" in published  # every interface, as the recipe asks
        key = (etc / "privkey.pem").read_text()
        key_body = "".join(line for line in key.splitlines() if not line.startswith("-----"))
        values = {
            "the cookie secret": cookie_secret,
            "the client secret": client_secret,
            "the TLS key": key_body[:64],
        }
        no_secret_in_inspect(docker, containers, values)
        context = client_context(local_tls / "ca.pem")
        with urllib.request.urlopen(
            f"https://127.0.0.1:{tls_port}/_stcore/health", context=context, timeout=10
        ) as r:
            assert r.status == 200
    finally:
        bash("scripts/deploy/stack.sh down", env, timeout=120)


def test_plain_docker_run_reads_the_cookie_secret_from_a_file_and_requires_sign_in(docker, app_image, etc):
    port = free_port()
    name = f"recipe-run-{port}"
    client_secret = secrets.token_hex(24)
    oidc = etc.parent / "oidc.toml"  # the provider's file, put in place before the recipe runs
    oidc.write_text(OIDC_TOML.format(client_secret=client_secret))
    script = replace(recipe("### Plain `docker run`"), {
        "/etc/sales-dashboard": str(etc),
        "--name sales-dashboard ": f"--name {name} ",
        "-p 127.0.0.1:8501:8501 ": f"-p 127.0.0.1:{port}:8501 ",
        "ghcr.io/OWNER/REPO/sales-dashboard:1.2.3": app_image,
    })  # fmt: skip
    assert "-e STREAMLIT_SERVER_COOKIE_SECRET=" not in script
    script = script.replace(
        "docker run -d", f"{AS_ROOT} install -m 0644 {oidc} {etc}/oidc.toml\ndocker run -d"
    )
    try:
        ran = bash(script, {**os.environ, "PATH": f"{Path(docker).parent}:{os.environ['PATH']}"}, timeout=120)
        assert ran.returncode == 0, ran.stderr
        cookie_secret = run(str(AS_ROOT), "cat", f"{etc}/cookie_secret").stdout.strip()
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                state = json.loads(run(docker, "inspect", name).stdout)[0]["State"]
                assert state["Running"], run(docker, "logs", name, check=False).stderr[-2000:]
                assert time.monotonic() < deadline, "not healthy in 60 s"
                time.sleep(0.5)
        no_secret_in_inspect(
            docker, [name], {"the cookie secret": cookie_secret, "the client secret": client_secret}
        )
        assert "SERVE_AUTH_REQUIRED=on" in json.loads(run(docker, "inspect", name).stdout)[0]["Config"]["Env"]
    finally:
        run(docker, "rm", "-f", name, check=False)
