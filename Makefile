# crimecast: the README's two commands are `make demo` and `make test`. Both set everything up.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-12)
EXTRAS := runtime,training,infra,dev
SYSDEPS := chromium chromium-driver xvfb xdotool fonts-dejavu-core
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
export PIP_DISABLE_PIP_VERSION_CHECK=1

.PHONY: help venv sysdeps demo demo-once demo-synthetic test test-fast lint models models-check synth layers bench clean

help:  ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

venv: $(STAMP)  ## create/refresh the virtual environment (re-runs only when pyproject.toml changes)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade 'pip>=24'
	$(BIN)/python -m pip install -q -e '.[$(EXTRAS)]'
	@rm -f $(VENV)/.installed-*
	@touch $@

sysdeps:  ## system packages for browser and desktop tests (Debian; skipped when present or not root)
	@missing=""; for p in $(SYSDEPS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then echo "sysdeps: all present"; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	  echo "sysdeps: installing$$missing"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing) >/tmp/crimecast-apt.log 2>&1 \
	    || { echo "sysdeps: apt-get failed (browser/GUI tests will skip); see /tmp/crimecast-apt.log"; }; \
	else echo "sysdeps: missing$$missing and not root: browser/GUI tests will skip"; fi

demo: venv  ## the main job on the embedded real data and shipped models (no training); serves until Ctrl-C
	$(BIN)/crimecast demo

demo-synthetic: venv  ## the same on generated synthetic data and pictures
	$(BIN)/crimecast demo --synthetic --out demo-out-synthetic

demo-once: venv  ## the main job once, leaving the report and forecasts in ./demo-out
	$(BIN)/crimecast demo --once --out demo-out

test: venv sysdeps  ## the whole test suite (unit, integration, infra)
	$(BIN)/python -m pytest -q -p no:cacheprovider

test-fast: venv  ## unit tests only, skipping slow ones
	$(BIN)/python -m pytest -q -m "not slow" tests/unit

lint: venv  ## ruff
	$(BIN)/ruff check functions training infra scripts tests

models: venv  ## rebuild the shipped models (models/forecaster on data/chicago, models/classifier + clip on ../shared real data)
	$(BIN)/python scripts/models_check.py build

models-check: venv  ## opt-in (not in `make test`): rebuild the shipped models in a temp dir, compare data hashes and scores
	$(BIN)/python scripts/models_check.py check

layers: venv  ## build the Lambda dependency bundles without Docker (layers/build; rebuilt when requirements change)
	$(BIN)/python layers/build.py --sizes

synth: venv layers  ## cdk synth with cdk-nag (infra/cdk.out; rebuilt from scratch so no stale assets pile up)
	rm -rf infra/cdk.out
	cd infra && npm ci --no-audit --no-fund && PATH="$(CURDIR)/$(BIN):$$PATH" npx cdk synth --quiet

clean:  ## remove build outputs (keeps the venv)
	rm -rf build .cache demo-out infra/cdk.out layers/build
