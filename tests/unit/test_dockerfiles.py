"""Every Dockerfile in the repository passes hadolint, and the images' contracts hold in the files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HADOLINT = Path(sys.executable).with_name("hadolint")
DOCKERFILES = sorted(
    path.relative_to(ROOT)
    for path in [*ROOT.glob("Dockerfile"), *ROOT.glob("*/**/Dockerfile"), *ROOT.glob("*/**/*.Dockerfile")]
    if ".venv" not in path.parts
)


IMAGE_DOCKERFILES = [
    line.split("\t")[3]
    for line in (ROOT / "deploy/images.tsv").read_text().splitlines()
    if line and line[0] != "#"
]
USERS = {"Dockerfile": 10001, "deploy/proxy/Dockerfile": 10002, "deploy/proxy-metrics/Dockerfile": 10003,
         "deploy/session-store/Dockerfile": 10006,
         "deploy/prometheus/Dockerfile": 10004, "deploy/oidc-dev/Dockerfile": 10005}  # fmt: skip


def test_the_images_dockerfiles_are_found():
    assert set(IMAGE_DOCKERFILES) == set(USERS)
    assert {Path(path) for path in IMAGE_DOCKERFILES} <= set(DOCKERFILES)


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=str)
def test_hadolint_is_clean(dockerfile):
    result = subprocess.run([HADOLINT, dockerfile], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_would_catch_a_bad_dockerfile(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM debian\nRUN apt-get install curl\n")  # untagged base, no -y, no pin
    result = subprocess.run([HADOLINT, bad], capture_output=True, text=True, check=False)
    assert result.returncode != 0
    assert "DL3006" in result.stdout


@pytest.mark.parametrize("dockerfile", IMAGE_DOCKERFILES)
def test_images_use_one_base_argument_and_a_fixed_non_root_user(dockerfile):
    text = (ROOT / dockerfile).read_text()
    assert "ARG BASE_IMAGE=debian:bookworm-slim" in text
    assert "FROM ${BASE_IMAGE}" in text
    user = [line for line in text.splitlines() if line.startswith("USER ")]
    assert user
    assert user[-1] == f"USER {USERS[dockerfile]}:{USERS[dockerfile]}"  # each image its own user
    assert "# syntax=" not in text  # it would pull a frontend image; none can be pulled here
