"""What the app server spends while a load test runs: CPU seconds, memory, live sessions.

Two ways in, one interface (``Probe.read() -> Reading``):

  ProcessProbe(pid)          a local ``streamlit run`` process (psutil): CPU, RSS, threads, fds
  CgroupProbe(pid)           every process of a container, from the host: the cgroup that ``pid``
                             (``docker inspect -f '{{.State.Pid}}'``) belongs to, v2
                             (cpu.stat, memory.current) or v1 (cpuacct.usage, memory.usage_in_bytes)
  SumProbe([probes])         several of them added up (every replica of a service)
  TreeProbe(pid)             a process and its live children (the load generator with --processes)
  HostProbe()                the whole machine: busy CPU time of every core, memory in use

Live sessions come from Streamlit's ``/_stcore/metrics`` (``active_sessions``), read either
over HTTP (local server) or from inside the container's network with ``docker exec`` (a proxy
in front need not expose the endpoint). ``Sampler`` reads a probe every ``interval`` seconds in
a background thread and keeps the time series.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import psutil

from .socket_flags import accepted_nodelay as accepted_nodelay  # the socket part, stdlib only

CGROUP_ROOT = Path("/sys/fs/cgroup")
SOCKET_FLAGS = Path(__file__).with_name("socket_flags.py")
ACTIVE_SESSIONS = re.compile(r"^active_sessions\s+([0-9.]+)", re.MULTILINE)


@dataclass
class Reading:
    """One sample. ``threads``/``fds`` are None where the probe cannot see them (cgroups)."""

    time: float
    cpu_seconds: float
    rss_bytes: int  # resident anonymous memory (a cgroup's rss/anon; a process's RSS)
    threads: int | None = None
    fds: int | None = None
    sessions: int | None = None
    memory_bytes: int | None = None  # a cgroup's whole usage, page cache included (what its limit counts)


class Probe(Protocol):
    def read(self) -> Reading: ...


class ProcessProbe:
    """A local process and its children (psutil)."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)

    def read(self) -> Reading:
        with self.process.oneshot():
            cpu = self.process.cpu_times()
            return Reading(
                time=time.time(),
                cpu_seconds=cpu.user + cpu.system + cpu.children_user + cpu.children_system,
                rss_bytes=self.process.memory_info().rss,
                threads=self.process.num_threads(),
                fds=self.process.num_fds(),
            )


class CgroupProbe:
    """All processes of the cgroup that ``pid`` is in (a container's, seen from the host)."""

    def __init__(self, pid: int, root: Path = CGROUP_ROOT) -> None:
        lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
        paths = {}
        for line in lines:
            _, controllers, path = line.split(":", 2)
            for controller in controllers.split(",") if controllers else [""]:
                paths[controller] = path.lstrip("/")
        if "" in paths and (root / paths[""] / "cpu.stat").exists():  # cgroup v2
            self.cpu_file = root / paths[""] / "cpu.stat"
            self.memory_file = root / paths[""] / "memory.current"
            self.version, self.anon_key = 2, "anon"
        elif "cpuacct" in paths and "memory" in paths:  # cgroup v1
            self.cpu_file = root / "cpuacct" / paths["cpuacct"] / "cpuacct.usage"
            self.memory_file = root / "memory" / paths["memory"] / "memory.usage_in_bytes"
            self.version, self.anon_key = 1, "total_rss"
        else:
            raise RuntimeError(f"no cpu/memory cgroup found for pid {pid}: {lines}")
        self.stat_file = self.memory_file.with_name("memory.stat")

    def read(self) -> Reading:
        if self.version == 2:
            stat = dict(line.split() for line in self.cpu_file.read_text().splitlines())
            cpu = int(stat["usage_usec"]) / 1e6
        else:
            cpu = int(self.cpu_file.read_text()) / 1e9
        usage = int(self.memory_file.read_text())
        memory = dict(line.split() for line in self.stat_file.read_text().splitlines())
        rss = int(memory.get(self.anon_key, usage))
        return Reading(time=time.time(), cpu_seconds=cpu, rss_bytes=rss, memory_bytes=usage)


class HostProbe:
    """The whole machine's busy CPU time (/proc/stat: every state but idle and iowait) and the
    memory in use (MemTotal - MemAvailable): how much of the host a run left to anyone else."""

    def read(self) -> Reading:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        ticks = [int(value) for value in fields]
        busy = sum(ticks) - ticks[3] - (ticks[4] if len(ticks) > 4 else 0)  # minus idle, iowait
        meminfo = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
        kib = {
            key: int(value.split()[0])
            for key, value in meminfo.items()
            if key in ("MemTotal", "MemAvailable")
        }
        used = (kib["MemTotal"] - kib["MemAvailable"]) * 1024
        return Reading(
            time=time.time(), cpu_seconds=busy / os.sysconf("SC_CLK_TCK"), rss_bytes=used, memory_bytes=used
        )


def _as_root(*command: str, text: str | None = None) -> None:
    """Runs ``command`` as root: directly when root, else through ``sudo -n`` (no prompt)."""
    prefix = [] if os.geteuid() == 0 else ["sudo", "-n"]
    subprocess.run([*prefix, *command], input=text, capture_output=True, text=True, check=True, timeout=30)


def _cgroup_path(pid: int, controller: str) -> str:
    """The cgroup of ``pid`` in the v1 hierarchy of ``controller``, or in v2 (``controller=""``)."""
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controller in (controllers.split(",") if controllers else [""]):
            return path.lstrip("/")
    raise RuntimeError(f"pid {pid} is in no {controller or 'v2'} cgroup")


class TreeProbe:
    """A process and every live child (psutil): the CPU of Locust and its ``--processes`` workers."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.ended: dict[int, float] = {}  # children seen before, by pid: their last CPU seconds

    def read(self) -> Reading:
        rss, fds = 0, 0
        for process in [self.process, *self.process.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                times = process.cpu_times()
                self.ended[process.pid] = times.user + times.system
                rss += process.memory_info().rss
                fds += process.num_fds()
        cpu = sum(self.ended.values())  # children that ended keep their last reading
        return Reading(time=time.time(), cpu_seconds=cpu, rss_bytes=rss, fds=fds)


class SumProbe:
    """Several probes read together: CPU seconds and memory added up (the replicas of a service)."""

    def __init__(self, probes: list[Probe]) -> None:
        if not probes:
            raise ValueError("SumProbe needs at least one probe")
        self.probes = probes

    def read(self) -> Reading:
        readings = [probe.read() for probe in self.probes]
        usage = [r.memory_bytes for r in readings]
        return Reading(
            time=time.time(),
            cpu_seconds=sum(r.cpu_seconds for r in readings),
            rss_bytes=sum(r.rss_bytes for r in readings),
            memory_bytes=None if None in usage else sum(u for u in usage if u is not None),
        )


@contextlib.contextmanager
def own_cgroup(pid: int, root: Path = CGROUP_ROOT) -> Iterator[CgroupProbe | None]:
    """Move process ``pid`` into a cgroup of its own for a while, for CPU time in nanoseconds.

    psutil's process CPU times tick in 10 ms steps (the kernel's clock ticks), too coarse for one
    interaction; a cgroup's CPU accounting counts nanoseconds. (Both keep the time of threads
    that have ended: Streamlit runs each script run on a new thread.) Uses cgroup v1's
    ``cpuacct`` (or the v2 tree when that is all there is). Making the cgroup and moving the
    process need root: as another user it goes through ``sudo -n`` (GitHub's runner and the
    project's CI user have passwordless sudo). Yields None only when neither works (no sudo), so
    benchmark callers fall back to psutil. Afterwards the process goes back to the cgroup it
    came from and the cgroup is removed.
    """
    v1 = (root / "cpuacct" / "cgroup.procs").exists()
    hierarchy = root / "cpuacct" if v1 else root
    own = hierarchy / f"bench-{pid}"
    try:
        home = hierarchy / _cgroup_path(pid, "cpuacct" if v1 else "")
        _as_root("mkdir", str(own))
    except (OSError, RuntimeError, subprocess.SubprocessError):
        yield None
        return
    try:
        try:
            _as_root("tee", str(own / "cgroup.procs"), text=str(pid))
            probe = CgroupProbe(pid, root)
        except (OSError, RuntimeError, subprocess.SubprocessError):
            probe = None
        yield probe
    finally:
        with contextlib.suppress(OSError, subprocess.SubprocessError):  # the process may have ended
            _as_root("tee", str(home / "cgroup.procs"), text=str(pid))
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            _as_root("rmdir", str(own))


def parse_active_sessions(metrics: str) -> int | None:
    """The ``active_sessions`` gauge of Streamlit's OpenMetrics text, None if absent."""
    match = ACTIVE_SESSIONS.search(metrics)
    return int(float(match.group(1))) if match else None


def http_sessions(base_url: str) -> Callable[[], int | None]:
    """Read live sessions from ``{base_url}/_stcore/metrics`` over HTTP."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def read() -> int | None:
        try:
            with opener.open(f"{base_url}/_stcore/metrics", timeout=5) as response:
                return parse_active_sessions(response.read().decode())
        except OSError:
            return None

    return read


def docker_exec_sessions(
    container: str, port: int = 8501, docker: str = "docker"
) -> Callable[[], int | None]:
    """Read live sessions from inside a container (``docker exec ... python3``): the proxy in
    front need not expose ``/_stcore/metrics``."""
    code = (
        "import urllib.request;"
        f"print(urllib.request.urlopen('http://127.0.0.1:{port}/_stcore/metrics',timeout=5).read().decode())"
    )

    def read() -> int | None:
        result = subprocess.run(
            [docker, "exec", container, "python3", "-c", code], capture_output=True, text=True, timeout=10
        )
        return parse_active_sessions(result.stdout) if result.returncode == 0 else None

    return read


@dataclass
class Sampler:
    """Reads ``probe`` (and ``sessions``, every ``sessions_every`` samples) in a thread."""

    probe: Probe
    sessions: Callable[[], int | None] | None = None
    interval: float = 0.5
    sessions_every: int = 4
    readings: list[Reading] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="server-sampler", daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        count = 0
        while True:
            try:
                reading = self.probe.read()
            except (psutil.Error, OSError):
                break  # the server went away; keep what we have
            if self.sessions is not None and count % self.sessions_every == 0:
                reading.sessions = self.sessions()
            self.readings.append(reading)
            count += 1
            if self._stop.wait(self.interval):
                with contextlib.suppress(psutil.Error, OSError):
                    self.readings.append(self.probe.read())  # a last sample at the very end
                return

    def cpu_at(self, moment: float) -> float:
        """Server CPU seconds at ``moment`` (linear between the two nearest samples)."""
        return cpu_at(self.readings, moment)


def cpu_at(readings: list[Reading], moment: float) -> float:
    """CPU seconds at ``moment`` (linear between the two nearest readings)."""
    if not readings:
        raise ValueError("no samples")
    if moment <= readings[0].time:
        return readings[0].cpu_seconds
    for before, after in itertools.pairwise(readings):
        if before.time <= moment <= after.time:
            span = after.time - before.time or 1.0
            return before.cpu_seconds + (after.cpu_seconds - before.cpu_seconds) * (
                (moment - before.time) / span
            )
    return readings[-1].cpu_seconds


def container_nodelay(
    container: str, port: int = 8501, docker: str = "docker", image: str | None = None
) -> list[bool]:
    """TCP_NODELAY of every connection the app in ``container`` accepted on ``port``.

    The app runs as another user (UID 10001), so the host user needs root to borrow its sockets.
    Instead a short-lived helper container joins the app container's PID namespace with
    CAP_SYS_PTRACE (Docker's seccomp profile allows ``pidfd_getfd`` with it) and runs
    ``socket_flags.py`` against PID 1 with the python3 of ``image`` (default: the app
    container's own image). Works as any user of the docker group, root or not.
    """
    if image is None:
        image = subprocess.run(
            [docker, "inspect", "-f", "{{.Config.Image}}", container],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
    helper = [
        docker, "run", "--rm", "-i", "--pid", f"container:{container}", "--network", "none",
        "--user", "0:0", "--cap-drop", "ALL", "--cap-add", "SYS_PTRACE", "--cap-add", "DAC_READ_SEARCH",
        "--read-only", "--security-opt", "no-new-privileges", "--entrypoint", "python3", image,
        "-", "1", str(port),
    ]  # fmt: skip
    result = subprocess.run(
        helper, input=SOCKET_FLAGS.read_text(), capture_output=True, text=True, timeout=60, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"the socket helper container failed: {result.stderr[-2000:]}")
    return json.loads(result.stdout)
