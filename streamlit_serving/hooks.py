"""The app's hooks into the serving layer: an optional ``serve_hooks.py`` beside the app's main
script, with any of these functions (none is required; an app without the file runs as is):

| hook           | called                                        | for                                 |
|----------------|-----------------------------------------------|-------------------------------------|
| ``check()``    | once, before the server starts                | the app's own settings: raise       |
|                |                                               | ``ValueError`` (``SettingsError``)  |
|                |                                               | naming the bad one, the start stops |
|                |                                               | with exit 64                        |
| ``warm_up()``  | once, in a background thread, when the server | filling the app's caches so first   |
|                | is healthy (``SERVE_WARMUP=on``)              | views cost what repeats do          |
| ``collectors()`` | once, with the metrics (``SERVE_METRICS_PORT``) | extra Prometheus collectors       |

and one optional constant, ``SIGN_IN_TITLE`` (a string): the heading of the sign-in, expired and
refusal pages when sign-in is on (``SERVE_AUTH=oidc``; the serving layer gates every run of the
app before its first line, ``auth.py``). Without it those pages have no heading.

The main script's directory goes first on ``sys.path`` (as ``streamlit run`` puts it), so the
hooks import the app's own modules as the page does.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from .settings import SettingsError

HOOKS_FILE = "serve_hooks.py"
WARMUP_POLL_SECONDS = 0.25  # how often the warm-up thread looks whether the server is healthy


@dataclass(frozen=True)
class AppHooks:
    check: Callable[[], None] | None = None
    warm_up: Callable[[], None] | None = None
    collectors: Callable[[], Iterable[Any]] | None = None
    sign_in_title: str | None = None


def main_script(argv: Sequence[str]) -> Path | None:
    """The main script of ``streamlit run <script> [options]`` in ``argv`` (None for another
    command, such as ``streamlit version``)."""
    args = list(argv)
    if "run" not in args:
        return None
    for arg in args[args.index("run") + 1 :]:
        if not arg.startswith("-"):
            return Path(arg)
    return None


def _import(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{path} cannot be imported as a module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


def load_hooks(script: Path) -> AppHooks:
    """The hooks beside ``script`` (none when it has no ``serve_hooks.py``). An error while
    importing them propagates: it is the app's, with its own traceback."""
    folder = str(script.resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    path = script.resolve().parent / HOOKS_FILE
    if not path.is_file():
        return AppHooks()
    module = _import(path)
    title = getattr(module, "SIGN_IN_TITLE", None)
    if title is not None and not isinstance(title, str):
        raise SettingsError(f"{path}: SIGN_IN_TITLE must be a string, not {type(title).__name__}")
    return AppHooks(
        check=getattr(module, "check", None),
        warm_up=getattr(module, "warm_up", None),
        collectors=getattr(module, "collectors", None),
        sign_in_title=title,
    )


def server_ready() -> bool | None:
    """True once Streamlit's runtime serves browsers (/_stcore/health answers ok), None if it is
    stopping or stopped, False before."""
    from streamlit.runtime import Runtime
    from streamlit.runtime.runtime import RuntimeState

    if not Runtime.exists():
        return False
    state = Runtime.instance().state
    if state in (RuntimeState.STOPPING, RuntimeState.STOPPED):
        return None
    return state != RuntimeState.INITIAL


def warm_up_when_ready(warm_up: Callable[[], None]) -> None:
    """Wait for the server to be healthy, then run the app's warm-up; an error in it is logged
    and ends the warm-up, never the server."""
    while (ready := server_ready()) is False:
        time.sleep(WARMUP_POLL_SECONDS)
    if not ready:
        return
    from streamlit.logger import get_logger

    log = get_logger(__name__)
    try:
        warm_up()
    except Exception:
        log.exception("warm-up: stopped by an error; pages build what they need as users come")


def start_warmup(hooks: AppHooks, enabled: bool) -> threading.Thread | None:
    """The warm-up thread (``SERVE_WARMUP=on`` and an app with a ``warm_up`` hook), started;
    else None."""
    if not enabled or hooks.warm_up is None:
        return None
    thread = threading.Thread(
        target=warm_up_when_ready, args=(hooks.warm_up,), name="serve-warmup", daemon=True
    )
    thread.start()
    return thread
