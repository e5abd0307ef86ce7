"""deploy/prometheus: the rules pass their promtool unit tests, every alert has one, and the
stack's scrape configuration is valid and finds every part of the stack through DNS."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy/prometheus"
RULES = yaml.safe_load((PROMETHEUS / "rules/serving.yml").read_text())
CONFIG = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())


def run(*command: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def promtool() -> str:
    """Debian's promtool (scripts/setup/ensure-promtool.sh installs it where missing)."""
    found = run("scripts/setup/ensure-promtool.sh", cwd=ROOT)
    assert found.returncode == 0, found.stderr
    return found.stdout.strip()


def test_rules_pass_their_promtool_unit_tests(promtool: str) -> None:
    tests = sorted((PROMETHEUS / "tests").glob("*.yml"))
    assert tests
    result = run(promtool, "test", "rules", *map(str, tests))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_rules_are_valid(promtool: str) -> None:
    result = run(promtool, "check", "rules", str(PROMETHEUS / "rules/serving.yml"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_unit_test_that_fires_it_and_one_that_does_not() -> None:
    alerts = {rule["alert"] for group in RULES["groups"] for rule in group["rules"] if "alert" in rule}
    assert alerts == {
        "AppReplicaDown", "NoAppReplica", "ScriptRunsSlow", "ScriptRunErrors", "AppMemoryNearLimit",
        "SessionsNearCapacity",
    }  # fmt: skip
    fired, quiet = set(), set()
    for path in (PROMETHEUS / "tests").glob("*.yml"):
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                (fired if check["exp_alerts"] else quiet).add(check["alertname"])
    assert fired == alerts
    assert quiet == alerts


def test_scrape_configuration_is_valid(promtool: str, tmp_path: Path) -> None:
    # The image reads rules from /etc/prometheus/rules: point the copy at the repository's.
    config = dict(CONFIG, rule_files=[str(PROMETHEUS / "rules/*.yml")])
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    result = run(promtool, "check", "config", str(tmp_path / "prometheus.yml"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_replica_and_the_proxy_metrics_are_found_through_dns() -> None:
    jobs = {job["job_name"]: job for job in CONFIG["scrape_configs"]}
    assert set(jobs) == {"app", "streamlit", "nginx", "nginx-log", "prometheus"}
    expected = {"app": ("app", 9464), "streamlit": ("app", 8501), "nginx": ("proxy-metrics", 9113),
                "nginx-log": ("proxy-metrics", 3903)}  # fmt: skip
    for name, (host, port) in expected.items():
        (sd,) = jobs[name]["dns_sd_configs"]
        assert (sd["names"], sd["type"], sd["port"]) == ([host], "A", port)
    assert jobs["streamlit"]["metrics_path"] == "/_stcore/metrics"
