"""What an app's pages will ask the browser for, found in its code before its image is built.

The proxy's policy is strict by default (``app_settings.py``'s ``[browser]`` table widens it), and
the browser refuses quietly: only its console says that a basemap, a video or the camera was
blocked. So ``scripts/deploy/stage-app.sh`` (make up, make images, make swarm-up) prints a hint, with
the exact line to add, for each call the app's ``serving.toml`` does not allow:

| call in the app's code                           | needs                              |
|--------------------------------------------------|------------------------------------|
| ``st.camera_input``                              | ``permissions = ["camera"]``       |
| ``st.audio_input``                               | ``permissions = ["microphone"]``   |
| ``st.map``, ``st.pydeck_chart``                  | ``connect``: the basemap's origins |
| ``st.image("https://...")`` (a literal URL)      | ``img``: that origin               |
| ``st.video``, ``st.audio`` (a literal URL)       | ``media``: that origin             |
| ``components.iframe("https://...")``             | ``frame``: that origin             |
| ``components.html``, ``st.iframe`` of HTML, in a | ``inline_scripts = true``          |
| file that holds ``<script``                      |                                    |

Hints, never errors: a call may sit in code that never runs, and a URL built at run time is not
seen. The scan reads every ``.py`` file of the app with ``ast`` (nothing is imported or run);
standard library only, as the host's python3 runs it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .app_settings import BrowserPolicy

SKIPPED_DIRS = {".git", ".venv", "venv", "__pycache__", "node_modules", ".streamlit"}
PERMISSIONS = {"camera_input": "camera", "audio_input": "microphone"}
MAPS = {"map", "pydeck_chart"}  # on Streamlit itself (st.map, st.sidebar.map): `map` is common elsewhere
BY_URL = {"image": "img", "video": "media", "audio": "media", "iframe": "frame"}
# Streamlit's default basemap (Carto), as docs/your-app.md's table gives it.
BASEMAP = ["https://basemaps.cartocdn.com", "https://*.basemaps.cartocdn.com"]


@dataclass(frozen=True)
class Hint:
    path: str  # relative to the app's directory
    line: int
    call: str
    needs: str  # what the browser will be asked for
    add: str  # the line to add under [browser]

    def __str__(self) -> str:
        return (
            f"{self.path}:{self.line}: {self.call} needs {self.needs}, which its serving.toml does not allow "
            f"(the browser will refuse it): add under [browser]: {self.add}"
        )


def streamlit_names(tree: ast.Module) -> set[str]:
    """The names the module gives Streamlit (``import streamlit as st``: {"st"})."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.asname or alias.name for alias in node.names if alias.name == "streamlit"}
    return names


def root_name(node: ast.expr) -> str | None:
    """The name an attribute chain starts from (``st.sidebar.map`` -> "st")."""
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL, None for anything else."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"


def allowed(origin: str, origins: tuple[str, ...]) -> bool:
    """True if one of ``origins`` (``https://*.example.com`` included) allows ``origin``."""
    scheme, _, host = origin.partition("://")
    for candidate in origins:
        their_scheme, _, their_host = candidate.partition("://")
        if their_scheme != scheme:
            continue
        if their_host == host or (their_host.startswith("*.") and host.endswith(their_host[1:])):
            return True
    return False


def calls(tree: ast.Module) -> Iterator[tuple[ast.Call, str, bool]]:
    """(call, the called name, whether it is called on Streamlit itself) for every call of a name
    or attribute."""
    st = streamlit_names(tree)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        if isinstance(node.func, ast.Attribute):
            yield node, node.func.attr, root_name(node.func) in st
        elif isinstance(node.func, ast.Name):
            yield node, node.func.id, False


def literal_url(call: ast.Call) -> str | None:
    """The call's first argument if it is a string literal."""
    first = call.args[0] if call.args else None
    return first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None


def renders_html(name: str, on_streamlit: bool, call: ast.Call) -> bool:
    """``components.html(...)`` (not ``st.html``, which Streamlit sanitizes), or ``st.iframe`` given
    anything but a URL literal (HTML, or a path): what renders a srcdoc frame under the page's CSP."""
    if name == "html":
        return not on_streamlit
    url = literal_url(call)
    return name == "iframe" and on_streamlit and not (url and origin_of(url))


def file_hints(source: str, path: str, browser: BrowserPolicy) -> list[Hint]:
    """The hints of one file's code (``path`` names it in them)."""
    try:
        tree = ast.parse(source, filename=path)
    except SyntaxError:
        return []  # the app's first run names it (make up), with the app's own traceback
    hints = []
    scripted = "<script" in source.lower()
    for call, name, on_streamlit in calls(tree):
        if scripted and not browser.inline_scripts and renders_html(name, on_streamlit, call):
            owner = "st" if on_streamlit else "components"
            needs = "its inline <script>"
            hints.append(Hint(path, call.lineno, f"{owner}.{name}", needs, "inline_scripts = true"))
        elif name in PERMISSIONS and PERMISSIONS[name] not in browser.permissions:
            feature = PERMISSIONS[name]
            hints.append(
                Hint(path, call.lineno, f"st.{name}", f"the {feature}", f'permissions = ["{feature}"]')
            )
        elif name in MAPS and on_streamlit and not browser.origins.get("connect"):
            add = "connect = [" + ", ".join(f'"{origin}"' for origin in BASEMAP) + "]"
            hints.append(Hint(path, call.lineno, f"st.{name}", "its basemap's origins", add))
        elif name in BY_URL and (url := literal_url(call)) and (origin := origin_of(url)):
            kind = BY_URL[name]
            if not allowed(origin, browser.origins.get(kind, ())):
                hints.append(Hint(path, call.lineno, f"{name}({url!r})", origin, f'{kind} = ["{origin}"]'))
    return sorted(hints, key=lambda hint: hint.line)


def app_hints(directory: Path, browser: BrowserPolicy) -> list[Hint]:
    """The hints of every ``.py`` file of the app in ``directory``, in path order."""
    hints = []
    for path in sorted(directory.rglob("*.py")):
        relative = path.relative_to(directory)
        if SKIPPED_DIRS & set(relative.parts[:-1]):
            continue
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        hints.extend(file_hints(source, str(relative), browser))
    return hints
