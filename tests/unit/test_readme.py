"""The README's "Deploy your own app": every step names the tests that run it, and each of those
tests exists (a renamed or deleted test fails here, not silently in the docs)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECTION = re.compile(r"^## Deploy your own app\n(.*?)^## ", re.S | re.M)
NAMED_TEST = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")


def deploy_section() -> str:
    found = SECTION.search((ROOT / "README.md").read_text())
    assert found, "README.md has no '## Deploy your own app' section"
    return found.group(1)


def test_every_step_names_a_test_that_exists():
    rows = [line for line in deploy_section().splitlines() if line.startswith("| ") and "---" not in line]
    steps = [row for row in rows if not row.rstrip(" |").endswith("tested by")]  # the tables' headers
    assert len(steps) >= 6
    for row in steps:
        tested_by = row.rstrip(" |").rsplit(" | ", 1)[-1]
        named = NAMED_TEST.findall(tested_by)
        assert named, f"a step names no test: {row}"
        for path, name in named:
            source = (ROOT / path).read_text()
            assert re.search(rf"^def {name}\(", source, re.M), f"{path} has no {name}"


def test_every_test_the_section_names_elsewhere_exists_too():
    for path, name in NAMED_TEST.findall(deploy_section()):
        assert re.search(rf"^def {name}\(", (ROOT / path).read_text(), re.M), f"{path} has no {name}"
