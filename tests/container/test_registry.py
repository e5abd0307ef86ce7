"""`make push` for real: Debian's docker-registry on 127.0.0.1, push every image, drop the local
tags, pull them back and run what was pulled."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator

import pytest

from sales_load.page import DashboardSession
from streamlit_load.local_server import stop

from .conftest import ROOT, free_port, run

REGISTRY_CONFIG = """\
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: {root}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:{port}
"""


def listed_images() -> list[tuple[str, str, str]]:
    """(name, variable, tag) of every image scripts/deploy/build-images.sh builds (deploy/images.tsv)."""
    variables = {
        row.split("\t")[0]: row.split("\t")[1]
        for row in (ROOT / "deploy/images.tsv").read_text().splitlines()
        if row.strip() and not row.startswith("#")
    }
    names_and_tags = [line.split()[:2] for line in run("scripts/deploy/images.sh").stdout.splitlines()]
    return [(name, variables[name], tag) for name, tag in names_and_tags]


def registry_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A plain-HTTP registry on a free 127.0.0.1 port (Docker trusts 127.0.0.0/8 without TLS)."""
    binary = run("scripts/setup/ensure-registry.sh").stdout.strip().splitlines()[-1]
    root = tmp_path_factory.mktemp("registry")
    port = free_port()
    config = root / "config.yml"
    config.write_text(REGISTRY_CONFIG.format(root=root / "storage", port=port))
    log = (root / "registry.log").open("w")
    process = subprocess.Popen([binary, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)
    address = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                registry_json(f"http://{address}/v2/")
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"registry did not start:\n{(root / 'registry.log').read_text()}")
                time.sleep(0.2)
        yield address
    finally:
        stop(process)
        log.close()


def push(registry: str, tag: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["scripts/deploy/push.sh"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "REGISTRY": registry, "TAG": tag, **env},
    )


@pytest.fixture(scope="module")
def sources(docker: str, app_image: str) -> Iterator[dict[str, str]]:
    """The built images under tags of this test alone ({variable: tag}): the engine is shared, and
    another checkout may rebuild the default tags while this module runs."""
    unique = uuid.uuid4().hex[:8]
    tags = {}
    try:
        for name, variable, tag in listed_images():
            tags[variable] = f"deploycfg-source-{name}:{unique}"
            run(docker, "tag", tag, tags[variable])
        yield tags
    finally:
        for tag in tags.values():
            run(docker, "rmi", tag, check=False)


@pytest.fixture(scope="module")
def pushed(docker: str, sources: dict[str, str], registry: str) -> Iterator[dict[str, str]]:
    """Every listed image pushed under a unique tag, then that tag removed locally:
    {pushed reference: image id}, the app image first."""
    tag = f"deploycfg-{uuid.uuid4().hex[:8]}"
    result = push(registry, tag, **sources)
    assert result.returncode == 0, result.stderr
    references = result.stdout.split()
    assert len(references) == len(sources)
    image_ids = {
        reference: run(docker, "image", "inspect", "-f", "{{.Id}}", source).stdout.strip()
        for reference, source in zip(references, sources.values(), strict=True)
    }
    try:
        for reference in references:
            run(docker, "rmi", reference)
            assert run(docker, "image", "inspect", reference, check=False).returncode != 0
        yield image_ids
    finally:
        for reference in references:
            run(docker, "rmi", reference, check=False)


def test_every_listed_image_is_in_the_registry(registry, pushed):
    catalog = registry_json(f"http://{registry}/v2/_catalog")["repositories"]
    for reference in pushed:
        repository, tag = reference.removeprefix(f"{registry}/").rsplit(":", 1)
        assert repository in catalog
        assert tag in registry_json(f"http://{registry}/v2/{repository}/tags/list")["tags"]


def test_pulled_images_are_the_images_built(docker, pushed):
    for reference, image_id in pushed.items():
        run(docker, "pull", "--quiet", reference)
        assert run(docker, "image", "inspect", "-f", "{{.Id}}", reference).stdout.strip() == image_id


def test_stack_runs_from_the_pulled_images(docker, pushed, local_tls, tmp_path):
    """What a container host does: pull the pushed images and run the stack from them (with the
    observability profile and the session store, so every listed image runs)."""
    references = list(pushed)  # deploy/images.tsv order
    for reference in references:
        run(docker, "pull", "--quiet", reference)
    variables = [variable for _, variable, _ in listed_images()]
    port = free_port()
    secret = tmp_path / "cookie_secret"
    secret.write_text(uuid.uuid4().hex * 2)
    secret.chmod(0o644)
    env = {
        **os.environ, **dict(zip(variables, references, strict=True)), "SKIP_BUILD": "1",
        "STACK_PROJECT": f"pulled{port}", "PROXY_PORT": str(port), "PROXY_BIND": "127.0.0.1",
        "PROXY_TLS_PORT": str(free_port()), "COOKIE_SECRET_FILE": str(secret),
        "LOCAL_TLS_DIR": str(local_tls), "OBSERVABILITY": "1", "PROMETHEUS_PORT": str(free_port()),
        "SESSION_STORE": "1",
    }  # fmt: skip
    try:
        up = subprocess.run(
            ["scripts/deploy/stack.sh", "up"], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert up.returncode == 0, up.stderr[-3000:]
        images = run(docker, "ps", "--filter", f"label=com.docker.compose.project=pulled{port}",
                     "--format", "{{.Image}}").stdout.split()  # fmt: skip
        # Every listed image runs except the development OpenID provider, which `make up` starts
        # only with SERVE_AUTH=oidc and no provider of the user's own (never in production).
        dev_provider = references[variables.index("OIDC_DEV_IMAGE")]
        assert sorted(images) == sorted(set(references) - {dev_provider})
        with DashboardSession(up.stdout.split()[-1]) as session:  # the app's URL: the last line
            assert session.initial.outcomes == ["FINISHED_SUCCESSFULLY"]
            assert session.pick_date("2023-01-15").outcomes == ["FINISHED_FRAGMENT_RUN_SUCCESSFULLY"]
    finally:
        down = ["scripts/deploy/stack.sh", "down", "--volumes"]
        subprocess.run(down, cwd=ROOT, env=env, capture_output=True, check=False)


def test_push_without_registry_says_so_and_pushes_nothing(app_image):
    result = push("", "x")
    assert result.returncode == 64
    assert "REGISTRY is not set" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("registry", "tag", "message"),
    [
        ("http://127.0.0.1:5000", "x", "no scheme"),
        ("Registry.Example", "x", "no scheme"),
        ("127.0.0.1:5000", "bad tag", "not a valid image tag"),
        ("127.0.0.1:5000", "-leading-dash", "not a valid image tag"),
    ],
)
def test_push_rejects_bad_input_before_touching_docker(registry, tag, message):
    result = push(registry, tag)
    assert result.returncode == 64
    assert message in result.stderr
    assert result.stdout == ""


def test_push_to_unreachable_registry_fails_and_keeps_local_images(docker, sources):
    closed = f"127.0.0.1:{free_port()}"  # nothing listens there
    tag = f"deploycfg-{uuid.uuid4().hex[:8]}"
    result = push(closed, tag, **sources)
    try:
        assert result.returncode == 1
        assert "push: pushing" in result.stderr
        assert "failed" in result.stderr
        for source in sources.values():
            assert run(docker, "image", "inspect", source, check=False).returncode == 0
    finally:
        for line in run(docker, "images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split():
            if line.startswith(f"{closed}/"):
                run(docker, "rmi", line, check=False)


def test_push_names_a_missing_image(registry):
    missing = f"deploycfg-missing-{uuid.uuid4().hex[:8]}:none"
    result = push(registry, "x", APP_IMAGE=missing)
    assert result.returncode == 1
    assert f"image {missing} not found" in result.stderr
    assert result.stdout == ""
