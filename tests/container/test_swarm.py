"""The Swarm stack (deploy/swarm/stack.yaml) as `make swarm-up` deploys it: 3 app replicas behind
the proxy on a single-node swarm, on the Swarm engine of scripts/setup/swarm-engine.sh (a Docker engine
of its own: the user's engine never joins or leaves a swarm), with the images built on the host's
engine copied in.

Sessions run the real app through the proxy on 127.0.0.1; which replica served what is read from
the proxy's JSON access log (`upstream_addr`), as in test_stack.py.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import cycle

import pytest

from sales_load.page import DashboardSession
from sales_load.rolling import UsersUnderLoad, replaced_replica, rolling_update
from streamlit_load.client import Interaction, SessionClosed, StreamlitClientError
from streamlit_load.local_server import free_port
from streamlit_load.swarm_engine import SwarmEngine

from .conftest import ROOT, STACK_REPLICAS
from .test_observability import eventually, targets_up, value
from .test_stack import log_line, probe_path, request
from .test_stack import test_new_sessions_spread_and_each_session_stays_on_its_replica as check_spread

FRAGMENT_DONE = ["FINISHED_FRAGMENT_RUN_SUCCESSFULLY"]
# Seconds a new session may take, beyond the slowest new session before the kill, while a
# replica goes away (issue 7): the first one may meet the dead address and wait out nginx's
# proxy_connect_timeout (2 s) before it is sent on. Against a baseline: the machine is shared.
NEW_SESSION_WITHIN = 5.0
ROLLING_USERS = 20  # RealisticMix users during the rolling update (think 1-3 s)
UPDATE_PACE = ("--update-delay", "3s", "--update-monitor", "5s")


@dataclass
class Swarm:
    """A stack deployed by scripts/deploy/swarm.sh, and the node's swarm state before it."""

    url: str
    name: str
    engine: SwarmEngine
    env: dict[str, str]
    node_before: tuple[str, bool]
    prometheus_url: str = ""  # OBSERVABILITY=1 (deploy/swarm/observability.yaml)

    def containers(self, service: str) -> list[str]:
        """Names of the service's running containers."""
        out = self.engine.run("ps", "--filter", f"label=com.docker.swarm.service.name={self.name}_{service}",
                  "--format", "{{.Names}}").stdout  # fmt: skip
        return sorted(out.split())

    def inspect(self, container: str) -> dict:
        return json.loads(self.engine.run("inspect", container).stdout)[0]

    def address(self, container: str) -> str:
        """The container's address:port on the stack's network, as the proxy's log names it."""
        networks = self.inspect(container)["NetworkSettings"]["Networks"]
        return f"{networks[f'{self.name}_backend']['IPAddress']}:8501"

    def exec(self, container: str, *command: str) -> subprocess.CompletedProcess[str]:
        return self.engine.run("exec", container, *command, check=False)

    def service(self, name: str) -> dict:
        return json.loads(self.engine.run("service", "inspect", f"{self.name}_{name}").stdout)[0]

    def proxy_logs(self) -> subprocess.CompletedProcess[str]:
        (proxy,) = self.containers("proxy")
        return self.engine.run("logs", proxy)

    def proxy_log(self) -> list[dict]:
        """The proxy's JSON access log lines, oldest first."""
        return [json.loads(line) for line in self.proxy_logs().stdout.splitlines() if line.startswith("{")]

    def proxy_upstreams(self) -> list[str]:
        """The replicas the proxy sends to now (its last DNS change)."""
        # "proxy: upstream app:8501 -> …" at start, "replicas changed, reloading: app:8501 -> …"
        # after (the access-log exporter's "->" lines name another address).
        changes = [line for line in self.proxy_logs().stderr.splitlines() if ":8501 ->" in line]
        return changes[-1].split("->")[1].split() if changes else []

    def wait_for(self, what: str, check, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
            time.sleep(0.5)


def node_state(engine: SwarmEngine) -> tuple[str, bool]:
    """(swarm state of the node, whether the docker_gwbridge network exists)."""
    state = engine.run("info", "--format", "{{.Swarm.LocalNodeState}}").stdout.strip()
    gwbridge = engine.run("network", "inspect", "docker_gwbridge", check=False).returncode == 0
    return state, gwbridge


def swarm_script(env: dict[str, str], command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["scripts/deploy/swarm.sh", command], cwd=ROOT, env=env, capture_output=True, text=True
    )


@pytest.fixture(scope="module")
def swarm(swarm_engine: SwarmEngine, images: dict[str, str], local_tls, tmp_path_factory) -> Iterator[Swarm]:
    swarm_engine.load(*images.values())
    prometheus_port = free_port()
    env = swarm_engine.https_stack_env(
        "swarmtest", images, tmp_path_factory.mktemp("swarm-secret"), local_tls,
        OBSERVABILITY="1", PROMETHEUS_PORT=str(prometheus_port),
    )  # fmt: skip
    tls_port = env["PROXY_TLS_PORT"]
    before = node_state(swarm_engine)
    up = swarm_script(env, "up")
    urls = [url.rstrip("/") for url in up.stdout.split()]
    stack = Swarm(urls[-1] if urls else "", env["SWARM_STACK"], swarm_engine, env, before)
    try:
        assert up.returncode == 0, f"scripts/deploy/swarm.sh up failed:\n{up.stderr[-4000:]}"
        assert stack.url == f"https://127.0.0.1:{tls_port}"  # the app's URL is the last line
        assert urls[:-1] == [f"http://127.0.0.1:{prometheus_port}"]  # Prometheus' before it
        stack.prometheus_url = urls[0]
        stack.wait_for("the proxy sees every replica", lambda: len(stack.proxy_upstreams()) == STACK_REPLICAS)
        yield stack
    finally:
        swarm_script(env, "down")
        swarm_engine.run("volume", "rm", f"{env['SWARM_STACK']}_prometheus-data", check=False)


def as_a_browser(session: DashboardSession, action: Callable[[], Interaction]) -> Interaction:
    """``action``, and if the socket closes meanwhile (its replica drained it away), come back as
    Streamlit's frontend does with a run in flight: reconnect through the proxy and rerun the page
    (``resume``), which answers the action."""
    try:
        return action()
    except SessionClosed:
        if session.connects == 0:
            raise
        resumed = session.resume(in_flight=True)
        assert resumed is not None  # a run in flight is always rerun
        return resumed


def open_new_session(url: str) -> tuple[float, str | None]:
    """(seconds, error or None) of one new session as a browser opens it: page, socket, first
    script run, a pick, which must show its day."""
    start = time.monotonic()
    session = DashboardSession(url, timeout=30)
    try:
        as_a_browser(session, session.open)
        pick = as_a_browser(session, lambda: session.pick_date("2023-01-09"))
        error = None if pick.has_text("Best sellers, January 9, 2023") else f"pick ended {pick.outcomes}"
    except (StreamlitClientError, OSError) as exc:
        error = repr(exc)
    finally:
        session.close()
    return time.monotonic() - start, error


def replica_of(stack: Swarm, session: DashboardSession) -> str:
    """The replica a session's requests reach (its route cookie on a probe request)."""
    path = probe_path("replica")
    assert request(stack.url, path, headers={"Cookie": session.cookie_header})[0] == 200
    return log_line(stack, path)["upstream_addr"]


@dataclass
class Picker:
    """A session picking days of its month in a loop, on its own thread, until stopped. When its
    socket drops it reconnects as Streamlit's frontend does (its replica went away, or the
    proxy's old workers reached worker_shutdown_timeout after a reload)."""

    session: DashboardSession
    replica: str
    picks: list[float] = field(default_factory=list)  # monotonic end time of each pick
    resumed: int = 0  # reconnects that resumed the same server-side session
    error: str | None = None

    def run(self, stop: threading.Event) -> None:
        days = cycle(range(2, 29))
        session_id = self.session.session_id
        try:
            while not stop.is_set():
                try:
                    pick = self.session.pick_date(f"2023-01-{next(days):02d}")
                except SessionClosed:
                    self.session.reconnect()
                    pick = self.session.pick_date(f"2023-01-{next(days):02d}")
                    if self.session.session_id != session_id:
                        raise AssertionError("reconnected to a new session: the old one is lost") from None
                    self.resumed += 1
                    # The pick the drop cut short may still be running: this one ends it early.
                    if pick.outcomes[:1] == ["FINISHED_EARLY_FOR_RERUN"]:
                        pick.outcomes = pick.outcomes[1:]
                if pick.outcomes != FRAGMENT_DONE:
                    raise AssertionError(f"pick ended {pick.outcomes}")
                self.picks.append(time.monotonic())
                stop.wait(0.5)
        except (StreamlitClientError, OSError, AssertionError) as exc:
            self.error = repr(exc)


def test_every_task_runs_hardened_with_the_shared_secret(swarm):
    apps, proxies = swarm.containers("app"), swarm.containers("proxy")
    assert len(apps) == STACK_REPLICAS
    assert len(proxies) == 1  # global: one per node
    secret = (ROOT / swarm.env["COOKIE_SECRET_FILE"]).read_text().strip()
    for name in apps + proxies:
        info = swarm.inspect(name)
        host = info["HostConfig"]
        assert info["State"]["Health"]["Status"] == "healthy", name
        assert host["ReadonlyRootfs"] is True
        assert host["CapDrop"] == ["ALL"]
        assert host["Memory"] > 0
        assert host["NanoCpus"] > 0
        assert [(m["Type"], m["Destination"]) for m in info["Mounts"]] == [("tmpfs", "/tmp")]
        write = swarm.exec(name, "touch", "/etc/written")
        assert "Read-only file system" in write.stderr
        assert swarm.exec(name, "touch", "/tmp/written").returncode == 0
    for name in apps:
        assert swarm.exec(name, "id", "-u").stdout.strip() == "10001"
        # The Swarm secret is readable by the app's user alone ...
        assert swarm.exec(name, "stat", "-c", "%u %a", "/run/secrets/cookie_secret").stdout.split() == [
            "10001",
            "400",
        ]
        # ... and every replica runs with the same cookie secret, not in the service's config.
        environ = swarm.exec(name, "cat", "/proc/1/environ").stdout.split("\0")
        assert f"STREAMLIT_SERVER_COOKIE_SECRET={secret}" in environ
    spec = swarm.service("app")["Spec"]
    assert spec["EndpointSpec"]["Mode"] == "dnsrr"
    assert not any("COOKIE_SECRET=" in item for item in spec["TaskTemplate"]["ContainerSpec"]["Env"])
    assert spec["UpdateConfig"]["Order"] == "start-first"
    assert spec["UpdateConfig"]["FailureAction"] == "rollback"
    ports = swarm.service("proxy")["Spec"]["EndpointSpec"]["Ports"]
    assert sorted((p["TargetPort"], p["PublishMode"]) for p in ports) == [(8080, "host"), (8443, "host")]
    # The proxy's TLS key: a Swarm secret readable by the proxy's user alone.
    (proxy,) = proxies
    assert swarm.exec(proxy, "stat", "-c", "%u %a", "/run/secrets/tls_key").stdout.split() == ["10002", "400"]
    assert request(swarm.url, "/healthz")[1]["Strict-Transport-Security"] == "max-age=300"


def test_the_overlay_is_encrypted_and_every_tasks_log_rotated(swarm):
    """IPsec between nodes (TLS ends at the proxy), and the engine's log rotation on every task
    (the stack's and the observability file's). One node sends no packet between nodes: the
    encryption itself cannot be seen here, only that the engine made the network with it."""
    network = json.loads(swarm.engine.run("network", "inspect", f"{swarm.name}_backend").stdout)[0]
    assert network["Driver"] == "overlay"
    assert network["Options"]["encrypted"] == ""
    names = [
        name
        for service in ("app", "proxy", "proxy-metrics", "prometheus")
        for name in swarm.containers(service)
    ]
    assert len(names) == STACK_REPLICAS + 3
    for name in names:
        log = swarm.inspect(name)["HostConfig"]["LogConfig"]
        assert log == {"Type": "json-file", "Config": {"max-size": "10m", "max-file": "5"}}, name


def test_prometheus_finds_every_replica_and_the_proxys_exporters(swarm):
    """The same Prometheus image and DNS discovery as the compose profile: with dnsrr every
    replica's address is its own target, and the proxy's access log reaches mtail."""
    replicas = STACK_REPLICAS
    expected = {"app": replicas, "streamlit": replicas, "nginx": 1, "nginx-log": 1, "prometheus": 1}
    eventually(lambda: targets_up(swarm) == expected, f"targets up {expected} (got {targets_up(swarm)})", 90)
    with DashboardSession(swarm.url, timeout=30) as session:
        session.pick_date("2023-01-11")
    requests = 'sum(nginx_access_requests_total{job="nginx-log", route="stream"})'
    eventually(lambda: value(swarm, requests) > 0, "a WebSocket counted from the proxy's access log")


def test_sessions_spread_over_the_replicas_and_stay_sticky(swarm):
    assert sorted(swarm.address(name) for name in swarm.containers("app")) == sorted(
        f"{addr}:8501" for addr in swarm.proxy_upstreams()
    )
    check_spread(swarm)


def test_killed_replica_loses_only_its_own_sessions_and_is_replaced(swarm):
    sessions = 9
    pickers = []
    for _ in range(sessions):
        # A replica's first script run loads the data and plotly: slow on a busy machine.
        session = DashboardSession(swarm.url, timeout=60)
        session.open()
        session.timeout = 30
        assert session.pick_date("2023-01-02").outcomes == FRAGMENT_DONE  # warm, before the clock
        pickers.append(Picker(session, replica_of(swarm, session)))
    by_replica = Counter(p.replica for p in pickers)
    victim_addr = by_replica.most_common(1)[0][0]
    assert len(by_replica) > 1, f"all {sessions} sessions on one replica: {by_replica}"
    (victim,) = [name for name in swarm.containers("app") if swarm.address(name) == victim_addr]
    stop = threading.Event()
    threads = [threading.Thread(target=p.run, args=(stop,), daemon=True) for p in pickers]
    for thread in threads:
        thread.start()
    try:
        baseline = [open_new_session(swarm.url) for _ in range(3)]
        assert all(error is None for _, error in baseline), baseline
        swarm.engine.run("kill", victim)
        killed = time.monotonic()
        # New sessions, one after another from the moment of the kill, at most 5 a second: all
        # from one address, so faster would meet the proxy's per-client request limit (429).
        new_sessions = []
        while time.monotonic() - killed < 12:
            opened = time.monotonic()
            new_sessions.append(open_new_session(swarm.url))
            time.sleep(max(0.0, opened + 0.2 - time.monotonic()))
        time.sleep(1)
    finally:
        stop.set()
        for thread in threads:
            thread.join(20)
        for picker in pickers:
            picker.session.close()
    print(f"sessions per replica {dict(by_replica)}; killed {victim_addr};",
          "resumed after a socket drop:", [p.resumed for p in pickers])  # fmt: skip
    slowest_before = max(seconds for seconds, _ in baseline)
    print(f"new sessions before the kill: slowest {slowest_before:.2f} s; after it (s, error):",
          [(round(t, 2), e) for t, e in new_sessions])  # fmt: skip
    survivors = [p for p in pickers if p.replica != victim_addr]
    for picker in survivors:
        assert picker.error is None, f"a session on {picker.replica} failed: {picker.error}"
        assert any(t > killed + 1 for t in picker.picks), "a surviving session stopped picking"
    for picker in pickers:
        if picker.replica == victim_addr:
            assert picker.error is not None, "a session on the killed replica went on picking"
    assert all(error is None for _, error in new_sessions), new_sessions
    # The first new session, opened at the kill, is the one that can meet the dead replica
    # (before DNS drops it); later ones share the CPU with the replacement's start-up.
    assert new_sessions[0][0] < slowest_before + NEW_SESSION_WITHIN, new_sessions

    # The swarm starts a new task in the victim's place, and the proxy sends to it.
    def replaced() -> bool:
        apps = swarm.containers("app")
        if len(apps) != STACK_REPLICAS or victim in apps:
            return False
        healthy = all(swarm.inspect(name)["State"]["Health"]["Status"] == "healthy" for name in apps)
        addresses = sorted(swarm.address(name) for name in apps)
        return healthy and addresses == sorted(f"{a}:8501" for a in swarm.proxy_upstreams())

    swarm.wait_for("the killed replica replaced and in the proxy", replaced)
    assert open_new_session(swarm.url)[1] is None


def test_rolling_update_under_load_loses_nothing(swarm, tmp_path):
    """Every replica replaced one at a time (start-first; each old one drains on SIGTERM) while
    RealisticMix users run (Locust, browser-like: a closed socket comes back as Streamlit's
    frontend does) and new sessions keep opening: no interaction and no new session fails, every
    session of a replaced replica comes back on another one showing its day, and no replaced
    replica had a session left when it stopped."""
    app_image = swarm.env["APP_IMAGE"]
    update_tag = f"{app_image.rsplit(':', 1)[0]}:{swarm.name}-update"
    swarm.engine.run("tag", app_image, update_tag)
    before = swarm.containers("app")
    results: list[tuple[float, str | None]] = []
    try:
        with UsersUnderLoad(swarm.url, users=ROLLING_USERS, out=tmp_path / "users", think=(1.0, 3.0)) as load:
            load.wait_ramped()
            new_session = lambda: results.append(open_new_session(swarm.url))  # noqa: E731
            # Paced for a test (the stack file's 10 s delay and 30 s monitor would take ~160 s).
            options = ("--no-resolve-image", "--image", update_tag, *UPDATE_PACE)
            start, end = rolling_update(swarm.engine.run, f"{swarm.name}_app", *options, during=new_session)
            load.sleep(3)  # the last moved sessions come back
        seen = load.summary(load.started, time.time())
        during = load.summary(start, end + 3)
        replaced = {name: replaced_replica(swarm.engine.run, name) for name in before}
        drains = {
            name[-12:]: (d.moved, d.drain_seconds, d.still_open, stop) for name, (d, stop) in replaced.items()
        }
        print(f"update {end - start:.0f} s; users: {seen.interactions} interactions, {seen.failed} failed, "
              f"{seen.reconnects} reconnects, p95 {during.p95_ms:.0f} ms during the update; "
              f"{len(results)} new sessions; replaced (moved, drain s, open, stop s): {drains}")  # fmt: skip
        assert seen.failed == 0, seen.failures
        new_failures = [error for _, error in results if error]
        assert new_failures == []
        assert len(results) >= 10, "too few new sessions to say anything"
        moved = sum(drain.moved or 0 for drain, _ in replaced.values())
        assert moved > 0, "no session was on a replaced replica: the test proved nothing"
        assert seen.reconnects > 0, "the moved users came back (each showing its day: no failure)"
        assert [drain.still_open for drain, _ in replaced.values()] == [0] * len(before)
        apps = swarm.containers("app")
        assert len(apps) == STACK_REPLICAS
        assert not set(before) & set(apps), "a replica was not replaced"
        for name in apps:
            assert swarm.inspect(name)["Config"]["Image"] == update_tag
    finally:
        swarm.engine.run("image", "rm", update_tag, check=False)


def test_down_leaves_the_node_as_found(swarm):
    down = swarm_script(swarm.env, "down")
    assert down.returncode == 0, down.stderr
    assert node_state(swarm.engine) == swarm.node_before
    label = f"label=com.docker.stack.namespace={swarm.name}"
    assert swarm.engine.run("ps", "-aq", "--filter", label).stdout == ""
    assert swarm.engine.run("network", "ls", "-q", "--filter", label).stdout == ""
    if swarm.node_before[0] == "active":
        assert swarm.name not in swarm.engine.run("stack", "ls").stdout
