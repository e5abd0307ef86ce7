"""The app's own secrets: its ``.streamlit/secrets.toml``, as ``st.secrets`` and the environment.

On Streamlit Community Cloud an app's secrets are its ``.streamlit/secrets.toml``: ``st.secrets``
(and ``st.connection``) read it, and its top-level keys are also environment variables of the
app's process. Here the file never goes into an image (scripts/deploy/stage-app.sh leaves it out); it
arrives at run time as a secret file (a compose or Swarm secret, a Kubernetes Secret) and this
module, run by ``serve.py`` before the server starts:

1. finds it: ``SERVE_APP_SECRETS_FILE`` when set (a file that is not there stops the start, exit
   64, naming it, as does a name not ending in ``.toml``, which Streamlit refuses); unset,
   ``/run/secrets/app_secrets.toml`` (where the stacks mount it), else the
   ``.streamlit/secrets.toml`` beside the main script (``make run``); none of them: no secrets,
   which is fine;
2. checks it is TOML (exit 64 naming the file, never a value) and, with sign-in on
   (``SERVE_AUTH=oidc``), that it has no ``[auth]`` table: the sign-in's ``[auth]`` comes from
   ``SERVE_OIDC_FILE`` (``oidc_config.py``), and two would overwrite each other;
3. exports its top-level string, number and boolean keys (``true``/``false``) into this process's
   environment, ``os.environ``, as Community Cloud does. Never the container's: ``docker
   inspect`` and ``/proc/1/environ`` show none of them. Names beginning ``SERVE_`` or
   ``STREAMLIT_`` are refused (exit 64): they are the serving layer's and Streamlit's settings;
4. points Streamlit's ``secrets.files`` (``STREAMLIT_SECRETS_FILES``, this process only) at the
   usual locations and the file, so ``st.secrets`` reads it; the sign-in's file, when on, is
   added after it (``oidc_config.install_auth_secrets``).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path

from .settings import SettingsError

VARIABLE = "SERVE_APP_SECRETS_FILE"
MOUNTED = Path("/run/secrets/app_secrets.toml")  # the compose and Swarm secret's target
TOML_SUFFIX = ".toml"  # Streamlit refuses a secrets path that is neither a directory nor *.toml
SECRETS_FILES_VARIABLE = "STREAMLIT_SECRETS_FILES"  # Streamlit's secrets.files option
RESERVED_PREFIXES = ("SERVE_", "STREAMLIT_")
AUTH_TABLE = "auth"


@dataclass(frozen=True)
class AppSecrets:
    path: Path
    exported: tuple[str, ...]  # the names set in the environment (never their values)
    keys: int  # top-level keys, tables included


def find_secrets_file(env: Mapping[str, str], script: Path | None, mounted: Path = MOUNTED) -> Path | None:
    """The app's secrets file (see the module docstring, step 1), or None."""
    raw = env.get(VARIABLE, "").strip()
    if raw:
        path = Path(raw)
        if not path.is_file():
            raise SettingsError(
                f"{VARIABLE}={raw} is not a file (the app's secrets.toml, mounted as a secret)"
            )
        if path.suffix != TOML_SUFFIX:
            raise SettingsError(
                f"{VARIABLE}={raw} must end in {TOML_SUFFIX}: Streamlit reads no other secrets file"
            )
        return path
    if mounted.is_file():
        return mounted
    if script is not None:
        own = Path(script).resolve().parent / ".streamlit" / "secrets.toml"
        if own.is_file():
            return own
    return None


def read_secrets(path: Path, sign_in: bool) -> dict[str, object]:
    """The file's tables and keys, checked (step 2). Messages name the file, never a value."""
    try:
        secrets = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise SettingsError(
            f"the app's secrets file {path} cannot be read: {error.__class__.__name__}"
        ) from None
    except tomllib.TOMLDecodeError as error:
        # tomllib's message gives the position (line, column), not the text around it.
        raise SettingsError(f"the app's secrets file {path} is not valid TOML ({error})") from None
    if sign_in and AUTH_TABLE in secrets:
        raise SettingsError(
            f"the app's secrets file {path} has an [{AUTH_TABLE}] table, and sign-in (SERVE_AUTH=oidc) "
            "writes Streamlit's [auth] from SERVE_OIDC_FILE: remove [auth] from the app's secrets, or "
            "turn the template's sign-in off (SERVE_AUTH=none) to use the app's own"
        )
    return secrets


def environment_value(value: object) -> str | None:
    """A top-level value as an environment variable (step 3), or None for a table or array."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    return None


def export_secrets(
    path: Path, secrets: Mapping[str, object], env: MutableMapping[str, str]
) -> tuple[str, ...]:
    exported: list[str] = []
    for name, value in secrets.items():
        text = environment_value(value)
        if text is None:
            continue
        if not name or "=" in name or "\0" in name or "\0" in text:
            raise SettingsError(
                f"the app's secrets file {path}: key {name!r} cannot be an environment variable"
            )
        if name.upper().startswith(RESERVED_PREFIXES):
            raise SettingsError(
                f"the app's secrets file {path}: key {name} is a setting of the serving layer or "
                "Streamlit, not a secret: set it in the environment (APP_ENV_FILE) or config.toml"
            )
        env[name] = text
        exported.append(name)
    return tuple(exported)


def usual_files(script: Path | None) -> list[str]:
    """Streamlit's own default secrets locations (config.get_config_files)."""
    folders = [Path.home(), Path.cwd()]
    if script is not None:
        folders.append(Path(script).resolve().parent)
    files: list[str] = []
    for folder in folders:
        path = str(folder / ".streamlit" / "secrets.toml")
        if path not in files:
            files.append(path)
    return files


def install_app_secrets(
    env: MutableMapping[str, str], script: Path | None, sign_in: bool, mounted: Path = MOUNTED
) -> AppSecrets | None:
    """Steps 1-4 for this process (``env`` is ``os.environ`` in serve.py)."""
    path = find_secrets_file(env, script, mounted)
    if path is None:
        return None
    secrets = read_secrets(path, sign_in)
    exported = export_secrets(path, secrets, env)
    files = env.get(SECRETS_FILES_VARIABLE, "").split() or usual_files(script)
    if str(path) not in files:
        files.append(str(path))
    env[SECRETS_FILES_VARIABLE] = " ".join(files)
    return AppSecrets(path, exported, len(secrets))


def notice(secrets: AppSecrets | None) -> str:
    """The start's line about the app's secrets: the file and the names exported, no value."""
    if secrets is None:
        return f"serve: no app secrets file ({VARIABLE} unset, none at {MOUNTED} or beside the main script)"
    names = ", ".join(secrets.exported) or "none"
    return (
        f"serve: the app's secrets from {secrets.path}: {secrets.keys} top-level key(s) in st.secrets; "
        f"environment variables of this process: {names}"
    )


def main(argv: list[str]) -> int:
    """``python3 -m streamlit_serving.app_secrets FILE``: the checks of the start (TOML; with
    SERVE_AUTH=oidc no [auth]; no reserved names), before a stack mounts FILE. Exit 64 naming it."""
    import os
    import sys

    if len(argv) != 1:
        print("usage: python3 -m streamlit_serving.app_secrets SECRETS_FILE", file=sys.stderr)
        return 2
    path = Path(argv[0])
    try:
        if not path.is_file():
            raise SettingsError(f"the app's secrets file {path} is not a file")
        export_secrets(
            path, read_secrets(path, os.environ.get("SERVE_AUTH", "").strip().lower() == "oidc"), {}
        )
    except SettingsError as error:
        print(f"app: {error}", file=sys.stderr)
        return 64
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
