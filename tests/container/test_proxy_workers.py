"""The proxy's nginx workers: as many as the container's CPU limit (not the host's cores), or
PROXY_WORKERS; and what a burst of reloads costs in memory, and the WebSockets, with many workers.

Memory is what the kernel charges: each nginx process's private pages (the Private_* lines of
/proc/PID/smaps_rollup, as smem's USS) and the container's cgroup.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from sales_load.page import DashboardSession
from streamlit_load.local_server import free_port

from .conftest import run

# deploy/compose.yaml's limit for the proxy (the Swarm stack's is the same).
PROXY_MEMORY_LIMIT = 320 * 2**20
RELOADS = 20
SOCKETS_PER_GENERATION = 16  # WebSockets opened before each reload: most workers of it hold one
# PROXY_RELOAD_GRACE_SECONDS (nginx's worker_shutdown_timeout; 60 by default): shorter, so the
# old generations' end is seen in seconds, not a minute.
WORKER_SHUTDOWN_TIMEOUT = 30

# One line per nginx process: "PID private-kB command".
PROCESSES = r"""
for d in /proc/[0-9]*; do
  cmd=$(tr '\0' ' ' <"$d/cmdline" 2>/dev/null) || continue
  case $cmd in nginx:*)
    kb=$(awk '/^Private/ { s += $2 } END { print s }' "$d/smaps_rollup" 2>/dev/null)
    echo "${d#/proc/} ${kb:-0} $cmd" ;;
  esac
done
"""


def nginx_processes(docker: str, container: str) -> list[tuple[int, int, str]]:
    """(PID, private kB, command) of every nginx process in the container."""
    out = run(docker, "exec", container, "sh", "-c", PROCESSES).stdout
    return [(int(line.split()[0]), int(line.split()[1]), line.split(None, 2)[2]) for line in out.splitlines()]


def workers(processes: list[tuple[int, int, str]], newer_than: int = 0) -> int:
    """Worker processes (those started after PID ``newer_than``)."""
    return sum("worker process" in command and pid > newer_than for pid, _, command in processes)


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def cgroup_memory(docker: str, container: str) -> int:
    """Bytes the container's cgroup is charged now (v2 memory.current, v1 memory.usage_in_bytes)."""
    read = "cat /sys/fs/cgroup/memory.current 2>/dev/null || cat /sys/fs/cgroup/memory/memory.usage_in_bytes"
    return int(run(docker, "exec", container, "sh", "-c", read).stdout)


def wait_for(what: str, check, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        time.sleep(0.3)


@contextmanager
def proxy(docker: str, image: str, *options: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """The proxy image alone (no app: its 502 page), hardened as compose runs it, until removed."""
    name = f"proxy-workers-{free_port()}"
    environment = [
        f"--env={key}={value}" for key, value in {"APP_HOST": "no-such-app.invalid", **(env or {})}.items()
    ]
    run(docker, "run", "-d", "--name", name, "--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL",
        *options, *environment, image)  # fmt: skip
    try:
        wait_for("nginx's workers", lambda: workers(nginx_processes(docker, name)) > 0)
        yield name
    finally:
        run(docker, "rm", "-f", name, check=False)


@pytest.mark.parametrize(("cpus", "expected"), [("1", 1), ("0.5", 1), ("1.5", 2)])
def test_workers_follow_the_cpu_limit_not_the_hosts_cores(docker, proxy_image, cpus, expected):
    host_cpus = int(run(docker, "run", "--rm", "--entrypoint", "nproc", proxy_image).stdout)
    with proxy(docker, proxy_image, f"--cpus={cpus}") as name:
        assert workers(nginx_processes(docker, name)) == min(expected, host_cpus)
        log = run(docker, "logs", name).stderr
        assert f"proxy: {min(expected, host_cpus)} worker process(es)" in log


@pytest.mark.parametrize(
    ("cpu_max", "expected"), [("50000 100000", 1), ("150000 100000", 2), ("max 100000", 0)]
)
def test_workers_follow_cgroup_v2_cpu_max(docker, proxy_image, tmp_path, cpu_max, expected):
    """cgroup v2's cpu.max (these machines run v1: a file mounted in its place, read first)."""
    host_cpus = int(run(docker, "run", "--rm", "--entrypoint", "nproc", proxy_image).stdout)
    cpu_max_file = tmp_path / "cpu.max"
    cpu_max_file.write_text(f"{cpu_max}\n")
    cpu_max_file.chmod(0o644)
    with proxy(docker, proxy_image, "-v", f"{cpu_max_file}:/sys/fs/cgroup/cpu.max:ro") as name:
        # "max": no limit, one worker per CPU it may run on.
        assert workers(nginx_processes(docker, name)) == min(expected or host_cpus, host_cpus)


def test_proxy_workers_overrides_the_cpu_limit(docker, proxy_image):
    with proxy(docker, proxy_image, "--cpus=0.5", env={"PROXY_WORKERS": "3"}) as name:
        assert workers(nginx_processes(docker, name)) == 3
        # The proxy's 16,384 connections shared out: 5,462 each.
        conf = run(docker, "exec", name, "cat", "/tmp/nginx/connections.conf").stdout
        assert conf.strip() == "worker_connections 5462;"


@pytest.mark.parametrize("value", ["0", "1m", "3601", "-5"])
def test_a_bad_reload_grace_stops_the_start_naming_it(docker, proxy_image, value):
    setting = f"PROXY_RELOAD_GRACE_SECONDS={value}"
    result = run(docker, "run", "--rm", "--read-only", "--tmpfs", "/tmp", "-e", setting, proxy_image,
                 check=False)  # fmt: skip
    assert result.returncode == 64, result.stderr
    expected = f"PROXY_RELOAD_GRACE_SECONDS must be a whole number of seconds from 1 to 3600, got '{value}'"
    assert expected in result.stderr


@pytest.mark.parametrize("value", ["0", "auto", "-1", "257", "2.5"])
def test_a_bad_proxy_workers_stops_the_start_naming_it(docker, proxy_image, value):
    result = run(docker, "run", "--rm", "--read-only", "--tmpfs", "/tmp", "-e", f"PROXY_WORKERS={value}",
                 proxy_image, check=False)  # fmt: skip
    assert result.returncode == 64, result.stderr
    assert (
        f"PROXY_WORKERS must be a whole number from 1 to 256 (empty: from the CPU limit), got '{value}'"
        in result.stderr
    )


def test_an_idle_worker_holds_a_few_mb_of_private_memory(docker, proxy_image):
    """The figure docs/deploy.md gives: one worker with the proxy's 16,384 connections."""
    with proxy(docker, proxy_image, "--cpus=1") as name:
        processes = nginx_processes(docker, name)
        (worker_kb,) = [kb for _, kb, command in processes if "worker process" in command]
        (master_kb,) = [kb for _, kb, command in processes if "master process" in command]
        print(f"idle worker {worker_kb} kB private, master {master_kb} kB")
        assert 1024 < worker_kb < 12 * 1024


def test_many_workers_and_a_burst_of_reloads_stay_under_the_memory_limit(docker, images, tmp_path):
    """8 workers, 20 reloads, each leaving its workers alive holding WebSockets to a real app: the
    container stays under compose's 320 MB (at 16,384 connections a worker, ~7 MB each, 168
    workers would need 1.2 GB). After worker_shutdown_timeout the old generations are gone, and a
    session whose socket they closed reconnects to its server-side session (what it loses)."""
    network = f"workers-{free_port()}"
    app = f"{network}-app"
    port = free_port()
    run(docker, "network", "create", network)
    held: list[DashboardSession] = []
    try:
        run(docker, "run", "-d", "--name", app, "--network", network, "--network-alias", "app",
            "--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL", images["APP_IMAGE"])  # fmt: skip
        # One client opens 320 sockets (a page request and a handshake each) in seconds: the
        # per-client limits, tested elsewhere, are lifted so that only the workers are measured.
        env = {"APP_HOST": "app", "PROXY_TLS": "off", "PROXY_WORKERS": "8", "PROXY_WS_PER_CLIENT": "1000",
               "PROXY_RATE_PER_CLIENT": "1000r/s", "PROXY_BURST_PER_CLIENT": "10000",
               "PROXY_RELOAD_GRACE_SECONDS": str(WORKER_SHUTDOWN_TIMEOUT)}  # fmt: skip
        options = ("--network", network, f"--memory={PROXY_MEMORY_LIMIT}", "-p", f"127.0.0.1:{port}:8080")
        with proxy(docker, images["PROXY_IMAGE"], *options, env=env) as name:
            url = f"http://127.0.0.1:{port}"
            wait_for("the app through the proxy", lambda: healthy(url), 90)
            session = DashboardSession(url, timeout=60)
            held.append(session)
            session.open()
            assert session.pick_date("2023-01-20").outcomes == ["FINISHED_FRAGMENT_RUN_SUCCESSFULLY"]
            first_reload = time.monotonic()
            for _ in range(RELOADS):
                for _ in range(SOCKETS_PER_GENERATION):
                    socket = DashboardSession(url, timeout=30)
                    socket.connect()
                    held.append(socket)
                newest = max(pid for pid, _, _ in nginx_processes(docker, name))
                run(docker, "exec", name, "sh", "-c", 'kill -HUP "$(cat /tmp/nginx/nginx.pid)"')
                wait_for("a new generation", lambda n=newest: workers(nginx_processes(docker, name), n) == 8)
            processes = nginx_processes(docker, name)
            private = sum(kb for _, kb, _ in processes) * 1024
            charged = cgroup_memory(docker, name)
            state = json.loads(run(docker, "inspect", name).stdout)[0]["State"]
            print(f"{workers(processes)} workers after {RELOADS} reloads: {private / 2**20:.0f} MiB private "
                  f"(nginx), {charged / 2**20:.0f} MiB charged to the cgroup")  # fmt: skip
            # The generations really piled up: most of each held a socket.
            assert workers(processes) > 8 * RELOADS // 2, processes
            assert not state["OOMKilled"]
            assert state["Running"]
            assert private < PROXY_MEMORY_LIMIT * 0.75
            assert charged < PROXY_MEMORY_LIMIT * 0.75
            # worker_shutdown_timeout after the first reload, the first generation closes the
            # session's socket: the page reconnects at once, as Streamlit's frontend does, and the
            # app resumes the same session (it keeps a disconnected one for a while).
            session_id = session.session_id
            left = WORKER_SHUTDOWN_TIMEOUT - (time.monotonic() - first_reload)
            session.wait_closed(timeout=left + 30)
            closed_after = time.monotonic() - first_reload
            start = time.monotonic()
            session.reconnect()
            pick = session.pick_date("2023-01-22")
            took = time.monotonic() - start
            print(f"socket closed {closed_after:.1f} s after the reload; reconnect and pick: {took:.2f} s")
            assert session.session_id == session_id
            assert pick.outcomes[-1:] == ["FINISHED_FRAGMENT_RUN_SUCCESSFULLY"]
            assert closed_after >= WORKER_SHUTDOWN_TIMEOUT - 1
            # Then every old generation exits in its turn, and only the newest is left.
            wait_for("the old generations to exit", lambda: workers(nginx_processes(docker, name)) == 8, 90)
    finally:
        for session in held:
            session.close()
        run(docker, "rm", "-f", app, check=False)
        run(docker, "network", "rm", network, check=False)
