"""No secret in any image: not in a layer, the history (build args, RUN lines) or the config.

The builds get the host's CA bundle as a BuildKit secret (scripts/deploy/build-images.sh); the app gets
its cookie secret and its OpenID provider's settings (client secret included) at run time from
files, and renders Streamlit's secrets.toml on its tmpfs; the development provider gets the
client secret from a file too. None of it may end up in what `docker save` exports.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import tarfile
from pathlib import Path

import pytest

from .conftest import ROOT, run

HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")
SECRET_NAMES = re.compile(
    r"(^|/)(run/secrets/|deploy/secrets/|cookie_secret|client_secret|oidc\.toml$|secrets\.toml$"
    r"|ca-certificates\.crt$|.*\.key$)"
)
SECRET_WORDS = (
    "BEGIN CERTIFICATE",
    "PRIVATE KEY",
    "PIP_CERT=/",
    "STREAMLIT_SERVER_COOKIE_SECRET=",
    "token_hex",
    "client_secret",
    "OIDC_CLIENT_SECRET",
    "SERVE_OIDC_FILE=",
)


@pytest.fixture(scope="module", params=["APP_IMAGE", "PROXY_IMAGE", "OIDC_DEV_IMAGE"])
def image(request, images: dict[str, str], tmp_path_factory) -> tuple[str, Path]:
    tag = images[request.param]
    archive = tmp_path_factory.mktemp("save") / "image.tar"
    docker = run("scripts/setup/ensure-docker.sh").stdout.strip().splitlines()[-1]
    subprocess.run([docker, "save", "-o", str(archive), tag], cwd=ROOT, check=True)
    return tag, archive


def layer_members(archive: Path):
    """(layer, member, file object) for every regular file of every layer."""
    with tarfile.open(archive) as outer:
        for layer in (m for m in outer.getmembers() if m.name.endswith("layer.tar")):
            with tarfile.open(fileobj=outer.extractfile(layer)) as inner:
                for member in inner.getmembers():
                    yield layer.name, member, inner


def test_no_secret_file_in_any_layer(image):
    tag, archive = image
    host_ca = hashlib.sha256(HOST_CA.read_bytes()).hexdigest() if HOST_CA.exists() else None
    host_ca_size = HOST_CA.stat().st_size if HOST_CA.exists() else -1
    files = 0
    for layer, member, inner in layer_members(archive):
        assert not SECRET_NAMES.search(member.name), f"{tag}: {member.name} in {layer}"
        if member.isfile():
            files += 1
            if member.size == host_ca_size:
                digest = hashlib.sha256(inner.extractfile(member).read()).hexdigest()
                assert digest != host_ca, f"{tag}: the host's CA bundle is {member.name} in {layer}"
    assert files > 100  # the layers were really read


def test_no_secret_in_history_or_config(image, docker):
    tag, _ = image
    history = run(docker, "history", "--no-trunc", "--format", "{{.CreatedBy}}", tag).stdout
    config = json.loads(run(docker, "image", "inspect", tag).stdout)[0]["Config"]
    text = history + json.dumps(config)
    for word in SECRET_WORDS:
        assert word not in text, f"{tag}: {word!r} in the history or config"
    # Build args that reach the history are only the documented, harmless ones.
    # APP_DIR and APP_MAIN: which app the image serves (the staged directory, its main script);
    # APP_NAME: its name, in a label (deploy/images.tsv, app_settings.py).
    environment = {
        "PATH",
        "HOME",
        "PYTHONDONTWRITEBYTECODE",
        "PYTHONUNBUFFERED",
        "PIP_CERT",
        "NODE_ENV",
        "APP_MAIN",
        "PYTHONPATH",  # /srv/app: the serving layer importable while the app runs from its own root
    }
    build_args = set(re.findall(r"\b([A-Z_]+)=", history)) - environment
    assert build_args <= {"BASE_IMAGE", "VERSION", "REVISION", "SOURCE", "APP_DIR", "APP_NAME"}, build_args
