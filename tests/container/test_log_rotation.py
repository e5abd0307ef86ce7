"""Every container of the compose stack gets the engine's log rotation (deploy/compose.yaml's
`x-logging`): nginx writes a JSON line per request, and Docker's default json-file log grows until
the disk is full. Read from `docker inspect` of the user's `make up` stack (users_stack.py) and of
the session's stack with the observability profile (Prometheus, the proxy's metrics)."""

from __future__ import annotations

import json

from .conftest import run

ROTATED = {"Type": "json-file", "Config": {"max-size": "10m", "max-file": "5"}}


def log_configs(docker: str, ids: list[str]) -> dict[str, dict]:
    return {
        c["Name"].lstrip("/"): c["HostConfig"]["LogConfig"]
        for c in json.loads(run(docker, "inspect", *ids).stdout)
    }


def test_make_up_rotates_every_containers_log(users_stack):
    ids = users_stack.run("scripts/deploy/stack.sh", "compose", "ps", "-q").split()
    configs = log_configs(users_stack.docker, ids)
    assert len(configs) == 2  # the app and the proxy
    assert all(config == ROTATED for config in configs.values()), configs


def test_the_observability_services_rotate_theirs_too(stack):
    ids = stack.compose("ps", "-q").stdout.split()
    configs = log_configs(stack.docker, ids)
    assert len(configs) == 6  # 3 app replicas, the proxy, proxy-metrics, prometheus
    assert all(config == ROTATED for config in configs.values()), configs
