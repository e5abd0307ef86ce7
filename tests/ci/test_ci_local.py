"""What `make ci-local` (scripts/ci/ci-local.sh) proves after act ran .github/workflows/ci.yml: every
job green, every local stand-in did its job (each records what it did under build/ci/stand-ins),
and the publish job's images are in the local registry, pulled back here. Run by the script,
never by `make test` (it needs the run's output: CI_LOCAL_OUT, CI_LOCAL_REGISTRY, ...)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(os.environ.get("CI_LOCAL_OUT", ROOT / "build/ci"))
REGISTRY = os.environ.get("CI_LOCAL_REGISTRY", "")
TAG = os.environ.get("CI_LOCAL_TAG", "v0.0.0")
OWNER = os.environ.get("CI_LOCAL_OWNER", "")
REPO = os.environ.get("CI_LOCAL_REPO", "template")  # scripts/ci/ci-local.sh's OWNER/REPO
# Every image of deploy/images.tsv: (name, Dockerfile, default tag's repository).
LISTED = [
    line.split("\t")
    for line in (ROOT / "deploy/images.tsv").read_text().splitlines()
    if line and line[0] != "#"
]
JOBS = (
    {"lint", "images", "make test and scans"}
    | {f"build {row[0]}" for row in LISTED}
    | {f"publish {row[0]}" for row in LISTED}
)
#: The default tags' repositories, {name} the app's (the example's, as the workflow builds it).
APP_NAME = subprocess.run(
    ["scripts/deploy/images.sh", "--name"], cwd=ROOT, capture_output=True, text=True, check=True
).stdout.strip()
IMAGES = tuple(row[2].split(":")[0].replace("{name}", APP_NAME) for row in LISTED)
DOCKERFILES = sorted(row[3] for row in LISTED)


def records(action: str) -> list[dict]:
    path = OUT / "stand-ins" / f"{action.replace('/', '_')}.jsonl"
    assert path.exists(), f"the {action} stand-in recorded nothing"
    return [json.loads(line) for line in path.read_text().splitlines()]


def docker(*args: str) -> subprocess.CompletedProcess[str]:
    client = run("scripts/setup/ensure-docker.sh").stdout.split()[-1]
    return subprocess.run([client, *args], capture_output=True, text=True, check=False)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=True)


def head_sha() -> str:
    return run("git", "rev-parse", "HEAD").stdout.strip()


def jobs_that(outcome: str, log: str) -> set[str]:
    """The jobs act's log says ended with ``outcome``: it pads the names in its prefix and numbers
    a matrix's jobs (``publish app-1``)."""
    names = re.findall(rf"^\[ci/([^\]]+)\]\s+🏁\s+Job {outcome}", log, flags=re.M)
    return {re.sub(r"-\d+$", "", name.strip()) for name in names}


def test_every_job_of_the_workflow_succeeded():
    log = (OUT / "act.log").read_text()
    assert jobs_that("failed", log) == set()
    assert jobs_that("succeeded", log) == JOBS


def test_the_test_job_ran_the_readmes_make_test_every_tier_passed_none_skipped():
    """`make test` inside the workflow is the README's test command, run as the runner user: each
    tier of scripts/ci/test.sh in order, each ending in pytest's summary with passes only."""
    log = re.sub(r"\x1b\[[0-9;]*m", "", (OUT / "act.log").read_text())  # pytest colours under act
    tiers = re.search(r"\|\| tiers=\((.*)\)", (ROOT / "scripts/ci/test.sh").read_text())[1].split()
    assert re.findall(r"=== tier: (\w+) ===", log) == tiers
    summary_line = r"^\[ci/make test and scans\s*\].*?=+ (\d+ \w+.* in [\d.]+s.*?) =+$"
    summaries = re.findall(summary_line, log, flags=re.M)
    assert len(summaries) == len(tiers), summaries
    for summary in summaries:
        assert re.fullmatch(r"\d+ passed(, \d+ warnings?)? in [\d.]+s( \([\d:]+\))?", summary), summary


def test_setup_python_used_the_hosts_python_3_11_in_every_python_job():
    entries = records("actions/setup-python")
    assert {entry["job"] for entry in entries} == {"lint", "test"}
    assert {entry["version"] for entry in entries} == {"3.11"}


def test_images_built_once_per_job_and_pushed_only_by_publish():
    entries = records("docker/build-push-action")
    by_job: dict[str, list[dict]] = {}
    for entry in entries:
        by_job.setdefault(entry["job"], []).append(entry)
    assert sorted(by_job) == ["build", "publish"]
    assert sorted(e["file"] for e in by_job["build"]) == DOCKERFILES
    assert all(e["pushed"] == "false" and e["imageid"].startswith("sha256:") for e in by_job["build"])
    assert all(e["outputs"].startswith("type=docker,dest=build/images/") for e in by_job["build"])
    # The test job took every file the build job wrote.
    (download,) = records("actions/download-artifact")
    assert sorted(download["names"].split()) == sorted(f"image-{row[0]}" for row in LISTED)
    assert len(by_job["publish"]) == len(LISTED)
    assert all(e["pushed"] == "true" and e["digest"].startswith("sha256:") for e in by_job["publish"])
    assert all("provenance=mode=max" in e["not_here"] for e in by_job["publish"])


def test_buildx_stand_in_found_the_engine_in_each_docker_job():
    jobs = {entry["job"] for entry in records("docker/setup-buildx-action")}
    assert jobs == {"build", "publish"}


def test_login_and_tags_name_the_registry_of_the_workflow_variable():
    assert REGISTRY, "CI_LOCAL_REGISTRY not set: run through make ci-local"
    assert {entry["registry"] for entry in records("docker/login-action")} == {REGISTRY}
    tags = " ".join(entry["tags"] for entry in records("docker/metadata-action")).split()
    version = TAG.removeprefix("v")
    for image in IMAGES:
        base = f"{REGISTRY}/{OWNER}/{REPO}/{image}"
        assert f"{base}:{version}" in tags
        assert f"{base}:latest" in tags  # metadata-action's flavor latest=auto on a release tag
        assert f"{base}:sha-{head_sha()[:7]}" in tags


def test_the_scan_stand_in_audited_the_app_lock_and_uploaded_sarif():
    entries = records("aquasecurity/trivy-action")
    # The app image's SARIF, then one gate per listed image.
    assert [(e["format"], e["severity"]) for e in entries] == [("sarif", "")] + [
        ("table", "HIGH,CRITICAL")
    ] * len(LISTED)
    pinned = re.findall(r"^[A-Za-z0-9_.-]+==", (ROOT / "requirements/app.txt").read_text(), flags=re.M)
    assert all(int(e["audited"]) == len(pinned) for e in entries)  # the app's whole lock
    (upload,) = records("github/codeql-action/upload-sarif")
    sarif = json.loads(Path(upload["stored"]).read_text())
    assert sarif["version"] == "2.1.0"
    assert sarif["runs"][0]["properties"]["audited"] == int(entries[0]["audited"])


def test_artifacts_hold_the_load_gate_report_and_the_screenshots():
    stored = {entry["name"]: entry for entry in records("actions/upload-artifact")}
    assert set(stored) == {"loadtest-report", "screenshots"} | {f"image-{row[0]}" for row in LISTED}
    report = OUT / "artifacts/loadtest-report"
    assert (report / "summary.md").read_text().strip()
    assert json.loads((report / "results.json").read_text())
    shots = list((OUT / "artifacts/screenshots").glob("*.png"))
    assert len(shots) >= 2, shots


@pytest.mark.parametrize("image", IMAGES)
def test_the_published_image_pulls_back_from_the_registry(image):
    reference = f"{REGISTRY}/{OWNER}/{REPO}/{image}:{TAG.removeprefix('v')}"
    with urllib.request.urlopen(f"http://{REGISTRY}/v2/_catalog", timeout=10) as response:
        assert f"{OWNER}/{REPO}/{image}" in json.loads(response.read())["repositories"]
    docker("image", "rm", reference)  # the tag only: the pull below must come from the registry
    pulled = docker("pull", reference)
    assert pulled.returncode == 0, pulled.stderr
    (config,) = json.loads(docker("image", "inspect", reference).stdout)
    labels = config["Config"]["Labels"]
    assert labels["org.opencontainers.image.revision"] == head_sha()
    assert labels["org.opencontainers.image.version"] == TAG.removeprefix("v")
    digests = {e["digest"] for e in records("docker/build-push-action") if e["job"] == "publish"}
    assert {d.split("@")[1] for d in config["RepoDigests"] if d.startswith(REGISTRY)} & digests
