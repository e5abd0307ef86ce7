"""Production refuses to start open: the app's environment as compose renders it from
deploy/compose.yaml + deploy/compose.production.yaml (scripts/deploy/stack.sh, STACK_PRODUCTION=1), run
in the app image. `none` stops the start (exit 64, the reason in the log); `none-public` starts and
says so at every start. The sign-in stacks themselves run in the browser tier."""

from __future__ import annotations

import os
import secrets
import subprocess
import time

import pytest
import yaml

from .conftest import ROOT, run


def production_environment(tmp_path, **env: str) -> dict[str, str]:
    """The app service's environment of the production files, as compose renders it (the cookie
    secret file it names is made in ``tmp_path``, for docker_run to mount)."""
    cookie = tmp_path / "cookie_secret"
    cookie.write_text(secrets.token_hex(32))
    cookie.chmod(0o644)
    rendered = subprocess.run(
        ["scripts/deploy/stack.sh", "compose", "config"],
        cwd=ROOT,
        env={
            **os.environ,
            "STACK_PRODUCTION": "1",
            "STACK_PROJECT": "authconfig",
            "COOKIE_SECRET_FILE": str(cookie),
            **env,
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert rendered.returncode == 0, rendered.stderr
    environment = yaml.safe_load(rendered.stdout)["services"]["app"]["environment"]
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {name: str(value) for name, value in environment.items() if value is not None}


def docker_run(docker: str, image: str, tmp_path, environment: dict[str, str], *options: str) -> list[str]:
    """`docker run` of ``image`` as compose runs the app: that environment, the cookie secret file."""
    secret = environment["STREAMLIT_SERVER_COOKIE_SECRET_FILE"]
    args = [docker, "run", "--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL", *options]
    args += ["-v", f"{tmp_path / 'cookie_secret'}:{secret}:ro"]
    for name, value in environment.items():
        args += ["-e", f"{name}={value}"]
    return [*args, image]


@pytest.mark.parametrize("auth", ["none", ""])
def test_production_refuses_to_start_without_sign_in(docker, app_image, tmp_path, auth):
    environment = production_environment(tmp_path, SERVE_AUTH=auth)
    assert environment["SERVE_AUTH_REQUIRED"] == "on"
    if auth == "":
        assert environment["SERVE_AUTH"] == "oidc"  # the production default
        environment["SERVE_AUTH"] = ""  # as if an operator blanked it
    result = run(*docker_run(docker, app_image, tmp_path, environment, "--rm"), check=False)
    assert result.returncode == 64, result.stdout + result.stderr
    assert "is refused here (SERVE_AUTH_REQUIRED=on)" in result.stderr
    assert "SERVE_AUTH=none-public to serve the app to anyone" in result.stderr


def test_production_open_only_with_the_loud_override_which_every_start_logs(docker, app_image, tmp_path):
    environment = production_environment(tmp_path, SERVE_AUTH="none-public")
    assert (environment["SERVE_AUTH"], environment["SERVE_AUTH_REQUIRED"]) == ("none-public", "on")
    name = f"sales-dashboard-public-{secrets.token_hex(4)}"
    started = run(*docker_run(docker, app_image, tmp_path, environment, "-d", "--name", name), check=False)
    assert started.returncode == 0, started.stderr
    try:
        warning = "WARNING: SERVE_AUTH=none-public: sign-in is OFF where it is required"
        for starts in (1, 2):  # the first start, and a restart
            deadline = time.monotonic() + 60
            while run(docker, "inspect", "-f", "{{.State.Health.Status}}", name).stdout.strip() != "healthy":
                assert time.monotonic() < deadline, run(docker, "logs", name, check=False).stderr
                time.sleep(1)
            assert run(docker, "logs", name).stderr.count(warning) == starts
            if starts == 1:
                run(docker, "restart", "--time", "10", name)
    finally:
        run(docker, "rm", "-f", name, check=False)


def test_make_up_says_the_stack_is_open(stack):
    """`make up` without SERVE_AUTH: open on localhost, and it says so (the session's stack)."""
    assert "sign-in is off: open to anyone who reaches the proxy (SERVE_AUTH=oidc turns it on)" in stack.log
    assert "oidc-dev" not in stack.log
