#!/usr/bin/env python3
"""Records what a local stand-in action did, for tests/ci/test_ci_local.py to check:
appends one JSON object per call to $CI_LOCAL_OUT/stand-ins/ACTION.jsonl (default
build/ci under the workspace). Standard library only (it runs with the host's python3).

    record.py ACTION KEY=VALUE...
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path


def out_dir() -> Path:
    default = Path(os.environ.get("GITHUB_WORKSPACE", ".")) / "build" / "ci"
    return Path(os.environ.get("CI_LOCAL_OUT") or default)


def main(argv: list[str]) -> None:
    action, pairs = argv[0], argv[1:]
    entry = {"action": action, "job": os.environ.get("GITHUB_JOB", ""), "time": time.time()}
    entry.update(pair.split("=", 1) for pair in pairs)
    folder = out_dir() / "stand-ins"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / f"{action.replace('/', '_')}.jsonl").open("a") as log:
        log.write(json.dumps(entry) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
