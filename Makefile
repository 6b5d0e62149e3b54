# ConfigTrail: every CI step is a target here, so anything CI does can be run by hand.
# `make help` lists the targets. Variables can be overridden: `make plan ENV=prod`.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
ENV ?= dev
# Fully qualified stack name for the Pulumi CLI (e.g. my-org/configtrail/prod); default: ENV.
STACK ?= $(ENV)
PULUMI ?= pulumi
POLICY_PACK := ../policies
POLICY_CONFIG = ../policies/config/$(ENV).json
MESSAGE ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo local)
PYTEST_ARGS ?=
INSTALLED := $(VENV)/.installed

.PHONY: help venv lock plan check check-plan test clean preview up refresh destroy drift

## help: list the targets
help:
	@grep -E '^## ' $(MAKEFILE_LIST) | sed -e 's/^## //' | awk -F': ' '{printf "  %-14s %s\n", $$1, $$2}'

## venv: create .venv with the pinned dependencies and the configtrail tool
venv: $(INSTALLED)

$(INSTALLED): requirements/main.lock pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements/main.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $@

## lock: re-resolve requirements/main.in into requirements/main.lock (needs the package index)
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements/main.in
	{ echo "# Pinned by 'make lock' from requirements/main.in (pip freeze of a fresh venv). Python 3.11+."; \
	  .lock-venv/bin/python -m pip freeze --exclude-editable; } > requirements/main.lock
	rm -rf .lock-venv

## plan: offline plan of ENV (writes build/ENV/stack.json and preview.json)
plan: venv
	$(BIN)/configtrail plan --env $(ENV)

## check: the main job — offline plan and the gates for every environment
# Each gate adds itself as a prerequisite of `check` (in run order) next to its own target.
check: check-plan

## check-plan: offline plan of every environment (build/<env>/stack.json, preview.json)
check-plan: venv
	$(BIN)/configtrail plan --all --quiet

# --- local gates: pre-commit hooks and checkov (.pre-commit-config.yaml, .checkov.yaml) ---------
# checkov pins an older botocore than requirements/main.lock, so it lives in its own virtualenv;
# the workflow tests and the pre-commit hooks call .venv/checkov/bin/checkov.
CHECKOV_VENV := $(VENV)/checkov
CHECKOV_INSTALLED := $(CHECKOV_VENV)/.installed
.PHONY: checkov-venv lock-checkov checkov check-checkov lint hooks

## checkov-venv: checkov in its own virtualenv, .venv/checkov, from requirements/checkov.lock
checkov-venv: $(CHECKOV_INSTALLED)

$(CHECKOV_INSTALLED): requirements/checkov.lock
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade "pip>=24"
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements/checkov.lock
	touch $@

## lock-checkov: re-resolve requirements/checkov.in into requirements/checkov.lock (needs the index)
lock-checkov:
	rm -rf .lock-checkov && $(PYTHON) -m venv .lock-checkov
	.lock-checkov/bin/python -m pip install --quiet --disable-pip-version-check -r requirements/checkov.in
	{ echo "# checkov in its own virtualenv (.venv/checkov): it pins an older boto3/botocore than requirements/main.lock."; \
	  echo "# Pinned by 'make lock-checkov' (pip freeze of a fresh venv with requirements/checkov.in). Python 3.11+."; \
	  .lock-checkov/bin/python -m pip freeze; } > requirements/checkov.lock
	rm -rf .lock-checkov

## checkov: checkov over every environment's plan, the workflows and secrets, offline, in one run
checkov: check-plan checkov-venv
	$(BIN)/configtrail checkov --all

## check-checkov: the checkov gate of `make check` (writes build/summary/checkov.md)
check-checkov: checkov
check: check-checkov

## lint: every pre-commit hook over every file (ruff, yamllint, hygiene, schemas, zizmor, secrets, checkov)
lint: venv checkov-venv
	$(BIN)/pre-commit run --all-files --show-diff-on-failure

## hooks: install the git hooks (pre-commit at commit, the fast tests at push)
hooks: venv checkov-venv
	$(BIN)/pre-commit install --install-hooks

## test: the whole test suite
test: venv
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## clean: remove build output and the virtual environment
clean:
	rm -rf build $(VENV)

# --- the real deploy path: needs the Pulumi CLI, a backend login and AWS credentials -----------

## preview: pulumi preview of STACK with the policy pack (real cloud)
preview: venv
	cd infra && PATH="$(CURDIR)/$(BIN):$$PATH" $(PULUMI) preview --stack $(STACK) --diff \
	  --policy-pack $(POLICY_PACK) --policy-pack-config $(POLICY_CONFIG) --message "$(MESSAGE)"

## up: pulumi up of STACK with the policy pack (real cloud)
up: venv
	cd infra && PATH="$(CURDIR)/$(BIN):$$PATH" $(PULUMI) up --stack $(STACK) --yes --diff \
	  --policy-pack $(POLICY_PACK) --policy-pack-config $(POLICY_CONFIG) --message "$(MESSAGE)"

## refresh: pulumi refresh of STACK (real cloud)
refresh: venv
	cd infra && PATH="$(CURDIR)/$(BIN):$$PATH" $(PULUMI) refresh --stack $(STACK) --yes --message "$(MESSAGE)"

## destroy: pulumi destroy of STACK, never touching protected history (real cloud)
destroy: venv
	cd infra && PATH="$(CURDIR)/$(BIN):$$PATH" $(PULUMI) destroy --stack $(STACK) --yes --exclude-protected --message "$(MESSAGE)"

## drift: refresh-preview of STACK that fails if anything drifted (real cloud)
drift: venv
	cd infra && PATH="$(CURDIR)/$(BIN):$$PATH" $(PULUMI) preview --stack $(STACK) --refresh --expect-no-changes --diff \
	  --policy-pack $(POLICY_PACK) --policy-pack-config $(POLICY_CONFIG)
