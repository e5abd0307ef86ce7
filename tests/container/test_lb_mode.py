"""Load-balancer mode (PROXY_TRUSTED_HOPS): the proxy behind a hop that terminates TLS or spreads
load, which names the client in X-Forwarded-For and the scheme in X-Forwarded-Proto.

The hop here is Docker's port publishing: a client on this host's loopback reaches nginx from an
address of the stack's network, read from the session stack's access log (never assumed). Proxies
in LB mode are started beside the session stack, on its network: one trusting that hop, one
trusting only an address that is not it. Where headers matter, their upstream is an echo server
(the app image's Python answering with the request headers it got); where limits matter, it is
the stack's app replicas.
"""

from __future__ import annotations

import ipaddress
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from streamlit_load.client import SessionClosed, StreamlitSession
from streamlit_load.local_server import free_port

from .conftest import Stack, run
from .test_stack import log_line, probe_path, request

CLIENT_A = "203.0.113.7"  # TEST-NET-3: addresses a load balancer would report
CLIENT_B = "203.0.113.8"
NOT_THE_HOP = "192.0.2.0/24"  # TEST-NET-1: trusted by the "untrusted" proxy, never a real peer
# Low enough to reach in a few requests; the burst leaves room for the sessions' own requests.
LB_LIMITS = {"PROXY_WS_PER_CLIENT": "2", "PROXY_RATE_PER_CLIENT": "1r/s", "PROXY_BURST_PER_CLIENT": "10"}

ECHO_SERVER = """
import http.server, json
class Echo(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({k.lower(): v for k, v in self.headers.items()}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("0.0.0.0", 8501), Echo).serve_forever()
"""


def stack_network(stack: Stack) -> str:
    (proxy,) = stack.containers("proxy")
    template = "{{range $name, $_ := .NetworkSettings.Networks}}{{$name}} {{end}}"
    networks = run(stack.docker, "inspect", "-f", template, proxy)
    (network,) = networks.stdout.split()
    return network


@pytest.fixture(scope="module")
def hop(stack: Stack) -> str:
    """The peer address nginx sees for a client on 127.0.0.1 (the session stack trusts no hop)."""
    path = probe_path("hop")
    assert request(stack.url, path, headers={"X-Forwarded-For": CLIENT_A})[0] == 200
    line = log_line(stack, path)
    assert line["remote_addr"] == line["peer_addr"], "without trusted hops the header changes nothing"
    address = ipaddress.ip_address(line["peer_addr"])
    assert str(address) != CLIENT_A
    return str(address)


@contextmanager
def container(stack: Stack, name: str, *args: str) -> Iterator[str]:
    """`docker run -d` on the stack's network, hardened as the stack's services; removed after."""
    name = f"{stack.project}-{name}-{free_port()}"
    started = run(
        stack.docker, "run", "-d", "--name", name, "--network", stack_network(stack), "--read-only",
        "--tmpfs", "/tmp", "--cap-drop", "ALL", "--security-opt", "no-new-privileges", *args, check=False,
    )  # fmt: skip
    try:
        assert started.returncode == 0, started.stderr
        yield name
    finally:
        run(stack.docker, "rm", "-f", name, check=False)


@contextmanager
def lb_proxy(stack: Stack, proxy_image: str, trusted: str, app_host: str = "app") -> Iterator[str]:
    """The project's proxy trusting `trusted`, in front of `app_host`; yields its URL."""
    port = free_port()
    env = {"APP_HOST": app_host, "PROXY_TRUSTED_HOPS": trusted, **LB_LIMITS}
    flags = [item for key, value in env.items() for item in ("-e", f"{key}={value}")]
    with container(stack, "lb", *flags, "-p", f"127.0.0.1:{port}:8080", proxy_image) as name:
        yield wait_answering(stack, name, f"http://127.0.0.1:{port}")


def wait_answering(stack: Stack, name: str, url: str, timeout: float = 20) -> str:
    """`url` once the proxy in container `name` answers its /healthz there; fails with its log."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if request(url, "/healthz")[0] == 200:
                return url
        except OSError:
            pass
        if time.monotonic() > deadline:
            logs = run(stack.docker, "logs", name, check=False)
            pytest.fail(f"the proxy in {name} did not start:\n{logs.stderr[-2000:]}")
        time.sleep(0.3)


@pytest.fixture(scope="module")
def echo(stack: Stack, app_image: str) -> Iterator[str]:
    with container(stack, "echo", "--entrypoint", "python3", app_image, "-c", ECHO_SERVER) as name:
        yield name


def echoed(url: str, headers: dict[str, str]) -> dict[str, str]:
    """The headers the upstream got for one request with `headers`."""
    deadline = time.monotonic() + 20
    while True:  # the echo server may still be starting (the proxy answers 502 meanwhile)
        status, _, body = request(url, "/echo", headers=headers)
        if status == 200:
            return json.loads(body)
        assert status == 502, status
        assert time.monotonic() < deadline, "the echo server never answered"
        time.sleep(0.3)


def test_a_trusted_hop_names_the_client_and_the_scheme(stack, proxy_image, echo, hop):
    with lb_proxy(stack, proxy_image, hop, echo) as url:
        got = echoed(url, {"X-Forwarded-For": CLIENT_A, "X-Forwarded-Proto": "https"})
        assert got["x-forwarded-for"] == f"{CLIENT_A}, {hop}"
        assert got["x-real-ip"] == CLIENT_A
        assert got["x-forwarded-proto"] == "https"
        # A chain: the client is the last address before the trusted hops; what came earlier
        # (the client's own claims) is passed on but not believed.
        got = echoed(url, {"X-Forwarded-For": f"198.51.100.9, {CLIENT_A}", "X-Forwarded-Proto": "http"})
        assert got["x-real-ip"] == CLIENT_A
        assert got["x-forwarded-proto"] == "http"
        # Nothing said: the hop is the client, the scheme is the proxy's own.
        got = echoed(url, {})
        assert (got["x-forwarded-for"], got["x-real-ip"], got["x-forwarded-proto"]) == (hop, hop, "http")
        # An unknown scheme is not believed either.
        assert echoed(url, {"X-Forwarded-Proto": "gopher"})["x-forwarded-proto"] == "http"
        # HSTS (a year: the entrypoint's default) where the hop says the browser used HTTPS only.
        assert hsts(url, "https") == "max-age=31536000"
        assert hsts(url, "http") is None


def test_an_untrusted_peer_changes_nothing_with_the_headers(stack, proxy_image, echo, hop):
    with lb_proxy(stack, proxy_image, NOT_THE_HOP, echo) as url:
        got = echoed(url, {"X-Forwarded-For": CLIENT_A, "X-Forwarded-Proto": "https"})
        assert got["x-forwarded-for"] == hop  # the made-up header is dropped
        assert got["x-real-ip"] == hop
        assert got["x-forwarded-proto"] == "http"
        assert hsts(url, "https") is None


def hsts(url: str, forwarded_proto: str) -> str | None:
    """The Strict-Transport-Security header of a plain-HTTP answer to a request that says it came
    over `forwarded_proto`."""
    return request(url, "/healthz", headers={"X-Forwarded-Proto": forwarded_proto})[1][
        "Strict-Transport-Security"
    ]


def open_sessions(url: str, client: str, count: int) -> list[StreamlitSession]:
    sessions = []
    for _ in range(count):
        session = StreamlitSession(url, headers={"X-Forwarded-For": client})
        session.connect()
        sessions.append(session)
    return sessions


def websocket_refused(url: str, client: str) -> bool:
    """True if the proxy answers `client`'s WebSocket handshake (not its page request) with 429."""
    try:
        (session,) = open_sessions(url, client, 1)
    except SessionClosed as closed:
        refusal = str(closed)
    else:
        session.close()
        return False
    assert refusal.startswith("cannot open"), refusal
    assert "429" in refusal, refusal
    return True


def rate_limited(url: str, client: str) -> bool:
    """True once `client` gets a 429 within 30 requests (rate 1 r/s, burst 10)."""
    for _ in range(30):
        status = request(url, "/_stcore/health", headers={"X-Forwarded-For": client})[0]
        if status == 429:
            return True
        assert status == 200
    return False


def test_limits_key_on_the_client_a_trusted_hop_reports(stack, proxy_image, hop):
    with lb_proxy(stack, proxy_image, hop) as url:
        held = open_sessions(url, CLIENT_A, int(LB_LIMITS["PROXY_WS_PER_CLIENT"]))
        try:
            assert websocket_refused(url, CLIENT_A), "client A over its WebSocket limit was let in"
            assert not websocket_refused(url, CLIENT_B), "client B was refused for A's sockets"
        finally:
            for session in held:
                session.close()
        assert rate_limited(url, CLIENT_A)
        assert request(url, "/_stcore/health", headers={"X-Forwarded-For": CLIENT_B})[0] == 200


def test_limits_of_an_untrusted_peer_are_its_own_whatever_it_claims(stack, proxy_image, hop):
    with lb_proxy(stack, proxy_image, NOT_THE_HOP) as url:
        held = open_sessions(url, CLIENT_A, int(LB_LIMITS["PROXY_WS_PER_CLIENT"]))
        try:
            assert websocket_refused(url, CLIENT_B), "a made-up X-Forwarded-For escaped the limit"
        finally:
            for session in held:
                session.close()
        assert rate_limited(url, CLIENT_A)
        assert request(url, "/_stcore/health", headers={"X-Forwarded-For": CLIENT_B})[0] == 429


@pytest.mark.parametrize("value", ["10.0.0.0/33", "256.0.0.1", "fd00::1::2", "proxy.example", "10.0.0.0/8,"])
def test_a_bad_trusted_hop_stops_the_start(docker, proxy_image, value):
    bad = run(docker, "run", "--rm", "--network", "none", "--tmpfs", "/tmp",
              "-e", f"PROXY_TRUSTED_HOPS={value}", proxy_image, "nginx", "-t", check=False)  # fmt: skip
    if value.endswith(","):  # a trailing separator is no entry: accepted, and nginx -t passes
        assert bad.returncode == 0, bad.stderr
        return
    assert bad.returncode == 64, bad.stderr
    assert "PROXY_TRUSTED_HOPS must list addresses or CIDRs" in bad.stderr
    assert value in bad.stderr


def test_trusted_hops_reach_nginx_as_realip_settings(docker, proxy_image):
    show = "nginx -t -q && cat /tmp/nginx/trusted_hops.conf"
    good = run(docker, "run", "--rm", "--network", "none", "--tmpfs", "/tmp",
               "-e", "PROXY_TRUSTED_HOPS=10.0.0.0/8, fd00::/8",
               proxy_image, "sh", "-c", show, check=False)  # fmt: skip
    assert good.returncode == 0, good.stderr
    assert good.stdout.split("\n")[:2] == ["set_real_ip_from 10.0.0.0/8;", "set_real_ip_from fd00::/8;"]
