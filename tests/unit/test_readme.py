"""The README names only what exists: its "Deploy your own app" steps each name the tests that run
them, every `tests/...py::name` it names is a function of that file, every `make <target>` a target
of the Makefile, every relative link (README and docs/*.md) a file of the repository and its
#anchor a heading of that file; and it stays a five-minute read (at most 200 lines). A renamed
test, target, file or heading fails here, not silently in the docs. Each check also runs on a
deliberately broken copy, which it must catch."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
MAX_LINES = 200
SECTION = re.compile(r"^## Deploy your own app\n(.*?)^## ", re.S | re.M)
NAMED_TEST = re.compile(r"(tests/[\w/]+\.py)::(\w+)")
# `make X` as a command: at a line's or a code span's start, after `&&`, or after VAR=value.
MAKE_TARGET = re.compile(r"(?:^|`|&&\s+|\b[A-Z_]+=\S*\s+)make ([a-z][\w-]*)", re.M)
MAKEFILE_TARGET = re.compile(r"^([\w.-]+(?:[ \t]+[\w.-]+)*)[ \t]*:(?!=)", re.M)
LINK = re.compile(r"\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.S | re.M)


def deploy_section(text: str) -> str:
    found = SECTION.search(text)
    assert found, "README.md has no '## Deploy your own app' section"
    return found.group(1)


def test_deploy_your_own_app_names_a_test_that_exists_for_every_step():
    rows = [line for line in deploy_section(README.read_text()).splitlines() if line.startswith("| ")]
    rows = [row for row in rows if "---" not in row]
    steps = [row for row in rows if not row.rstrip(" |").endswith("tested by")]  # the tables' headers
    assert len(steps) >= 6
    for row in steps:
        tested_by = row.rstrip(" |").rsplit(" | ", 1)[-1]
        assert NAMED_TEST.findall(tested_by), f"a step names no test: {row}"
    # that each named test exists: missing_tests, over the whole README


def missing_tests(text: str) -> list[str]:
    missing = []
    for path, name in sorted(set(NAMED_TEST.findall(text))):
        source = ROOT / path
        if not source.is_file():
            missing.append(f"{path} (no such file)")
        elif not re.search(rf"^\s*(?:async\s+)?def {name}\(", source.read_text(), re.M):
            missing.append(f"{path}::{name}")
    return missing


def missing_make_targets(text: str) -> list[str]:
    # The Makefile and the targets files it includes (a load-scenario package's own: loadtests/*/targets.mk).
    files = [ROOT / "Makefile", *sorted(ROOT.glob("loadtests/*/targets.mk"))]
    makefile = "".join(path.read_text() for path in files)
    targets = {t for group in MAKEFILE_TARGET.findall(makefile) for t in group.split()}
    return sorted({t for t in MAKE_TARGET.findall(text) if t not in targets})


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: link text kept, lower-case, punctuation other than '-' and
    '_' dropped, spaces to '-'."""
    heading = re.sub(r"\[([^]]*)\]\([^)]*\)", r"\1", heading.strip())
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def anchors(markdown: Path) -> set[str]:
    seen: dict[str, int] = {}
    found = set()
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*$", FENCE.sub("", markdown.read_text()), re.M):
        base = slug(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")  # GitHub numbers repeated headings
    return found


def broken_links(text: str, where: Path) -> list[str]:
    broken = []
    for target in LINK.findall(FENCE.sub("", text)):
        if re.match(r"[a-z][\w+.-]*:", target):  # https:, mailto: ...: not the repository's
            continue
        path, _, anchor = target.partition("#")
        file = (where.parent / path).resolve() if path else where
        if not file.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(f"{target} (no such heading in {file.relative_to(ROOT)})")
    return broken


def test_every_test_the_readme_names_exists():
    assert missing_tests(README.read_text()) == []


def test_every_make_target_the_readme_names_is_in_the_makefile():
    named = MAKE_TARGET.findall(README.read_text())
    assert {"up", "test", "down"} <= set(named)  # the hook's commands, found by the pattern
    assert missing_make_targets(README.read_text()) == []


@pytest.mark.parametrize("doc", ["README.md", *sorted(p.name for p in (ROOT / "docs").glob("*.md"))])
def test_every_relative_link_points_to_a_file_and_heading_that_exist(doc):
    path = README if doc == "README.md" else ROOT / "docs" / doc
    assert broken_links(path.read_text(), path) == []


def test_the_readme_is_a_five_minute_read():
    assert len(README.read_text().splitlines()) <= MAX_LINES


def test_each_check_catches_a_broken_copy_of_the_readme():
    text = README.read_text()
    assert missing_tests(text + "\n`tests/unit/test_readme.py::test_that_was_renamed`\n") == [
        "tests/unit/test_readme.py::test_that_was_renamed"
    ]
    gone = "tests/unit/test_gone.py"
    assert missing_tests(f"{text}\n`{gone}::test_x`\n") == [f"{gone} (no such file)"]
    assert missing_make_targets(f"{text}\nthen `make deploy-all` and\nmake up\n") == ["deploy-all"]
    assert missing_make_targets("apt-get install -y python3-venv make git") == []  # a package, not a target
    assert broken_links(text + "\n[x](docs/missing.md)\n", README) == ["docs/missing.md (no such file)"]
    assert broken_links(text + "\n[x](docs/deploy.md#no-such-heading)\n", README) == [
        "docs/deploy.md#no-such-heading (no such heading in docs/deploy.md)"
    ]
    assert broken_links("[x](#deploy-your-own-app)", README) == []
    assert broken_links("[x](#deploy-your-own-ap)", README) == [
        "#deploy-your-own-ap (no such heading in README.md)"
    ]
    assert len((text + "\n" * MAX_LINES).splitlines()) > MAX_LINES  # what the length test would refuse


def test_slugs_follow_githubs_rules():
    assert slug("`make up` in detail") == "make-up-in-detail"
    assert slug("Your app's name, and its own settings") == "your-apps-name-and-its-own-settings"
    assert slug("Capacity: concurrent users one host serves (`make capacity`)") == (
        "capacity-concurrent-users-one-host-serves-make-capacity"
    )
    assert slug("Your own app: `make loadtest APP_DIR=...`") == "your-own-app-make-loadtest-app_dir"
