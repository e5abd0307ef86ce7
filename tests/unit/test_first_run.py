"""The first run (streamlit_serving/first_run.py): an app's main script run once outside the
server, as `make up` runs it in one replica. What happens on each input: an app that raises exits
64 with its own traceback; a missing script exits 64 naming it; an app that runs through, or stops
itself, or reads st.user as a signed-in visitor's page would, exits 0."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def first_run(script: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "streamlit_serving.first_run", str(script)],
        cwd=ROOT, capture_output=True, text=True, timeout=180,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("source", "shown"),
    [
        ("import streamlit as st\nst.title('x')\nimport not_a_package_here\n", "ModuleNotFoundError"),
        ("import streamlit as st\n\ndef total():\n    return 1 / 0\n\nst.write(total())\n", "ZeroDivision"),
    ],
)
def test_an_app_that_raises_exits_64_with_its_own_traceback(tmp_path, source, shown):
    script = tmp_path / "streamlit_app.py"
    script.write_text(source)
    result = first_run(script)
    assert result.returncode == 64
    report = result.stderr
    assert "Traceback (the app's first run):" in report
    assert f'File "{script}", line' in report  # the app's own frame, with its line
    assert shown in report
    assert "redacted" not in report  # full details, whatever the server shows visitors
    assert report.count(shown) == 1  # once: Streamlit's own log of it is not repeated
    assert f"first run: the app {script} failed on its first run" in report


def test_a_missing_script_exits_64_naming_it(tmp_path):
    result = first_run(tmp_path / "nowhere.py")
    assert result.returncode == 64
    assert f"the app's main script {tmp_path / 'nowhere.py'} is not a file" in result.stderr


@pytest.mark.parametrize(
    "source",
    [
        "import streamlit as st\nst.stop()\nraise RuntimeError('never reached')\n",
        "import streamlit as st\nst.write(st.user.email)\n",  # as behind the sign-in gate
    ],
)
def test_an_app_that_stops_itself_or_reads_the_user_runs_through(tmp_path, source):
    script = tmp_path / "streamlit_app.py"
    script.write_text(source)
    result = first_run(script)
    assert result.returncode == 0, result.stderr
    assert "ran through" in result.stderr


def test_the_example_and_the_hello_demo_run_through(hello_app):
    for script in (ROOT / "app" / "streamlit_app.py", hello_app / "streamlit_app.py"):
        result = first_run(script)
        assert result.returncode == 0, result.stderr
