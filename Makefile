# Two commands matter: `make dev` runs the whole service offline, `make test` runs every test.
# Both install what is missing first (a uv-managed .venv from uv.lock): `make dev` only what running
# needs (install-local), `make test` everything (install).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=
# Both cores: the suite is safe in parallel (each test has its own moto account; stacks take free ports).
PYTEST_WORKERS ?= 2

.PHONY: help install install-local install-browser test test-future test-unit test-integration test-infra test-e2e lint format clean

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-18s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

# What running the service needs and nothing more: the runtime dependencies and pyproject.toml's `local`
# group (moto's server, local tokens, the docs page), so `make dev` on a fresh clone is ready sooner.
# --inexact keeps whatever `make install` added (the tests, linters, CDK); `make install` adds the rest.
$(VENV)/.local-installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --inexact --no-default-groups --group local --python $(PYTHON)
	@touch $@

# checkov, the infrastructure scanner tests/infra runs, in an environment of its own: its pins (boto3,
# packaging) cannot share .venv's (tools/checkov/pyproject.toml).
CHECKOV_ENV := $(TOOLS)/checkov

$(CHECKOV_ENV)/.installed: tools/checkov/pyproject.toml tools/checkov/uv.lock | $(UV)
	UV_PROJECT_ENVIRONMENT=$(abspath $(CHECKOV_ENV)) $(UV) sync --frozen --project tools/checkov --python $(PYTHON)
	@touch $@

install: $(VENV)/.installed $(CHECKOV_ENV)/.installed ## create .venv (and the scanner's) from the lock files (only when missing or stale)

install-local: $(VENV)/.local-installed ## only what the local stack runs on (make dev and the local commands use it)

# The browser tests (tests/e2e/test_browser.py) drive Debian's Chromium through Playwright; Playwright's
# own browser downloads are never used. Installed with apt when missing (root, or sudo).
CHROMIUM ?= /usr/bin/chromium
APT_GET := $(if $(filter 0,$(shell id -u)),,sudo )apt-get

install-browser: ## install Debian's Chromium for the browser tests, when missing
	@test -x $(CHROMIUM) || { $(APT_GET) update -q && DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y -q chromium; }
	@test -x $(CHROMIUM) || { echo "no Chromium at $(CHROMIUM): apt-get install -y chromium"; exit 1; }

# --dist loadgroup: the browser tests share one stack and one browser on one worker (xdist_group).
test: install install-browser ## run every test: unit, integration, infra and e2e (the browser tests too)
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

# No test may depend on the calendar: every in-process test again with the clock a year ahead
# (TEST_CLOCK_SHIFT_DAYS, see tests/conftest.py). Stacks in other processes keep the machine's clock,
# so the e2e tests are left out here.
FUTURE_DAYS ?= 365

test-future: install ## every in-process test again with the clock a year ahead (FUTURE_DAYS=365)
	TEST_CLOCK_SHIFT_DAYS=$(FUTURE_DAYS) $(PY) -m pytest -n $(PYTEST_WORKERS) -m "not e2e" $(PYTEST_ARGS)

test-unit: install ## unit tests only (no sockets)
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

test-integration: install ## handlers end to end on moto and the Stripe emulator
	$(PY) -m pytest tests/integration $(PYTEST_ARGS)

test-infra: install ## synthesize the stack and check it (properties, cdk-nag, cfn-lint)
	$(PY) -m pytest tests/infra $(PYTEST_ARGS)

test-e2e: install install-browser ## start the local stack as `make dev` does and drive it over HTTP (and in Chromium)
	$(PY) -m pytest tests/e2e $(PYTEST_ARGS)

lint: install ## ruff, mypy and the import contracts (pyproject.toml), all clean
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy layers/core/python/payments functions infra tools app.py bench layers/deps
	PYTHONPATH=layers/core/python $(VENV)/bin/lint-imports

format: install ## apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# --- local stack ---
# make dev | demo | invoke FUNCTION=<name> EVENT=events/<kind>/<file>.json
# | token ROLE=customer|admin|service SUB=<id> | order-token ORDER=<id> AMOUNT=<minor units> CURRENCY=<iso> SUB=<id>
# | reconcile [FROM=YYYY-MM-DD TO=YYYY-MM-DD | PAYOUT=po_...]
# Ports and secrets: LOCAL_GATEWAY_PORT, MOTO_PORT, MOTO_DYNAMODB_PORT, STRIPE_EMULATOR_PORT, STRIPE_WEBHOOK_SECRET,
# STRIPE_API_KEY, LOCAL_JWT_SECRET (see docs/local-stack.md).
ROLE ?= customer
SUB ?=
FUNCTION ?=
EVENT ?=
FROM ?=
TO ?=
PAYOUT ?=
ORDER ?=
AMOUNT ?=
CURRENCY ?=

.PHONY: dev demo invoke token order-token openapi reconcile schemas

dev: install-local ## run the whole service offline on 127.0.0.1 (Ctrl-C stops everything)
	$(PY) -m infra.local.dev

demo: install-local ## walk the main payment flows over HTTP (uses make dev, or starts the stack itself)
	$(PY) -m infra.local.demo

invoke: install-local ## run one function once: make invoke FUNCTION=get_payment EVENT=events/api/get_payment.json
	$(PY) -m infra.local.invoke $(FUNCTION) $(EVENT)

token: install-local ## print a local token only: make -s token ROLE=customer|admin|service SUB=<id>
	@$(PY) -m infra.local.tokens --role $(ROLE) $(if $(SUB),--sub $(SUB))

order-token: install-local ## print a local order token only: make -s order-token ORDER=<id> AMOUNT=<minor units> CURRENCY=<iso> SUB=<customer>
	@$(PY) -m infra.local.tokens --order "$(ORDER)" $(if $(AMOUNT),--amount $(AMOUNT)) $(if $(CURRENCY),--currency $(CURRENCY)) $(if $(SUB),--sub $(SUB))

openapi: install ## regenerate openapi.json from the handlers' models
	$(PY) -m tools.openapi

reconcile: install-local ## reconcile ledger and Stripe: make reconcile [FROM=YYYY-MM-DD TO=YYYY-MM-DD | PAYOUT=po_...] (default today)
	$(PY) -m infra.local.reconcile $(if $(FROM),--from $(FROM)) $(if $(TO),--to $(TO)) $(if $(PAYOUT),--payout $(PAYOUT))

schemas: install ## regenerate the event schemas and samples in events/ (schemas, bus, stripe, api)
	$(PY) -m tools.samples
# --- end local stack ---

# --- operations ---
# Repair what the event pipeline could not deliver, against the running `make dev` (or a stack started for
# the command): make dlq-list [QUEUE=<function>] | dlq-redrive [QUEUE=<function>] [MAX=n]
# | archive-replay FROM=YYYY-MM-DD [TO=YYYY-MM-DD] RULE=<subscriber> | stripe-redeliver EVENT=evt_...
# In AWS: python -m tools.operations --stage prod ... (docs/operations.md).
QUEUE ?=
MAX ?=
RULE ?=
OPS := $(PY) -m tools.operations --local

.PHONY: dlq-list dlq-redrive archive-replay stripe-redeliver

dlq-list: install-local ## list each DLQ's messages with their error, leaving them there: [QUEUE=accounting]
	$(OPS) dlq list $(if $(QUEUE),--queue $(QUEUE))

dlq-redrive: install-local ## deliver each DLQ message's event again to its function, after a fix: [QUEUE=...] [MAX=n]
	$(OPS) dlq redrive $(if $(QUEUE),--queue $(QUEUE)) $(if $(MAX),--max $(MAX))

archive-replay: install-local ## replay the bus archive to one rule: FROM=YYYY-MM-DD [TO=YYYY-MM-DD] RULE=accounting
	$(OPS) archive replay $(if $(FROM),--from $(FROM)) $(if $(TO),--to $(TO)) $(if $(RULE),--rule $(RULE))

stripe-redeliver: install-local ## deliver a stored Stripe event again through the webhook: EVENT=evt_...
	$(OPS) stripe redeliver $(if $(EVENT),--event $(EVENT))
# --- end operations ---

# --- bench ---
# make bench [BENCH_ARGS='--functions get_payment,process_payment --cold-samples 5 --skip throughput'].
# Cold starts against a reference handler, warm latency, requests and request units per operation,
# memory, deployment size, local stack throughput and cost per million payments: a table on stdout, the
# numbers in bench-results/bench.json, the tables in bench-results/bench.md. About 13 minutes on 2 CPUs;
# `.venv/bin/python -m bench --help` lists the knobs. docs/performance.md explains the method.
# SnapStart restores are timed with CRIU, built once into .tools/criu (root; without it they are
# reported as not measured).
BENCH_ARGS ?=

.PHONY: bench bench-clean bench-criu

bench: install bench-criu ## measure cold starts, latency, requests, size, throughput and cost (see docs/performance.md)
	$(PY) -m bench $(BENCH_ARGS)

bench-criu: ## build CRIU into .tools/criu, to time SnapStart restores (needs root; skipped otherwise)
	@bash bench/build_criu.sh || echo "CRIU unavailable: make bench reports SnapStart restores as not measured"

bench-clean: ## forget bench/.cache (the arm64 layer it installed, standard-library bytecode, stack state)
	rm -rf bench/.cache
# --- end bench ---

clean: ## remove caches and build output (keeps .venv)
	rm -rf cdk.out .pytest_cache .mypy_cache .ruff_cache

# --- infra (CDK) ---
# make synth|diff|deploy [STAGE=dev|prod] [CDK_ARGS='-c alarm_email=ops@example.com'].
# synth needs no AWS account, credentials or Docker; diff and deploy use your AWS credentials.
STAGE ?= dev
CDK_ARGS ?=
CDK := node_modules/.bin/cdk
# No notices, version check or telemetry calls from the CLI.
CDK_RUN = CDK_DISABLE_VERSION_CHECK=true CDK_DISABLE_CLI_TELEMETRY=true $(CDK) --no-notices -c stage=$(STAGE) $(CDK_ARGS)

.PHONY: synth diff deploy

$(CDK): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

synth: install $(CDK) ## synthesize the stack of STAGE into cdk.out (offline; cdk-nag runs, bundles the deps layer)
	AWS_EC2_METADATA_DISABLED=true $(CDK_RUN) synth --quiet

diff: install $(CDK) ## compare STAGE with what is deployed
	$(CDK_RUN) diff

deploy: install $(CDK) ## deploy STAGE (first time per account/region: npx cdk bootstrap)
	$(CDK_RUN) deploy --require-approval broadening
# --- end infra ---
