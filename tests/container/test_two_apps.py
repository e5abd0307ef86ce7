"""Two apps side by side on one engine, each started with `make up APP_DIR=...` and nothing else
naming it: each app's name (streamlit_serving/app_settings.py) names its images and its compose
project, so neither stack takes the other's place, and `make down` of one leaves the other up.

Streamlit's hello demo (a copy named ``hello-<pid>``: no serving.toml, named after its directory)
and a tiny app that declares ``name = "tiny-<pid>"`` in its serving.toml, with ``[replicas]`` (2
replicas of 0.5 CPU and 512 MB) and an ``[egress]`` table: compose runs what the file says, and
APP_REPLICAS given to make wins over its count (a stray APP_CPUS in the shell does not win over
its cpus). Only the two app images are built
(`scripts/deploy/build-images.sh app`); both stacks use the session's proxy image."""

from __future__ import annotations

import os
import shutil
import ssl
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from streamlit_load.local_server import free_port

from .conftest import ROOT, as_typed, run

TINY = "import streamlit as st\n\nst.title('Tiny app')\n"
TINY_SETTINGS = """
[replicas]
count = 2
cpus = 0.5
memory_mb = 512

[egress]
allow = ["10.0.0.0/8:5432"]
"""
TITLE = '{{index .Config.Labels "org.opencontainers.image.title"}}'


def make(target: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["make", "-s", target], cwd=ROOT, env=as_typed(env), capture_output=True, text=True)


def healthy(url: str, ca_file: Path) -> bool:
    context = ssl.create_default_context(cafile=str(ca_file))
    try:
        with urllib.request.urlopen(f"{url}_stcore/health", timeout=5, context=context) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def two_apps(tmp_path_factory, hello_app: Path) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("two-apps")
    hello = shutil.copytree(hello_app, root / f"hello-{os.getpid()}")
    tiny = root / "tiny-app"
    tiny.mkdir()
    (tiny / "streamlit_app.py").write_text(TINY)
    (tiny / "serving.toml").write_text(f'name = "tiny-{os.getpid()}"\n{TINY_SETTINGS}')
    return {f"hello-{os.getpid()}": hello, f"tiny-{os.getpid()}": tiny}


@pytest.fixture(scope="module")
def stacks(
    docker: str, images: dict[str, str], local_tls: Path, two_apps: dict[str, Path], tmp_path_factory
) -> Iterator[dict[str, dict[str, str]]]:
    """Both apps' app images built, then both stacks up; each app's environment names nothing of
    it but APP_DIR (no STACK_PROJECT, no APP_IMAGE): the session's proxy image, free ports."""
    secret = tmp_path_factory.mktemp("two-apps-secret") / "cookie_secret"
    secret.write_text("a" * 64)
    secret.chmod(0o644)
    base = {
        key: value
        for key, value in os.environ.items()
        if not key.endswith("_IMAGE")
        and key not in ("STACK_PROJECT", "APP_MAIN")
        and not key.startswith("TLS_")
    }
    envs: dict[str, dict[str, str]] = {}
    try:
        for name, directory in two_apps.items():
            env = {**base, "APP_DIR": str(directory), "PROXY_IMAGE": images["PROXY_IMAGE"],
                   "PROXY_PORT": str(free_port()), "PROXY_TLS_PORT": str(free_port()),
                   "LOCAL_TLS_DIR": str(local_tls), "COOKIE_SECRET_FILE": str(secret),
                   "IMAGES_PREBUILT": "0", "SKIP_BUILD": "1"}  # fmt: skip
            envs[name] = env
            names = subprocess.run(
                ["scripts/deploy/images.sh", "--env"], cwd=ROOT, env=env, capture_output=True, text=True
            )
            assert f"APP_IMAGE={name}:dev\n" in names.stdout, names.stderr
            built = subprocess.run(
                ["scripts/deploy/build-images.sh", "app"], cwd=ROOT, env=env, capture_output=True, text=True
            )
            assert built.returncode == 0, built.stderr[-4000:]
            assert built.stdout.split() == [f"{name}:dev"]
        for name, env in envs.items():
            up = make("up", env)
            assert up.returncode == 0, f"make up APP_DIR={env['APP_DIR']} failed:\n{up.stderr[-4000:]}"
            replicas = 2 if name.startswith("tiny-") else 1  # the tiny app's [replicas] count
            assert f"stack: {name} is up with {replicas} app replica(s)" in up.stderr
            env["URL"] = up.stdout.split()[-1]
            env["UP_LOG"] = up.stderr
        yield envs
    finally:
        for name, env in envs.items():
            make("down", env)
            run(docker, "rmi", "-f", f"{name}:dev", check=False)
        run("scripts/deploy/stage-app.sh", check=False)  # build/app-src back to the example


def project_containers(docker: str, project: str) -> dict[str, str]:
    """{service: image} of the project's running containers."""
    listed = run(docker, "ps", "--filter", f"label=com.docker.compose.project={project}",
                 "--format", '{{.Label "com.docker.compose.service"}} {{.Image}}').stdout  # fmt: skip
    return dict(line.split() for line in listed.splitlines())


def app_limits(docker: str, project: str) -> list[tuple[int, int]]:
    """(NanoCpus, Memory) of each of the project's app containers, as the engine runs them."""
    ids = run(docker, "ps", "-q", "--filter", f"label=com.docker.compose.project={project}",
              "--filter", "label=com.docker.compose.service=app").stdout.split()  # fmt: skip
    shown = run(docker, "inspect", "-f", "{{.HostConfig.NanoCpus}} {{.HostConfig.Memory}}", *ids).stdout
    return [(int(cpus), int(memory)) for cpus, memory in (line.split() for line in shown.splitlines())]


def test_each_app_runs_the_replicas_and_limits_its_serving_toml_names(
    docker: str, stacks: dict[str, dict[str, str]]
):
    hello, tiny = stacks
    assert app_limits(docker, tiny) == [(500_000_000, 512 * 2**20)] * 2  # its [replicas]
    assert app_limits(docker, hello) == [(1_000_000_000, 1024 * 2**20)]  # compose.yaml's defaults
    assert "compose and Swarm have no egress control" in stacks[tiny]["UP_LOG"]
    assert "egress" not in stacks[hello]["UP_LOG"]


def test_app_replicas_given_to_make_wins_over_the_file_s_count(
    docker: str, stacks: dict[str, dict[str, str]]
):
    _, tiny = stacks
    # A stray APP_CPUS in the shell: the file's cpus still win.
    up = make("up", {**stacks[tiny], "APP_REPLICAS": "1", "APP_CPUS": "8"})
    assert up.returncode == 0, up.stderr[-4000:]
    assert f"stack: {tiny} is up with 1 app replica(s)" in up.stderr
    assert app_limits(docker, tiny) == [(500_000_000, 512 * 2**20)]  # the file's limits still


def test_each_stack_runs_its_own_image_and_down_of_one_leaves_the_other(
    docker: str, images: dict[str, str], local_tls: Path, stacks: dict[str, dict[str, str]]
):
    hello, tiny = stacks
    assert hello != tiny
    for name, env in stacks.items():
        # The compose project is the app's name; its app container runs the app's own image.
        assert project_containers(docker, name) == {"app": f"{name}:dev", "proxy": images["PROXY_IMAGE"]}
        assert healthy(env["URL"], local_tls / "ca.pem"), name
    assert stacks[hello]["URL"] != stacks[tiny]["URL"]
    # Each image holds its own app: the title label is the app's name, the hello demo's pages.
    for name in stacks:
        assert run(docker, "image", "inspect", "-f", TITLE, f"{name}:dev").stdout.strip() == name
    for name, own_file in ((hello, "mapping_demo.py"), (tiny, "serving.toml")):
        container = run(docker, "ps", "-q", "--filter", f"label=com.docker.compose.project={name}",
                        "--filter", "label=com.docker.compose.service=app").stdout.split()[0]  # fmt: skip
        assert own_file in run(docker, "exec", container, "ls", "/srv/app/app").stdout.split()

    down = make("down", stacks[hello])
    assert down.returncode == 0, down.stderr[-4000:]
    assert project_containers(docker, hello) == {}
    assert project_containers(docker, tiny) == {"app": f"{tiny}:dev", "proxy": images["PROXY_IMAGE"]}
    assert healthy(stacks[tiny]["URL"], local_tls / "ca.pem")
