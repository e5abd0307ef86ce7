"""HTTPS at the proxy of the compose stack as `make up` starts it (a local CA's certificate for
localhost and 127.0.0.1): what clients are offered and refused, the redirect from plain HTTP, HSTS,
session resumption, a renewed certificate, and the TLS settings' bad values.

Version refusals use a client that really offers TLS 1.0/1.1 (OpenSSL 3 refuses them unless its
security level is lowered to 0): a control server of our own proves the same client connects where
those versions are allowed, so a refusal by the proxy is the proxy's.
"""

from __future__ import annotations

import csv
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import websocket

from sales_load.page import DashboardSession
from streamlit_load.client.tls import CA_FILE_VARIABLE
from streamlit_load.local_server import free_port

from .conftest import ROOT, Stack, run
from .test_lb_mode import ECHO_SERVER, container, echoed, wait_answering
from .test_stack import log_line, probe_path, request

LOCAL_HSTS = "max-age=300"  # make up's max-age for its local-CA certificate (scripts/deploy/stack.sh)
OLD_VERSIONS = [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1]


def address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname, parts.port


def old_client(version: ssl.TLSVersion) -> ssl.SSLContext:
    """A client that offers exactly `version`, with the ciphers those versions need (SECLEVEL 0);
    it trusts the stack's CA, so only the version can make a handshake fail."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    context.minimum_version = context.maximum_version = version
    context.load_verify_locations(cafile=ca_file())
    return context


def ca_file() -> str:
    """The session's local CA (tests/container/conftest.py's local_tls fixture)."""
    return os.environ[CA_FILE_VARIABLE]


def handshake(url: str, context: ssl.SSLContext, server_hostname: str | None = None) -> ssl.SSLSocket:
    host, port = address(url)
    sock = socket.create_connection((host, port), timeout=10)
    try:
        return context.wrap_socket(sock, server_hostname=server_hostname or host)
    except BaseException:
        sock.close()
        raise


@contextmanager
def permissive_server(local_tls: Path) -> Iterator[str]:
    """A TLS server on 127.0.0.1 that accepts TLS 1.0 to 1.3 with the stack's certificate: the
    control that shows old_client() really speaks the old versions."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    context.minimum_version = ssl.TLSVersion.TLSv1
    context.load_cert_chain(local_tls / "cert.pem", local_tls / "key.pem")
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            try:
                with context.wrap_socket(conn, server_side=True):
                    pass
            except (ssl.SSLError, OSError):
                conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(5)
        listener.close()


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")  # the point of the test
@pytest.mark.parametrize("version", OLD_VERSIONS, ids=lambda v: v.name)
def test_tls_1_0_and_1_1_are_refused(stack, local_tls, version):
    with permissive_server(local_tls) as control, handshake(control, old_client(version)) as tls:
        assert tls.version() == {"TLSv1": "TLSv1", "TLSv1_1": "TLSv1.1"}[version.name]  # the client offers it
    with pytest.raises(ssl.SSLError) as refused:
        handshake(stack.url, old_client(version)).close()
    assert "PROTOCOL_VERSION" in refused.value.reason or "UNSUPPORTED_PROTOCOL" in refused.value.reason, (
        refused.value
    )


@pytest.mark.parametrize(
    ("version", "name"), [(ssl.TLSVersion.TLSv1_2, "TLSv1.2"), (ssl.TLSVersion.TLSv1_3, "TLSv1.3")]
)
def test_tls_1_2_and_1_3_are_served_with_forward_secret_aead_suites(stack, version, name):
    context = ssl.create_default_context(cafile=ca_file())
    context.minimum_version = context.maximum_version = version
    with handshake(stack.url, context) as tls:
        cipher, protocol, _ = tls.cipher()
        assert protocol == name
        if version == ssl.TLSVersion.TLSv1_2:
            assert cipher.startswith("ECDHE-ECDSA-"), cipher  # forward secret, our ECDSA certificate
            assert "GCM" in cipher or "CHACHA20" in cipher, cipher  # AEAD
    # A TLS 1.2 client offering only suites outside the profile (CBC, no forward secrecy) is refused.
    weak = ssl.create_default_context(cafile=ca_file())
    weak.maximum_version = ssl.TLSVersion.TLSv1_2
    weak.set_ciphers("AES128-SHA:AES256-SHA:ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0")
    with pytest.raises(ssl.SSLError, match=r"HANDSHAKE_FAILURE|NO_SHARED_CIPHER|handshake failure"):
        handshake(stack.url, weak).close()


def test_the_chain_validates_for_localhost_and_127_0_0_1_only_with_the_ca(stack):
    trusting = ssl.create_default_context(cafile=ca_file())
    for name in ("127.0.0.1", "localhost"):
        with handshake(stack.url, trusting, server_hostname=name) as tls:
            names = {value for _, value in tls.getpeercert()["subjectAltName"]}
            assert {"localhost", "127.0.0.1"} <= names
    with pytest.raises(ssl.SSLCertVerificationError, match=r"Hostname mismatch|IP address mismatch"):
        handshake(stack.url, trusting, server_hostname="dashboard.example.com").close()
    system_only = ssl.create_default_context()  # the system's CAs, not the local one
    with pytest.raises(ssl.SSLCertVerificationError, match="unable to get local issuer certificate"):
        handshake(stack.url, system_only).close()
    # openssl's own check of the chain the proxy serves.
    host, port = address(stack.url)
    served = subprocess.run(
        ["openssl", "s_client", "-connect", f"{host}:{port}", "-servername", "localhost",
         "-CAfile", ca_file(), "-verify_return_error", "-verify_hostname", "localhost"],
        input="", capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert "Verify return code: 0 (ok)" in served.stdout, served.stdout[-2000:] + served.stderr[-2000:]


@pytest.mark.parametrize(
    "path", ["/", "/_stcore/health", "/static/js/x.js?v=1", "/_stcore/stream", "/media/a.png"]
)
def test_plain_http_redirects_every_path_to_https_and_reaches_nothing(stack, path):
    tls_port = address(stack.url)[1]
    probe = f"{path}{'&' if '?' in path else '?'}{probe_path('plain').split('?')[1]}"
    headers = {"Upgrade": "websocket", "Connection": "Upgrade"} if path.endswith("/stream") else {}
    status, answer, _ = request(stack.http_url, probe, headers=headers)
    assert status == 308
    assert answer["Location"] == f"https://127.0.0.1:{tls_port}{probe}"
    assert answer["Strict-Transport-Security"] is None  # HSTS on plain HTTP means nothing: never sent
    line = log_line(stack, probe)
    assert (line["status"], line["upstream_addr"]) == (308, "")


def test_plain_http_health_stays_and_https_port_refuses_plain_http(stack):
    status, headers, body = request(stack.http_url, "/healthz")
    assert (status, body) == (200, b"ok\n")
    assert headers["Strict-Transport-Security"] is None
    # An upload keeps its method and body on the way to HTTPS: 308, not 301 (which may become GET).
    assert request(stack.http_url, "/_stcore/upload_file/x", "PUT", body=b"data")[0] == 308
    # Plain HTTP sent to the HTTPS port: nginx's 400 ("The plain HTTP request was sent to HTTPS
    # port"), nothing reaches the app.
    host, port = address(stack.url)
    status, _, body = request(f"http://{host}:{port}", "/_stcore/health")
    assert status == 400
    assert b"plain HTTP request was sent to HTTPS port" in body


def test_the_protocol_client_speaks_wss_and_not_plain_ws(stack):
    with DashboardSession(stack.url) as session:
        assert session.stream_url.startswith("wss://")
        assert session.pick_date("2023-02-14").has_text("Best sellers, February 14, 2023")
    # The socket over plain HTTP gets a redirect (308, test above), never a socket.
    with pytest.raises(websocket.WebSocketException, match="Redirect limit exhausted"):
        websocket.create_connection(
            f"ws://{urlsplit(stack.http_url).netloc}/_stcore/stream", timeout=10, redirect_limit=0
        )


def locust(
    url: str, prefix: Path, users: int, seconds: int, env: dict[str, str]
) -> dict[str, dict[str, str]]:
    """A headless Locust run of the realistic mix at a person's pace (short think times, so the
    per-session rerun limit stays out of it); Locust's statistics by name."""
    command = [
        sys.executable, "-m", "locust", "-f", str(ROOT / "loadtests/locustfile.py"), "--host", url,
        "--headless", "-u", str(users), "-r", str(users), "-t", f"{seconds}s", "--csv", str(prefix),
        "--only-summary", "--think-min", "0.3", "--think-max", "0.6", "RealisticMix",
    ]  # fmt: skip
    subprocess.run(command, capture_output=True, text=True, timeout=120, check=False, env=env)
    with Path(f"{prefix}_stats.csv").open() as handle:
        return {row["Name"]: row for row in csv.DictReader(handle)}


def test_locust_users_speak_wss_with_the_stacks_ca(stack, tmp_path):
    """The load users on the stack over HTTPS, trusting its CA through STACK_CA_FILE (set for this
    session by conftest's local_tls; Locust's process inherits it). Without it, every session
    fails on the certificate: the trust is the CA's."""
    stats = locust(stack.url, tmp_path / "run", 3, 8, dict(os.environ))
    assert int(stats["initial_load"]["Request Count"]) == 3
    assert int(stats["fragment_rerun"]["Request Count"]) > 3
    assert stats["Aggregated"]["Failure Count"] == "0"
    without = {key: value for key, value in os.environ.items() if key != CA_FILE_VARIABLE}
    stats = locust(stack.url, tmp_path / "untrusted", 1, 3, without)
    assert int(stats["Aggregated"]["Failure Count"]) > 0
    assert "fragment_rerun" not in stats or stats["fragment_rerun"]["Request Count"] == "0"
    failures = Path(f"{tmp_path / 'untrusted'}_failures.csv").read_text()
    assert "CERTIFICATE_VERIFY_FAILED" in failures


@pytest.mark.parametrize("path", ["/", "/healthz", "/_stcore/nope", "/_stcore/metrics"])
def test_hsts_on_every_https_response(stack, path):
    status, headers, _ = request(stack.url, path)
    assert status in (200, 404)
    assert headers["Strict-Transport-Security"] == LOCAL_HSTS


@pytest.mark.parametrize(
    ("version", "ticket"), [(ssl.TLSVersion.TLSv1_2, False), (ssl.TLSVersion.TLSv1_3, True)]
)
def test_sessions_resume_from_the_shared_cache_without_stateless_tickets(stack, version, ticket):
    """TLS 1.2 resumes by session id (no ticket: ssl_session_tickets off); TLS 1.3 by the
    server's stateful ticket that points into the shared cache."""
    context = ssl.create_default_context(cafile=ca_file())
    context.minimum_version = context.maximum_version = version
    host, port = address(stack.url)
    first = handshake(stack.url, context)
    first.sendall(f"GET /healthz HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode())
    while first.recv(4096):  # TLS 1.3 tickets arrive after the handshake
        pass
    session = first.session
    first.close()
    assert not first.session_reused
    assert session.has_ticket is ticket
    for _ in range(3):  # every worker resumes it: the cache is shared
        sock = socket.create_connection((host, port), timeout=10)
        with context.wrap_socket(sock, server_hostname=host, session=session) as again:
            assert again.session_reused


def readable_copy(local_tls: Path, directory: Path) -> Path:
    """The certificate and key where the proxy's UID can read them (the local CA's directory is
    private to this user)."""
    directory.mkdir(mode=0o755)
    for name in ("cert.pem", "key.pem"):
        shutil.copy(local_tls / name, directory / name)
        (directory / name).chmod(0o644)
    return directory


def test_forwarded_proto_is_https_over_tls(stack, proxy_image, app_image, local_tls, tmp_path):
    """The app learns the browser's scheme: a TLS proxy in front of an echo of the request headers."""
    certs = readable_copy(local_tls, tmp_path / "certs")
    with (
        container(stack, "echo", "--entrypoint", "python3", app_image, "-c", ECHO_SERVER) as echo,
        tls_proxy(stack, proxy_image, certs, "-e", f"APP_HOST={echo}") as (url, _),
    ):
        assert echoed(url, {"X-Forwarded-Proto": "http"})["x-forwarded-proto"] == "https"


@contextmanager
def tls_proxy(stack: Stack, proxy_image: str, certs: Path, *args: str) -> Iterator[tuple[str, str]]:
    """The proxy image with TLS on, its certificate files bind-mounted from `certs`; yields
    (https URL, container name)."""
    port = free_port()
    flags = ["-e", "PROXY_TLS=on", "-e", "PROXY_TLS_CERT=/certs/cert.pem",
             "-e", "PROXY_TLS_KEY=/certs/key.pem", "-e", "PROXY_DNS_INTERVAL=1",
             "-v", f"{certs}:/certs:ro", "-p", f"127.0.0.1:{port}:8443"]  # fmt: skip
    with container(stack, "tls", *flags, *args, proxy_image) as name:
        yield wait_answering(stack, name, f"https://127.0.0.1:{port}"), name


def served_serial(url: str) -> int:
    with handshake(url, ssl.create_default_context(cafile=ca_file())) as tls:
        der = tls.getpeercert(binary_form=True)
    out = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-serial"], input=der,
                         capture_output=True, check=True)  # fmt: skip
    return int(out.stdout.decode().strip().split("=")[1], 16)


def test_a_renewed_certificate_is_served_without_a_restart(stack, proxy_image, local_tls, tmp_path):
    certs = readable_copy(local_tls, tmp_path / "certs")
    with tls_proxy(stack, proxy_image, certs) as (url, name):
        before = served_serial(url)
        renewed = tmp_path / "renewed"
        env = {"PATH": "/usr/bin:/bin", "LOCAL_TLS_DIR": str(renewed)}
        shutil.copytree(local_tls, renewed, ignore=shutil.ignore_patterns("cert.pem", ".lock"))
        subprocess.run([ROOT / "scripts/deploy/tls-cert.sh"], env=env, capture_output=True, check=True)
        for file in ("cert.pem", "key.pem"):
            shutil.copy(renewed / file, certs / f"{file}.new")
            (certs / f"{file}.new").chmod(0o644)
            (certs / f"{file}.new").rename(certs / file)
        deadline = time.monotonic() + 15
        while served_serial(url) == before:
            assert time.monotonic() < deadline, "the renewed certificate was not picked up"
            time.sleep(0.5)
        logs = run(stack.docker, "logs", name).stderr
        assert "certificate or key changed, reloading" in logs
        assert request(url, "/healthz")[0] == 200


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PROXY_TLS": "yes"}, "PROXY_TLS must be on or off, got 'yes'"),
        ({"PROXY_TLS": "on"}, "PROXY_TLS_CERT=/run/secrets/tls_cert cannot be read by UID 10002"),
        ({"PROXY_TLS": "on", "PROXY_TLS_CERT": "/etc/hostname", "PROXY_TLS_KEY": "/etc/hostname"},
         "PROXY_TLS_CERT=/etc/hostname holds no PEM certificate"),
        ({"PROXY_HSTS_MAX_AGE": "a year"}, "PROXY_HSTS_MAX_AGE must be a whole number of seconds"),
        ({"PROXY_TLS_PUBLIC_PORT": "70000"}, "PROXY_TLS_PUBLIC_PORT must be a port number, got '70000'"),
    ],
)  # fmt: skip
def test_bad_tls_settings_stop_the_start(docker, proxy_image, env, message):
    flags = [item for key, value in env.items() for item in ("-e", f"{key}={value}")]
    bad = run(docker, "run", "--rm", "--network", "none", "--tmpfs", "/tmp", *flags,
              proxy_image, "nginx", "-t", check=False)  # fmt: skip
    assert bad.returncode == 64, bad.stderr
    assert message in bad.stderr
