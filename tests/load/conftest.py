"""The load tier's compose stack: built from the committed files (the same images and tags the
container tier builds, so the second build is Docker's cache), started once for the session on a
free 127.0.0.1 port, and reconfigured by each test that needs other settings."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from sales_load.page import SETTINGS_PREFIX
from streamlit_load.harness import REPO
from streamlit_load.local_server import free_port
from streamlit_load.targets import ComposeStack


@pytest.fixture(scope="session")
def images() -> dict[str, str]:
    """{"APP_IMAGE": tag, "PROXY_IMAGE": tag}, built by scripts/deploy/build-images.sh as `make up` does."""
    built = subprocess.run(["scripts/deploy/build-images.sh"], cwd=REPO, capture_output=True, text=True)
    assert built.returncode == 0, f"image build failed:\n{built.stderr[-4000:]}"
    listed = subprocess.run(
        ["scripts/deploy/images.sh", "--env"], cwd=REPO, capture_output=True, text=True, check=True
    )
    return dict(line.split("=", 1) for line in listed.stdout.split())


@pytest.fixture(scope="session")
def load_stack(images: dict[str, str]) -> Iterator[ComposeStack]:
    """deploy/compose.yaml as `make up` starts it, for the gate and the quick capacity run."""
    with ComposeStack(f"loadtier{free_port()}", build=False, env=images, app_prefix=SETTINGS_PREFIX) as stack:
        stack.start({"APP_REPLICAS": "1"})
        yield stack
