# ConfigTrail: every CI step is a target here, so anything CI does can be run by hand.
# `make help` lists the targets. Variables can be overridden: `make plan ENV=ml-prod`.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# A stack of the estate (environments/Pulumi.<ENV>.yaml).
ENV ?= trial
# Fully qualified stack name for the Pulumi CLI (e.g. my-org/configtrail/ml-prod); default: ENV.
STACK ?= $(ENV)
PULUMI ?= pulumi
MESSAGE ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo local)
PYTEST_ARGS ?=
INSTALLED := $(VENV)/.installed
DIFFCORE := $(VENV)/.diffcore-built

# Variables a person may set on the command line: those with a default here (`X ?= ...`) and the
# ones recipes read from the environment. Anything else is refused before anything runs:
# `make plan ENVIRONMENT=ml-prod` would otherwise quietly plan the default stack.
KNOWN_VARIABLES := $(sort $(shell sed -n 's/^\([A-Z_][A-Z0-9_]*\) *?=.*/\1/p' $(firstword $(MAKEFILE_LIST))) \
  COMMAND CONFIRM AUDIT_SOURCE REF ROLE_ARN SECRETS_PROVIDER RUN_URL GH_REPO PULL_REQUEST)
UNKNOWN_VARIABLES := $(filter-out $(KNOWN_VARIABLES),$(foreach v,$(.VARIABLES),$(if $(filter command line,$(origin $(v))),$(v))))
ifneq ($(UNKNOWN_VARIABLES),)
$(error unknown variable $(UNKNOWN_VARIABLES) on the command line; variables: $(KNOWN_VARIABLES))
endif

.PHONY: help venv lock plan check check-plan test clean preview up refresh destroy drift
.PHONY: converged drift-issue confirm job-summary bootstrap-plan check-bootstrap

## help: list the targets
help:
	@grep -E '^## ' $(MAKEFILE_LIST) | sed -e 's/^## //' | awk -F': ' '{printf "  %-14s %s\n", $$1, $$2}'

## venv: create .venv with the pinned dependencies and the configtrail tool
venv: $(INSTALLED) $(DIFFCORE)

# scripts/build-venv makes the build safe to interrupt and to run twice at once (a lock, and a
# marker written last: a half-built .venv is rebuilt, not reused).
$(INSTALLED): requirements/main.lock pyproject.toml
	PYTHON=$(PYTHON) scripts/build-venv $(VENV) requirements/main.lock --editable . --keep checkov \
	  -- requirements/main.lock pyproject.toml
	touch $(DIFFCORE)

# The field diff's C extension (setup.py) is built in place by the editable install above; an
# edit of its source re-runs only that install (seconds), not the whole environment. Optional:
# without a C compiler the install succeeds and the pure-Python diff is used. The recipe skips
# the install when the environment was just built (make may look at the stamp before that).
DIFFCORE_SOURCES := src/configtrail/history/_diffcore.c setup.py
$(DIFFCORE): $(INSTALLED) $(DIFFCORE_SOURCES)
	@fresh=1; for f in $(INSTALLED) $(DIFFCORE_SOURCES); do [[ $$f -nt $@ ]] && fresh=0; done; \
	if (( ! fresh )); then \
	  echo "$(BIN)/python -m pip install --no-deps -e .  # the C field diff"; \
	  $(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e . && touch $@; \
	fi

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
	PYTHON=$(PYTHON) scripts/build-venv $(CHECKOV_VENV) requirements/checkov.lock \
	  -- requirements/checkov.lock

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

# --- policy pack (policies/): offline, started as the Pulumi CLI starts it, over the Analyzer gRPC protocol ---
.PHONY: policy policy-check check-policy bench-policy pack-data
FILE ?=

## policy: policy pack verdicts on the offline plan of ENV (stack.json and preview.json)
policy: venv
	$(BIN)/configtrail policy --env $(ENV)

## policy-check: policy pack verdicts on FILE (pulumi stack export / preview --json) with ENV's config
policy-check: venv
	@test -n "$(FILE)" || { echo "usage: make policy-check FILE=<path> [ENV=<env>]" >&2; exit 2; }
	$(BIN)/configtrail policy-check "$(FILE)" --env $(ENV)

## check-policy: the policy pack gate of `make check`, every environment (build/summary/policy.md)
check-policy: check-plan
	$(BIN)/configtrail policy --all --quiet --summary build/summary/policy.md
check: check-policy

## bench-policy: `configtrail policy --all` (target < 4 s) and a 10,000-resource stack (< 3 s), through gRPC
bench-policy: venv
	$(BIN)/python benchmarks/policy_pack.py

# --- AI workload pack (policies/ai-workloads/): teams attach it to their own AI stacks ------------
# It runs in its own virtualenv made from its requirements.txt alone, as the Pulumi CLI makes it
# for a published or local pack (runtime.options.virtualenv: venv), so the gate also proves that
# the pack installs without this repository.
AI_PACK_DIR := policies/ai-workloads
AI_PACK_VENV := $(AI_PACK_DIR)/venv
AI_PACK_INSTALLED := $(AI_PACK_VENV)/.installed
.PHONY: ai-pack-venv check-ai-pack

## ai-pack-venv: the AI workload pack's own virtualenv (policies/ai-workloads/venv) from its requirements.txt
ai-pack-venv: $(AI_PACK_INSTALLED)

$(AI_PACK_INSTALLED): $(AI_PACK_DIR)/requirements.txt
	PYTHON=$(PYTHON) scripts/build-venv $(AI_PACK_VENV) $(AI_PACK_DIR)/requirements.txt \
	  -- $(AI_PACK_DIR)/requirements.txt

## check-ai-pack: the AI pack on every variant of examples/ai-workload (compliant passes, each broken one blocked)
check-ai-pack: venv ai-pack-venv
	$(BIN)/configtrail ai-pack --python $(AI_PACK_VENV)/bin/python --out build/ai-workload \
	  --summary build/summary/ai-pack.md --quiet
check: check-ai-pack

## pack-data: regenerate the data the policy pack carries (policies/configtrail_policies/data/*.json)
pack-data: venv
	$(BIN)/python -m configtrail.policy.packdata

## lint: every pre-commit hook over every file (ruff, yamllint, hygiene, schemas, zizmor, secrets, checkov)
lint: venv checkov-venv
	$(BIN)/pre-commit run --all-files --show-diff-on-failure

## hooks: install the git hooks (pre-commit at commit, the fast tests at push)
hooks: venv checkov-venv
	$(BIN)/pre-commit install --install-hooks

# `make test` runs the hooks first, so CI lints exactly as `git commit` does.
test: lint

## test: the whole test suite
test: venv
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## clean: remove build output and the virtual environment
clean:
	rm -rf build $(VENV) $(AI_PACK_VENV)
	rm -f src/configtrail/history/_diffcore.*.so

# --- the real deploy path: needs the Pulumi CLI, a backend login and AWS credentials -----------
# The workflows call these same targets (.github/workflows/pulumi.yml), so a run at a terminal is
# exactly what CI runs. `configtrail pipeline run` calls the CLI from infra/, whose Pulumi.yaml
# reads the stack files from environments/ (stackConfigDir), with the policy pack and the stack's
# derived policy config (build/<stack>/policy-config.json) on every preview and up. It creates the
# stack on a first `up` (with SECRETS_PROVIDER for a self-managed backend), previews a stack that
# does not exist yet from an empty state, and runs `up` only after a clean preview with the pack.
# STACK, MESSAGE and SECRETS_PROVIDER reach the tool as environment variables through the shell,
# never pasted into the recipe: a message can hold any text (a dispatch's ref).
export STACK MESSAGE
ENVIRONMENTS := $(sort $(patsubst environments/Pulumi.%.yaml,%,$(wildcard environments/Pulumi.*.yaml)))
# Stops before anything runs when ENV is not one word naming a stack file (ENV is used in paths).
require-env = $(if $(and $(filter 1,$(words $(ENV))),$(filter $(ENV),$(ENVIRONMENTS))),,$(error \
  ENV='$(ENV)' has no stack file environments/Pulumi.$(ENV).yaml; stacks: $(ENVIRONMENTS)))
DRIFT_DIR ?= build/drift
SUMMARY_DIR ?= build/summary
PIPELINE_OUT ?= build
PIPELINE_RUN = PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/configtrail pipeline run --pulumi "$(PULUMI)" \
  --stack $(ENV) --qualified "$$STACK" --message "$$MESSAGE" \
  --secrets-provider "$${SECRETS_PROVIDER:-}" --out $(PIPELINE_OUT) --drift-dir $(DRIFT_DIR) \
  --summary-dir $(SUMMARY_DIR)
.PHONY: pulumi-cli pipeline-matrix pipeline-entry check-ref check-role preview-report preview-comment

## preview: pulumi preview of STACK with the policy pack (real cloud; a new stack from empty state)
preview: venv
	$(require-env)
	$(PIPELINE_RUN) --command preview

## up: preview with the policy pack, then pulumi up of STACK (creates the stack on a first run)
up: venv
	$(require-env)
	$(PIPELINE_RUN) --command up

## converged: preview of STACK that fails unless nothing would change (CI runs it after each up)
converged: venv
	$(require-env)
	$(PIPELINE_RUN) --command converged

## refresh: pulumi refresh of STACK (real cloud)
refresh: venv
	$(require-env)
	$(PIPELINE_RUN) --command refresh

## destroy: pulumi destroy of STACK, never touching protected history (real cloud)
destroy: venv
	$(require-env)
	@COMMAND=destroy $(BIN)/configtrail pipeline confirm --stack $(ENV)
	$(PIPELINE_RUN) --command destroy

## drift: refresh-preview of STACK; writes build/drift/ENV.log and ENV.json; exit 1 drift, 2 failed
# The CLI's exit code (7: changes were proposed, CLI >= 3.226.1) tells drift from a failed run.
drift: venv
	$(require-env)
	$(PIPELINE_RUN) --command drift

## drift-issue: open, update or close ENV's drift issue from build/drift/ENV.json (gh, GH_TOKEN)
drift-issue: venv
	$(require-env)
	$(BIN)/configtrail drift-issue --report $(DRIFT_DIR)/$(ENV).json

# --- pipeline helpers (GitHub Actions calls these; they work at a terminal too) ----------------

## pulumi-cli: the Pulumi CLI at .pulumi-version, verified against Pulumi's published checksums
pulumi-cli: venv
	$(BIN)/configtrail pipeline install-cli

## pipeline-matrix: the stacks, deploy waves and session settings the workflows run over
pipeline-matrix: venv
	@$(BIN)/configtrail pipeline matrix

## pipeline-entry: one stack's matrix entry (entry=<json>) for a dispatch of ENV
pipeline-entry: venv
	$(require-env)
	@$(BIN)/configtrail pipeline matrix --stack $(ENV)

## check-ref: may REF be dispatched (default branch, a tag, or a commit on it)? writes sha=
check-ref: venv
	@$(BIN)/configtrail pipeline check-ref --ref "$$REF"

## check-role: ROLE_ARN (the environment's AWS_DEPLOY_ROLE_ARN) is a role of ENV's account
check-role: venv
	$(require-env)
	@$(BIN)/configtrail pipeline check-role --stack $(ENV) --role-arn "$${ROLE_ARN:-}"

## preview-report: every stack's preview verdict (build/preview/) as one report by account
preview-report: venv
	$(BIN)/configtrail pipeline report --dir $(PIPELINE_OUT)/preview --run-url "$${RUN_URL:-}" \
	  --out $(SUMMARY_DIR)/preview.md

## preview-comment: create or edit the pull request's one preview comment (gh, GH_TOKEN)
preview-comment: venv
	$(BIN)/configtrail pipeline comment --repo "$$GH_REPO" --pull-request "$$PULL_REQUEST" \
	  --body $(SUMMARY_DIR)/preview.md

## bootstrap-plan: offline plan of the bootstrap project, one stack per account of the estate
bootstrap-plan: venv
	$(BIN)/configtrail bootstrap-plan

## check-bootstrap: the bootstrap gate of `make check` (build/bootstrap/, build/summary/bootstrap.md)
check-bootstrap: venv
	$(BIN)/configtrail bootstrap-plan --quiet
check: check-bootstrap

## confirm: dispatch guard; CONFIRM must equal ENV for `up` on a production stack and any destroy
# COMMAND and CONFIRM are read from the environment, never pasted into the recipe: they are typed
# by a person into the dispatch form.
confirm: venv
	$(require-env)
	@$(BIN)/configtrail pipeline confirm --stack $(ENV)

## job-summary: append the gates' build/summary/*.md to $GITHUB_STEP_SUMMARY (stdout locally)
job-summary:
	@shopt -s nullglob; files=($(SUMMARY_DIR)/*.md); \
	if (( $${#files[@]} == 0 )); then echo "job-summary: no $(SUMMARY_DIR)/*.md to show" >&2; exit 0; fi; \
	for file in "$${files[@]}"; do cat "$$file"; echo; done >> "$${GITHUB_STEP_SUMMARY:-/dev/stdout}"

# --- history explorer -----------------------------------------------------------------------------
.PHONY: history audit-report audit-period bench-history
ARGS ?=
AUDIT_DIR ?= build/audit
AUDIT_ARGS ?=
AUDIT_SUMMARY ?= build/summary/audit-report.md

## history: timelines and diffs of recorded history, e.g. make history ARGS='--source s3://BUCKET/configtrail --since 2025-03-01'
history: venv
	$(BIN)/configtrail history $(ARGS)

## audit-report: previous month's history report (html, md, json) from AUDIT_SOURCE into AUDIT_DIR
# AUDIT_SOURCE (s3://bucket/prefix or a directory) is read from the environment by the shell, never
# pasted into the recipe. Exit code as `configtrail history`: 1 when anything was skipped.
audit-report: venv
	@if [[ -z "$${AUDIT_SOURCE:-}" ]]; then \
	  echo "audit-report: set AUDIT_SOURCE=s3://bucket/prefix (or a directory of deliveries)" >&2; exit 2; fi
	@mkdir -p "$(AUDIT_DIR)" "$(dir $(AUDIT_SUMMARY))"
	@status=0; $(BIN)/configtrail history --source "$$AUDIT_SOURCE" --previous-month --estate environments \
	  --out-dir "$(AUDIT_DIR)" $(AUDIT_ARGS) || status=$$?; \
	if [[ -f "$(AUDIT_DIR)/summary.md" ]]; then cp "$(AUDIT_DIR)/summary.md" "$(AUDIT_SUMMARY)"; fi; \
	exit $$status

## bench-history: every timeline of 200,000 items in 2,000 files, side by side with DuckDB's ordered-items query (time, memory, ratio)
bench-history: venv
	$(BIN)/python benchmarks/history_timelines.py

## audit-period: print period=YYYY-MM, the month audit-report covers (for the workflow's artifact name)
audit-period: venv
	@$(BIN)/python -c 'from datetime import UTC, datetime; from configtrail.commands.history import previous_month; print(f"period={previous_month(datetime.now(UTC))[0]:%Y-%m}")'
