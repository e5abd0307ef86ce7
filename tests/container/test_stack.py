"""The compose stack (deploy/compose.yaml) as `make up` starts it: 3 app replicas behind nginx.

Every request goes through the proxy on 127.0.0.1; what reached which replica is read from the
proxy's JSON access log (`upstream_addr`).
"""

from __future__ import annotations

import gzip
import http.client
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from sales_load.page import DashboardSession
from streamlit_load.client import SessionClosed
from streamlit_load.client.tls import client_context

from .conftest import STACK_LIMITS, STACK_REPLICAS, run

SECURITY_HEADERS = (
    "X-Content-Type-Options",
    "Referrer-Policy",
    "X-Frame-Options",
    "Content-Security-Policy",
)


def connection(url: str, timeout: float = 30) -> http.client.HTTPConnection:
    """A connection to `url`'s host: HTTPS (the stack's CA trusted) or plain HTTP, by its scheme."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        return http.client.HTTPSConnection(
            parts.hostname, parts.port, timeout=timeout, context=client_context()
        )
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)


def request(url: str, path: str, method: str = "GET", headers: dict | None = None, body: bytes | None = None):
    """(status, headers, body) of one request with exactly these headers."""
    conn = connection(url)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


def probe_path(tag: str = "probe") -> str:
    """A health-check path with a unique query, to find its line in the access log."""
    return f"/_stcore/health?{tag}={uuid.uuid4().hex}"


def log_line(stack, path: str, wait: float = 5.0) -> dict:
    deadline = time.monotonic() + wait
    while True:
        lines = [line for line in stack.proxy_log() if line["uri"] == path]
        if lines or time.monotonic() > deadline:
            assert lines, f"{path} not in the proxy's access log"
            return lines[-1]
        time.sleep(0.2)


def socket_lines(stack, more_than: int = 0, wait: float = 5.0) -> list[dict]:
    """The access log's WebSocket lines (written when a socket closes), once there are more
    than `more_than` of them."""
    deadline = time.monotonic() + wait
    while True:
        lines = [line for line in stack.proxy_log() if line["uri"] == "/_stcore/stream"]
        if len(lines) > more_than or time.monotonic() > deadline:
            return lines
        time.sleep(0.2)


def static_asset(stack) -> str:
    status, _, body = request(stack.url, "/")
    assert status == 200
    marker = b'src="./static/js/'
    start = body.index(marker) + len(marker) - len("static/js/")
    return "/" + body[start : body.index(b'"', start)].decode()


def test_make_up_starts_every_service_healthy(stack):
    apps, proxies = stack.containers("app"), stack.containers("proxy")
    assert len(apps) == STACK_REPLICAS
    assert len(proxies) == 1
    for name in apps + proxies:
        health = run(stack.docker, "inspect", "-f", "{{.State.Health.Status}}", name).stdout.strip()
        assert health == "healthy", name


def test_health_through_the_proxy_and_the_proxys_own(stack):
    assert request(stack.url, "/_stcore/health")[::2] == (200, b"ok")
    assert request(stack.url, "/healthz")[::2] == (200, b"ok\n")


def test_session_through_the_proxy_runs_fragment_and_full_reruns(stack):
    # The proxy is on a random port: this only works because it forwards Host with the port.
    with DashboardSession(stack.url) as session:
        assert session.initial.outcomes == ["FINISHED_SUCCESSFULLY"]
        pick = session.pick_date("2023-01-20")
        assert pick.outcomes == ["FINISHED_FRAGMENT_RUN_SUCCESSFULLY"]
        assert not pick.outside_fragment
        month = session.change_month("2023-05-04")
        assert month.has_text("Daily sales for all products, May 2023")
        assert month.outside_fragment


@pytest.mark.parametrize("path", ["/", "/static", "/_stcore/nope", "/healthz"])
def test_security_headers_on_every_response(stack, path):
    if path == "/static":
        path = static_asset(stack)
    status, headers, _ = request(stack.url, path)
    for name in SECURITY_HEADERS:
        assert headers[name], f"{name} missing on {path} ({status})"
    assert "frame-ancestors 'self'" in headers["Content-Security-Policy"]
    assert headers["Server"] == "nginx"  # no version


def test_cache_and_gzip_headers(stack):
    asset = static_asset(stack)
    status, headers, body = request(stack.url, asset, headers={"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body).startswith(b"")  # a valid gzip stream
    status, headers, _ = request(stack.url, "/", headers={"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers["Cache-Control"] == "no-cache"
    assert headers.get_all("Cache-Control") == ["no-cache"]


def test_metrics_refused_outside_served_inside(stack):
    assert request(stack.url, "/_stcore/metrics")[0] == 404
    app = stack.containers("app")[0]
    assert run(stack.docker, "port", app).stdout.strip() == ""  # the app publishes no port
    inside = stack.exec(
        app, "python3", "-c",
        "import urllib.request as u; print(u.urlopen('http://127.0.0.1:8501/_stcore/metrics').status)",
    )  # fmt: skip
    assert inside.stdout.strip() == "200", inside.stderr


def test_containers_run_non_root_on_read_only_root(stack):
    for service, uid in (("app", "10001"), ("proxy", "10002")):
        for name in stack.containers(service):
            assert stack.exec(name, "id", "-u").stdout.strip() == uid
            write = stack.exec(name, "touch", "/etc/written")
            assert write.returncode != 0
            assert "Read-only file system" in write.stderr
            host = json.loads(run(stack.docker, "inspect", name).stdout)[0]["HostConfig"]
            assert host["ReadonlyRootfs"] is True
            assert host["CapDrop"] == ["ALL"]
            assert any("no-new-privileges" in opt for opt in host["SecurityOpt"])
            assert host["Memory"] > 0
            assert host["NanoCpus"] > 0


def test_proxy_runtime_has_no_compiler_or_curl(stack):
    (proxy,) = stack.containers("proxy")
    for tool in ("gcc", "cc", "curl", "wget", "python3", "pip"):
        assert stack.exec(proxy, "sh", "-c", f"command -v {tool}").returncode != 0, tool


def test_cookie_secret_is_shared_and_not_in_the_container_config(stack):
    values = set()
    for name in stack.containers("app"):
        env = json.loads(run(stack.docker, "inspect", name).stdout)[0]["Config"]["Env"]
        assert not any(item.startswith("STREAMLIT_SERVER_COOKIE_SECRET=") for item in env)
        environ = stack.exec(name, "cat", "/proc/1/environ").stdout.split("\0")
        values |= {item for item in environ if item.startswith("STREAMLIT_SERVER_COOKIE_SECRET=")}
    secret = Path(stack.env["COOKIE_SECRET_FILE"]).read_text().strip()
    assert values == {f"STREAMLIT_SERVER_COOKIE_SECRET={secret}"}


def test_new_sessions_spread_and_each_session_stays_on_its_replica(stack):
    """24 new sessions (socket opened, no script run) land on every replica; each session's
    socket and its later HTTP requests, which carry its route cookie, reach one replica."""
    sessions = 24
    sockets_before = len(socket_lines(stack))
    probes: list[list[str]] = []
    for _ in range(sessions):
        session = DashboardSession(stack.url)
        session.connect()
        session.close()
        assert "st_route=" in (session.cookie_header or "")
        probes.append([probe_path("sticky") for _ in range(3)])
        for path in probes[-1]:
            assert request(stack.url, path, headers={"Cookie": session.cookie_header})[0] == 200
    sockets = socket_lines(stack, more_than=sockets_before + sessions - 1)[sockets_before:]
    assert len(sockets) == sessions, "a socket's access-log line is missing"
    upstream_of = {line["uri"]: line["upstream_addr"] for line in stack.proxy_log()}
    replicas = set()
    # Sockets are logged when they close, and each closed before its session's probes.
    for socket, paths in zip(sockets, probes, strict=True):
        assert socket["status"] == 101
        upstreams = {socket["upstream_addr"]} | {upstream_of[path] for path in paths}
        assert len(upstreams) == 1, f"one session's requests reached {upstreams}"
        replicas |= upstreams
    assert len(replicas) == STACK_REPLICAS, f"{sessions} new sessions reached only {replicas}"


def test_oversized_body_is_refused_by_the_proxy(stack):
    path = f"/_stcore/upload_file/{uuid.uuid4().hex}"
    status, headers, _ = request(stack.url, path, "PUT", body=b"x" * (17 * 1024 * 1024))
    assert status == 413
    assert headers["X-Content-Type-Options"] == "nosniff"
    line = log_line(stack, path)
    assert line["status"] == 413
    assert line["upstream_addr"] == ""


def test_bad_host_is_refused_by_the_proxy(stack):
    path = probe_path("badhost")
    status, _, _ = request(stack.url, path, headers={"Host": "bad host/../x"})
    assert status == 400
    assert all(line["upstream_addr"] == "" for line in stack.proxy_log() if line["uri"] == path)


def test_websockets_per_client_are_limited(stack):
    limit = int(STACK_LIMITS["PROXY_WS_PER_CLIENT"])
    sessions = [DashboardSession(stack.url) for _ in range(limit)]
    try:
        for session in sessions:
            session.connect()
        extra = DashboardSession(stack.url)
        with pytest.raises(SessionClosed, match="429"):
            extra.connect()
    finally:
        for session in sessions:
            session.close()
    # Freed slots serve the next sessions once nginx has seen the sockets close.
    deadline = time.monotonic() + 10
    while True:
        try:
            with DashboardSession(stack.url) as again:
                assert again.initial.outcomes == ["FINISHED_SUCCESSFULLY"]
                break
        except SessionClosed:
            assert time.monotonic() < deadline, "closed sockets still count against the limit"
            time.sleep(0.5)


def test_request_flood_gets_429_not_a_hang(stack):
    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(lambda _: request(stack.url, "/_stcore/health")[0], range(800)))
    assert set(statuses) <= {200, 429}
    assert statuses.count(429) > 0
    assert statuses.count(200) > 0
    time.sleep(6)  # the bucket refills (burst / rate) for whatever runs next
    assert request(stack.url, "/_stcore/health")[0] == 200


def test_nginx_config_checks(stack, proxy_image):
    result = run(stack.docker, "run", "--rm", "--read-only", "--tmpfs", "/tmp", proxy_image, "nginx", "-t")
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr
    bad = run(stack.docker, "run", "--rm", "--tmpfs", "/tmp", "-e", "PROXY_RATE_PER_CLIENT=fast",
              proxy_image, "nginx", "-t", check=False)  # fmt: skip
    assert bad.returncode != 0
    assert "PROXY_RATE_PER_CLIENT must look like 30r/s" in bad.stderr


def test_proxy_serves_friendly_page_when_no_app_answers(docker, proxy_image):
    from streamlit_load.local_server import free_port

    port = free_port()
    name = f"proxy-alone-{port}"
    run(docker, "run", "-d", "--name", name, "--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL",
        "-e", "APP_HOST=no-such-app.invalid", "-p", f"127.0.0.1:{port}:8080", proxy_image)  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                status, headers, body = request(url, "/")
                break
            except OSError:
                assert time.monotonic() < deadline, "proxy did not start"
                time.sleep(0.3)
        assert status == 502
        assert b"This app is restarting" in body
        for header in SECURITY_HEADERS:
            assert headers[header]
        assert request(url, "/healthz")[0] == 200  # the proxy itself is healthy
    finally:
        run(docker, "rm", "-f", name, check=False)


def test_proxy_follows_replicas_through_dns(stack):
    stack.compose("up", "--detach", "--no-build", "--no-recreate", "--scale", f"app={STACK_REPLICAS + 1}")
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            (proxy,) = stack.containers("proxy")
            logs = run(stack.docker, "logs", proxy).stderr
            changes = [line for line in logs.splitlines() if "replicas changed" in line]
            if changes and len(changes[-1].split("->")[1].split()) == STACK_REPLICAS + 1:
                break
            time.sleep(1)
        else:
            pytest.fail(f"the proxy never saw {STACK_REPLICAS + 1} replicas:\n{logs[-2000:]}")
    finally:
        stack.compose("up", "--detach", "--no-build", "--no-recreate", "--scale", f"app={STACK_REPLICAS}")
