"""What the corpus tests share (test_browser_policy.py, test_elements.py): the stand-in third party
on the loopback, Chromium with its fake camera and microphone, a page opened in a fresh context
(loaded, run, ready; retried when a container starting on the host cut the load short) and
waiting for what the page loads.

No internet here: the stand-in (an http.server thread on 127.0.0.1, another port, so another
origin) plays the third parties real apps take images, media, frames, map styles and Vega data
from."""

from __future__ import annotations

import base64
import io
import os
import threading
import time
import wave
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from playwright.sync_api import Browser, Locator, Page, Playwright, Response

from .conftest import launch, trusting_home
from .dashboard import NETWORK_CHANGED, PageWatch, load_page
from .stack import IMAGE_TAGS, Stack, build_images, free_port, started_stack
from .wire import Run, Wire

FAKE_MEDIA = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
PNG = base64.b64decode(  # 1x1, opaque
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def silence() -> bytes:
    """A tenth of a second of silent 8 kHz PCM WAV: media Chromium plays in a <video> and an <audio>."""
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(1)
        wav.setframerate(8000)
        wav.writeframes(b"\x80" * 800)
    return out.getvalue()


BODIES = {
    "/photo.png": ("image/png", PNG),
    "/clip.wav": ("audio/wav", silence()),
    "/frame.html": ("text/html", b"<!doctype html><title>third party</title><p>framed third party</p>"),
    "/style.json": (
        "application/json",
        b'{"version": 8, "sources": {}, "layers": [{"id": "land", "type": "background", '
        b'"paint": {"background-color": "#dde"}}]}',
    ),
    "/bars.json": ("application/json", b'[{"x": "A", "y": 3}, {"x": "B", "y": 5}, {"x": "C", "y": 2}]'),
}


@dataclass
class StandIn:
    """The third party: its origin and the paths it was asked for."""

    origin: str
    requested: list[str] = field(default_factory=list)


@contextmanager
def serving_stand_in() -> Iterator[StandIn]:
    """The stand-in on a free port of 127.0.0.1, answering BODIES (CORS open, as a basemap or
    a CDN answers fetch()), 404 for anything else."""
    seen = StandIn("")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # http.server's name
            seen.requested.append(self.path)
            kind, body = BODIES.get(self.path, ("text/plain", b"not here"))
            self.send_response(200 if self.path in BODIES else 404)
            self.send_header("Content-Type", kind)
            self.send_header("Access-Control-Allow-Origin", "*")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    seen.origin = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield seen
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def deployed(
    app: Path, image: str, project: str, tls_dir: Path, proxy_image: str, **settings: str
) -> Iterator[Stack]:
    """`make up APP_DIR=<app> APP_REPLICAS=2` with sign-in off, as a user deploys their app
    (scripts/deploy/stack.sh derives the proxy's PROXY_CSP_* / PROXY_PERMISSIONS from its
    serving.toml): its own app image (the tier's app tag with ``-image`` added), the tier's proxy
    image (SKIP_BUILD=1), the project ``project``-<pid>; ``settings`` over that."""
    app_image = os.environ.get("APP_IMAGE", IMAGE_TAGS["APP_IMAGE"]).split(":")[0] + f"-{image}:test"
    knob = {"APP_DIR": str(app), "APP_MAIN": "streamlit_app.py", "APP_IMAGE": app_image}
    build_images(["app"], {**knob, "IMAGES_PREBUILT": "0"})
    every = {**knob, "PROXY_IMAGE": proxy_image, "APP_REPLICAS": "2", "SKIP_BUILD": "1", "SERVE_AUTH": "none"}
    with started_stack(f"{project}-{os.getpid()}", tls_dir, {**every, **settings}) as started:
        yield started


def launch_media_browser(playwright: Playwright, home: Path, ca_file: Path) -> Browser:
    """Chromium trusting the stacks' local CA (``ca_file``), with its fake camera and microphone."""
    return launch(playwright, trusting_home(home, ca_file), FAKE_MEDIA)


@dataclass
class Opened:
    page: Page
    watch: PageWatch
    wire: Wire
    response: Response
    run: Run

    @property
    def headers(self) -> dict[str, str]:
        return self.response.headers


@contextmanager
def opened_page(
    browser: Browser, url: str, ready: Callable[[Page], None], **context_options: object
) -> Iterator[Opened]:
    """``url`` in a fresh context of ``browser`` (``context_options``: its viewport...), loaded, its
    first run ended successfully, and ``ready(page)`` passed. A load that Chromium cut short with
    net::ERR_NETWORK_CHANGED (a container started on this shared host: its interfaces changed,
    not a response of ours) is tried again, at most twice more."""
    for attempt in range(3):
        context = browser.new_context(**context_options)
        watch = PageWatch(context)
        page = context.new_page()
        wire = Wire(page)
        watch.attach(page)
        try:
            response, run = load_page(page, wire, watch, url)
            assert response is not None
            assert "FINISHED_SUCCESSFULLY" in run.outcomes, run.outcomes
            ready(page)
        except AssertionError:
            context.close()
            if attempt == 2 or not any(NETWORK_CHANGED in error for error in watch.http_errors):
                raise
            continue
        try:
            yield Opened(page, watch, wire, response, run)
        finally:
            context.close()
        return


def wait_for(condition: Callable[[], object], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"no {what} in {timeout:.0f} s"
        time.sleep(0.2)


def media_loaded(media: Locator, kind: str) -> None:
    """``media`` (a <video> or <audio>) loaded far enough to know its length."""
    wait_for(lambda: media.evaluate("m => m.readyState >= 1 && m.duration > 0"), f"{kind} loaded")
