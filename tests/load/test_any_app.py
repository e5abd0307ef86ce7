"""`make loadtest APP_DIR=...` (python -m streamlit_load.loadtest): AnyAppUser under Locust against a real
server of any app, and the figures by kind of run. The example's date picker lives in a fragment:
its users report fragment runs and full runs (a day in another month reruns the page), and its
fragment runs cost less script CPU than its full runs. Streamlit's hello demo has no fragment:
every interaction is a full run or another page, and the fragment row says so (none). A bad
APP_DIR stops it with 64, naming it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from streamlit_load.local_server import REPO


def loadtest_app(app_dir: Path, out: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "APP_DIR": str(app_dir), "APP_MAIN": "streamlit_app.py"}
    command = [sys.executable, "-m", "streamlit_load.loadtest", "--out", str(out), *args]
    return subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def kinds(out: Path) -> dict[str, dict]:
    return json.loads((out / "loadtest-app.json").read_text())["figures"]["kinds"]


def test_the_example_reports_fragment_and_full_runs_and_its_fragments_pay(tmp_path):
    done = loadtest_app(REPO / "app", tmp_path, "--users", "3", "--duration", "20", "--warmup", "5")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    found = kinds(tmp_path)
    fragment, full = found["fragment_run"], found["full_run"]
    assert fragment["interactions"] > 0
    assert full["interactions"] > 0
    assert fragment["failed"] == full["failed"] == 0
    assert fragment["server_runs"] >= fragment["interactions"]  # the server counted them too
    assert fragment["server_cpu_ms_per_run"] < full["server_cpu_ms_per_run"]
    assert "| fragment_run |" in (tmp_path / "summary.md").read_text()
    assert "load generator (every Locust process)" in done.stdout


def test_the_hello_demo_reports_full_runs_and_pages_and_no_fragment(hello_app, tmp_path):
    done = loadtest_app(
        hello_app, tmp_path, "--users", "2", "--duration", "30", "--warmup", "5", "--timeout", "90"
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    found = kinds(tmp_path)
    assert found["full_run"]["interactions"] + found["page"]["interactions"] > 0
    assert found["fragment_run"]["interactions"] == 0
    assert found["fragment_run"]["server_runs"] == 0  # the server ran no fragment either
    assert "fragment / full: median wall time n/a" in done.stdout


def test_a_bad_app_dir_stops_it_naming_it(tmp_path):
    done = loadtest_app(tmp_path / "nowhere", tmp_path / "out")
    assert done.returncode == 64
    assert f"APP_DIR={tmp_path / 'nowhere'} is not a directory" in done.stderr
