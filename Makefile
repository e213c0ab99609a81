# Two commands matter: `make dev` runs the whole service offline, `make test` runs every test.
# Both install what is missing first (a uv-managed .venv from uv.lock).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: help install test test-unit test-integration test-infra test-e2e lint format clean

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-18s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

install: $(VENV)/.installed ## create .venv from the lock file (only when missing or stale)

test: install ## run every test: unit, integration, infra and e2e
	$(PY) -m pytest $(PYTEST_ARGS)

test-unit: install ## unit tests only (no sockets)
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

test-integration: install ## handlers end to end on moto and the Stripe emulator
	$(PY) -m pytest tests/integration $(PYTEST_ARGS)

lint: install ## ruff and mypy, both clean
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy layers/core/python/payments functions infra/catalog.py infra/local

format: install ## apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean: ## remove caches and build output (keeps .venv)
	rm -rf cdk.out .pytest_cache .mypy_cache .ruff_cache
