"""The load generator scales past select()'s 1,024 file descriptors (issue 14, item 5).

Locust runs every user as a greenlet in one process; a client that waited with ``select.select``
failed from the 1,024th socket on ("filedescriptor out of range in select()"). Here one process,
patched by gevent as Locust's is, holds more than 1,024 sessions on a real server, every one of
them answers a heartbeat, and the sessions with the highest descriptors run the page and a
fragment pick.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest

from streamlit_load.harness import FdLimitError, raise_fd_limit
from streamlit_load.local_server import Server, running_server

SESSIONS = 1100


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    raise_fd_limit(4 * SESSIONS + 200)  # the server (a child) inherits it: ~3 fds per session
    with running_server() as started:
        yield started


def test_one_process_holds_more_than_1024_sessions(server):
    command = [sys.executable, "-m", "sales_load.hold", server.base_url, "--sessions", str(SESSIONS)]
    done = subprocess.run([*command, "--pages", "20"], capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["error_count"] == 0, result["errors"]
    assert result["connected"] == result["heartbeats"] == SESSIONS
    assert result["picks"] == 20
    assert result["max_fd"] > 1024, result


def test_fd_limit_is_raised_to_the_hard_limit_or_refused_by_name():
    code = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (256, 2048))\n"
        "from streamlit_load.harness import FdLimitError, raise_fd_limit\n"
        "print(raise_fd_limit(1500))\n"
        "try:\n"
        "    raise_fd_limit(5000)\n"
        "except FdLimitError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    raised, refused = done.stdout.strip().splitlines()
    assert raised == "2048"
    assert "needs about 5000 open files, the hard limit is 2048" in refused
    assert issubclass(FdLimitError, RuntimeError)
    assert raise_fd_limit(10) >= 10
