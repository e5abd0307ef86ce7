"""The app's home (streamlit_serving/serve.py, settings.py, first_run.py, the Makefile): the start
says where the app runs and warns when that is not the app's root; SERVE_DATA_DIR is an absolute,
existing, writable directory or the start stops (exit 64 naming it); the first run from the app's
root finds its relative paths (`make run`: tests/integration/test_app_home.py)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from streamlit_serving.serve import home_notice
from streamlit_serving.settings import SettingsError, load_serving_settings, read_data_dir

ROOT = Path(__file__).resolve().parents[2]
HOME_APP = ROOT / "tests" / "apps" / "app_home"


def test_the_start_says_where_the_app_runs_and_warns_when_it_is_not_the_apps_root(tmp_path):
    settings = load_serving_settings({"SERVE_DATA_DIR": str(tmp_path)})
    line = home_notice(settings, HOME_APP / "streamlit_app.py", HOME_APP)
    assert line == (
        f"serve: the app runs in {HOME_APP} (its relative paths start there); its data directory "
        f"SERVE_DATA_DIR={tmp_path} (writable; it persists where a volume is mounted)"
    )
    line = home_notice(load_serving_settings({}), HOME_APP / "streamlit_app.py", tmp_path)
    assert f"WARNING: that directory does not hold the main script {HOME_APP / 'streamlit_app.py'}" in line
    assert line.endswith("no data directory (SERVE_DATA_DIR unset: make up APP_DATA=1 mounts one)")


def test_the_data_dir_is_optional_absolute_existing_and_writable(tmp_path):
    assert read_data_dir({}) is None
    assert read_data_dir({"SERVE_DATA_DIR": " "}) is None
    assert read_data_dir({"SERVE_DATA_DIR": str(tmp_path)}) == tmp_path
    assert load_serving_settings({"SERVE_DATA_DIR": str(tmp_path)}).data_dir == tmp_path
    (tmp_path / "file").write_text("")
    for value, message in (
        ("data", "SERVE_DATA_DIR='data' is not an absolute path"),
        (str(tmp_path / "missing"), f"SERVE_DATA_DIR={tmp_path / 'missing'} is not a directory: mount"),
        (str(tmp_path / "file"), f"SERVE_DATA_DIR={tmp_path / 'file'} is not a directory"),
    ):
        with pytest.raises(SettingsError, match=message):
            read_data_dir({"SERVE_DATA_DIR": value})


def test_a_data_dir_this_user_cannot_write_is_refused(tmp_path, monkeypatch):
    """os.access as the process sees it (root here may write anywhere: asked as if it may not)."""
    asked = []
    monkeypatch.setattr(os, "access", lambda path, mode: asked.append((path, mode)) or False)
    with pytest.raises(SettingsError, match=f"SERVE_DATA_DIR={tmp_path} is not writable by this process"):
        read_data_dir({"SERVE_DATA_DIR": str(tmp_path)})
    assert asked == [(tmp_path, os.W_OK | os.X_OK)]


@pytest.mark.parametrize("value", ["relative/data", "/nonexistent/srv-data"])
def test_a_bad_data_dir_stops_the_start_with_64_naming_it(tmp_path, value):
    result = subprocess.run(
        [sys.executable, "-m", "streamlit_serving", "run", str(HOME_APP / "streamlit_app.py")],
        cwd=ROOT, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "SERVE_METRICS_PORT": "0",
                       "SERVE_DATA_DIR": value},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 64, result.stderr
    assert (
        f"serve: SERVE_DATA_DIR={value!r}" in result.stderr
        or f"serve: SERVE_DATA_DIR={value} " in result.stderr
    )


def test_the_first_run_from_the_apps_root_finds_its_data_and_from_elsewhere_names_the_file():
    """As `make up` runs it in a replica (scripts/deploy/first-run.sh: docker exec --workdir, the
    app's root): the app's relative data path is found. From another directory it is not, and the
    first run says so with the app's own error, before any visitor meets it."""
    command = [sys.executable, "-m", "streamlit_serving.first_run", str(HOME_APP / "streamlit_app.py")]
    result = subprocess.run(command, cwd=HOME_APP, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    assert "ran through" in result.stderr
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert result.returncode == 64
    assert "FileNotFoundError" in result.stderr
    assert "data/x.csv" in result.stderr


def test_the_kubernetes_recipe_renders_a_claim_mounted_at_srv_data(tmp_path):
    """docs/your-app.md's two YAML pieces, taken from the page as written, added to a copy of the
    production overlay and rendered by kubectl kustomize: the claim exists, the app's pod mounts it
    at /srv/data with SERVE_DATA_DIR pointing there, and its root stays read-only."""
    page = (ROOT / "docs/your-app.md").read_text()
    claim, patch = [
        block for block in re.findall(r"```yaml\n(.*?)```", page, flags=re.S) if "app-data" in block
    ]
    tree = tmp_path / "k8s"
    shutil.copytree(ROOT / "deploy/k8s", tree)
    overlay = tree / "overlays/production"
    (overlay / "secrets/cookie-secret").write_text("c" * 64)
    (overlay / "secrets/oidc.toml").write_text('client_id = "x"\n')
    (overlay / "data.yaml").write_text(claim)
    kustomization = yaml.safe_load((overlay / "kustomization.yaml").read_text())
    kustomization["resources"].append("data.yaml")
    kustomization["patches"] += yaml.safe_load(patch)
    (overlay / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
    kubectl = Path(sys.executable).parent / "kubectl"
    rendered = subprocess.run([kubectl, "kustomize", overlay], capture_output=True, text=True, timeout=60)
    assert rendered.returncode == 0, rendered.stderr
    docs = [doc for doc in yaml.safe_load_all(rendered.stdout) if doc]
    (pvc,) = [doc for doc in docs if doc["kind"] == "PersistentVolumeClaim"]
    assert pvc["metadata"]["name"] == "app-data"
    (app,) = [doc for doc in docs if doc["kind"] == "Deployment" and doc["metadata"]["name"] == "app"]
    pod = app["spec"]["template"]["spec"]
    assert {"name": "data", "persistentVolumeClaim": {"claimName": "app-data"}} in pod["volumes"]
    assert pod["securityContext"]["fsGroup"] == 10001
    (container,) = pod["containers"]
    assert {"name": "data", "mountPath": "/srv/data"} in container["volumeMounts"]
    assert {"name": "SERVE_DATA_DIR", "value": "/srv/data"} in container["env"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
