"""What the sign-in gate adds to a fragment run: ``python loadtests/gate_timing.py``.

A fragment run of a signed-in session passes the gate twice (streamlit_serving/auth.py): before
its widget callbacks (``gated_callbacks``) and before its fragments (``gated_script_start``), each
time ``_let_in()``: the session's ``st.user``, the settings, ``judge()``. This times those two
checks where they run, on a script thread with a signed-in user and an ``[auth]`` secrets section
(Streamlit's AppTest), and prints the median over SAMPLES batches of BATCH pairs: the time added
to each fragment run (and to each whole run, which had one check before this change), with the
allow-lists in variables and in SERVE_ALLOWED_FILE. A timing to read, not a test: the machine's
load moves it.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

SAMPLES = 31
BATCH = 2000

SCRIPT = f"""
import statistics
import time

import streamlit as st

from streamlit_serving import auth

samples = []
for _ in range({SAMPLES}):
    start = time.perf_counter()
    for _ in range({BATCH}):
        auth._let_in()  # before the callbacks
        auth._let_in()  # before the fragments
    samples.append((time.perf_counter() - start) / {BATCH})
st.session_state["median"] = statistics.median(samples)
st.session_state["allowed"] = auth._let_in()
"""


def main() -> int:
    with tempfile.TemporaryDirectory() as scratch:
        allowed = Path(scratch) / "allowed"
        allowed.write_text("ada@example.com\nexample.org\nexample.net\n")
        cases = {
            "variables": {"SERVE_ALLOWED_EMAILS": "ada@example.com", "SERVE_ALLOWED_DOMAINS": "example.org"},
            "SERVE_ALLOWED_FILE": {"SERVE_ALLOWED_FILE": str(allowed)},
        }
        for what, env in cases.items():
            median = timed(Path(scratch), env)
            if median is None:
                return 1
            print(f"gate checks added to a fragment run (2 x _let_in), {what}: median {median * 1e6:.1f} µs "
                  f"({SAMPLES} batches of {BATCH})")  # fmt: skip
    return 0


def timed(scratch: Path, env: dict[str, str]) -> float | None:
    """The median time of two checks in a signed-in session's run, with these allow-list settings."""
    from streamlit_serving import auth
    from streamlit_serving.settings import current

    for name in ("SERVE_ALLOWED_EMAILS", "SERVE_ALLOWED_DOMAINS", "SERVE_ALLOWED_FILE"):
        os.environ.pop(name, None)
    os.environ.update({"SERVE_AUTH": "oidc", "SERVE_OIDC_FILE": "/run/secrets/oidc", **env})
    current.cache_clear()
    auth.ALLOW_FILE = auth.AllowFile()
    script = scratch / "timing_app.py"
    script.write_text(SCRIPT)
    app = AppTest.from_file(str(script), default_timeout=300)
    app.secrets["auth"] = {
        "redirect_uri": "http://localhost:8501/oauth2callback",
        "cookie_secret": "x" * 32,
        "client_id": "x",
        "client_secret": "x",
        "server_metadata_url": "http://localhost:9/.well-known/openid-configuration",
    }
    signed_in = int(time.time())
    app.user = {"is_logged_in": True, "email": "ada@example.com", "email_verified": True, "iat": signed_in}
    app.run()
    if app.exception or not app.session_state["allowed"]:
        print(f"the timing run failed: {[e.value for e in app.exception]}", file=sys.stderr)
        return None
    return app.session_state["median"]


if __name__ == "__main__":
    sys.exit(main())
