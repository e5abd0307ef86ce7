#!/usr/bin/env python3
"""Tags and OCI labels as docker/metadata-action makes them, for the tag rules this repository's
workflow uses; the local stand-in's body (tests/ci/actions/docker/metadata-action). Reads IMAGES
and RULES (one a line) and GitHub's GITHUB_REF/GITHUB_SHA/GITHUB_REPOSITORY/GITHUB_SERVER_URL;
writes the step outputs ``tags`` and ``labels``. An unknown rule is an error, never skipped."""

from __future__ import annotations

import os
import re
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from record import main as record

NUMBER = r"(0|[1-9]\d*)"
SEMVER = re.compile(
    rf"^v?(?P<major>{NUMBER})\.(?P<minor>{NUMBER})\.(?P<patch>{NUMBER})(?P<pre>-[0-9A-Za-z.-]+)?$"
)


def tag_values(rules: list[str], ref: str, sha: str) -> list[str]:
    values = []
    for rule in rules:
        fields = dict(part.split("=", 1) for part in rule.split(","))
        kind = fields.pop("type", "")
        if kind == "ref" and fields == {"event": "branch"}:
            if ref.startswith("refs/heads/"):
                values.append(re.sub(r"[^a-zA-Z0-9._-]", "-", ref.removeprefix("refs/heads/")))
        elif kind == "semver" and list(fields) == ["pattern"]:
            match = SEMVER.match(ref.removeprefix("refs/tags/")) if ref.startswith("refs/tags/") else None
            if not match:
                continue
            version = f"{match['major']}.{match['minor']}.{match['patch']}{match['pre'] or ''}"
            if fields["pattern"] == "{{version}}":
                values.append(version)
                if not match["pre"]:  # flavor latest=auto: a release tag also gets `latest`
                    values.append("latest")
            elif fields["pattern"] == "{{major}}.{{minor}}":
                if not match["pre"]:  # as metadata-action: a pre-release only gets {{version}}
                    values.append(f"{match['major']}.{match['minor']}")
            else:
                raise SystemExit(f"metadata stand-in: semver pattern {fields['pattern']!r} not supported")
        elif kind == "sha" and not fields:
            values.append(f"sha-{sha[:7]}")
        else:
            raise SystemExit(f"metadata stand-in: tag rule {rule!r} not supported")
    return list(dict.fromkeys(values))


def main() -> None:
    images = [line.strip() for line in os.environ["IMAGES"].splitlines() if line.strip()]
    rules = [line.strip() for line in os.environ["RULES"].splitlines() if line.strip()]
    ref, sha = os.environ["GITHUB_REF"], os.environ["GITHUB_SHA"]
    repository = os.environ.get("GITHUB_REPOSITORY", "")
    url = f"{os.environ.get('GITHUB_SERVER_URL', 'https://github.com')}/{repository}"
    values = tag_values(rules, ref, sha)
    if not values:
        raise SystemExit(f"metadata stand-in: no tag from {rules} for {ref}")
    tags = [f"{image}:{value}" for image in images for value in values]
    labels = [
        f"org.opencontainers.image.title={repository.rsplit('/', 1)[-1]}",
        f"org.opencontainers.image.url={url}",
        f"org.opencontainers.image.source={url}",
        f"org.opencontainers.image.version={values[0]}",
        f"org.opencontainers.image.created={datetime.now(UTC).strftime('%Y-%m-%dT%H:%M:%S.000Z')}",
        f"org.opencontainers.image.revision={sha}",
    ]
    with open(os.environ["GITHUB_OUTPUT"], "a") as output:
        for name, lines in (("tags", tags), ("labels", labels)):
            delimiter = f"EOF_{uuid.uuid4().hex}"
            output.write(f"{name}<<{delimiter}\n" + "\n".join(lines) + f"\n{delimiter}\n")
    print("\n".join(tags))
    record(["docker/metadata-action", f"ref={ref}", "tags=" + " ".join(tags)])


if __name__ == "__main__":
    main()
