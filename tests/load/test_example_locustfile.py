"""A user's own locustfile (loadtests/examples/locustfile.py: AnyAppUser subclassed, 16 lines)
load-tests an app it was not written for: headless Locust against a real local server of
Streamlit's hello demo, run from a folder outside the repository (the kit comes from the
installed project, not from a path), makes interactions and has no failure."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

from streamlit_load.local_server import REPO, running_server

LOCUSTFILE = REPO / "loadtests" / "examples" / "locustfile.py"


def test_the_example_locustfile_loads_the_hello_demo_without_failures(hello_app: Path, tmp_path: Path):
    with running_server(app=hello_app / "streamlit_app.py") as server:
        done = subprocess.run(
            [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--users", "3",
             "--spawn-rate", "3", "--run-time", "12s", "--stop-timeout", "10", "--host", server.base_url,
             "--csv", str(tmp_path / "example"), "--only-summary"],
            cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    rows = {row["Name"]: row for row in csv.DictReader((tmp_path / "example_stats.csv").open())}
    total = rows.pop("Aggregated")
    assert int(total["Failure Count"]) == 0
    assert "initial_load" in rows  # every user opened the page ...
    moves = sum(int(row["Request Count"]) for name, row in rows.items() if name != "initial_load")
    assert moves >= 3, rows  # ... and changed widgets or pages (hello: full runs, other pages)
    spawned = [line for line in done.stderr.splitlines() if "All users spawned" in line]
    assert spawned, done.stderr[-3000:]
    assert '{"MyAppUser": 3}' in spawned[0]
    assert "AnyAppUser" not in spawned[0]  # only the user defined there, not the one it imports
