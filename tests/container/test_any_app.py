"""What the template does for any app, run against both apps: the example (app/) and Streamlit's
own hello demo (st.navigation, five pages; copied outside the repository and built with the knob
alone, APP_DIR), and against yours too with `make test APP_DIR=...` (scripts/ci/test.sh:
YOUR_APP_DIR; its pages and widgets learnt from the frames). Each image is run as production runs
it (read-only root, tmpfs /tmp, no capabilities): it runs as UID 10001 under the serving layer,
passes its first run inside the image (`make up`'s check), serves every page, reruns on a widget
change and is counted in the serving layer's metrics. And `make up` with an app that fails on its
first run stops with that app's own traceback (exit 64)."""

from __future__ import annotations

import os
import random
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from streamlit.proto.WidgetStates_pb2 import WidgetState

from sales_load.page import DashboardSession
from streamlit_load.client.session import Interaction
from streamlit_load.client.widgets import new_state
from streamlit_load.local_server import free_port

from .conftest import ROOT, build_app_image, hardened_container, run


@dataclass(frozen=True)
class ServedApp:
    """An app as the tests know it: its main script in the image, the text each of its pages shows
    (by URL path; "" is the default page) and one widget change that reruns it."""

    main: str
    pages: dict[str, str]  # {}: learnt from the frames (an app the tests do not know)
    change: Callable[[DashboardSession], Interaction | None]


def pick_a_day(session: DashboardSession) -> Interaction:
    return session.pick_date("2023-01-15")


def less_detail(session: DashboardSession) -> Interaction:
    session.goto("animation_demo")
    slider = session.widget_id("Level of detail")
    session.set_widget_state(WidgetState(id=slider, double_array_value={"data": [4]}))
    return session.rerun()


def any_widget(session: DashboardSession) -> Interaction | None:
    """A value for one widget of the page, as AnyAppUser makes it (None: no widget to change)."""
    widgets = [widget for widget in session.widgets.values() if widget.changeable]
    return session.change(new_state(widgets[0], random.Random(1))) if widgets else None


YOURS = os.environ.get("YOUR_APP_DIR", "")
APPS = {
    "example": ServedApp("streamlit_app.py", {"": "Daily vs monthly sales, by product"}, pick_a_day),
    "hello": ServedApp(
        "streamlit_app.py",
        {
            "": "Welcome to Streamlit! 👋",
            "dataframe_demo": "DataFrame demo",
            "plotting_demo": "Plotting demo",
            "mapping_demo": "Mapping demo",
            "animation_demo": "Animation demo",
        },
        less_detail,
    ),
    **(
        {"yours": ServedApp(os.environ.get("YOUR_APP_MAIN", "streamlit_app.py"), {}, any_widget)}
        if YOURS
        else {}
    ),
}


@pytest.fixture(scope="module", params=sorted(APPS))
def served(request, docker: str, app_container: dict[str, str]) -> Iterator[tuple[ServedApp, dict[str, str]]]:
    """(the app, its hardened container): the session's example container, or one of the hello
    image (built once for the session)."""
    app = APPS[request.param]
    if request.param == "example":
        yield app, app_container
        return
    image = request.getfixturevalue(f"{request.param}_image")
    with hardened_container(docker, image, f"{request.param}-app-test") as container:
        yield app, container


@pytest.fixture(scope="session")
def yours_image(docker: str, images: dict[str, str]) -> Iterator[str]:
    """Your app's image (make test APP_DIR=...): the one CI built (YOUR_APP_IMAGE), or built here
    with the knob alone."""
    prebuilt = os.environ.get("YOUR_APP_IMAGE", "")
    if prebuilt:
        yield prebuilt
        return
    tag = f"your-app-test:{os.getpid()}"
    built = build_app_image(Path(YOURS), os.environ.get("YOUR_APP_MAIN", "streamlit_app.py"), tag)
    try:
        assert built.returncode == 0, built.stderr[-4000:]
        yield tag
    finally:
        run("scripts/deploy/stage-app.sh", check=False)  # build/app-src back to the example
        run(docker, "rmi", "-f", tag, check=False)


def inside(container: dict[str, str], *command: str):
    return run(container["docker"], "exec", container["name"], *command, check=False)


def test_it_runs_as_uid_10001_under_the_serving_layer_on_a_read_only_root(served):
    app, container = served
    assert inside(container, "id", "-u").stdout.strip() == "10001"
    pid1 = inside(container, "cat", "/proc/1/cmdline").stdout.split("\0")
    assert pid1[1:5] == ["-m", "streamlit_serving", "run", f"/srv/app/app/{app.main}"]
    written = inside(container, "touch", "/srv/app/app/written")
    assert written.returncode != 0
    assert "Read-only file system" in written.stderr


def test_its_first_run_passes_inside_the_image(served):
    """What `make up` runs in one replica once the stack is healthy (scripts/deploy/stack.sh)."""
    _, container = served
    first = inside(container, "sh", "-c", 'exec python3 -m streamlit_serving.first_run "$APP_MAIN"')
    assert first.returncode == 0, first.stderr
    assert "ran through" in first.stderr


def test_every_page_loads_and_a_widget_change_reruns_it(served):
    app, container = served
    with DashboardSession(container["url"]) as session:
        assert session.initial.outcomes == ["FINISHED_SUCCESSFULLY"]
        if app.pages:
            assert set(session.pages) == (set(app.pages) if len(app.pages) > 1 else set())
        for path in session.pages or [""]:
            shown = session.goto(path) if session.pages else session.initial
            assert shown.outcomes == ["FINISHED_SUCCESSFULLY"], path
            if app.pages:
                assert shown.has_text(app.pages[path]), (path, shown.texts[:5])
        changed = app.change(session)
        if changed is not None or app.pages:  # an app of yours may have no widget
            assert changed.outcome in ("FINISHED_SUCCESSFULLY", "FINISHED_FRAGMENT_RUN_SUCCESSFULLY")
            assert not changed.exceptions


def test_the_serving_layer_counts_its_runs(served):
    """The layer's metrics (port 9464, not published) count the app's runs, hooks or none."""
    _, container = served
    with DashboardSession(container["url"]) as session:
        assert session.initial.outcomes == ["FINISHED_SUCCESSFULLY"]
    probe = "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:9464/metrics').read().decode())"
    metrics = inside(container, "python3", "-c", probe).stdout
    finished = [
        line for line in metrics.splitlines()
        if line.startswith('streamlit_script_runs_total{kind="full",outcome="finished"}')
    ]  # fmt: skip
    assert finished, metrics[:2000]
    assert float(finished[0].split()[-1]) >= 1


BROKEN_APP = """import streamlit as st

st.title("Reports")
import reporting_backend  # not installed: the page would show an error box to every visitor
"""


def test_make_up_stops_with_the_apps_own_traceback_when_its_first_run_fails(docker, images, tmp_path):
    """The server is healthy (Streamlit imports the script only when a page asks), so only the
    first run tells: exit 64, the app's traceback on stderr, and no URL printed as if all were
    well. The stack stays up for its logs; it is taken down here."""
    app = tmp_path / "broken"
    app.mkdir()
    (app / "streamlit_app.py").write_text(BROKEN_APP)
    project = f"broken-app-{os.getpid()}"
    tag = f"broken-app-test:{os.getpid()}"
    built = build_app_image(app, "streamlit_app.py", tag)
    assert built.returncode == 0, built.stderr[-4000:]
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith(("TLS_", "SERVE_"))},
        **images,  # the session's images, and the app's alone built with the knob
        "APP_IMAGE": tag,
        "SKIP_BUILD": "1",
        "STACK_PROJECT": project,
        "PROXY_BIND": "127.0.0.1",
        "PROXY_PORT": str(free_port()),
        "PROXY_TLS_PORT": str(free_port()),
        "LOCAL_TLS_DIR": str(tmp_path / "tls"),
    }

    def stack(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["scripts/deploy/stack.sh", *args], cwd=ROOT, env=env, capture_output=True, text=True
        )

    try:
        up = stack("up")
        assert up.returncode == 64, up.stderr[-4000:]
        assert up.stdout.strip() == ""  # no URL: nothing says "serving" about a broken app
        assert "Traceback (the app's first run):" in up.stderr
        assert 'File "/srv/app/app/streamlit_app.py", line 4' in up.stderr
        assert "ModuleNotFoundError: No module named 'reporting_backend'" in up.stderr
        assert "first-run: the app failed its first run" in up.stderr
        assert "stack: the stack is still up" in up.stderr
    finally:
        stack("down")
        run("scripts/deploy/stage-app.sh", check=False)  # build/app-src back to the example
        run(docker, "rmi", "-f", env["APP_IMAGE"], check=False)
