# fcemu: `make up` starts the emulator on http://127.0.0.1:9000, `make test` runs the test suite.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STATE := .fcemu
PORT ?= $(or $(FCEMU_PORT),9000)
# A Serverless Devs s.yaml whose fc3 resources `make up` serves too (`make up TEMPLATE=path/to/s.yaml`).
TEMPLATE ?=
# Functions to run under a debugger (`make up DEBUG=fn` or DEBUG=fn1,fn2:5679; docs/debugging.md).
DEBUG ?=

.PHONY: up down test test-unit bench docs images functions docker packages venv logs clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $@

venv: $(VENV)/.installed

# The bench's peers (arq) on top of the test extras.
$(VENV)/.bench-installed: $(VENV)/.installed
	$(VENV)/bin/pip install -q -e '.[test,bench]'
	touch $@

# The docs site's tools (MkDocs Material) on top of the test extras.
$(VENV)/.docs-installed: $(VENV)/.installed
	$(VENV)/bin/pip install -q -e '.[test,docs]'
	touch $@

packages:
	@bash scripts/ensure-packages.sh

docker: packages
	@bash scripts/ensure-docker.sh

images: docker venv
	@$(PY) -m emulator images

# The compiled example functions (go1's binary, java's jar), offline, each only when its sources changed.
functions: packages
	@bash scripts/build-functions.sh

up: venv images functions
	@$(PY) -m emulator up --no-images --port $(PORT) $(if $(TEMPLATE),--template '$(TEMPLATE)') $(if $(DEBUG),--debug '$(DEBUG)')

# This checkout's emulator and Redis (fcemu down), then every fcemu container and the instances' network, whoever
# started them.
down:
	@if [ -x $(PY) ]; then $(PY) -m emulator down && $(PY) -m emulator cleanup --all; fi

logs:
	@bash scripts/logs.sh $(PORT)

# The tests that need no Docker engine (tests/unit/): no images built, no engine asked.
test-unit: venv
	$(PY) -m pytest -q tests/unit $(PYTEST_ARGS)

test: venv images functions
	@bash scripts/ensure-test-packages.sh
	$(PY) -m pytest -q $(PYTEST_ARGS)

# ruff on the code and the tests, mypy on the code (pyproject.toml's [tool.ruff] and [tool.mypy]). Needs no Docker.
$(VENV)/.lint-installed: $(VENV)/.installed
	$(VENV)/bin/pip install -q -e '.[test,lint]'
	touch $@

.PHONY: lint
lint: venv $(VENV)/.lint-installed
	$(VENV)/bin/ruff check emulator/ tests/
	$(VENV)/bin/mypy emulator/

bench: venv $(VENV)/.bench-installed images
	$(PY) -m tests.benchmarks.run

# The docs site into site/ (git-ignored); --strict: a broken link or a page missing from the nav fails it.
docs: venv $(VENV)/.docs-installed
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir site

clean: down
	rm -rf $(VENV) $(STATE) site
