"""Upload floods through the proxy of a compose stack with sign-in on (`SERVE_AUTH=oidc make up`:
the development provider beside it), one app replica, the shipped limits: anonymous clients
(without a sign-in cookie, and with a forged one) and a signed-in client PUT 4 MB files at the
upload route, bounded in count and time, while a signed-in bystander picks days.

Before the change every such PUT was taken (204) and kept in the replica's memory until the
session ended (30 anonymous uploads of 4 MB: the replica's RSS 193 -> 313 MB), and nginx first
buffered each body in its tmpfs. Now: the proxy refuses what has no sign-in cookie (403) and
what goes over the uploads' own rate (429) before reading the body, streams the rest to the
replica, and the replica stores nothing for a session that may not upload (the dashboard has no
file uploader: 403). Checked: no PUT is taken, the replica's and the proxy's memory (their
cgroups' memory use, sampled through the flood) stay under one session's upload cap
(SERVE_UPLOAD_MAX_MB, 32 MB) above where they started, and the bystander's p95 stays within
20 % (+ the tier's noise allowance) of quiet.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from sales_load.bystander import compare, p95
from streamlit_load.client import StreamlitSession
from streamlit_load.client.signin import USER_COOKIE, sign_in
from streamlit_load.dev_provider import ALLOWED_USER, password
from streamlit_load.local_server import free_port

from .conftest import ROOT, run

ALLOWED_SLOWDOWN = 1.20  # as test_abuse.py
NOISE_MS = 30.0
BODY = b"u" * (4 * 2**20)  # 4 MB, as in the measurement that found the hole
PUTS_PER_FLOODER = 10  # 3 flooders: 30 PUTs (120 MB offered) at first, fewer in each comparison round
# A PUT every 0.5 s per flooder, 6 a second in all: as fast as the unfixed replica took them in
# (40 in ~7 s). Refused PUTs come back at once, so unpaced flooders would mostly measure their own
# CPU (TLS, Docker's port proxy), which shares this host's cores with the bystander.
PUT_INTERVAL_SECONDS = 0.5
UPLOAD_CAP_BYTES = 32 * 2**20  # SERVE_UPLOAD_MAX_MB's default: one session's share


@contextmanager
def signed_in_stack(docker: str, images: dict[str, str], tls_dir: Path, secret_dir: Path) -> Iterator[dict]:
    """`SERVE_AUTH=oidc make up` (scripts/deploy/stack.sh up, no OIDC_FILE: the development provider) on
    free 127.0.0.1 ports, one replica, the shipped proxy limits; `down --volumes` after."""
    port = free_port()
    secret = secret_dir / "cookie_secret"
    secret.write_text(secrets.token_hex(32))
    secret.chmod(0o644)
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith(("TLS_", "PROXY_"))},
        **images,
        "STACK_PROJECT": f"uploadflood{port}", "PROXY_PORT": str(port), "PROXY_TLS_PORT": str(free_port()),
        "PROXY_BIND": "127.0.0.1", "APP_REPLICAS": "1", "SKIP_BUILD": "1", "SERVE_AUTH": "oidc",
        "OIDC_DEV_PORT": str(free_port()), "COOKIE_SECRET_FILE": str(secret), "LOCAL_TLS_DIR": str(tls_dir),
        "OIDC_DEV_DIR": str(secret_dir / "oidc-dev"),  # not in the checkout's deploy/secrets
    }  # fmt: skip
    for name in ("OIDC_FILE", "SERVE_ALLOWED_EMAILS", "SERVE_ALLOWED_DOMAINS", "STACK_PRODUCTION"):
        env.pop(name, None)

    def stack(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["scripts/deploy/stack.sh", *args], cwd=ROOT, env=env, capture_output=True, text=True
        )

    up = stack("up")
    try:
        assert up.returncode == 0, f"make up failed:\n{up.stderr[-4000:]}"
        url = up.stdout.strip().splitlines()[-1].rstrip("/")
        # Full container ids (`ps -q` gives them): the host's cgroup paths name them.
        ids = {
            service: stack("compose", "ps", "-q", service).stdout.split()[0] for service in ("app", "proxy")
        }
        yield {"url": url, "containers": ids, "docker": docker}
    finally:
        stack("down", "--volumes")


@pytest.fixture(scope="module")
def flood_stack(docker, images, local_tls, tmp_path_factory) -> Iterator[dict]:
    with signed_in_stack(docker, images, local_tls, tmp_path_factory.mktemp("flood-secrets")) as started:
        yield started


MEMORY_FILES = (
    "cat /sys/fs/cgroup/memory.current 2>/dev/null || cat /sys/fs/cgroup/memory/memory.usage_in_bytes"
)
# The same files as the host sees them (cgroup v1 with the cgroupfs driver, v2 with systemd's):
# read there when present, without a `docker exec` (a process tree per sample, CPU the bystander
# would share).
HOST_MEMORY_FILES = (
    "/sys/fs/cgroup/memory/docker/{id}/memory.usage_in_bytes",
    "/sys/fs/cgroup/system.slice/docker-{id}.scope/memory.current",
)


def memory_bytes(docker: str, container: str) -> int:
    """The container's cgroup memory use (tmpfs, page cache and every process in it):
    memory.current on cgroup v2, memory.usage_in_bytes on v1."""
    for pattern in HOST_MEMORY_FILES:
        path = Path(pattern.format(id=container))
        if path.exists():
            return int(path.read_text())
    return int(run(docker, "exec", container, "sh", "-c", MEMORY_FILES).stdout)


def proxy_log(docker: str, container: str) -> list[dict]:
    """The proxy's JSON access log lines."""
    out = run(docker, "logs", container).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


class PeakMemory:
    """Samples memory.current of each container in a thread until stopped; keeps the highest."""

    def __init__(self, docker: str, containers: dict[str, str]) -> None:
        self.docker, self.containers = docker, containers
        self.start = {name: memory_bytes(docker, cid) for name, cid in containers.items()}
        self.peak = dict(self.start)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.sample, daemon=True)
        self.thread.start()

    def sample(self) -> None:
        while not self.stop.is_set():
            for name, cid in self.containers.items():
                self.peak[name] = max(self.peak[name], memory_bytes(self.docker, cid))
            self.stop.wait(0.2)

    def finish(self) -> dict[str, int]:
        """Growth of each container's peak over where it started (bytes)."""
        self.stop.set()
        self.thread.join(timeout=10)
        return {name: self.peak[name] - self.start[name] for name in self.containers}


def flooder(session: StreamlitSession, statuses: Counter):
    """``flood(stop)``: ``session`` (opened beforehand, so its page's first run is not part of the
    flood) PUTs BODY to the upload route every PUT_INTERVAL_SECONDS, PUTS_PER_FLOODER times or
    until ``stop`` is set, to file ids it was handed if any (none: the dashboard has no uploader),
    else to made-up ones."""
    handed = [upload_url for _, upload_url in session.file_urls(["a.bin", "b.bin"])]

    def flood(stop: threading.Event) -> None:
        for i in range(PUTS_PER_FLOODER):
            if stop.is_set():
                break
            target = handed[i] if i < len(handed) else session.upload_url(str(uuid.uuid4()))
            statuses[session.put_file(target, BODY, timeout=60)] += 1
            stop.wait(PUT_INTERVAL_SECONDS)

    return flood


def together(floods, stop: threading.Event) -> None:
    """Every flood at once, each in a thread; returns when all are done."""
    threads = [threading.Thread(target=flood, args=(stop,), daemon=True) for flood in floods]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)


def run_floods(url, docker, containers, floods, cookies):
    """First every flood to its end (PUTS_PER_FLOODER each: the volume), then the floods as the
    activity of a bystander comparison; memory sampled throughout. Returns (peak growth, the
    comparison, seconds taken, memory at the start)."""

    def activity(stop: threading.Event) -> None:
        together(floods, stop)
        stop.wait()

    memory = PeakMemory(docker, containers)
    started = time.monotonic()
    together(floods, threading.Event())
    comparison = compare(url, activity, rounds=4, picks=15, timeout=90, cookies=cookies)
    return memory.finish(), comparison, time.monotonic() - started, memory.start


def test_upload_floods_store_nothing_and_leave_memory_and_a_signed_in_bystander_alone(flood_stack):
    url, docker = flood_stack["url"], flood_stack["docker"]
    allowed = sign_in(url, ALLOWED_USER, password(ALLOWED_USER))
    assert USER_COOKIE in allowed
    anonymous, forged, signed_in = Counter(), Counter(), Counter()
    # On the sign-in page; with a forged cookie (past the proxy's check, not the app's); signed in,
    # on a page without an uploader.
    forged_cookie = {USER_COOKIE: "forged"}
    with (
        StreamlitSession(url, timeout=60) as no_cookie,
        StreamlitSession(url, timeout=60, cookies=forged_cookie) as forger,
        StreamlitSession(url, timeout=60, cookies=allowed) as member,
    ):
        floods = [flooder(no_cookie, anonymous), flooder(forger, forged), flooder(member, signed_in)]
        growth, comparison, took, start = run_floods(url, docker, flood_stack["containers"], floods, allowed)
        # The uploads' own rate at the proxy: 15 small PUTs at once from this address, past its burst.
        burst = Counter(member.put_file(member.upload_url(str(uuid.uuid4())), b"x" * 1024) for _ in range(15))

    print(comparison.describe())
    print(
        f"uploads answered: anonymous {dict(anonymous)}, forged cookie {dict(forged)}, signed in "
        f"{dict(signed_in)}; peak memory growth: replica {growth['app'] / 2**20:.1f} MB, proxy "
        f"{growth['proxy'] / 2**20:.1f} MB (from {start['app'] / 2**20:.0f} / "
        f"{start['proxy'] / 2**20:.0f} MB); {took:.1f} s; 15 PUTs at once: {dict(burst)}"
    )
    assert not comparison.activity_errors, comparison.activity_errors[:3]
    every = anonymous + forged + signed_in
    assert sum(every.values()) >= (PUTS_PER_FLOODER + 3) * len(floods)  # the volume, then every round
    assert set(every) <= {403, 429}, every  # not one upload taken
    assert 403 in forged  # past the proxy's cookie check, refused by the app
    assert 403 in signed_in  # the app refused them too: nothing on the page to upload to
    # The anonymous 403s and every 429 were the proxy's, without the app (no upstream).
    proxied = [
        line
        for line in proxy_log(docker, flood_stack["containers"]["proxy"])
        if "/upload_file/" in line["uri"]
    ]
    by_proxy = Counter(line["status"] for line in proxied if not line["upstream_addr"])
    assert by_proxy[403] >= anonymous[403] >= 1
    assert by_proxy[429] == every[429] + burst[429]
    assert burst[429] >= 5, burst  # PROXY_UPLOAD_BURST_PER_CLIENT=10 at 2 r/s: the rest 429
    assert set(burst) <= {403, 429}, burst
    assert growth["app"] < UPLOAD_CAP_BYTES, growth
    assert growth["proxy"] < UPLOAD_CAP_BYTES, growth
    assert p95(comparison.under_ms) <= p95(comparison.baseline_ms) * ALLOWED_SLOWDOWN + NOISE_MS


@pytest.mark.parametrize(
    ("setting", "problem"),
    [
        ({"SERVE_AUTH": "maybe"}, "SERVE_AUTH must be oidc, none or none-public"),
        ({"PROXY_UPLOAD_RATE_PER_CLIENT": "often"}, "PROXY_UPLOAD_RATE_PER_CLIENT must look like 30r/s"),
        (
            {"PROXY_UPLOAD_BURST_PER_CLIENT": "0"},
            "PROXY_UPLOAD_BURST_PER_CLIENT must be a positive whole number",
        ),
    ],
)
def test_the_proxy_s_upload_settings_are_checked(docker, proxy_image, setting, problem):
    ((name, value),) = setting.items()
    bad = run(docker, "run", "--rm", "--tmpfs", "/tmp", "-e", f"{name}={value}", proxy_image, "nginx", "-t",
              check=False)  # fmt: skip
    assert bad.returncode == 64
    assert problem in bad.stderr


def test_with_sign_in_the_proxy_checks_the_cookie_on_uploads_only(docker, proxy_image):
    shown = run(docker, "run", "--rm", "--read-only", "--tmpfs", "/tmp", "-e", "SERVE_AUTH=OIDC", proxy_image,
                "sh", "-c", "nginx -t -q && cat /tmp/nginx/uploads.conf")  # fmt: skip
    assert 'if ($cookie__streamlit_user = "")' in shown.stdout
    assert "zone=uploads_per_client burst=10 nodelay" in shown.stdout
    off = run(docker, "run", "--rm", "--read-only", "--tmpfs", "/tmp", proxy_image,
              "sh", "-c", "nginx -t -q && cat /tmp/nginx/uploads.conf")  # fmt: skip
    assert "cookie" not in off.stdout
