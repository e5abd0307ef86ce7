"""Which app the template serves: the one home of ``APP_DIR`` and ``APP_MAIN``.

| variable | default            | meaning                                                        |
|----------|--------------------|----------------------------------------------------------------|
| APP_DIR  | app                | the app's directory (relative to the repository, or absolute): |
|          |                    | its main script, ``pages/``, modules, data, ``serve_hooks.py``,|
|          |                    | optionally ``requirements.txt`` (with its hashed lock,         |
|          |                    | ``requirements.lock``, from ``make lock APP_DIR=...``)         |
| APP_MAIN | streamlit_app.py   | the main script, relative to APP_DIR                           |

Community Cloud's conventions, checked here before anything builds (exit 64 naming the file):
``packages.txt`` beside the app (one Debian package a line, ``#`` comments and blank lines; the
image installs them in its builder and runtime stages, deploy/app/apt-install.sh) holds only
Debian package names; ``.streamlit/secrets.toml``, which never goes into the image (the stacks
mount it, app_secrets.py), is valid TOML and, with SERVE_AUTH=oidc, has no [auth] table.

``make run/up/swarm-up/images APP_DIR=...`` check them here before anything starts or builds
(scripts/deploy/stage-app.sh stages APP_DIR into the image's build context; the Dockerfile's build
args of the same names take the staged copy). An app with a ``requirements.txt`` must have its
lock, made from that very file: the image installs the lock (the layer's pins and the app's
packages, hashed), else the example's ``requirements/app.txt``. Standard library only: the
host's python3 runs it before any venv exists.

    python3 -m streamlit_serving.app_source          # prints APP_DIR's absolute path, then APP_MAIN
    python3 -m streamlit_serving.app_source --script # prints the main script's absolute path
    python3 -m streamlit_serving.app_source --lock   # prints requirements.txt, then its lock's path
    python3 -m streamlit_serving.app_source --secrets  # prints the app's .streamlit/secrets.toml
                                                     # (absolute), or nothing when it has none
    python3 -m streamlit_serving.app_source --name   # prints the app's name (app_settings.py: the
                                                     # images, compose project, Swarm stack, registry path)
    python3 -m streamlit_serving.app_source --hints      # prints (stderr) what the app's pages will ask
                                                     # the browser for that its serving.toml does not
                                                     # allow, with the line to add (app_features.py)
    python3 -m streamlit_serving.app_source --proxy-env  # prints the proxy's per-app variables
                                                     # (PROXY_CSP_IMG=..., PROXY_PERMISSIONS=..., every
                                                     # one, empty when not set; PROXY_UPLOAD_MB=16 unless
                                                     # [limits] upload_mb says) from the app's serving.toml
    python3 -m streamlit_serving.app_source --stack-env  # --proxy-env's, then APP_CPUS, APP_MEMORY_MB and
                                                     # SERVING_TOML_REPLICAS ([replicas]; empty: the stack
                                                     # file's) for compose and Swarm; a note (stderr) when
                                                     # [egress] is set, which they cannot enforce
    python3 -m streamlit_serving.app_source --k8s-patch   # the overlays' serving-patch.yaml ([replicas])
    python3 -m streamlit_serving.app_source --k8s-egress  # the overlays' serving-egress.yaml ([egress])
    exit 64 with a message naming the variable (or the file) when something is missing or stale.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from streamlit_serving.app_features import app_hints
from streamlit_serving.app_settings import SETTINGS_FILE, AppSettingsError, load_app_settings

EXIT_BAD_SETTINGS = 64  # as serve.py and the image's entrypoint
DEFAULT_APP_DIR = "app"
DEFAULT_APP_MAIN = "streamlit_app.py"
REQUIREMENTS = "requirements.txt"
LOCK = "requirements.lock"
LOCK_STAMP = "# made by `make lock` from requirements.txt sha256="  # the lock's first line
PACKAGES = "packages.txt"
SECRETS = ".streamlit/secrets.toml"
# Debian policy 5.6.1: lower-case letters, digits, + - . ; at least two characters, the first alphanumeric.
DEBIAN_PACKAGE = re.compile(r"[a-z0-9][a-z0-9+.-]+")
REPO = Path(__file__).resolve().parents[1]
# What the stacks read from the app's serving.toml besides its name and proxy variables.
SETTINGS_OUTPUTS = (["--stack-env"], ["--k8s-patch"], ["--k8s-egress"])


class AppSourceError(ValueError):
    """APP_DIR or APP_MAIN names no app, or the app's lock is missing or stale."""


@dataclass(frozen=True)
class AppSource:
    directory: Path  # absolute
    main: str  # relative to directory, POSIX separators
    raw_dir: str  # as given, for messages

    @property
    def script(self) -> Path:
        return self.directory / self.main

    @property
    def requirements(self) -> Path | None:
        path = self.directory / REQUIREMENTS
        return path if path.is_file() else None


def lock_stamp(requirements: Path) -> str:
    return LOCK_STAMP + hashlib.sha256(requirements.read_bytes()).hexdigest()


def load_app_source(
    env: Mapping[str, str] | None = None, repo: Path = REPO, *, locked: bool = True
) -> AppSource:
    """APP_DIR (relative paths from ``repo``) and APP_MAIN, checked: a directory holding a file;
    with ``locked``, a requirements.txt there has its lock, made from it as it is now."""
    env = os.environ if env is None else env
    raw_dir = env.get("APP_DIR", "").strip() or DEFAULT_APP_DIR
    main = env.get("APP_MAIN", "").strip() or DEFAULT_APP_MAIN
    directory = (repo / Path(raw_dir).expanduser()).resolve()
    if not directory.is_dir():
        raise AppSourceError(f"APP_DIR={raw_dir} is not a directory ({directory})")
    relative = PurePosixPath(main)
    if relative.is_absolute() or ".." in relative.parts or not main.endswith(".py"):
        raise AppSourceError(f"APP_MAIN={main} must be a .py file inside APP_DIR, given relative to it")
    if not (directory / relative).is_file():
        raise AppSourceError(f"APP_MAIN={main} is not a file in APP_DIR={raw_dir} ({directory / relative})")
    source = AppSource(directory, str(relative), raw_dir)
    if locked and source.requirements is not None:
        check_lock(source)
    read_packages(source)
    check_secrets(source, sign_in=env.get("SERVE_AUTH", "").strip().lower() == "oidc")
    return source


def read_packages(source: AppSource) -> list[str]:
    """The Debian packages of the app's packages.txt (none without one); AppSourceError naming
    the file and line for anything that is not a Debian package name."""
    path = source.directory / PACKAGES
    if not path.is_file():
        return []
    packages: list[str] = []
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        for word in line.split("#", 1)[0].split():
            if not DEBIAN_PACKAGE.fullmatch(word):
                raise AppSourceError(
                    f"{path} line {number}: {word!r} is not a Debian package name (lower-case letters, "
                    "digits, + - . ; one package a line, no versions or options)"
                )
            packages.append(word)
    return packages


def check_secrets(source: AppSource, *, sign_in: bool) -> None:
    """The app's .streamlit/secrets.toml, when it has one, parses; with sign-in, no [auth].
    Messages name the file and the position, never a value."""
    path = source.directory / SECRETS
    if not path.is_file():
        return
    try:
        secrets = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise AppSourceError(f"the app's secrets file {path} is not valid TOML ({error})") from None
    if sign_in and "auth" in secrets:
        raise AppSourceError(
            f"the app's secrets file {path} has an [auth] table, and sign-in (SERVE_AUTH=oidc) writes "
            "Streamlit's [auth] from the provider's file: remove it, or SERVE_AUTH=none to use the app's own"
        )


def check_lock(source: AppSource) -> None:
    requirements = source.requirements
    assert requirements is not None
    lock = source.directory / LOCK
    hint = f"run: make lock APP_DIR={source.raw_dir}"
    if not lock.is_file():
        raise AppSourceError(f"APP_DIR={source.raw_dir} has a {REQUIREMENTS} but no {LOCK} (hashed); {hint}")
    with lock.open(encoding="utf-8") as file:
        first = file.readline().strip()
    if first != lock_stamp(requirements):
        raise AppSourceError(f"{lock} was not made from {requirements} as it is now; {hint}")


def main(argv: list[str]) -> int:
    try:
        source = load_app_source(locked=argv != ["--lock"])
        if argv == ["--lock"] and source.requirements is None:
            raise AppSourceError(f"APP_DIR={source.raw_dir} has no {REQUIREMENTS} to lock")
        settings = (
            load_app_settings(source.directory, repo=REPO)
            if argv in (["--name"], ["--proxy-env"], ["--hints"], *SETTINGS_OUTPUTS)
            else None
        )
    except (AppSourceError, AppSettingsError) as error:
        print(f"app: {error}", file=sys.stderr)
        return EXIT_BAD_SETTINGS
    if settings is not None and argv == ["--name"]:
        print(settings.name)
    elif settings is not None and argv == ["--hints"]:
        for hint in app_hints(source.directory, settings.browser):
            print(f"app: hint: {hint}", file=sys.stderr)
    elif settings is not None and argv == ["--k8s-patch"]:
        print(settings.replicas.k8s_patch(), end="")
    elif settings is not None and argv == ["--k8s-egress"]:
        print(settings.egress.k8s_patch(), end="")
    elif settings is not None:
        if argv == ["--stack-env"] and settings.egress.allow:
            print(
                f"app: {source.directory / SETTINGS_FILE} [egress] allow is for Kubernetes' NetworkPolicy "
                "alone: compose and Swarm have no egress control, the app's containers reach any address",
                file=sys.stderr,
            )
        env = settings.stack_env() if argv == ["--stack-env"] else settings.proxy_env()
        for variable, value in env.items():
            print(f"{variable}={value}")
    elif argv == ["--secrets"]:
        if (source.directory / SECRETS).is_file():
            print(source.directory / SECRETS)
    elif argv == ["--script"]:
        print(source.script)
    elif argv == ["--lock"]:
        print(source.requirements)
        print(source.directory / LOCK)
    else:
        print(source.directory)
        print(source.main)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
