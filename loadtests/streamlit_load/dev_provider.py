"""The development OpenID provider (deploy/oidc-dev, panva's oidc-provider) as a local Node.js
process, and the app's sign-in settings for it: for the integration tests and benchmarks.

    with running_provider([redirect_uri]) as provider:
        oidc_file = provider.settings_file(redirect_uri, directory)   # SERVE_OIDC_FILE

The provider's npm packages come from its lockfile (scripts/setup/ensure-node.sh). Its test users are
deploy/oidc-dev/users.json, whose "allowed" ones make DEV_ALLOWED_EMAILS (as on the development
stack, scripts/deploy/stack.sh): ALLOWED_USER is on it, OTHER_USER is not, and UNVERIFIED_USER is on it
but the provider has not verified that e-mail.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import tempfile
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .local_server import REPO, free_port, stop, wait_ready

PROVIDER_DIR = REPO / "deploy" / "oidc-dev"
USERS = {user["email"]: user for user in json.loads((PROVIDER_DIR / "users.json").read_text())}
ALLOWED_USER = "ada@example.com"
OTHER_USER = "eve@example.net"
UNVERIFIED_USER = "uma@example.com"
DEV_ALLOWED_EMAILS = ",".join(email for email, user in USERS.items() if user["allowed"])
CLIENT_ID = "sales-dashboard"
START_TIMEOUT = 30.0


def password(email: str) -> str:
    return USERS[email]["password"]


class ProviderStartError(RuntimeError):
    """The provider exited or never answered its discovery document; the message holds its log."""


@dataclass
class Provider:
    issuer: str
    client_secret: str
    log_path: Path

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def settings_file(self, redirect_uri: str, directory: Path) -> Path:
        """The app's provider settings (SERVE_OIDC_FILE) for this provider, written in ``directory``."""
        path = directory / "oidc.toml"
        path.write_text(
            f'server_metadata_url = "{self.metadata_url}"\nclient_id = "{CLIENT_ID}"\n'
            f'client_secret = "{self.client_secret}"\nredirect_uri = "{redirect_uri}"\n'
        )
        return path


def discovery_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - a URL we built
            return response.status == 200
    except OSError:
        return False


@contextmanager
def running_provider(redirect_uris: list[str]) -> Iterator[Provider]:
    """Start deploy/oidc-dev/server.mjs on a free 127.0.0.1 port with a fresh client secret."""
    node = shutil.which("node")
    if node is None or not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        raise ProviderStartError(
            "node or the provider's packages are missing: run scripts/setup/ensure-node.sh"
        )
    port = free_port()
    scratch = Path(tempfile.mkdtemp(prefix="oidc-dev-"))
    client_secret = secrets.token_hex(32)
    (scratch / "client_secret").write_text(client_secret)
    provider = Provider(f"http://127.0.0.1:{port}", client_secret, scratch / "provider.log")
    env = {
        "PATH": "/usr/bin:/bin",
        "OIDC_ISSUER": provider.issuer,
        "OIDC_CLIENT_ID": CLIENT_ID,
        "OIDC_CLIENT_SECRET_FILE": str(scratch / "client_secret"),
        "OIDC_REDIRECT_URIS": ",".join(redirect_uris),
    }
    with provider.log_path.open("wb") as log:
        process = subprocess.Popen(
            [node, "server.mjs"], cwd=PROVIDER_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        ready = lambda: discovery_answers(provider.metadata_url)  # noqa: E731
        wait_ready(process, ready, provider.log, ProviderStartError, START_TIMEOUT)
        yield provider
    finally:
        stop(process)
        shutil.rmtree(scratch, ignore_errors=True)
