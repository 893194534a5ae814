# The only entry points: `make run`, `make test`, `make lint`. Each installs what it needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test lint format install clean

$(STAMP): setup.cfg pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "StreamCore needs Python 3.11 or newer (set PYTHON=python3.x)")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## Start the local stack, ingest the sample clips, print their playback URLs; Ctrl-C stops it.
run: install
	$(BIN)/python sample_media/generate.py
	$(BIN)/streamcore up --ingest sample_media/out

## Lint, type-check, then run the whole suite against a real stack of its own.
test: lint
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .streamcore .mypy_cache .ruff_cache .pytest_cache
