"""A real multi-file app, deployed with none of its files changed: docs/your-app.md's "A database
beside the stack" run as written on tests/apps/community_app (two pages and a module of its own, a
data file read by a relative path, packages.txt, requirements.txt, .streamlit/config.toml, and
st.connection("sql") to PostgreSQL with the connection in .streamlit/secrets.toml), on compose on
the host's engine and on Swarm on the tests' Swarm engine, each with a real PostgreSQL 15 from
Debian's archive in a container of its own beside the stack, reached over APP_NETWORK.

Only what a test must replace is replaced (the app's and the password's directories by the test's,
the network's and the database's names by unique ones, the registry's postgres image by a stand-in
built here from Debian's postgresql-15, tests/container/postgres/), each replacement finding its
text, so a recipe changed in the docs is a recipe changed here. Both stacks are read through the
proxy with the protocol client; each database holds one row the test adds, which no file has.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from streamlit_load.client import Interaction, StreamlitSession
from streamlit_load.local_server import free_port
from streamlit_load.swarm_engine import SwarmEngine

from .conftest import ROOT, as_typed, run

DOCS = ROOT / "docs/your-app.md"
HEADING = "## A database beside the stack: APP_NETWORK"
APP = ROOT / "tests/apps/community_app"
DB_DOCKERFILE_DIR = ROOT / "tests/container/postgres"
ADDED = {"requirements.lock", ".streamlit/secrets.toml"}  # the lock (make lock) and the secrets file
STATIONS = "3 stations in data/stations.csv: Lisbon Geofisico, Oslo Blindern, Quito Inaquito"
SCHEMA_ROWS = ("Lisbon Geofisico: 14.5 °C at 2026-12-07 09:00", "Oslo Blindern: -3.2 °C at 2026-12-07 09:00")
LIBPQ = re.compile(r"Database client: psycopg 3\.[\d.]+ \(python\) over libpq 15\.\d+")
TIMEOUT = 600  # seconds any one step may take (a cold image build on 2 shared cores included)


@pytest.fixture(scope="session")
def users_stack() -> None:
    """This module builds and starts stacks of its own and needs no other: the tier's autouse
    user's stack (conftest.py) is not started for it alone (it is when the whole tier runs)."""
    return None


def recipes() -> list[str]:
    """The three ```bash blocks of the section: the app's side, compose, Swarm."""
    text = DOCS.read_text()
    section = text[text.index(f"\n{HEADING}\n") + 1 :]
    section = section[: section.index("\n## ")]
    blocks = re.findall(r"```bash\n(.*?)```", section, re.S)
    assert len(blocks) == 3, f"{HEADING}: {len(blocks)} bash blocks, not 3"
    return blocks


def replace(block: str, replacements: dict[str, str]) -> str:
    for old, new in replacements.items():
        assert old in block, f"the recipe no longer holds {old!r}"
        block = block.replace(old, new)
    return block


def bash(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The script as a user types it in bash, from the checkout's root, stopping at the first error."""
    return subprocess.run(["bash", "-c", "set -euo pipefail\n" + script], cwd=ROOT, env=as_typed(env),
                          capture_output=True, text=True, timeout=TIMEOUT, check=False)  # fmt: skip


@dataclass
class Prepared:
    """The app's side of the recipe done: its copy, the password, the images."""

    app: Path  # the recipe's ~/weather: a copy of tests/apps/community_app
    secrets: Path  # the recipe's ~/db-secrets
    password: str
    app_image: str
    db_image: str
    env: dict[str, str]  # what every step runs with: the tests' docker client first on PATH
    log: str  # what the recipe's first block said
    seconds: dict[str, float]
    swarm_images: Callable[[], None]  # waits until the images are in the Swarm engine (copied meanwhile)


def build_db_image(docker: str, tag: str) -> subprocess.CompletedProcess[str]:
    base = run("scripts/deploy/base-image.sh").stdout.split()[-1]
    return subprocess.run(
        [docker, "build", "--quiet", "--build-arg", f"BASE_IMAGE={base}", "-t", tag, str(DB_DOCKERFILE_DIR)],
        cwd=ROOT, env={**os.environ, "DOCKER_BUILDKIT": "1"}, capture_output=True, text=True,
        timeout=TIMEOUT, check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def prepared(
    docker: str, images: dict[str, str], swarm_engine: SwarmEngine, tmp_path_factory
) -> Iterator[Prepared]:
    """The recipe's first block (the copy, the password file, secrets.toml, `make lock`), then the
    app's image built with the knob alone (as `make up` builds it), while the database's image
    builds beside them; each image copied into the Swarm engine once built, while the compose
    stack runs (the Swarm stack's turn comes after)."""
    scratch = tmp_path_factory.mktemp("community")
    prefix = images["APP_IMAGE"].rsplit(":", 1)[0]  # the session's images' prefix
    app_image, db_image = f"{prefix}-community:{os.getpid()}", f"{prefix}-community-db:{os.getpid()}"
    dropped = ("TLS_", "SERVE_", "DOCKER_HOST", "APP_MAIN")
    env = {key: value for key, value in os.environ.items() if not key.startswith(dropped)}
    env["PATH"] = f"{Path(docker).parent}:{os.environ['PATH']}"  # the tests' docker client for the recipe
    app, secrets_dir = scratch / "weather", scratch / "db-secrets"
    seconds: dict[str, float] = {}
    start = time.monotonic()

    def load(*tags: str, after: Future | None = None) -> None:
        if after is not None:
            assert after.result().returncode == 0  # (its output: the database's image's assertion)
        swarm_engine.load(*tags)
        seconds[f"Swarm: {', '.join(tags)} copied into its engine"] = time.monotonic() - start

    with ThreadPoolExecutor(2) as pool:
        db_build = pool.submit(build_db_image, docker, db_image)
        early_load = pool.submit(load, images["PROXY_IMAGE"], db_image, after=db_build)
        app_load: Future[None] | None = None
        try:
            block = replace(recipes()[0], {"~/db-secrets": str(secrets_dir), "~/weather": str(app)})
            first = bash(block, env)
            seconds["the app's side (copy, password, secrets.toml, make lock)"] = time.monotonic() - start
            assert first.returncode == 0, first.stderr[-4000:]
            built = subprocess.run(
                ["scripts/deploy/build-images.sh", "app"], cwd=ROOT, capture_output=True, text=True,
                env={**env, "APP_DIR": str(app), "APP_IMAGE": app_image, "IMAGES_PREBUILT": "0"},
                timeout=TIMEOUT, check=False,
            )  # fmt: skip
            seconds["the app's image"] = time.monotonic() - start
            assert built.returncode == 0, built.stderr[-4000:]
            assert built.stdout.split() == [app_image]
            db = db_build.result()
            seconds["the database's image (beside the app's)"] = time.monotonic() - start
            assert db.returncode == 0, db.stderr[-4000:]
            app_load = pool.submit(load, app_image)

            def swarm_images() -> None:
                early_load.result()
                app_load.result()

            password = (secrets_dir / "weather_password").read_text().strip()
            assert len(password) == 48
            yield Prepared(app, secrets_dir, password, app_image, db_image, env, first.stdout + first.stderr,
                           seconds, swarm_images)  # fmt: skip
        finally:
            for future in (db_build, early_load, app_load):
                if future is not None:
                    future.exception()  # done, whatever it raised (the fixtures report it)
            run("scripts/deploy/stage-app.sh", check=False)  # build/app-src back to the example
            run(docker, "rmi", "-f", app_image, db_image, check=False)


def add_reading(docker: list[str], db: str) -> str:
    """One reading no file holds, into the database: the text the readings page must show for it."""
    temperature, minute = random.randint(100, 350) / 10, random.randint(10, 59)
    sql = f"INSERT INTO readings VALUES ('QUI', '2026-12-07 12:{minute}', {temperature})"  # noqa: S608 - our numbers
    psql = ["psql", "-q", "-v", "ON_ERROR_STOP=1", "-U", "weather", "-d", "weather", "-c", sql]
    added = subprocess.run([*docker, "exec", db, *psql], capture_output=True, text=True, check=False)
    assert added.returncode == 0, added.stderr
    return f"Quito Inaquito: {temperature:.1f} °C at 2026-12-07 12:{minute}"


@dataclass
class Deployed:
    """The app served by one engine's stack, its database beside it."""

    url: str
    name: str  # the compose project, the Swarm stack
    docker: list[str]  # the docker client of that engine
    app: str  # an app container
    proxy: str
    db: str
    network: str
    reading: str  # the text of the row the test added
    log: str  # what the recipe's block said


def recipe_names(block: str, name: str, db_image: str, prepared: Prepared) -> str:
    """The block with the test's unique names: the database keeps `weather-db` as an alias on its
    network (the host name of the app's secrets.toml)."""
    return replace(block, {
        "exec weather-db ": f"exec {name}-db ", "exec -i weather-db ": f"exec -i {name}-db ",
        "--name weather-db --network weather-net ":
            f"--name {name}-db --network {name}-net --network-alias weather-db ",
        "weather-net": f"{name}-net", "postgres:15-bookworm": db_image,
        "~/db-secrets": str(prepared.secrets), "~/weather": str(prepared.app),
    })  # fmt: skip


def containers(docker: list[str], *filters: str) -> list[str]:
    args = [item for label in filters for item in ("--filter", f"label={label}")]
    return run(*docker, "ps", "-q", *args).stdout.split()


def run_recipe(
    prepared: Prepared,
    what: str,
    script: str,
    env: dict[str, str],
    docker: list[str],
    name: str,
    *labels: str,
) -> Deployed:
    """Run one engine's block as written, timed under ``what``; then its app and proxy containers
    (each found by its label in ``labels``: app's, then proxy's) and one reading added."""
    start = time.monotonic()
    up = bash(script, env)
    prepared.seconds[what] = time.monotonic() - start
    assert up.returncode == 0, up.stdout[-2000:] + up.stderr[-4000:]
    app_label, proxy_label, *common = labels
    (app,) = containers(docker, *common, app_label)
    (proxy,) = containers(docker, *common, proxy_label)
    reading = add_reading(docker, f"{name}-db")
    return Deployed(
        up.stdout.split()[-1],
        name,
        docker,
        app,
        proxy,
        f"{name}-db",
        f"{name}-net",
        reading,
        up.stdout + up.stderr,
    )


@pytest.fixture(scope="module")
def compose(docker: str, images: dict[str, str], local_tls: Path, prepared: Prepared, tmp_path_factory):
    """The compose block, as written, on the host's engine (the images built above: SKIP_BUILD=1)."""
    name = f"{os.environ.get('STACK_PROJECT', '')}weather{os.getpid()}"
    cookie = tmp_path_factory.mktemp("community-cookie") / "cookie_secret"
    cookie.write_text("c" * 64)
    cookie.chmod(0o644)
    env = {**prepared.env, "APP_IMAGE": prepared.app_image, "PROXY_IMAGE": images["PROXY_IMAGE"],
           "STACK_PROJECT": name, "PROXY_PORT": str(free_port()), "PROXY_TLS_PORT": str(free_port()),
           "LOCAL_TLS_DIR": str(local_tls), "COOKIE_SECRET_FILE": str(cookie), "SKIP_BUILD": "1",
           "APP_SECRETS_DIR": str(tmp_path_factory.mktemp("community-app-secrets"))}  # fmt: skip
    script = recipe_names(recipes()[1], name, prepared.db_image, prepared)
    try:
        yield run_recipe(
            prepared, "compose: the recipe (network, database, make up)", script, env, [docker], name,
            "com.docker.compose.service=app", "com.docker.compose.service=proxy",
            f"com.docker.compose.project={name}",
        )  # fmt: skip
    finally:
        stop = time.monotonic()
        subprocess.run(["scripts/deploy/stack.sh", "down"], cwd=ROOT, env=as_typed(env), capture_output=True,
                       check=False, timeout=TIMEOUT)  # fmt: skip
        run(docker, "rm", "-f", f"{name}-db", check=False)
        run(docker, "network", "rm", f"{name}-net", check=False)
        print(f"\ncommunity app: compose stopped and removed in {time.monotonic() - stop:.1f} s")


@pytest.fixture(scope="module")
def swarm(swarm_engine: SwarmEngine, images: dict[str, str], local_tls: Path, prepared: Prepared,
          tmp_path_factory):  # fmt: skip
    """The Swarm block, as written, on the tests' Swarm engine (its own dockerd: the images copied
    in), one app replica."""
    prepared.swarm_images()  # copied while the compose stack ran
    stack_env = swarm_engine.https_stack_env(
        f"{os.environ.get('STACK_PROJECT', '')}weather", {"APP_IMAGE": prepared.app_image,
        "PROXY_IMAGE": images["PROXY_IMAGE"]}, tmp_path_factory.mktemp("community-swarm"), local_tls,
        APP_REPLICAS="1",
    )  # fmt: skip
    env = {**stack_env, "PATH": prepared.env["PATH"]}
    name = env["SWARM_STACK"]
    docker = [swarm_engine.docker, "--host", swarm_engine.host]
    script = recipe_names(recipes()[2], name, prepared.db_image, prepared)
    try:
        yield run_recipe(
            prepared, "Swarm: the recipe (network, database, swarm-up)", script, env, docker, name,
            f"com.docker.swarm.service.name={name}_app", f"com.docker.swarm.service.name={name}_proxy",
        )  # fmt: skip
    finally:
        stop = time.monotonic()
        subprocess.run(["scripts/deploy/swarm.sh", "down"], cwd=ROOT, env=as_typed(env), capture_output=True,
                       check=False, timeout=TIMEOUT)  # fmt: skip
        swarm_engine.run("rm", "-f", f"{name}-db", check=False)
        for _ in range(10):  # the tasks' endpoints may still be leaving the network
            if swarm_engine.run("network", "rm", f"{name}-net", check=False).returncode == 0:
                break
            time.sleep(1)
        swarm_engine.run("rmi", "-f", prepared.app_image, prepared.db_image, check=False)
        print(f"\ncommunity app: Swarm stopped and removed in {time.monotonic() - stop:.1f} s")


def pages(url: str) -> tuple[Interaction, Interaction, int]:
    """The main page, the uploader's cap in MB, and the readings page, as a browser opens them."""
    with StreamlitSession(url, timeout=60) as session:
        main = session.initial
        uploads = [w.proto.max_upload_size_mb for w in session.widgets.values() if w.kind == "file_uploader"]
        assert len(uploads) == 1, session.widgets
        assert sorted(session.pages) == ["", "Readings"], session.pages
        readings = session.goto("Readings")
    return main, readings, uploads[0]


def check_pages(deployed: Deployed) -> None:
    main, readings, upload_mb = pages(deployed.url)
    assert main.outcomes == ["FINISHED_SUCCESSFULLY"], (main.texts, main.exceptions)
    assert main.has_text(STATIONS), main.texts  # data/stations.csv, by its relative path
    assert any(LIBPQ.fullmatch(text) for text in main.texts), main.texts  # packages.txt's libpq5
    assert upload_mb == 8  # .streamlit/config.toml's server.maxUploadSize
    assert readings.outcomes == ["FINISHED_SUCCESSFULLY"], (readings.texts, readings.exceptions)
    for shown in ("4 readings in the database", *SCHEMA_ROWS, deployed.reading):
        assert readings.has_text(shown), (shown, readings.texts)


def check_secrecy(deployed: Deployed, prepared: Prepared, app_image: str) -> None:
    """The password in no `docker inspect` of the app, the proxy or the database, in no layer or
    history of the app's image, in no log, in nothing the recipe printed."""
    docker = deployed.docker
    inspected = run(*docker, "inspect", deployed.app, deployed.proxy, deployed.db).stdout
    image = run(*docker, "image", "inspect", app_image).stdout
    history = run(*docker, "history", "--no-trunc", app_image).stdout
    logs = run(*docker, "logs", deployed.app)
    seen = {
        "docker inspect": inspected, "the app's image": image + history, "the recipe's output": deployed.log,
        "the app's log": logs.stdout + logs.stderr, "the first block": prepared.log,
    }  # fmt: skip
    for where, text in seen.items():
        assert prepared.password not in text, where
    # Only the mounted secret file holds it in the app's container; its environment at exec does not.
    assert prepared.password not in run(*docker, "exec", deployed.app, "cat", "/proc/1/environ").stdout
    found = run(*docker, "exec", deployed.app, "find", "/srv", "/opt", "-name", "secrets.toml").stdout
    assert found == ""  # not in the image: only /run/secrets/app_secrets.toml


def networks_of(docker: list[str], container: str) -> set[str]:
    return set(json.loads(run(*docker, "inspect", container).stdout)[0]["NetworkSettings"]["Networks"])


def check_network(deployed: Deployed) -> None:
    """The app joins the network and resolves the database there; the proxy does not join it."""
    docker = deployed.docker
    assert deployed.network in networks_of(docker, deployed.app)
    resolved = run(*docker, "exec", deployed.app, "getent", "hosts", "weather-db", check=False)
    assert resolved.returncode == 0, resolved.stderr
    assert deployed.network not in networks_of(docker, deployed.proxy)
    # Unknown there: the engine's DNS forwards the name outwards, where the Swarm engine waits for no
    # answer (no resolver is reachable from it), so the lookup is bounded (124: still unresolved).
    unresolved = run(
        *docker, "exec", deployed.proxy, "timeout", "3", "getent", "hosts", "weather-db", check=False
    )
    assert unresolved.returncode in (2, 124), unresolved


def files_of(directory: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(directory)): path.read_bytes()
        for path in directory.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_the_app_is_deployed_with_none_of_its_files_changed(prepared: Prepared):
    """The copy the recipe made holds every file of tests/apps/community_app unchanged, and only the
    lock and secrets.toml besides; the lock pins the pure-Python psycopg and SQLAlchemy with hashes."""
    committed, deployed = files_of(APP), files_of(prepared.app)
    assert {"pages/1_Readings.py", "weather.py", "data/stations.csv", "packages.txt", "requirements.txt",
            ".streamlit/config.toml"} <= set(committed)  # fmt: skip
    assert set(deployed) == set(committed) | ADDED
    assert {path for path in committed if deployed[path] != committed[path]} == set()
    lock = deployed["requirements.lock"].decode()
    for package in ("psycopg==", "sqlalchemy==", "streamlit==1.67.0"):
        assert re.search(rf"^{package}\S* \\\n\s+--hash=sha256:", lock, re.M | re.I), package
    assert "psycopg-binary" not in lock  # libpq comes from packages.txt
    assert "lock: " in prepared.log
    print("\ncommunity app, seconds since the module's start:", json.dumps(prepared.seconds, indent=1))


def test_on_compose_the_pages_show_the_data_file_libpq_the_config_and_the_database_rows(compose: Deployed):
    check_pages(compose)


def test_on_compose_only_the_app_joins_the_network_and_the_password_stays_a_secret(
    compose: Deployed, prepared: Prepared
):
    check_network(compose)
    check_secrecy(compose, prepared, prepared.app_image)
    package = run(*compose.docker, "exec", compose.app, "dpkg-query", "-W", "-f", "${Status}", "libpq5")
    assert package.stdout == "install ok installed"  # packages.txt, in the hardened image
    assert "stack: the app's replicas join APP_NETWORK=" in compose.log


def test_a_bad_app_network_stops_make_up_and_make_swarm_up_with_64_naming_it(
    prepared: Prepared, swarm_engine: SwarmEngine
):
    """Before anything is built or started: no such network (compose), a bridge network (Swarm)."""
    missing = f"nosuchnet{os.getpid()}"
    env = {**prepared.env, "APP_DIR": str(prepared.app), "APP_NETWORK": missing, "SKIP_BUILD": "1"}
    up = subprocess.run(["scripts/deploy/stack.sh", "up"], cwd=ROOT, env=as_typed(env), capture_output=True,
                        text=True, timeout=120, check=False)  # fmt: skip
    assert up.returncode == 64
    assert f"stack: APP_NETWORK='{missing}': no such network on this engine; make it first" in up.stderr
    swarm_env = swarm_engine.env({**env, "APP_NETWORK": "bridge", "SERVE_AUTH": "none-public"})
    swarm_up = subprocess.run(["scripts/deploy/swarm.sh", "up"], cwd=ROOT, env=as_typed(swarm_env),
                              capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert swarm_up.returncode == 64
    assert "swarm: APP_NETWORK='bridge' is a bridge network; Swarm tasks join overlay networks only" in (
        swarm_up.stderr
    )


def test_on_swarm_the_same_pages_through_its_proxy(swarm: Deployed):
    check_pages(swarm)


def test_on_swarm_only_the_app_joins_the_overlay_and_the_password_stays_a_secret(
    swarm: Deployed, prepared: Prepared, swarm_engine: SwarmEngine
):
    check_network(swarm)
    check_secrecy(swarm, prepared, prepared.app_image)
    service = swarm_engine.run("service", "inspect", f"{swarm.name}_app").stdout
    assert prepared.password not in service
    assert "swarm: the app's tasks join APP_NETWORK=" in swarm.log
    print("\ncommunity app, seconds:", json.dumps(prepared.seconds, indent=1))
