"""Bad input through the proxy of the compose stack (3 replicas, low limits: conftest.STACK_LIMITS):
slow clients, foreign Origins, path traversal, methods the app does not serve, garbage on the
WebSocket, and the security headers on every error the proxy or the app answers.

What reached the app is read from the proxy's JSON access log (`upstream_addr`).
"""

from __future__ import annotations

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest

from sales_load.bystander import compare, p95
from sales_load.page import DashboardSession
from streamlit_load.client import SessionClosed
from streamlit_load.client.tls import client_context

from .test_stack import SECURITY_HEADERS, log_line, probe_path, request

# Same bound as tests/integration/test_protocol_abuse.py (see there for the noise allowance).
ALLOWED_SLOWDOWN = 1.20
NOISE_MS = 30.0
PASSWD_LINE = b"root:x:0:0"


def assert_security_headers(headers, what: str) -> None:
    for name in SECURITY_HEADERS:
        assert headers[name], f"{name} missing on {what}"


def slow_client(url: str) -> socket.socket:
    """A connection (TLS for an https URL) that has sent half a request header and goes on dribbling."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
    if parts.scheme == "https":
        sock = client_context().wrap_socket(sock, server_hostname=parts.hostname)
    sock.sendall(b"GET / HTTP/1.1\r\nHost: " + parts.netloc.encode() + b"\r\nX-Slow: 1\r\n")
    return sock


def test_slowloris_client_is_cut_off_by_the_header_timeout(stack):
    """A client that sends its header one line every 2 s is closed once client_header_timeout
    (10 s, nginx.conf) runs out in total, not per line; the proxy answers others meanwhile."""
    sock = slow_client(stack.url)
    start = time.monotonic()
    closed_after = None
    try:
        while time.monotonic() - start < 30:
            try:
                sock.sendall(b"X-More: 1\r\n")
                sock.settimeout(2)
                if sock.recv(4096) == b"":
                    closed_after = time.monotonic() - start
                    break
            except TimeoutError:
                assert request(stack.url, "/healthz")[0] == 200
            except OSError:  # reset while sending: closed as well
                closed_after = time.monotonic() - start
                break
    finally:
        sock.close()
    print(f"slow client closed after {closed_after} s")
    assert closed_after is not None, "the slow client was never cut off"
    assert 8 <= closed_after <= 16


def test_sessions_keep_their_latency_under_slowloris(stack):
    """40 slow connections dribbling headers (refreshed as nginx cuts them) next to a user:
    the user's p95 stays within the bound of the integration tests."""

    def slowloris(stop: threading.Event) -> None:
        socks: list[socket.socket] = []
        try:
            while not stop.is_set():
                while len(socks) < 40:
                    socks.append(slow_client(stack.url))
                for sock in list(socks):
                    try:
                        sock.sendall(b"X-More: 1\r\n")
                    except OSError:
                        socks.remove(sock)
                        sock.close()
                stop.wait(1)
        finally:
            for sock in socks:
                sock.close()

    comparison = compare(stack.url, slowloris, timeout=90)
    print(comparison.describe())
    assert not comparison.activity_errors, comparison.activity_errors[:3]
    assert p95(comparison.under_ms) <= p95(comparison.baseline_ms) * ALLOWED_SLOWDOWN + NOISE_MS


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://127.0.0.1.evil.example"])
def test_websocket_with_foreign_origin_gets_403_through_the_proxy(stack, origin):
    session = DashboardSession(stack.url)
    session.origin = origin
    with pytest.raises(SessionClosed, match="403"):
        session.connect()
    with DashboardSession(stack.url) as fine:  # the right Origin (the proxy's host:port) works
        assert fine.initial.outcomes == ["FINISHED_SUCCESSFULLY"]


TRAVERSALS = [
    "/static/../../etc/passwd",
    "/static/..%2f..%2f..%2fetc%2fpasswd",
    "/static/%2e%2e/%2e%2e/etc/passwd",
    "/static/....//....//etc/passwd",
    "/static//etc/passwd",
    "/static/%252e%252e/%252e%252e/etc/passwd",
    "/static/..%5c..%5cetc%5cpasswd",
    "/media/../../etc/passwd",
    "/media/..%2f..%2fetc%2fpasswd",
    "/media/%2e%2e/%2e%2e/etc/passwd",
    "/media/0123456789abcdef.png",
    "/app/static/..%2f..%2f..%2fetc%2fpasswd",
    "/component/x/../../../etc/passwd",
    "/_stcore/metrics/",
    "/_stcore//metrics",
    "/_stcore/%6detrics",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_path_traversal_serves_nothing_outside(stack, path):
    """Refused by nginx (400 for '..' above the root), by the app (404), redirected, or
    answered with the app's own index page: never a file from outside, never a 5xx."""
    status, headers, body = request(stack.url, path)
    assert status in (200, 301, 400, 404), status
    assert PASSWD_LINE not in body
    assert b"# HELP" not in body  # no Prometheus metrics either
    if status == 200:
        assert b"<title>Streamlit</title>" in body or headers["Content-Type"].startswith("text/html")
    if status == 301:
        assert request(stack.url, headers["Location"])[0] == 404  # /_stcore/metrics: refused
    assert_security_headers(headers, f"{path} ({status})")


@pytest.mark.parametrize("method", ["DELETE", "PUT", "PATCH", "OPTIONS", "PROPFIND", "TRACE", "CONNECT"])
@pytest.mark.parametrize("path", ["/", "/_stcore/health"])
def test_methods_the_app_does_not_serve_get_405(stack, method, path):
    """405 from nginx (TRACE, CONNECT) or the app; OPTIONS on an API path is Streamlit's CORS
    preflight (204, no body). Never a 5xx."""
    status, headers, body = request(stack.url, path, method)
    if method == "OPTIONS" and status == 204:
        assert body == b""
    else:
        assert status == 405, f"{method} {path}: {status}"
    assert_security_headers(headers, f"{method} {path}")


def test_security_headers_on_every_error_status(stack):
    """429 (rate limit), 413 (body), 400 (Host), 405 (method), 404, 403 (Origin): each carries
    the headers; 502 is covered by test_stack and test_faults."""
    seen = {}
    seen[413] = request(stack.url, "/_stcore/upload_file/x", "PUT", body=b"x" * (17 * 2**20))[1]
    seen[400] = request(stack.url, "/", headers={"Host": "bad host/../x"})[1]
    seen[405] = request(stack.url, "/", "TRACE")[1]
    seen[404] = request(stack.url, "/_stcore/metrics")[1]
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda _: request(stack.url, "/_stcore/health"), range(800)))
    limited = [headers for status, headers, _ in answers if status == 429]
    assert limited, "no 429 from 800 requests"
    seen[429] = limited[0]
    for status, headers in seen.items():
        assert_security_headers(headers, str(status))
    time.sleep(6)  # the bucket refills for whatever runs next
    assert request(stack.url, "/_stcore/health")[0] == 200


@pytest.mark.parametrize("payload", [b"\xff\xff\xff\xff", "text frame", b"\x0a\x05abc"])
def test_garbage_on_the_websocket_through_the_proxy(stack, payload):
    """Garbage closes that socket (1002, or dropped for a text frame); the proxy logs the
    socket as a normal 101 and new sessions work on every replica."""
    with DashboardSession(stack.url, timeout=10) as victim:
        victim.send_raw(payload)
        assert victim.wait_closed(5) in (1002, None)
    for _ in range(3):
        with DashboardSession(stack.url, timeout=20) as fresh:
            assert fresh.pick_date("2023-01-10").has_text("Best sellers, January 10, 2023")
    path = probe_path("afterws")
    assert request(stack.url, path)[0] == 200
    assert log_line(stack, path)["status"] == 200
