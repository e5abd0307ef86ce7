"""An app's own production settings: ``serving.toml`` beside its main script, optional, the one
home of what the stacks need to know about *this* app. Read here and nowhere else.

| key  | default                        | meaning                                                  |
|------|--------------------------------|----------------------------------------------------------|
| name | the app directory's name; for  | names the app's stacks and images: the images            |
|      | the repository's own ``app/``, | (``<name>:dev``, ``<name>-proxy:dev``, … from            |
|      | the repository's directory     | deploy/images.tsv), the compose project, the Swarm stack,|
|      | name (so a copy of the         | the registry path (``ghcr.io/<owner>/<repo>/<name>``),   |
|      | template that replaced         | the Grafana dashboard; ``[a-z0-9][a-z0-9-]*``, at most   |
|      | ``app/`` is named after its    | 40 characters (``<name>-proxy-metrics`` stays a          |
|      | repository, not "app")         | Kubernetes DNS label, 63)                                |

A derived name (no ``name`` key) is the directory's name lower-cased, with every run of other
characters made one ``-``. A ``name`` given in the file is taken as written, or refused: exit 64
with a message naming the file and the key. Unknown keys are refused the same way, so a typo is
not silently ignored. Standard library only (``tomllib``): the host's python3 runs it.

    python3 -m streamlit_serving.app_source --name    # prints the name of APP_DIR's app
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

SETTINGS_FILE = "serving.toml"
MAX_NAME = 40
NAME = re.compile(r"[a-z0-9][a-z0-9-]*")
KEYS = frozenset({"name"})


class AppSettingsError(ValueError):
    """The app's serving.toml cannot be read or holds a value the stacks cannot use."""


@dataclass(frozen=True)
class AppSettings:
    name: str


def check_name(name: object, where: str) -> str:
    """``name`` if it can name an image, a compose project, a Swarm stack and a DNS label."""
    if not isinstance(name, str) or not NAME.fullmatch(name) or name.endswith("-"):
        raise AppSettingsError(
            f"{where}: name={name!r} must be lower-case letters, digits and '-', starting with a letter "
            "or digit and not ending with '-' ([a-z0-9][a-z0-9-]*)"
        )
    if len(name) > MAX_NAME:
        raise AppSettingsError(
            f"{where}: name={name!r} is {len(name)} characters, at most {MAX_NAME} "
            "(<name>-proxy-metrics must stay a 63-character DNS label)"
        )
    return name


def derived_name(directory: Path, repo: Path) -> str:
    """The name of an app without a ``name`` key: its directory's, or for the repository's own
    ``app/`` the repository's directory's (the name the user gave their copy of the template)."""
    source = repo if directory == (repo / "app").resolve() else directory
    name = re.sub(r"[^a-z0-9]+", "-", source.name.lower()).strip("-")[:MAX_NAME].rstrip("-")
    return check_name(
        name, f'the name of directory {source} (add name = "..." to {directory / SETTINGS_FILE})'
    )


def load_app_settings(directory: Path, repo: Path) -> AppSettings:
    """The settings of the app in ``directory`` (absolute), from its serving.toml if any."""
    path = directory / SETTINGS_FILE
    if not path.is_file():
        return AppSettings(name=derived_name(directory, repo))
    try:
        values = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise AppSettingsError(f"{path}: not readable TOML: {error}") from None
    unknown = sorted(set(values) - KEYS)
    if unknown:
        raise AppSettingsError(f"{path}: unknown key {unknown[0]!r} (known: {', '.join(sorted(KEYS))})")
    if "name" not in values:
        return AppSettings(name=derived_name(directory, repo))
    return AppSettings(name=check_name(values["name"], str(path)))
