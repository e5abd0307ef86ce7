"""A rolling update of the Swarm stack with the page open: every app replica is replaced one at a
time (start-first; each old one drains on SIGTERM) and the page, never reloaded, reconnects by
itself each time its replica goes and still shows the same day and month, and works on. Then the
same for an app nobody here wrote: the service is updated to Streamlit's hello demo (its image
built with the knob alone) and rolled again with a hello page open.

The Swarm stack runs on the Swarm engine of scripts/setup/swarm-engine.sh (an engine of its own, never
the user's; the images built for the tier's compose stack are copied in) and publishes its proxy
on 127.0.0.1 like the compose stack. It is deployed for this module only: about a minute to deploy
and about half a minute for each update (paced faster than the stack file's: 3 s apart, 5 s watched).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from sales_load.rolling import rolling_update, service_containers
from streamlit_load.swarm_engine import SwarmEngine, started_swarm_engine

from .dashboard import Dashboard, PageWatch
from .hello import RECONNECT_TIMEOUT, HelloPage, slider_values_sent
from .stack import ROOT, Stack

SwarmStack = tuple[SwarmEngine, str, str]
# This test's pace (the stack file's 10 s delay and 30 s monitor, for production, take ~160 s).
UPDATE_PACE = ("--update-delay", "3s", "--update-monitor", "5s")


@pytest.fixture(scope="module")
def swarm_stack(
    stack: Stack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[SwarmEngine, str, str]]:
    """(engine, stack name, URL) of deploy/swarm/stack.yaml with 3 replicas, the compose stack's images."""
    images = {name: stack.env[name] for name in ("APP_IMAGE", "PROXY_IMAGE")}
    with started_swarm_engine() as engine:
        engine.load(*images.values())
        # The compose stack's local CA, which the tier's Chromium trusts; open, as the container
        # tier's Swarm stack: sign-in is the compose stack's here.
        local_tls, scratch = Path(stack.env["LOCAL_TLS_DIR"]), tmp_path_factory.mktemp("swarm-secret")
        env = engine.https_stack_env("browserroll", images, scratch, local_tls)
        tls_port = env["PROXY_TLS_PORT"]
        up = subprocess.run(
            ["scripts/deploy/swarm.sh", "up"], cwd=ROOT, env=env, capture_output=True, text=True
        )
        try:
            assert up.returncode == 0, f"scripts/deploy/swarm.sh up failed:\n{up.stderr[-4000:]}"
            url = up.stdout.strip().splitlines()[-1]
            assert url.rstrip("/") == f"https://127.0.0.1:{tls_port}"  # HTTPS, as the compose stack
            yield engine, env["SWARM_STACK"], url
        finally:
            subprocess.run(["scripts/deploy/swarm.sh", "down"], cwd=ROOT, env=env, capture_output=True)


@pytest.fixture
def swarm_page(browser: Browser, swarm_stack: SwarmStack) -> Iterator[Dashboard]:
    context = browser.new_context()
    dashboard = Dashboard(context.new_page(), swarm_stack[2], PageWatch(context))
    dashboard.open()
    yield dashboard
    context.close()


def test_a_rolling_update_keeps_the_open_page_on_its_day(
    swarm_stack: SwarmStack, swarm_page: Dashboard
) -> None:
    engine, name, _ = swarm_stack
    page, wire = swarm_page.page, swarm_page.wire
    swarm_page.pick(date(2023, 9, 14))  # another month: the whole page
    page.evaluate("() => { window.__e2eSamePage = true; }")  # gone if the page reloads
    service = f"{name}_app"
    before, sockets = service_containers(engine.run, service), wire.opened
    watching: Callable[[], object] = lambda: page.wait_for_timeout(1000)  # noqa: E731 - frames arrive meanwhile

    rolling_update(engine.run, service, *UPDATE_PACE, during=watching)

    after = service_containers(engine.run, service)
    assert not set(before) & set(after), "every replica was replaced"
    connected = lambda: page.get_by_text("Connecting").count() == 0  # noqa: E731
    wire.wait_until(connected, 60, "the page to be connected")
    swarm_page.settle()
    assert wire.opened > sockets, "its replica went away: the page reconnected"
    assert page.evaluate("() => window.__e2eSamePage === true"), "the page was reloaded"
    assert page.url.endswith("/?date=2023-09-14")
    assert swarm_page.headings(Dashboard.DAILY)[0] == "Best sellers, September 14, 2023"
    assert swarm_page.headings(Dashboard.MONTHLY)[0] == "Daily sales for all products, September 2023"
    # Its last run before the update was the whole page, so on reconnecting the page asked for no
    # run: its first pick reaches a session that never ran and is answered with the whole page
    # (streamlit_serving/failover.py; stock Streamlit drops it and the page hangs).
    first = swarm_page.pick(date(2023, 9, 28))
    assert first.outcomes[-1] in ("FINISHED_SUCCESSFULLY", "FINISHED_FRAGMENT_RUN_SUCCESSFULLY")
    assert swarm_page.headings(Dashboard.DAILY)[0] == "Best sellers, September 28, 2023"
    same_month = swarm_page.pick(date(2023, 9, 5))  # from then on, fragment runs as before
    assert same_month.outcomes == ["FINISHED_FRAGMENT_RUN_SUCCESSFULLY"]
    assert swarm_page.headings(Dashboard.DAILY)[0] == "Best sellers, September 5, 2023"
    assert swarm_page.watch.csp_violations == []
    assert swarm_page.watch.page_errors == []
    print(f"{len(before)} replicas replaced; the page opened {wire.opened - sockets} new socket(s)")


# Two rolling updates and the image copied into the Swarm engine: 68 s here (91 s before the app
# image stopped printing its welcome banner; 245 s, before that, when both
# updated one replica at a time).
@pytest.mark.timeout(600)
def test_hello_keeps_its_open_page_and_its_widget_through_a_rolling_update(
    swarm_stack: SwarmStack, hello_image: str, browser: Browser
) -> None:
    """Any app, the same promise: the app service updated to the hello demo's image (a rolling update
    itself), a hello page opened and its slider moved (10 -> 9), then every replica replaced again.
    The page, never reloaded, reconnects, still shows 9, and its next move is sent as 10: the
    value the user had set was not lost with the replica that held it."""
    engine, name, url = swarm_stack
    service = f"{name}_app"
    engine.load(hello_image)
    # No page is open yet: every replica at once (start-first, as the stack file says).
    rolling_update(engine.run, service, "--image", hello_image, "--update-parallelism", "0", *UPDATE_PACE)
    context = browser.new_context()
    try:
        hello = HelloPage(context, url.rstrip("/") + "/")
        hello.open("animation_demo")
        assert "FINISHED_SUCCESSFULLY" in hello.move_slider("ArrowLeft").outcomes
        assert hello.slider_level() == "9"
        hello.page.evaluate("() => { window.__e2eSamePage = true; }")  # gone if the page reloads
        before, sockets = service_containers(engine.run, service), hello.wire.opened

        rolling_update(engine.run, service, *UPDATE_PACE, during=lambda: hello.page.wait_for_timeout(1000))

        assert not set(before) & set(service_containers(engine.run, service)), "every replica was replaced"
        hello.wire.wait_until(lambda: hello.wire.opened > sockets, RECONNECT_TIMEOUT, "a new WebSocket")
        connected = lambda: hello.page.get_by_text("Connecting").count() == 0  # noqa: E731
        hello.wire.wait_until(connected, RECONNECT_TIMEOUT, "reconnection")
        hello.heading("Animation demo")
        assert hello.page.evaluate("() => window.__e2eSamePage === true"), "the page was reloaded"
        assert hello.slider_level() == "9"
        run = hello.move_slider("ArrowRight")
        sent = slider_values_sent(run)
        assert [10.0] in sent, sent
        assert "FINISHED_SUCCESSFULLY" in run.outcomes
        assert hello.problems() == []
    finally:
        context.close()
