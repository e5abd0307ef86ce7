"""The app knob on a real engine: an app directory outside the repository, with a package of its
own locked by `make lock APP_DIR=...` (scripts/deploy/lock-app.sh), built into the app image by
`scripts/deploy/build-images.sh app` with APP_DIR/APP_MAIN alone (no file of the template changed),
runs hardened as the example does, under the serving layer, with its pages and its package."""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.proto.WidgetStates_pb2 import WidgetState

from streamlit_load.client.session import StreamlitSession

from .conftest import ROOT, build_app_image, hardened_container, run

HOME = """import streamlit as st
import tabulate

st.title("Knob home")
level = st.slider("level", 0, 10, 3)
st.write(f"level is {level}")
st.write(f"tabulate {tabulate.__version__}")
"""
OTHER = "import streamlit as st\n\nst.title('Knob other page')\n"


@pytest.fixture(scope="module")
def own_app(tmp_path_factory) -> Path:
    app = tmp_path_factory.mktemp("own-app")
    (app / "pages").mkdir()
    (app / "Home.py").write_text(HOME)
    (app / "pages" / "1_Other.py").write_text(OTHER)
    (app / "requirements.txt").write_text("tabulate==0.9.0\n")
    (app / ".streamlit").mkdir()
    (app / ".streamlit" / "secrets.toml").write_text("password = 'never in an image'\n")
    return app


@pytest.fixture(scope="module")
def own_container(docker: str, images: dict[str, str], own_app: Path) -> Iterator[dict[str, str]]:
    """The app image built from own_app (after the session's images: its staging replaces theirs),
    run read-only with no capabilities, as app_container runs the example."""
    tag = f"own-app-test:{os.getpid()}"
    locked = run("env", f"APP_DIR={own_app}", "APP_MAIN=Home.py", "scripts/deploy/lock-app.sh", check=False)
    assert locked.returncode == 0, locked.stderr[-4000:]
    built = build_app_image(own_app, "Home.py", tag)
    assert built.returncode == 0, built.stderr[-4000:]
    assert built.stdout.split() == [tag]
    try:
        with hardened_container(docker, tag, "own-app-test") as container:
            yield container
    finally:
        run(docker, "rmi", tag, check=False)
        run("scripts/deploy/stage-app.sh", check=False)  # build/app-src back to the example


def test_the_own_app_serves_its_page_and_a_widget_change_reruns_it(own_container):
    with StreamlitSession(own_container["url"]) as session:
        assert session.initial.has_text("Knob home")
        assert session.initial.has_text("level is 3")
        assert session.initial.has_text("tabulate 0.9.0")  # the app's own package, from its lock
        session.set_widget_state(WidgetState(id=session.widget_id("level"), double_array_value={"data": [7]}))
        moved = session.rerun()
        assert moved.outcome == "FINISHED_SUCCESSFULLY"
        assert moved.has_text("level is 7")


def test_the_image_holds_the_app_but_not_its_secrets_and_runs_its_main_script(own_container):
    def inside(*command: str) -> str:
        return run(own_container["docker"], "exec", own_container["name"], *command, check=False).stdout

    listing = inside("ls", "/srv/app/app", "/srv/app/app/pages").split()
    assert listing == [
        "/srv/app/app:",
        "Home.py",
        "pages",
        "requirements.lock",
        "requirements.txt",
        "/srv/app/app/pages:",
        "1_Other.py",
    ]
    assert inside("ls", "-A").split() == [  # the working directory: the app's root
        ".streamlit",
        "Home.py",
        "pages",
        "requirements.lock",
        "requirements.txt",
    ]
    assert inside("ls", "-A", ".streamlit").split() == []  # its secrets.toml stayed behind
    pid1 = inside("cat", "/proc/1/cmdline").split("\0")
    assert pid1[1:5] == ["-m", "streamlit_serving", "run", "/srv/app/app/Home.py"]
    assert inside("id", "-u").strip() == "10001"


def test_the_serving_layer_runs_for_an_app_without_hooks(own_container):
    """No serve_hooks.py: the layer's metrics still count the app's runs (inside the container:
    the metrics port is not published)."""
    probe = "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:9464/metrics').read().decode())"
    metrics = run(own_container["docker"], "exec", own_container["name"], "python3", "-c", probe).stdout
    assert "streamlit_script_runs_total" in metrics, metrics[:2000]
    with urllib.request.urlopen(f"{own_container['url']}/_stcore/health", timeout=5) as response:
        assert response.read() == b"ok"


def test_a_wrong_app_main_at_run_time_stops_the_container_naming_it(docker, app_image):
    """An APP_MAIN overridden at run time that is empty, missing or a directory (the example's
    package): the entrypoint stops with exit 64 naming it; Streamlit never starts."""
    for main in ("", "missing.py", "sales_dashboard"):
        result = run(
            docker,
            "run",
            "--rm",
            "--read-only",
            "--cap-drop",
            "ALL",
            "-e",
            f"APP_MAIN={main}",
            app_image,
            check=False,
        )
        assert result.returncode == 64, (main, result.stderr[-2000:])
        assert f"app: APP_MAIN={main} is not a file in the image's app/" in result.stderr
        assert "Streamlit" not in result.stdout


def test_a_missing_main_script_stops_the_build_naming_it(own_app):
    result = build_app_image(own_app, "streamlit_app.py", "own-app-test:never")
    assert result.returncode == 64
    assert f"APP_MAIN=streamlit_app.py is not a file in APP_DIR={own_app}" in result.stderr
    assert run("docker", "image", "inspect", "own-app-test:never", check=False).returncode != 0
    assert (ROOT / "build" / "app-src").is_dir()


def test_the_lock_holds_the_layers_pins_and_the_apps_package_hashed(own_container, own_app):
    lock = (own_app / "requirements.lock").read_text()
    serving = (ROOT / "requirements" / "serving.txt").read_text()
    streamlit_pin = next(line.split()[0] for line in serving.splitlines() if line.startswith("streamlit=="))
    assert f"{streamlit_pin} \\\n" in lock
    assert "tabulate==0.9.0 \\\n    --hash=sha256:" in lock
    assert "plotly" not in lock  # the example's packages are the example's


def test_a_requirement_that_conflicts_with_the_layer_stops_the_lock_and_keeps_the_old_one(tmp_path):
    app = tmp_path / "old-streamlit"
    app.mkdir()
    (app / "streamlit_app.py").write_text("import streamlit as st\n")
    (app / "requirements.txt").write_text("streamlit==1.40.0\n")
    (app / "requirements.lock").write_text("# the lock as it was\n")
    result = run("env", f"APP_DIR={app}", "scripts/deploy/lock-app.sh", check=False)
    assert result.returncode == 64
    assert "cannot be locked with the serving layer's pins (requirements/serving.txt)" in result.stderr
    assert "streamlit" in result.stderr.split("cannot be locked")[0]  # uv's reason names the package
    assert (app / "requirements.lock").read_text() == "# the lock as it was\n"
