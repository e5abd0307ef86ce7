# One entry point for people and CI. Each target is a thin call into scripts/ (set -e bash)
# so GitHub Actions and .ci/run run exactly the same steps.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# checkov's pins conflict with streamlit's, so it lives in a venv of its own.
CHECKOV_VENV := .venv-checkov
PORT ?= 8501

.DEFAULT_GOAL := help
.PHONY: help venv run up down swarm-up swarm-down swarm-engine-up swarm-engine-down test test-unit test-integration test-load \
	test-container test-browser lint ci-local bench bench-containers bench-cliff bench-replicas bench-rolling bench-signin bench-tls loadtest loadtest-gate capacity soak \
	images push lock clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements/dev.txt
	PYTHON=$(PYTHON) scripts/setup/venv.sh $(VENV) requirements/dev.txt
	touch $@

# This project (pyproject.toml: the serving layer, the load kit and the example's load
# scenarios) into the venv, editable so the checkout's files are what runs; no build isolation, so
# its build backend is the hash-pinned setuptools of the lock, not one fetched at install time.
$(VENV)/.project: $(VENV)/.installed pyproject.toml
	$(VENV)/bin/uv pip install --quiet --python $(PY) --no-deps --no-build-isolation -e .
	touch $@

$(CHECKOV_VENV)/.installed: requirements/checkov.txt $(VENV)/.installed
	PYTHON=$(PYTHON) scripts/setup/venv.sh $(CHECKOV_VENV) requirements/checkov.txt
	touch $@

venv: $(VENV)/.installed $(VENV)/.project $(CHECKOV_VENV)/.installed ## create .venv (and .venv-checkov) from the hashed locks

# From the app's root (APP_DIR), as the image and Community Cloud run it: its relative paths work.
run: venv ## run the app locally on PORT (default 8501), no containers, from APP_DIR (APP_DIR=..., APP_MAIN=...: another app)
	source=$$($(PY) -m streamlit_serving.app_source) && dir=$$(echo "$$source" | sed -n 1p) \
	  && main=$$(echo "$$source" | sed -n 2p) && cd "$$dir" \
	  && exec $(CURDIR)/$(PY) -m streamlit_serving run "$$main" --server.port $(PORT)

up: ## build the images, start the compose stack named after the app, wait until healthy, print the URL (APP_DIR=...: your app; OBSERVABILITY=1: Prometheus too)
	scripts/deploy/stack.sh up

down: ## stop the compose stack
	scripts/deploy/stack.sh down

swarm-up: ## deploy the Swarm stack (3 replicas unless serving.toml [replicas] says; swarm init if the node is in none), print the URL
	scripts/deploy/swarm.sh up

swarm-down: ## remove the Swarm stack; leave the swarm if swarm-up made it
	scripts/deploy/swarm.sh down

swarm-engine-up: ## start the Swarm engine of the tests and benchmarks (a dockerd of its own), print DOCKER_HOST
	scripts/setup/swarm-engine.sh up

swarm-engine-down: ## stop the Swarm engine and remove its state (images, swarm)
	scripts/setup/swarm-engine.sh down

test: venv ## every test tier: unit, integration, load, container, browser (fails on any skip)
	scripts/ci/test.sh

test-unit: venv ## the unit tier alone (AppTest, manifests, workflows)
	scripts/ci/test.sh unit

test-integration: venv ## the integration tier: real local Streamlit servers through the protocol client
	scripts/ci/test.sh integration

test-load: venv ## the load tier: the short Locust gate and the Locust users
	scripts/ci/test.sh load

loadtest-gate: test-load ## the short load gate of `make test`; report in artifacts/loadtest-gate

test-container: venv ## the container tier: both images, compose and Swarm stacks on a real engine
	scripts/ci/test.sh container

test-browser: venv ## Chromium (Debian's, installed if missing) through Playwright
	scripts/ci/test.sh browser

lint: venv ## ruff, hadolint, yamllint, actionlint and zizmor (workflows)
	scripts/ci/lint.sh

ci-local: venv ## run .github/workflows/ci.yml here with act (offline, local stand-ins), log in build/ci
	scripts/ci/ci-local.sh

bench: venv ## interaction benchmark against a local server (prints medians)
	$(PY) scripts/bench/bench_interactions.py

bench-metrics: venv ## what the app's own metrics cost per script run (hook, scrapes, side by side)
	$(PY) scripts/bench/bench_metrics.py $(BENCH_ARGS)

bench-containers: venv ## image sizes, start to healthy, proxy overhead (prints figures)
	$(PY) scripts/bench/bench_containers.py

bench-signin: venv ## what sign-in costs: a scripted sign-in, interactions signed in vs open (prints figures)
	scripts/setup/ensure-node.sh
	$(PY) scripts/bench/bench_signin.py

bench-replicas: venv ## fragment throughput on the Swarm stack with 1 vs 3 replicas (prints figures)
	$(PY) scripts/bench/bench_replicas.py

bench-tls: venv ## what TLS at the proxy costs: handshakes, a session, a pick, CPU per pick under load
	$(PY) scripts/bench/bench_tls.py

bench-cliff: venv ## py-spy on every replica at the capacity ladder's breaking step, GC pauses and loop lag (as root; BENCH_ARGS=...)
	$(PY) scripts/bench/profile_cliff.py $(BENCH_ARGS)

bench-rolling: venv ## the Swarm stack rolled and scaled 2->3->2 under users of media, uploads and state (session store on): failures, states lost, moves, p95; the store's CPU per run on/off (BENCH_ARGS=...)
	$(PY) scripts/bench/bench_rolling_update.py $(BENCH_ARGS)

# APP_DIR=...: that app under AnyAppUser load, its fragment runs against its full runs
# (python -m streamlit_load.loadtest); without it, the example's comparison (EXAMPLE_LOADTEST, from
# the example's own targets file below).
loadtest: venv ## Locust: fragment vs full reruns, report in build/loadtest (LOADTEST_ARGS=...; APP_DIR=...: your app's)
ifdef APP_DIR
	$(PY) -m streamlit_load.loadtest $(LOADTEST_ARGS)
else
	@[ -n "$(EXAMPLE_LOADTEST)" ] || { echo "make loadtest: set APP_DIR=... (no example's load scenarios here)" >&2; exit 64; }
	$(PY) -m $(EXAMPLE_LOADTEST) $(LOADTEST_ARGS)
endif

soak: venv ## soak benchmark: RSS, threads, fds over thousands of interactions with session churn
	$(PY) scripts/bench/soak.py $(SOAK_ARGS)

images: ## build every image of deploy/images.tsv (starts Docker, makes the base image if needed)
	scripts/deploy/build-images.sh

push: images ## tag and push every image to REGISTRY=host[:port][/path] (TAG=… default: git describe)
	REGISTRY="$(REGISTRY)" TAG="$(TAG)" scripts/deploy/push.sh

# APP_DIR=...: that app's requirements.txt -> its requirements.lock (scripts/deploy/lock-app.sh) instead.
lock: $(VENV)/.installed ## re-lock requirements/*.txt with hashes from requirements/*.in (APP_DIR=...: your app's)
ifdef APP_DIR
	scripts/deploy/lock-app.sh
else
	$(VENV)/bin/uv pip compile --quiet --generate-hashes --python-version 3.11 \
	  --python-platform x86_64-manylinux_2_28 requirements/serving.in -o requirements/serving.txt
	$(VENV)/bin/uv pip compile --quiet --generate-hashes --python-version 3.11 \
	  --python-platform x86_64-manylinux_2_28 requirements/app.in -o requirements/app.txt
	$(VENV)/bin/uv pip compile --quiet --generate-hashes --python-version 3.11 \
	  --python-platform x86_64-manylinux_2_28 requirements/dev.in -o requirements/dev.txt
	$(VENV)/bin/uv pip compile --quiet --generate-hashes --python-version 3.11 \
	  --python-platform x86_64-manylinux_2_28 requirements/checkov.in -o requirements/checkov.txt
endif

clean: ## remove the venv and caches
	rm -rf $(VENV) $(CHECKOV_VENV) .pytest_cache .ruff_cache build

# Load scenarios bring their own targets and commands (the example's: make capacity, and the
# comparison make loadtest runs without APP_DIR), so nothing here names an app.
include $(wildcard loadtests/*/targets.mk)
