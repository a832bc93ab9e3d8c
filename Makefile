# Hortense — one command to run, one to test. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
PY := $(VENV)/bin/python
ENVSH := source scripts/env.sh
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.package-lock.json

help:  ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-12s %s\n", $$1, $$2}'

LINT_PATHS := hortense actions channels web scripts bench

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $$(scripts/find-python.sh) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	$(VENV)/bin/pip check
	@touch $@

install: $(STAMP)  ## Create the virtualenv and install the pinned requirements and dev tools (once)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

node: $(NODE_STAMP)  ## Install the chat widget and the browser-test driver (npm ci, pinned)

.env: | $(STAMP)
	@cp -n .env.example .env
	@$(PY) -m hortense init-env

env: $(STAMP) .env  ## Create .env with random secrets (once)

db: env  ## Create/migrate the database and seed the demo customers
	@$(ENVSH) && $(PY) -m hortense db upgrade && $(PY) -m hortense db seed

train: $(STAMP)  ## Train the Rasa model if data, domain or config changed
	@$(ENVSH) && $(PY) scripts/train.py

validate: $(STAMP)  ## Check the training data and domain (rasa data validate)
	@$(ENVSH) && $(VENV)/bin/rasa data validate --fail-on-warnings --quiet

run: db train node  ## Start everything (Rasa, actions, web app, scheduler) and print the URLs
	@scripts/run.sh

lint: $(STAMP)  ## ruff check + ruff format --check, and mypy on hortense/, actions/, channels/, web/
	$(VENV)/bin/ruff check $(LINT_PATHS)
	$(VENV)/bin/ruff format --check $(LINT_PATHS)
	$(VENV)/bin/mypy

test: lint env train validate node  ## Lint, set up, run the whole test suite, then the unit suite on moved clocks
	@$(ENVSH) && scripts/pytest.sh tests
	@$(ENVSH) && scripts/moved-clock.sh

test-clock: env  ## The unit suite on awkward days (Saturday, DST nights, New Year's Eve, a year ahead) via faketime
	@$(ENVSH) && scripts/moved-clock.sh

test-unit: env  ## Unit tests only (no servers)
	@$(ENVSH) && scripts/pytest.sh tests/unit

test-browser: env train node  ## The customer space in headless Chromium
	@$(ENVSH) && scripts/pytest.sh -m browser tests/browser

import-reviewed: env  ## Write the messages supervisors labelled in the console into data/nlu/reviewed.yml (OUT=file)
	@$(ENVSH) && $(PY) -m hortense import-reviewed $(if $(OUT),--out $(OUT))

nlu-report: train  ## 5-fold cross-validation of the NLU, per-intent F1
	@$(ENVSH) && $(PY) scripts/nlu_report.py

bench: env train  ## Benchmark against the stock `rasa init` bot (~15 min; QUICK=1 skips forced training and CV; SCALE=100000: the scale benchmark)
	@$(ENVSH) && $(PY) bench/run.py $(if $(QUICK),--quick) $(if $(SCALE),--scale $(SCALE))

multi-instance: env train  ## 2 Rasa + 2 action servers behind nginx on PostgreSQL + Redis (deploy/README.md)
	@$(ENVSH) && $(PY) scripts/multi_instance.py $(ARGS)

chat: env  ## Chat in the terminal as a demo customer: make chat CUSTOMER=C1001 (needs make run)
	@$(ENVSH) && $(PY) -m hortense chat $(or $(CUSTOMER),C1001)

customers: $(STAMP)  ## List the demo customers
	@$(ENVSH) && $(PY) -m hortense customers

link-code: db  ## A one-time code to link a messaging account: make link-code CUSTOMER=C1001
	@$(ENVSH) && $(PY) -m hortense link-code $(or $(CUSTOMER),C1001)

token: env  ## Print a portal JWT for a customer: make token CUSTOMER=C1001
	@$(ENVSH) && $(PY) -m hortense token $(or $(CUSTOMER),C1001)

clean:  ## Remove models, local databases and logs (keeps the virtualenv and .env)
	rm -rf models var .pytest_cache tests/artifacts

.PHONY: help install lint node test-browser test-clock link-code bench multi-instance env db train validate run test test-unit nlu-report chat customers token clean import-reviewed
