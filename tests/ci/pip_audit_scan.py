#!/usr/bin/env python3
"""The trivy stand-in's body (tests/ci/actions/aquasecurity/trivy-action): pip-audit on the app
image's Python packages (requirements/app.txt, hashed), against PyPI's vulnerability data, as
SARIF 2.1.0 or a table. Reads the action's inputs from FORMAT, OUTPUT, IMAGE, SEVERITY,
IGNORE_UNFIXED and EXIT_CODE. pip-audit runs once per lock content and run of make ci-local
(cached under build/ci/stand-ins/)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from record import main as record
from record import out_dir

LOCK = Path("requirements/app.txt")
PIP_AUDIT = Path(".venv-checkov/bin/pip-audit")  # made by `make venv` (requirements/checkov.in)


def audit() -> dict:
    key = hashlib.sha256(LOCK.read_bytes()).hexdigest()[:16]
    cached = out_dir() / "stand-ins" / f"pip-audit-{key}.json"
    if cached.exists():
        return json.loads(cached.read_text())
    result = subprocess.run(
        [str(PIP_AUDIT), "--requirement", str(LOCK), "--require-hashes", "--disable-pip",
         "--progress-spinner", "off", "--format", "json"],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    if not result.stdout.startswith("{"):
        raise SystemExit(f"pip-audit failed ({result.returncode}):\n{result.stderr[-3000:]}")
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_text(result.stdout)
    return json.loads(result.stdout)


def findings(report: dict, ignore_unfixed: bool) -> list[tuple[dict, dict]]:
    return [
        (dep, vuln)
        for dep in report["dependencies"]
        for vuln in dep.get("vulns", [])
        if vuln.get("fix_versions") or not ignore_unfixed
    ]


def fixed(vuln: dict) -> str:
    return ", ".join(vuln.get("fix_versions") or ["no release yet"])


def sarif(found: list[tuple[dict, dict]], audited: int) -> dict:
    rules = {vuln["id"]: {"id": vuln["id"], "shortDescription": {"text": vuln["id"]},
                          "fullDescription": {"text": vuln.get("description") or vuln["id"]}}
             for _, vuln in found}  # fmt: skip
    results = [
        {
            "ruleId": vuln["id"],
            "level": "error",
            "message": {"text": f"{dep['name']} {dep['version']}: {vuln['id']}; fixed in {fixed(vuln)}"},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": str(LOCK)}}}],
        }
        for dep, vuln in found
    ]
    driver = {"name": "pip-audit (local stand-in for trivy)", "informationUri": "https://pypi.org/project/pip-audit/",
              "rules": list(rules.values())}  # fmt: skip
    return {
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [{"tool": {"driver": driver}, "results": results, "properties": {"audited": audited}}],
    }


def main() -> None:
    report = audit()
    found = findings(report, os.environ.get("IGNORE_UNFIXED") == "true")
    audited = len(report["dependencies"])
    if os.environ.get("FORMAT") == "sarif":
        text = json.dumps(sarif(found, audited), indent=1)
    else:
        lines = [f"{dep['name']}=={dep['version']}  {vuln['id']}  fixed in {vuln.get('fix_versions')}"
                 for dep, vuln in found]  # fmt: skip
        text = "\n".join([f"{audited} packages audited, {len(found)} finding(s)", *lines])
    if os.environ.get("OUTPUT"):
        Path(os.environ["OUTPUT"]).write_text(text)
    else:
        print(text)
    inputs = [f"{name}={os.environ.get(name.upper(), '')}" for name in ("image", "format", "severity")]
    record(["aquasecurity/trivy-action", *inputs, f"audited={audited}", f"findings={len(found)}"])
    if found and os.environ.get("EXIT_CODE", "0") != "0":
        raise SystemExit(int(os.environ["EXIT_CODE"]))


if __name__ == "__main__":
    main()
