"""Community Cloud's conventions checked before anything builds or starts: an app's packages.txt
(Debian package names) and .streamlit/secrets.toml (TOML; never staged into an image), the stacks'
secret files for it (compose, Swarm, Kubernetes), and the Dockerfile's apt steps."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from streamlit_serving.app_source import AppSourceError, load_app_source, read_packages

REPO = Path(__file__).resolve().parents[2]
STAGED = REPO / "build" / "app-src"
KUBECTL = Path(sys.executable).parent / "kubectl"
PACKAGES = """\
# what the app needs from Debian
libgomp1
jq   # inline comments too

graphviz
"""


def an_app(root: Path, **files: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "streamlit_app.py").write_text("import streamlit as st\n")
    for name, text in files.items():
        path = root / name.replace("__", "/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def source_of(app: Path, **env: str):
    return load_app_source({"APP_DIR": str(app), **env})


def test_packages_txt_is_read_as_community_cloud_writes_it(tmp_path):
    app = an_app(tmp_path / "app", **{"packages.txt": PACKAGES})
    assert read_packages(source_of(app)) == ["libgomp1", "jq", "graphviz"]
    assert read_packages(source_of(an_app(tmp_path / "none"))) == []


@pytest.mark.parametrize("bad", ["LibGL1", "jq=1.6", "-y", "ffmpeg;rm", "x", "$(id)"])
def test_a_name_that_is_no_debian_package_name_is_refused_naming_the_file_and_line(tmp_path, bad):
    app = an_app(tmp_path / "app", **{"packages.txt": f"jq\n{bad}\n"})
    with pytest.raises(AppSourceError, match=r"packages.txt line 2: .* is not a Debian package name"):
        source_of(app)


def stage(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["scripts/deploy/stage-app.sh"], cwd=REPO, env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_a_bad_packages_txt_or_secrets_toml_stops_staging_with_64_before_the_build(tmp_path):
    bad_packages = an_app(tmp_path / "packages", **{"packages.txt": "jq\nlibgl1 --allow-unauthenticated\n"})
    result = stage({"APP_DIR": str(bad_packages)})
    assert result.returncode == 64
    assert (
        f"{bad_packages}/packages.txt line 2: '--allow-unauthenticated' is not a Debian package name"
        in result.stderr
    )
    bad_secrets = an_app(tmp_path / "secrets", **{".streamlit__secrets.toml": 'TOKEN = "never-shown\n'})
    result = stage({"APP_DIR": str(bad_secrets)})
    assert result.returncode == 64
    assert f"the app's secrets file {bad_secrets}/.streamlit/secrets.toml is not valid TOML" in result.stderr
    assert "never-shown" not in result.stderr
    # With the template's sign-in on, an [auth] of the app's own would be overwritten: refused.
    auth = an_app(tmp_path / "auth", **{".streamlit__secrets.toml": '[auth]\nclient_id = "own"\n'})
    result = stage({"APP_DIR": str(auth), "SERVE_AUTH": "oidc"})
    assert result.returncode == 64
    assert "has an [auth] table, and sign-in (SERVE_AUTH=oidc)" in result.stderr
    assert stage({"APP_DIR": str(auth)}).returncode == 0  # without sign-in it is the app's own
    assert stage({}).returncode == 0  # the example back


def test_no_secrets_toml_anywhere_in_the_app_is_staged_or_let_into_the_build_context(tmp_path):
    app = an_app(
        tmp_path / "app",
        **{".streamlit__secrets.toml": 'A = "1"\n', "pages__.streamlit__secrets.toml": 'B = "2"\n',
           "packages.txt": "jq\n"},
    )  # fmt: skip
    try:
        assert stage({"APP_DIR": str(app)}).returncode == 0
        staged = sorted(str(p.relative_to(STAGED)) for p in STAGED.rglob("*") if p.is_file())
        assert staged == ["packages.txt", "streamlit_app.py"]
    finally:
        assert stage({}).returncode == 0
    assert "**/.streamlit/secrets.toml" in (REPO / ".dockerignore").read_text().splitlines()


def test_the_secrets_option_prints_the_app_s_file_or_nothing(tmp_path):
    app = an_app(tmp_path / "app", **{".streamlit__secrets.toml": 'A = "1"\n'})
    run = [sys.executable, "-m", "streamlit_serving.app_source", "--secrets"]
    found = subprocess.run(run, cwd=REPO, env={"APP_DIR": str(app)}, capture_output=True, text=True)
    assert found.stdout == f"{app}/.streamlit/secrets.toml\n"
    none = subprocess.run(
        run, cwd=REPO, env={"APP_DIR": str(an_app(tmp_path / "b"))}, capture_output=True, text=True
    )
    assert (none.returncode, none.stdout) == (0, "")


def test_the_dockerfile_installs_packages_txt_in_both_stages_and_keeps_no_apt_lists():
    dockerfile = (REPO / "Dockerfile").read_text()
    assert dockerfile.count("COPY deploy/app/apt-install.sh ${APP_DIR}/packages.tx[t] /tmp/packages/") == 2
    assert "RUN sh /tmp/packages/apt-install.sh python3 python3-venv \\\n" in dockerfile
    assert "RUN sh /tmp/packages/apt-install.sh python3 \\\n" in dockerfile
    assert "apt-get update" not in dockerfile  # one installer, which removes the lists
    installer = (REPO / "deploy/app/apt-install.sh").read_text()
    assert "rm -rf /var/lib/apt/lists/* /var/cache/apt/* /tmp/packages" in installer
    assert "--no-install-recommends" in installer


def compose_config(*files: str, **env: str) -> dict:
    docker_compose = shutil.which("docker-compose")
    if docker_compose is None:
        pytest.skip("docker-compose is not installed")
    variables = {"APP_IMAGE": "a", "PROXY_IMAGE": "p", "PROXY_METRICS_IMAGE": "m", "PROMETHEUS_IMAGE": "r",
                 "COOKIE_SECRET_FILE": "/dev/null", "TLS_CERT_FILE": "/dev/null", "TLS_KEY_FILE": "/dev/null",
                 "PATH": "/usr/bin:/bin", **env}  # fmt: skip
    args = [docker_compose, *(arg for file in files for arg in ("-f", file)), "config"]
    done = subprocess.run(args, cwd=REPO / "deploy", env=variables, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return yaml.safe_load(done.stdout)


def test_compose_mounts_the_app_s_secrets_beside_the_sign_in_s_and_the_cookie_secret(tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('A = "1"\n')
    config = compose_config("compose.yaml", "compose.oidc.yaml", "compose.app-secrets.yaml",
                            OIDC_FILE="/dev/null", APP_SECRETS_FILE=str(secrets))  # fmt: skip
    app = config["services"]["app"]
    assert sorted(s["source"] for s in app["secrets"]) == ["app_secrets", "cookie_secret", "oidc"]
    (mount,) = (s for s in app["secrets"] if s["source"] == "app_secrets")
    assert mount["target"] == "app_secrets.toml"  # Streamlit reads no secrets file of another name
    assert config["secrets"]["app_secrets"]["file"] == str(secrets)
    # The file's content never becomes part of the service's definition (environment, labels).
    assert "APP_SECRETS" not in yaml.safe_dump(app.get("environment", {}))


def test_the_swarm_file_names_the_secret_after_its_content_for_the_app_s_user_alone():
    stack = yaml.safe_load((REPO / "deploy/swarm/app-secrets.yaml").read_text())
    (mount,) = (s for s in stack["services"]["app"]["secrets"] if s["source"] == "app_secrets")
    assert (mount["target"], mount["uid"], mount["mode"]) == ("app_secrets.toml", "10001", 0o400)
    assert stack["secrets"]["app_secrets"]["name"].startswith("${APP_SECRETS_NAME")
    swarm = (REPO / "scripts/deploy/swarm.sh").read_text()
    assert 'APP_SECRETS_NAME=${stack}_app_secrets_$(sha256sum "$APP_SECRETS_FILE" | cut -c1-12)' in swarm


def test_the_kubernetes_component_mounts_the_secret_where_the_serving_layer_reads_it(tmp_path):
    assert KUBECTL.exists(), "kubectl missing from .venv: run `make venv`"
    shutil.copytree(REPO / "deploy/k8s", tmp_path / "k8s")
    overlay = tmp_path / "k8s/overlays/dev"
    (overlay / "secrets").mkdir(exist_ok=True)  # its .gitignore keeps such files out of git
    (overlay / "secrets/app-secrets.toml").write_text('API_TOKEN = "x"\n')
    kustomization = yaml.safe_load((overlay / "kustomization.yaml").read_text())
    kustomization["components"] = ["../../components/app-secrets"]
    kustomization["secretGenerator"].append(
        {"name": "app-secrets", "files": ["secrets.toml=secrets/app-secrets.toml"]}
    )
    (overlay / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
    done = subprocess.run([KUBECTL, "kustomize", overlay], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    objects = list(yaml.safe_load_all(done.stdout))
    (secret,) = (
        o for o in objects if o["kind"] == "Secret" and o["metadata"]["name"].startswith("app-secrets")
    )
    (deployment,) = (o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == "app")
    (settings,) = (
        o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"].startswith("app-settings")
    )
    spec = deployment["spec"]["template"]["spec"]
    (volume,) = (v for v in spec["volumes"] if v["name"] == "app-secrets")
    assert volume["secret"] == {
        "secretName": secret["metadata"]["name"],
        "defaultMode": 0o440,
    }  # the hashed name
    (mount,) = (m for m in spec["containers"][0]["volumeMounts"] if m["name"] == "app-secrets")
    assert (mount["mountPath"], mount["readOnly"]) == ("/run/secrets/app", True)
    assert settings["data"]["SERVE_APP_SECRETS_FILE"] == "/run/secrets/app/secrets.toml"
    assert "API_TOKEN" not in yaml.safe_dump(spec["containers"][0].get("env", []))
