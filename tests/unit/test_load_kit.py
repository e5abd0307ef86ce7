"""The load kit (loadtests/streamlit_load) is for any app: none of its modules imports the
example's scenarios (sales_load), the example app or a locustfile, and none reads the example's
settings (SALES_*); the user's own locustfile (loadtests/examples) is short and the docs show it."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KIT = ROOT / "loadtests" / "streamlit_load"
EXAMPLE_LOCUSTFILE = ROOT / "loadtests" / "examples" / "locustfile.py"
EXAMPLE_PACKAGES = {"sales_load", "sales_dashboard", "serve_hooks", "locustfile", "capacity_locustfile"}


def imported(source: str) -> set[str]:
    """Every absolute module name ``source`` imports, at any depth (functions too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def example_imports(source: str) -> set[str]:
    return {name for name in imported(source) if name.split(".")[0] in EXAMPLE_PACKAGES}


def test_the_check_sees_an_import_of_the_example_at_any_depth():
    source = "import os\ndef f():\n    from sales_load.picks import expect_fragment\n"
    assert example_imports(source) == {"sales_load.picks"}
    assert example_imports("import sales_dashboard.data as d\n") == {"sales_dashboard.data"}
    assert example_imports("from streamlit_load.client import StreamlitSession\n") == set()


def test_no_kit_module_imports_the_example():
    modules = sorted(KIT.rglob("*.py"))
    assert len(modules) > 10  # the kit is where it should be
    found = {str(m.relative_to(ROOT)): example_imports(m.read_text()) for m in modules}
    assert {path: names for path, names in found.items() if names} == {}


def test_no_kit_module_reads_the_examples_settings():
    found = [str(m.relative_to(ROOT)) for m in sorted(KIT.rglob("*.py")) if "SALES_" in m.read_text()]
    assert found == []


def test_the_users_own_locustfile_is_short_and_the_docs_show_it():
    text = EXAMPLE_LOCUSTFILE.read_text()
    assert len(text.splitlines()) <= 20
    assert text.strip() in (ROOT / "docs" / "load-testing.md").read_text()
