"""``python -m streamlit_serving.first_run <main script>``: the app's main script run once, as a
first visitor's page load runs it, outside the server; exit 64 with the app's own traceback when
it raises, 0 when it runs to its end (or stops itself with ``st.stop()``).

A server that cannot run its app still answers ``/_stcore/health``: Streamlit imports the main
script only when a page asks for it, so a missing package or a bad line shows up as an error box
in the first visitor's page, not at start. ``make up`` (``scripts/deploy/stack.sh``) runs this in one app
replica once every replica is healthy, so the error is the deployer's, with its traceback, before
any visitor sees it. It runs in a process of its own (Streamlit's AppTest), with full error
details whatever the server's ``client.showErrorDetails`` says, and without the serving layer's
sign-in gate: it checks the app's code, not who may see it, as a signed-in visitor would run it
(``st.user`` is ``FIRST_RUN_USER``, so an app that reads ``st.user.email`` runs as behind the gate).
The app's own secrets file (``app_secrets.py``) is found and exported as the server does, and
handed to AppTest's ``st.secrets`` (which reads no file of its own), so an app that reads
``st.secrets`` or ``os.environ`` runs as it does in the server.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

from .app_secrets import install_app_secrets, read_secrets
from .settings import SettingsError

EXIT_APP_FAILED = 64  # EX_USAGE, as a bad setting stops a start
TIMEOUT_SECONDS = 120.0  # a first run slower than this is reported as one that failed
FIRST_RUN_USER = {
    "is_logged_in": True,
    "email": "first-run@example.invalid",
    "email_verified": True,
    "name": "First run",
}


def failures(
    script: Path, timeout: float = TIMEOUT_SECONDS, secrets: dict[str, Any] | None = None
) -> list[str]:
    """What went wrong in one run of ``script``: one text per error the page would show (its
    message and traceback), or the run's timeout; empty when it ran through."""
    from streamlit import config
    from streamlit.testing.v1 import AppTest

    # Streamlit's own log of the error ("Uncaught app execution", with its frames) would repeat it;
    # AppTest's set-up outside a run logs a "missing ScriptRunContext" warning that means nothing here.
    for noise in ("streamlit.error_util", "streamlit.runtime.scriptrunner_utils.script_run_context"):
        logging.getLogger(noise).disabled = True

    app = AppTest.from_file(str(script.resolve()), default_timeout=timeout)
    app.user = FIRST_RUN_USER
    app.secrets = dict(secrets or {})
    # The traceback in full, whatever the server shows visitors (its config: "none").
    config.set_option("client.showErrorDetails", "full")
    try:
        app.run()
    except RuntimeError as error:  # AppTest's "script run timed out"
        return [f"{error} (a first run slower than {timeout:.0f} s counts as failed)"]
    return [
        "\n  ".join(["Traceback (the app's first run):", *error.stack_trace])
        + f"\n{error.proto.type}: {error.message}"
        for error in app.exception
    ]


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m streamlit_serving.first_run <main script>", file=sys.stderr)
        return EXIT_APP_FAILED
    script = Path(argv[0])
    if not script.is_file():
        print(f"first run: the app's main script {script} is not a file", file=sys.stderr)
        return EXIT_APP_FAILED
    try:
        # As serve.py does before the server starts (it has checked the file: sign-in's [auth] aside).
        app_secrets = install_app_secrets(os.environ, script, sign_in=False)
        secrets = read_secrets(app_secrets.path, sign_in=False) if app_secrets else {}
    except SettingsError as error:
        print(f"first run: {error}", file=sys.stderr)
        return EXIT_APP_FAILED
    found = failures(script, secrets=secrets)
    for report in found:
        print(report, file=sys.stderr)
    if found:
        print(f"first run: the app {script} failed on its first run (its error above)", file=sys.stderr)
        return EXIT_APP_FAILED
    print(f"first run: the app {script} ran through", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
