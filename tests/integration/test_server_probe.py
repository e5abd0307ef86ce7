"""streamlit_load.server_probe.own_cgroup: CPU in nanoseconds for a process, ended threads included.

Runs as root or as a user with passwordless sudo (GitHub's runner, the project's CI user): the
cgroup is made through sudo then, and the test fails, never passes empty, when it cannot be."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from streamlit_load.server_probe import own_cgroup

BURNER = """
import sys, threading, time
def burn():
    end = time.thread_time() + 0.2
    while time.thread_time() < end:
        pass
sys.stdin.readline()
for _ in range(3):
    worker = threading.Thread(target=burn)
    worker.start()
    worker.join()
print("done", flush=True)
sys.stdin.readline()
"""


def test_own_cgroup_counts_the_cpu_of_threads_that_ended_and_cleans_up() -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", BURNER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    before_move = Path(f"/proc/{process.pid}/cgroup").read_text()
    try:
        with own_cgroup(process.pid) as probe:
            assert probe is not None, "no cgroup could be made (root, or sudo without a password, needed)"
            assert f"bench-{process.pid}" in Path(f"/proc/{process.pid}/cgroup").read_text()
            start = probe.read().cpu_seconds
            process.stdin.write("go\n")
            process.stdin.flush()
            assert process.stdout.readline().strip() == "done"
            used = probe.read().cpu_seconds - start
        assert 0.55 <= used < 2.0, used  # three threads of 0.2 s each, all ended before the read
        assert Path(f"/proc/{process.pid}/cgroup").read_text() == before_move
        for hierarchy in (Path("/sys/fs/cgroup/cpuacct"), Path("/sys/fs/cgroup")):
            assert not (hierarchy / f"bench-{process.pid}").exists()
    finally:
        process.kill()
        process.wait()
