"""The structure of .github/workflows that matters for safety and for parity with local CI.

actionlint (in `make lint`) checks that the workflows are valid; these tests check what it does
not: every action pinned by commit, least privilege, publishing only from main and tags, and the
same `make` targets and images as the rest of the repository."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github/workflows").glob("*.y*ml"))
USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>[^\s#]+)(?:\s+#\s*(?P<comment>.*))?$")
PINNED = re.compile(r"^(?P<action>[\w.-]+/[\w./-]+)@(?P<sha>[0-9a-f]{40})$")
VERSION = re.compile(r"^v\d+(\.\d+){0,2}$")
PUBLISH_ACTIONS = ("docker/login-action", "actions/attest")
# Make targets the workflow calls that other branches are adding (browser tests, load gate);
# empty this set once they are merged, so that every called target must exist.
PENDING_TARGETS: set[str] = set()


def load(path: Path) -> dict[str, Any]:
    workflow = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the key `on` as True.
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


def steps(workflow: dict[str, Any]):
    for job_id, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield job_id, job, step


def images() -> list[dict[str, str]]:
    rows = []
    for line in (ROOT / "deploy/images.tsv").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, variable, _default, dockerfile, context = line.split("\t")
            rows.append({"name": name, "variable": variable, "dockerfile": dockerfile, "context": context})
    return rows


@pytest.fixture(params=WORKFLOWS, ids=lambda path: path.name)
def workflow_path(request) -> Path:
    return request.param


def test_there_is_a_workflow():
    assert [path.name for path in WORKFLOWS] == ["ci.yml"]


def test_every_action_is_pinned_by_commit_with_a_version_comment(workflow_path):
    pins: dict[str, set[tuple[str, str]]] = {}
    lines = [line for line in workflow_path.read_text().splitlines() if USES.match(line)]
    assert lines
    for line in lines:
        match = USES.match(line)
        pinned = PINNED.match(match["ref"])
        assert pinned, f"not pinned to a 40-hex commit: {line.strip()}"
        assert match["comment"], f"no version comment: {line.strip()}"
        version = match["comment"].split()[0]
        assert VERSION.match(version), f"not a version: {line.strip()}"
        pins.setdefault(pinned["action"], set()).add((pinned["sha"], version))
    for action, versions in pins.items():
        assert len(versions) == 1, f"{action} is pinned to several commits: {versions}"


def test_triggers_are_pull_requests_main_and_version_tags(workflow_path):
    on = load(workflow_path)["on"]
    assert set(on) == {"pull_request", "push"}
    assert on["push"] == {"branches": ["main"], "tags": ["v*"]}
    assert "pull_request_target" not in on


def test_permissions_are_read_only_at_the_top_and_widened_per_job(workflow_path):
    workflow = load(workflow_path)
    assert workflow["permissions"] == {"contents": "read"}
    for job_id, job in workflow["jobs"].items():
        permissions = job.get("permissions", {})
        assert permissions != "write-all", job_id
        assert permissions.get("contents", "read") == "read", job_id
    assert workflow["jobs"]["test"]["permissions"]["security-events"] == "write"
    assert workflow["jobs"]["publish"]["permissions"]["packages"] == "write"


def test_every_job_has_a_timeout_and_the_workflow_a_concurrency_group(workflow_path):
    workflow = load(workflow_path)
    assert "${{ github.ref }}" in workflow["concurrency"]["group"]
    for job_id, job in workflow["jobs"].items():
        assert 0 < job["timeout-minutes"] <= 60, job_id


def test_every_checkout_keeps_no_credentials(workflow_path):
    checkouts = [
        step for _, _, step in steps(load(workflow_path)) if "actions/checkout@" in step.get("uses", "")
    ]
    assert checkouts
    for step in checkouts:
        assert step.get("with", {}).get("persist-credentials") is False


def is_main_or_tag_push_only(condition: str) -> bool:
    condition = " ".join(condition.split())
    return (
        "github.event_name == 'push'" in condition
        and "github.ref == 'refs/heads/main'" in condition
        and "startsWith(github.ref, 'refs/tags/v')" in condition
        and " && " in condition
    )


def publishes(job: dict[str, Any], step: dict[str, Any]) -> bool:
    uses = step.get("uses", "")
    pushes = uses.startswith("docker/build-push-action@") and step.get("with", {}).get("push") is True
    return pushes or uses.startswith(PUBLISH_ACTIONS)


def test_push_login_and_attest_only_run_for_main_and_tags(workflow_path):
    workflow = load(workflow_path)
    publishing_jobs = {job_id for job_id, job, step in steps(workflow) if publishes(job, step)}
    assert publishing_jobs == {"publish"}
    for job_id in publishing_jobs:
        assert is_main_or_tag_push_only(workflow["jobs"][job_id]["if"]), job_id
    for job_id, job in workflow["jobs"].items():
        if any(value == "write" for key, value in job.get("permissions", {}).items() if key == "packages"):
            assert job_id in publishing_jobs
    # Publishing waits for every check.
    assert set(workflow["jobs"]["publish"]["needs"]) == set(workflow["jobs"]) - {"publish"}


def test_no_secret_reaches_a_build_argument(workflow_path):
    for _, _, step in steps(load(workflow_path)):
        assert "secrets." not in str(step.get("with", {}).get("build-args", ""))


def test_steps_call_the_same_make_targets_as_local_ci():
    workflow = load(ROOT / ".github/workflows/ci.yml")
    called = {
        target
        for _, _, step in steps(workflow)
        for target in re.findall(r"^make ([a-z-]+)", step.get("run", ""), flags=re.M)
    }
    assert called == {"venv", "lint", "test"}
    makefile_targets = set(re.findall(r"^([a-z-]+):", (ROOT / "Makefile").read_text(), flags=re.M))
    assert called - makefile_targets <= PENDING_TARGETS


def make_test_step(job: dict[str, Any]) -> int:
    runs = [step.get("run", "") for step in job["steps"]]
    (index,) = [i for i, run in enumerate(runs) if re.search(r"^make test$", run, flags=re.M)]
    return index


def github_outputs() -> dict[str, Any]:
    """What the images job hands the others: ``scripts/deploy/images.sh --github``'s outputs."""
    done = subprocess.run(
        ["scripts/deploy/images.sh", "--github"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    outputs = dict(line.split("=", 1) for line in done.stdout.splitlines())
    return {
        "name": outputs["name"],
        "matrix": json.loads(outputs["matrix"]),
        "tags": json.loads(outputs["tags"]),
    }


def test_the_images_job_lists_deploy_images_tsv_named_after_the_app():
    """One list: the build and publish matrices are deploy/images.tsv's rows, their repositories
    the default tags' with {name} the app's name; no image name is written in the workflow."""
    workflow = load(ROOT / ".github/workflows/ci.yml")
    job = workflow["jobs"]["images"]
    (step,) = [step for step in job["steps"] if step.get("id") == "list"]
    assert step["run"] == 'scripts/deploy/images.sh --github >>"$GITHUB_OUTPUT"'
    assert set(job["outputs"]) == {"name", "matrix", "tags"}
    outputs = github_outputs()
    entries = outputs["matrix"]["include"]
    assert [(e["name"], e["variable"], e["file"], e["context"]) for e in entries] == [
        (image["name"], image["variable"], image["dockerfile"], image["context"]) for image in images()
    ]
    name = outputs["name"]
    assert [e["repository"] for e in entries] == [name, *(f"{name}-{e['name']}" for e in entries[1:])]
    assert outputs["tags"] == {e["variable"]: f"{e['repository']}:ci" for e in entries}
    for job_id in ("build", "publish"):
        assert (
            workflow["jobs"][job_id]["strategy"]["matrix"] == "${{ fromJSON(needs.images.outputs.matrix) }}"
        )
    assert "sales" not in (ROOT / ".github/workflows/ci.yml").read_text().lower()


def test_the_build_job_builds_every_listed_image_once_and_the_test_job_runs_make_test_on_them():
    workflow = load(ROOT / ".github/workflows/ci.yml")
    build_job = workflow["jobs"]["build"]
    (build,) = [
        step for step in build_job["steps"] if step.get("uses", "").startswith("docker/build-push-action@")
    ]
    options = build["with"]
    assert (options["file"], options["context"], options["tags"]) == (
        "${{ matrix.file }}", "${{ matrix.context }}", "${{ matrix.tag }}",
    )  # fmt: skip
    assert options["push"] is False
    assert options["outputs"] == "type=docker,dest=build/images/${{ matrix.name }}.tar"
    assert options["cache-from"] == "type=gha,scope=${{ matrix.name }}"
    assert options["cache-to"] == "type=gha,mode=max,scope=${{ matrix.name }}"
    (upload,) = [step for step in build_job["steps"] if "upload-artifact@" in step.get("uses", "")]
    assert upload["with"]["path"] == options["outputs"].removeprefix("type=docker,dest=")
    assert upload["with"]["name"] == "image-${{ matrix.name }}"
    job = workflow["jobs"]["test"]
    assert set(job["needs"]) == {"images", "build"}
    assert not [step for step in job["steps"] if step.get("uses", "").startswith("docker/build-push-action@")]
    (download,) = [i for i, step in enumerate(job["steps"]) if "download-artifact@" in step.get("uses", "")]
    assert job["steps"][download]["with"] == {
        "pattern": "image-*",
        "path": "build/images",
        "merge-multiple": True,
    }
    assert "docker load" in job["steps"][download + 1]["run"]
    # make test's container, load and browser tiers use these very images: nothing is rebuilt.
    assert job["env"]["IMAGES_PREBUILT"] == "1"
    for image in images():
        variable = image["variable"]
        assert job["env"][variable] == f"${{{{ fromJSON(needs.images.outputs.tags).{variable} }}}}"
    assert make_test_step(job) > download + 1


def test_publish_matrix_pushes_every_listed_image_with_attestations():
    job = load(ROOT / ".github/workflows/ci.yml")["jobs"]["publish"]
    (build,) = [step for step in job["steps"] if step.get("uses", "").startswith("docker/build-push-action@")]
    assert (build["with"]["file"], build["with"]["context"]) == (
        "${{ matrix.file }}",
        "${{ matrix.context }}",
    )
    assert build["with"]["cache-from"] == "type=gha,scope=${{ matrix.name }}"  # the build job's layers
    assert build["with"]["provenance"] == "mode=max"
    assert build["with"]["sbom"] is True
    (meta,) = [step for step in job["steps"] if step.get("uses", "").startswith("docker/metadata-action@")]
    tags = meta["with"]["tags"]
    for kind in ("type=ref,event=branch", "type=semver,pattern={{version}}", "type=sha"):
        assert kind in tags
    # Under the repository's own path: two repositories of one organisation never share an image.
    (name,) = [step for step in job["steps"] if step.get("id") == "name"]
    assert name["env"] == {"REPOSITORY": "${{ github.repository }}", "IMAGE": "${{ matrix.repository }}"}
    assert name["run"] == 'echo "image=${REGISTRY}/${REPOSITORY,,}/${IMAGE}" >>"$GITHUB_OUTPUT"'


def test_the_build_args_are_the_same_in_the_build_and_publish_jobs():
    """The publish job's builds take the build job's layers from the cache only with the same args."""
    jobs = load(ROOT / ".github/workflows/ci.yml")["jobs"]
    args = [
        step["with"]["build-args"]
        for job_id in ("build", "publish")
        for step in jobs[job_id]["steps"]
        if step.get("uses", "").startswith("docker/build-push-action@")
    ]
    assert len(args) == 2
    assert args[0] == args[1]
    assert "APP_NAME=${{ needs.images.outputs.name }}" in args[0]


def test_scan_gates_on_fixable_high_and_critical_and_uploads_sarif():
    job = load(ROOT / ".github/workflows/ci.yml")["jobs"]["test"]
    scans = [step for step in job["steps"] if step.get("uses", "").startswith("aquasecurity/trivy-action@")]
    gates = [step["with"] for step in scans if step["with"].get("exit-code") == "1"]
    # One gate per listed image, each on fixable HIGH/CRITICAL.
    assert sorted(gate["image-ref"] for gate in gates) == sorted(
        f"${{{{ env.{image['variable']} }}}}" for image in images()
    )
    for gate in gates:
        assert gate["severity"] == "HIGH,CRITICAL"
        assert gate["ignore-unfixed"] is True
    sarif = [step["with"]["output"] for step in scans if step["with"].get("format") == "sarif"]
    uploads = [step for step in job["steps"] if "codeql-action/upload-sarif@" in step.get("uses", "")]
    assert [step["with"]["sarif_file"] for step in uploads] == sarif


def test_every_job_runs_on_the_runner_host_not_in_a_job_container():
    """A job container has no Docker engine, and ports the stack publishes land on the runner
    host: the container and browser tiers must run on the host, and so does everything else
    (`make ci-local` maps ubuntu-latest to this host with act)."""
    for job_id, job in load(ROOT / ".github/workflows/ci.yml")["jobs"].items():
        assert "container" not in job, job_id
        assert job["runs-on"] == "ubuntu-latest", job_id


def test_the_readmes_test_command_runs_every_tier_once_and_no_step_runs_a_tier_alone():
    """The workflow runs `make test` as the README says, so every tier scripts/ci/test.sh knows runs
    (and a skip fails it); no other step runs a single tier's target a second time."""
    workflow = load(ROOT / ".github/workflows/ci.yml")
    singles = [
        target
        for _, _, step in steps(workflow)
        for target in re.findall(r"^make (test-[a-z]+|loadtest-gate)\b", step.get("run", ""), flags=re.M)
    ]
    assert singles == []
    job = workflow["jobs"]["test"]
    run = job["steps"][make_test_step(job)]["run"]
    # Ubuntu's chromium is a snap stub: the runner's Chrome is handed to ensure-browser.sh.
    assert 'CHROMIUM="$CHROME_BIN"' in run
    assert "make test" in (ROOT / "README.md").read_text()
    uploads = {step["with"]["name"] for step in job["steps"] if "upload-artifact@" in step.get("uses", "")}
    assert uploads == {"loadtest-report", "screenshots"}


def test_publish_registry_is_a_repository_variable_defaulting_to_ghcr():
    job = load(ROOT / ".github/workflows/ci.yml")["jobs"]["publish"]
    assert job["env"]["REGISTRY"] == "${{ vars.REGISTRY || 'ghcr.io' }}"
    (login,) = [step for step in job["steps"] if step.get("uses", "").startswith("docker/login-action@")]
    assert login["with"]["registry"] == "${{ env.REGISTRY }}"
    (name,) = [step for step in job["steps"] if step.get("id") == "name"]
    assert name["run"].startswith('echo "image=${REGISTRY}/')


def test_the_app_image_serves_the_app_of_the_repository_variables_app_dir_and_app_main():
    """Both jobs stage APP_DIR (scripts/deploy/stage-app.sh: checked, exit 64 naming a bad one) before
    the app image's build and hand the staged copy to it; the other images take no app."""
    workflow = load(ROOT / ".github/workflows/ci.yml")
    # Unset variables read as empty: the defaults stay in streamlit_serving/app_source.py alone.
    assert workflow["env"]["APP_DIR"] == "${{ vars.APP_DIR }}"
    assert workflow["env"]["APP_MAIN"] == "${{ vars.APP_MAIN }}"
    for job_id in ("build", "publish"):
        job_steps = workflow["jobs"][job_id]["steps"]
        (stage,) = [
            i for i, step in enumerate(job_steps) if "scripts/deploy/stage-app.sh" in step.get("run", "")
        ]
        assert job_steps[stage]["id"] == "app"
        assert "APP_DIR=build/app-src" in job_steps[stage]["run"]
        builds = [
            (i, step["with"])
            for i, step in enumerate(job_steps)
            if step.get("uses", "").startswith("docker/build-push-action@")
        ]
        takes_app = [i for i, options in builds if "steps.app.outputs.build-args" in options["build-args"]]
        # The build and publish jobs' one build each (of every matrix image).
        app_build = next(
            i for i, options in builds if options["file"] in ("Dockerfile", "${{ matrix.file }}")
        )
        assert takes_app == [app_build]
        assert stage < app_build
    for job_id in ("build", "publish"):
        stage = next(s for s in workflow["jobs"][job_id]["steps"] if s.get("id") == "app")
        assert stage["if"] == "${{ matrix.name == 'app' }}"


def test_every_action_but_checkout_has_a_local_stand_in_taking_its_inputs():
    """make ci-local resolves each marketplace action to tests/ci/actions/OWNER/REPO[/PATH]."""
    for _, _, step in steps(load(ROOT / ".github/workflows/ci.yml")):
        action = step.get("uses", "").split("@")[0]
        if not action or action == "actions/checkout":
            continue
        path = ROOT / "tests/ci/actions" / action / "action.yml"
        assert path.exists(), f"no stand-in for {action}"
        stand_in = yaml.safe_load(path.read_text())
        assert "stands in for" in stand_in["description"].lower(), action
        assert set(step.get("with", {})) <= set(stand_in.get("inputs", {})), action


def test_dependabot_watches_pip_docker_and_actions():
    config = yaml.safe_load((ROOT / ".github/dependabot.yml").read_text())
    assert config["version"] == 2
    assert {update["package-ecosystem"] for update in config["updates"]} == {
        "pip",
        "docker",
        "github-actions",
    }
